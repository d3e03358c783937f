"""Errors of flavors and service profiles (neutron-lib ``exceptions/flavors.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InvalidInput, NeutronError, NotFound


class FlavorNotFound(NotFound):
    template = "Flavor {flavor_id} could not be found."


class ServiceProfileNotFound(NotFound):
    template = "Service Profile {sp_id} could not be found."


class ServiceProfileInUse(Conflict):
    template = "Service Profile {sp_id} is used by some service instance."


class FlavorServiceProfileBindingExists(Conflict):
    template = "Service Profile {sp_id} is already associated with flavor {fl_id}."


class FlavorServiceProfileBindingNotFound(NotFound):
    template = "Service Profile {sp_id} is not associated with flavor {fl_id}."


class ServiceProfileDriverNotFound(NotFound):
    template = "Service Profile driver {driver} could not be found."


class ServiceProfileEmpty(InvalidInput):
    template = "Service Profile needs either a driver or metainfo."


class FlavorInUse(Conflict):
    template = "Flavor {flavor_id} is used by some service instance."


class ServiceProfileDisabled(NeutronError):
    status = 503

    template = "Service Profile is not enabled."

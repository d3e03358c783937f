"""Errors of flavors and service profiles (neutron-lib ``exceptions/flavors.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InvalidInput, NeutronError, NotFound


class FlavorNotFound(NotFound):
    def __init__(self, flavor_id: str) -> None:
        super().__init__(f"Flavor {flavor_id} could not be found.")


class ServiceProfileNotFound(NotFound):
    def __init__(self, sp_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} could not be found.")


class ServiceProfileInUse(Conflict):
    def __init__(self, sp_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} is used by some service instance.")


class FlavorServiceProfileBindingExists(Conflict):
    def __init__(self, sp_id: str, fl_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} is already associated with flavor {fl_id}.")


class FlavorServiceProfileBindingNotFound(NotFound):
    def __init__(self, sp_id: str, fl_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} is not associated with flavor {fl_id}.")


class ServiceProfileDriverNotFound(NotFound):
    def __init__(self, driver: str) -> None:
        super().__init__(f"Service Profile driver {driver} could not be found.")


class ServiceProfileEmpty(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Service Profile needs either a driver or metainfo.")


class FlavorInUse(Conflict):
    def __init__(self, flavor_id: str) -> None:
        super().__init__(f"Flavor {flavor_id} is used by some service instance.")


class ServiceProfileDisabled(NeutronError):
    status = 503

    def __init__(self) -> None:
        super().__init__("Service Profile is not enabled.")

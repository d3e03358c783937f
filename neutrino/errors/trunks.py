"""Errors of trunks (``neutron/services/trunk/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, NotFound


class TrunkNotFound(NotFound):
    template = "Trunk {trunk_id} could not be found."


class SubPortNotFound(NotFound):
    template = "SubPort {port_id} on trunk {trunk_id} could not be found."
    params = ("trunk_id", "port_id")


class TrunkPortInUse(Conflict):
    template = "Port {port_id} is in use by another trunk."


class DuplicateSubPort(Conflict):
    template = ("segmentation_type {segmentation_type} and segmentation_id {segmentation_id} "
                "already in use on trunk {trunk_id}.")


class ParentPortInUse(Conflict):
    template = "Port {port_id} is currently in use and is not eligible for use as a parent port."


class SubPortMtuGreaterThanTrunkPortMtu(Conflict):
    template = ("MTU {port_mtu} of subport {port_id} cannot be greater than MTU {trunk_mtu} of "
                "trunk {trunk_id}.")
    params = ("port_id", "port_mtu", "trunk_id", "trunk_mtu")


class PortInUseAsTrunkParent(Conflict):
    template = "Port {port_id} is currently a parent port for trunk {trunk_id}."


class PortInUseAsSubPort(Conflict):
    template = "Port {port_id} is currently a subport for trunk {trunk_id}."


class TrunkDisabled(Conflict):
    template = "Trunk {trunk_id} is currently disabled."


class TrunkInErrorState(Conflict):
    template = ("Trunk {trunk_id} is in error state. Attempt to resolve the error condition "
                "before proceeding.")

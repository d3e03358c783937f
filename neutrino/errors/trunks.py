"""Errors of trunks (``neutron/services/trunk/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, NotFound


class TrunkNotFound(NotFound):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} could not be found.")


class SubPortNotFound(NotFound):
    def __init__(self, trunk_id: str, port_id: str) -> None:
        super().__init__(f"SubPort {port_id} on trunk {trunk_id} could not be found.")


class TrunkPortInUse(Conflict):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} is in use by another trunk.")


class DuplicateSubPort(Conflict):
    def __init__(self, segmentation_type: str, segmentation_id: int, trunk_id: str) -> None:
        super().__init__(f"segmentation_type {segmentation_type} and segmentation_id "
                         f"{segmentation_id} already in use on trunk {trunk_id}.")


class ParentPortInUse(Conflict):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} is currently in use and is not eligible for use "
                         "as a parent port.")


class SubPortMtuGreaterThanTrunkPortMtu(Conflict):
    def __init__(self, port_id: str, port_mtu: int, trunk_id: str, trunk_mtu: int) -> None:
        super().__init__(f"MTU {port_mtu} of subport {port_id} cannot be greater than MTU "
                         f"{trunk_mtu} of trunk {trunk_id}.")


class PortInUseAsTrunkParent(Conflict):
    def __init__(self, port_id: str, trunk_id: str) -> None:
        super().__init__(f"Port {port_id} is currently a parent port for trunk {trunk_id}.")


class PortInUseAsSubPort(Conflict):
    def __init__(self, port_id: str, trunk_id: str) -> None:
        super().__init__(f"Port {port_id} is currently a subport for trunk {trunk_id}.")


class TrunkDisabled(Conflict):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} is currently disabled.")


class TrunkInErrorState(Conflict):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} is in error state. Attempt to resolve the error "
                         "condition before proceeding.")

"""Errors of address groups (neutron-lib ``exceptions/address_group.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class AddressGroupNotFound(NotFound):
    def __init__(self, address_group_id: str) -> None:
        super().__init__(f"Address group {address_group_id} could not be found.")


class AddressGroupInUse(Conflict):
    def __init__(self, address_group_id: str) -> None:
        super().__init__(f"Address group {address_group_id} is in use on one or more "
                         "security group rules.")


class AddressesNotFound(NotFound):
    def __init__(self, addresses: list[str], address_group_id: str) -> None:
        super().__init__(f"Addresses {addresses} not found in the address group "
                         f"{address_group_id}.")


class AddressesAlreadyExist(BadRequest):
    def __init__(self, addresses: list[str], address_group_id: str) -> None:
        super().__init__(f"Addresses {addresses} already exist in the address group "
                         f"{address_group_id}.")

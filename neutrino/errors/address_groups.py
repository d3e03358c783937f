"""Errors of address groups (neutron-lib ``exceptions/address_group.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class AddressGroupNotFound(NotFound):
    template = "Address group {address_group_id} could not be found."


class AddressGroupInUse(Conflict):
    template = "Address group {address_group_id} is in use on one or more security group rules."


class AddressesNotFound(NotFound):
    template = "Addresses {addresses} not found in the address group {address_group_id}."


class AddressesAlreadyExist(BadRequest):
    template = "Addresses {addresses} already exist in the address group {address_group_id}."

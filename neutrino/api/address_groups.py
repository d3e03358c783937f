"""``/v2.0/address-groups`` (extension ``address-group``): the standard five
routes from the Collection builder, and the member actions ``add_addresses`` /
``remove_addresses`` taking Neutron's bare body ``{"addresses": [...]}`` and
answering 200 with ``{"address_group": {...}}`` (neutron-lib ``ACTION_MAP``)."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api import openapi
from neutrino.api.resources import Collection, add_collection, add_member_action
from neutrino.api.schemas.address_groups import AddressGroupCreate, AddressGroupUpdate
from neutrino.api.wire.address_groups import ADDRESS_GROUP
from neutrino.services import address_group_reads, address_groups

router = APIRouter()


_ADDRESSES = openapi.body_operation({"addresses": openapi.STRINGS})


for _action in (address_groups.add_addresses, address_groups.remove_addresses):
    add_member_action(router, "address-groups", "group_id", _action, _ADDRESSES,
                      wrap="address_group", wire=ADDRESS_GROUP, reads=address_group_reads.READER)


add_collection(router, Collection(
    "address_groups", "address_group", AddressGroupCreate, AddressGroupUpdate,
    address_groups.create_address_groups, address_groups.update_address_group,
    address_groups.delete_address_group, path="address-groups", wire=ADDRESS_GROUP,
    reads=address_group_reads.READER))

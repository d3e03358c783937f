"""``/v2.0/subnetpools`` (extensions ``subnet_allocation``, ``default-subnetpools``),
their member actions ``add_prefixes``/``remove_prefixes`` (``subnetpool-prefix-ops``)
and ``onboard_network_subnets`` (``subnet_onboard``), and ``/v2.0/address-scopes``
(``address-scope``). The collections come from the same builder as the core ones;
the member actions take Neutron's bare bodies (``{"prefixes": [...]}``,
``{"network_id": ...}``) and answer 200 with what Neutron returns."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api import openapi
from neutrino.api.resources import Collection, add_collection, add_member_action
from neutrino.api.schemas.subnetpools import (AddressScopeCreate, AddressScopeUpdate,
                                              SubnetPoolCreate, SubnetPoolUpdate)
from neutrino.api.wire.address_scopes import ADDRESS_SCOPE
from neutrino.api.wire.subnetpools import SUBNETPOOL
from neutrino.services import address_scope_reads, address_scopes, subnetpool_reads, subnetpools

router = APIRouter()


_PREFIXES = openapi.body_operation({"prefixes": openapi.STRINGS})


for _action in (subnetpools.add_prefixes, subnetpools.remove_prefixes):
    add_member_action(router, "subnetpools", "pool_id", _action, _PREFIXES)
add_member_action(router, "subnetpools", "pool_id", subnetpools.onboard_network_subnets,
                  openapi.body_operation({"network_id": {"type": "string"}}))


add_collection(router, Collection(
    "subnetpools", "subnetpool", SubnetPoolCreate, SubnetPoolUpdate,
    subnetpools.create_subnetpools, subnetpools.update_subnetpool,
    subnetpools.delete_subnetpool, wire=SUBNETPOOL,
    reads=subnetpool_reads.READER))
add_collection(router, Collection(
    "address_scopes", "address_scope", AddressScopeCreate, AddressScopeUpdate,
    address_scopes.create_address_scopes, address_scopes.update_address_scope,
    address_scopes.delete_address_scope, path="address-scopes", wire=ADDRESS_SCOPE,
    reads=address_scope_reads.READER))

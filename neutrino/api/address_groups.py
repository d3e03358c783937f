"""``/v2.0/address-groups`` (extension ``address-group``): the standard five
routes from the Collection builder, and the member actions ``add_addresses`` /
``remove_addresses`` taking Neutron's bare body ``{"addresses": [...]}`` and
answering 200 with ``{"address_group": {...}}`` (neutron-lib ``ACTION_MAP``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api import body, openapi
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import Collection, add_collection
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.address_groups import AddressGroupCreate, AddressGroupUpdate
from neutrino.api.wire.address_groups import ADDRESS_GROUP
from neutrino.services import address_group_reads, address_groups

router = APIRouter()


_ADDRESSES = openapi.body_operation({"addresses": openapi.STRINGS})


@router.put("/v2.0/address-groups/{group_id}/add_addresses", openapi_extra=_ADDRESSES)
async def add_addresses(group_id: str, request: Request, env: EnvDep,
                        ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    return JSONResponse(await call(env, address_groups.add_addresses, ctx, group_id, data))


@router.put("/v2.0/address-groups/{group_id}/remove_addresses", openapi_extra=_ADDRESSES)
async def remove_addresses(group_id: str, request: Request, env: EnvDep,
                           ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    return JSONResponse(await call(env, address_groups.remove_addresses, ctx, group_id, data))


add_collection(router, Collection(
    "address_groups", "address_group", AddressGroupCreate, AddressGroupUpdate,
    address_groups.create_address_groups, address_groups.get_address_group,
    address_groups.list_address_groups, address_groups.update_address_group,
    address_groups.delete_address_group, path="address-groups", wire=ADDRESS_GROUP,
    reads=address_group_reads.READER))

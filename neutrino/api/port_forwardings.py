"""``/v2.0/floatingips/{floatingip_id}/port_forwardings[/{id}]`` (extension
``floating-ip-port-forwarding``, a sub-resource of floating IPs): POST 201
``{"port_forwarding": {...}}``, GET list ``{"port_forwardings": [...]}`` with
filters/fields/sorting/paging, GET/PUT/DELETE (204) on one, answered from the
declaration (``api/wire/port_forwardings.py``) and the reader of a floating IP's
forwardings (``services.port_forwarding_reads``). Policy rules are Neutron's
``*_floatingip_port_forwarding`` (``policy.action_for``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi, query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.api.schemas.port_forwardings import PortForwardingCreate, PortForwardingUpdate
from neutrino.api.wire import views
from neutrino.api.wire.port_forwardings import PORT_FORWARDING
from neutrino.services import port_forwarding_reads, port_forwardings

router = APIRouter()
_BASE = "/v2.0/floatingips/{floatingip_id}/port_forwardings"
_READER = port_forwarding_reads.READER
_created = views.written_one(port_forwardings.create_port_forwarding, PORT_FORWARDING, _READER)
_updated = views.written_one(port_forwardings.update_port_forwarding, PORT_FORWARDING, _READER)


@router.post(_BASE, status_code=201, openapi_extra=openapi.create_operation(
    "port_forwarding", None, PortForwardingCreate))
async def create(floatingip_id: str, request: Request, env: EnvDep,
                 ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    if not isinstance(data, dict) or "port_forwarding" not in data:
        raise errors.HTTPBadRequest("Unable to find 'port_forwarding' in request body")
    item = body.validate(PortForwardingCreate, data["port_forwarding"], "port_forwarding",
                         create=True)
    created = await call(env, _created, ctx, floatingip_id, item)
    return JSONResponse({"port_forwarding": created}, status_code=201)


@router.get(_BASE, openapi_extra=openapi.list_operation(
    "port_forwardings", PortForwardingUpdate.ATTRIBUTES))
async def list_(floatingip_id: str, request: Request, env: EnvDep,
                ctx: ContextDep) -> JSONResponse:
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    items, ids = await call(env, views.list_items, ctx, PORT_FORWARDING, _READER, q,
                            floatingip_id)
    result: dict[str, Any] = {"port_forwardings": items}
    links = query.page_links(request, "port_forwardings", q, ids)
    if links:
        result["port_forwardings_links"] = links
    return JSONResponse(result)


@router.get(_BASE + "/{pf_id}", openapi_extra=openapi.show_operation(
    "port_forwarding", PortForwardingUpdate.ATTRIBUTES))
async def show(floatingip_id: str, pf_id: str, request: Request, env: EnvDep,
               ctx: ContextDep) -> JSONResponse:
    fields = [f for f in request.query_params.getlist("fields") if f] or None
    return JSONResponse({"port_forwarding": await call(
        env, views.show_item, ctx, PORT_FORWARDING, _READER, pf_id, fields, floatingip_id)})


@router.put(_BASE + "/{pf_id}", openapi_extra=openapi.update_operation(
    "port_forwarding", PortForwardingUpdate))
async def update(floatingip_id: str, pf_id: str, request: Request, env: EnvDep,
                 ctx: ContextDep) -> JSONResponse:
    data = await body.parse_update(request, "port_forwarding", PortForwardingUpdate)
    return JSONResponse({"port_forwarding": await call(env, _updated, ctx, floatingip_id,
                                                        pf_id, data)})


@router.delete(_BASE + "/{pf_id}", status_code=204, openapi_extra=openapi.delete_operation())
async def delete(floatingip_id: str, pf_id: str, env: EnvDep, ctx: ContextDep):
    await call(env, port_forwardings.delete_port_forwarding, ctx, floatingip_id, pf_id)
    return no_content()

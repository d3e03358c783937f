"""``/v2.0/ports/{port_id}/bindings`` (extension ``binding-extended``, Nova's live
migration; ``services/port_bindings.py``): list, create (201), show, update,
``PUT .../{host}/activate``, delete (204). The policy rules (``get_port_binding``,
``create_port_binding``, ``delete_port_binding``, ``activate``) come from
``policy.action_for``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi, query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.api.schemas.ports import PortBindingCreate, PortBindingUpdate
from neutrino.services import port_bindings

router = APIRouter()
_BASE = "/v2.0/ports/{port_id}/bindings"


@router.get(_BASE)
async def list_bindings(port_id: str, request: Request, env: EnvDep,
                        ctx: ContextDep) -> JSONResponse:
    filters: dict[str, list[str]] = {}
    fields = [f for f in request.query_params.getlist("fields") if f] or None
    for key, value in request.query_params.multi_items():
        if key in port_bindings.FILTERS:
            filters.setdefault(key, []).append(value)
        elif key != "fields":
            raise errors.HTTPBadRequest(f"{key} is invalid attribute for filtering")
    items = await call(env, port_bindings.list_bindings, ctx, port_id, filters)
    return JSONResponse({"bindings": query.only_fields(items, fields)})


@router.post(_BASE, status_code=201, openapi_extra=openapi.create_operation(
    "binding", None, PortBindingCreate))
async def create_binding(port_id: str, request: Request, env: EnvDep,
                         ctx: ContextDep) -> JSONResponse:
    data = await _binding_body(request, PortBindingCreate, create=True)
    return JSONResponse({"binding": await call(env, port_bindings.create_binding, ctx,
                                               port_id, data)}, status_code=201)


@router.get(_BASE + "/{host}")
async def show_binding(port_id: str, host: str, request: Request, env: EnvDep,
                       ctx: ContextDep) -> JSONResponse:
    fields = [f for f in request.query_params.getlist("fields") if f] or None
    item = await call(env, port_bindings.get_binding, ctx, port_id, host)
    return JSONResponse({"binding": query.only_fields([item], fields)[0]})


@router.put(_BASE + "/{host}/activate")
async def activate_binding(port_id: str, host: str, env: EnvDep,
                           ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"binding": await call(env, port_bindings.activate_binding, ctx,
                                               port_id, host)})


@router.put(_BASE + "/{host}", openapi_extra=openapi.update_operation(
    "binding", PortBindingUpdate))
async def update_binding(port_id: str, host: str, request: Request, env: EnvDep,
                         ctx: ContextDep) -> JSONResponse:
    data = await _binding_body(request, PortBindingUpdate, create=False)
    return JSONResponse({"binding": await call(env, port_bindings.update_binding, ctx,
                                               port_id, host, data)})


@router.delete(_BASE + "/{host}", status_code=204)
async def delete_binding(port_id: str, host: str, env: EnvDep, ctx: ContextDep):
    await call(env, port_bindings.delete_binding, ctx, port_id, host)
    return no_content()


async def _binding_body(request: Request, model, *, create: bool) -> dict:
    data = await body.read_json(request)
    if not isinstance(data, dict) or "binding" not in data:
        raise errors.HTTPBadRequest("Unable to find 'binding' in request body")
    return body.validate(model, data["binding"], "binding", create=create)

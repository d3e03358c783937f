"""Router member actions (reference B.4): ``PUT /v2.0/routers/{id}/<action>``: interfaces,
extra routes (``extraroute-atomic``), external gateways (``external-gateway-multihoming``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import add_member_action
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.routers import ExternalGateway, Route
from neutrino.services import router_gateways, routers

router = APIRouter()


_INTERFACE = openapi.body_operation({"subnet_id": {"type": "string"}, "port_id": {"type": "string"}},
                                    required=[])
_ROUTES = openapi.body_operation({"router": {
    "type": "object", "required": ["routes"],
    "properties": {"routes": {"type": "array", "items": openapi.model_schema(Route)}}}})


for _action in (routers.add_router_interface, routers.remove_router_interface):
    add_member_action(router, "routers", "router_id", _action, _INTERFACE)


async def _routes(request: Request) -> list[dict[str, str]]:
    """``{"router": {"routes": [...]}}`` -> validated routes."""
    data = await body.read_json(request)
    router = data.get("router") if isinstance(data, dict) else None
    routes = router.get("routes") if isinstance(router, dict) else None
    if not isinstance(routes, list):
        raise errors.HTTPBadRequest("Unable to find 'routes' in request body")
    return [body.validate(Route, r, "route", create=True) for r in routes]


@router.put("/v2.0/routers/{router_id}/add_extraroutes", openapi_extra=_ROUTES)
async def add_extraroutes(router_id: str, request: Request, env: EnvDep,
                          ctx: ContextDep) -> JSONResponse:
    routes = await _routes(request)
    return JSONResponse({"router": await call(env, routers.add_extraroutes, ctx, router_id,
                                              routes)})


@router.put("/v2.0/routers/{router_id}/remove_extraroutes", openapi_extra=_ROUTES)
async def remove_extraroutes(router_id: str, request: Request, env: EnvDep,
                             ctx: ContextDep) -> JSONResponse:
    routes = await _routes(request)
    return JSONResponse({"router": await call(env, routers.remove_extraroutes, ctx, router_id,
                                              routes)})


async def _gateways(request: Request) -> list[dict] | None:
    """``{"router": {"external_gateways": [...]}}`` -> validated gateways; None when the
    router has no ``external_gateways`` (Neutron then returns the router unchanged)."""
    data = await body.read_json(request)
    router_body = data.get("router") if isinstance(data, dict) else None
    if not isinstance(router_body, dict):
        raise errors.HTTPBadRequest("Unable to find 'router' in request body")
    if router_body.get("external_gateways") is None:
        return None
    gateways = router_body["external_gateways"]
    if not isinstance(gateways, list):
        raise errors.InvalidInput("Invalid input for external_gateways. Reason: "
                                  f"'{gateways}' is not a list.")
    return [body.validate(ExternalGateway, g, "external_gateways", create=True)
            for g in gateways]


@router.put("/v2.0/routers/{router_id}/add_external_gateways")
async def add_external_gateways(router_id: str, request: Request, env: EnvDep,
                                ctx: ContextDep) -> JSONResponse:
    gateways = await _gateways(request)
    return JSONResponse({"router": await call(env, router_gateways.add_external_gateways, ctx,
                                              router_id, gateways)})


@router.put("/v2.0/routers/{router_id}/update_external_gateways")
async def update_external_gateways(router_id: str, request: Request, env: EnvDep,
                                   ctx: ContextDep) -> JSONResponse:
    gateways = await _gateways(request)
    return JSONResponse({"router": await call(env, router_gateways.update_external_gateways,
                                              ctx, router_id, gateways)})


@router.put("/v2.0/routers/{router_id}/remove_external_gateways")
async def remove_external_gateways(router_id: str, request: Request, env: EnvDep,
                                   ctx: ContextDep) -> JSONResponse:
    gateways = await _gateways(request)
    return JSONResponse({"router": await call(env, router_gateways.remove_external_gateways,
                                              ctx, router_id, gateways)})

"""Router member actions (reference B.4): ``PUT /v2.0/routers/{id}/<action>``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.routers import Route
from neutrino.services import routers

router = APIRouter()


_INTERFACE = openapi.body_operation({"subnet_id": {"type": "string"}, "port_id": {"type": "string"}},
                                    required=[])
_ROUTES = openapi.body_operation({"router": {
    "type": "object", "required": ["routes"],
    "properties": {"routes": {"type": "array", "items": openapi.model_schema(Route)}}}})


@router.put("/v2.0/routers/{router_id}/add_router_interface", openapi_extra=_INTERFACE)
async def add_router_interface(router_id: str, request: Request, env: EnvDep,
                               ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    return JSONResponse(await call(env, routers.add_router_interface, ctx, router_id, data))


@router.put("/v2.0/routers/{router_id}/remove_router_interface", openapi_extra=_INTERFACE)
async def remove_router_interface(router_id: str, request: Request, env: EnvDep,
                                  ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    return JSONResponse(await call(env, routers.remove_router_interface, ctx, router_id, data))


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

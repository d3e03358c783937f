"""Read-only lists of ML2/OVN's L3: ``GET /v2.0/floatingip-pools`` (extension
``floatingip-pools``, services/floatingip_pools.py) and ``GET /v2.0/service-providers``
(``service-type``, services/service_providers.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api import query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse
from neutrino.services import floatingip_pools, service_providers

router = APIRouter()


@router.get("/v2.0/floatingip-pools")  # Neutron's path (resource_helper: "_" -> "-")
@router.get("/v2.0/floatingip-pools.json")
@router.get("/v2.0/floatingip_pools")  # the API reference's spelling
@router.get("/v2.0/floatingip_pools.json")
async def list_floatingip_pools(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    pools = await call(env, floatingip_pools.list_floatingip_pools, ctx, q)
    return JSONResponse({"floatingip_pools": query.only_fields(pools, q.fields)})


@router.get("/v2.0/service-providers")
@router.get("/v2.0/service-providers.json")
async def list_service_providers(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    """``GET /v2.0/service-providers`` (extension ``service-type``)."""
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    return JSONResponse({"service_providers": query.only_fields(
        service_providers.list_service_providers(q), q.fields)})

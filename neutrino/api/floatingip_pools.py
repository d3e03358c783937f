"""``GET /v2.0/floatingip_pools`` (extension ``floatingip-pools``,
services/floatingip_pools.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api import query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse
from neutrino.services import floatingip_pools

router = APIRouter()


@router.get("/v2.0/floatingip_pools")
@router.get("/v2.0/floatingip_pools.json")
async def list_floatingip_pools(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    pools = await call(env, floatingip_pools.list_floatingip_pools, ctx, q)
    return JSONResponse({"floatingip_pools": query.only_fields(pools, q.fields)})

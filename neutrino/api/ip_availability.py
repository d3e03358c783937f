"""``/v2.0/network-ip-availabilities`` (reference B.8)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api import query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse
from neutrino.services import ip_availability

router = APIRouter()


@router.get("/v2.0/network-ip-availabilities")
@router.get("/v2.0/network-ip-availabilities.json")
async def list_availabilities(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    items = await call(env, ip_availability.list_availabilities, ctx, q)
    return JSONResponse({"network_ip_availabilities": query.only_fields(items, q.fields)})


@router.get("/v2.0/network-ip-availabilities/{network_id}")
async def get_availability(network_id: str, request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    item = await call(env, ip_availability.get_availability, ctx, network_id.removesuffix(".json"))
    fields = [f for f in request.query_params.getlist("fields") if f] or None
    return JSONResponse({"network_ip_availability": query.only_fields([item], fields)[0]})

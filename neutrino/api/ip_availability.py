"""``/v2.0/network-ip-availabilities`` (reference B.8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from neutrino.api import query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse
from neutrino.api.wire.declare import Related
from neutrino.api.wire.ip_availability import NETWORK_IP_AVAILABILITY as AVAILABILITY
from neutrino.services import ip_availability
from neutrino.services.listing import rows_of

router = APIRouter()


@router.get("/v2.0/network-ip-availabilities")
@router.get("/v2.0/network-ip-availabilities.json")
async def list_availabilities(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    usage = await call(env, ip_availability.list_availabilities, ctx, q)
    return JSONResponse({"network_ip_availabilities": _render(ctx, usage, q.fields)})


@router.get("/v2.0/network-ip-availabilities/{network_id}")
async def get_availability(network_id: str, request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    usage = await call(env, ip_availability.get_availability, ctx, network_id.removesuffix(".json"))
    fields = [f for f in request.query_params.getlist("fields") if f] or None
    return JSONResponse({"network_ip_availability": _render(ctx, [usage], fields)[0]})


def _render(ctx: Any, usage: list[ip_availability.NetworkUsage],
            fields: list[str] | None) -> list[dict[str, Any]]:
    plan = AVAILABILITY.plan(ctx, fields)
    return AVAILABILITY.render(plan, rows_of(usage, plan.columns), Related({}))

"""``/v2.0/agents`` (extension ``agent``: list, show, update, delete; agents are
mirrored from the SB, never created through the API) and ``GET
/v2.0/availability_zones`` (``availability_zone``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api import query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import Collection, add_collection
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.agents import AgentUpdate
from neutrino.api.wire.agents import AGENT
from neutrino.services import agent_reads, agents

router = APIRouter()


@router.get("/v2.0/availability_zones")
@router.get("/v2.0/availability_zones.json")
async def list_availability_zones(request: Request, env: EnvDep,
                                  ctx: ContextDep) -> JSONResponse:
    q = query.parse_list_query(request, env.settings.pagination_max_limit)
    zones = await call(env, agents.list_availability_zones, ctx, q)
    return JSONResponse({"availability_zones": query.only_fields(zones, q.fields)})


add_collection(router, Collection(
    "agents", "agent", None, AgentUpdate, None, agents.update_agent,
    agents.delete_agent, wire=AGENT, reads=agent_reads.READER))

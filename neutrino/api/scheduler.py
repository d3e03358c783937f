"""The network scheduler's routes (reference B.10; ``services/scheduler.py``).

* ``GET /v2.0/auto-allocated-topology/{project_id}`` (ext ``auto-allocated-topology``,
  Nova's ``--nic auto``): the network the project's next port goes to; ``DELETE``
  answers 204 (no topology is ever built, so none is removed).
* ``GET /v2.0/network-candidates?count=N&tags=T&ip_version=V[&project_id=P]`` (ext
  ``network-scheduler``): every network the project sees, ranked, with its free
  addresses and, for an excluded one, the reasons.
* ``POST /v2.0/scheduled-ports?tags=T&ip_version=V`` (ext ``network-scheduler``):
  ``{"port": {...}}`` or ``{"ports": [...]}`` as for ``/v2.0/ports`` but without
  ``network_id``/``fixed_ips``; creates them all on the network the scheduler
  chooses; 201 with the ports.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi, query
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.api.schemas.scheduler import ScheduledPortCreate
from neutrino.api.wire import views
from neutrino.api.wire.ports import PORT
from neutrino.services import port_reads, scheduler
from neutrino.services.listing import to_int

router = APIRouter()
_MAX_JSON_INT = 2**63 - 1  # orjson's limit; IPv6 subnets hold more addresses


def parse_constraints(request: Request, allowed: set[str]) -> scheduler.Constraints:
    """``count``, ``tags`` (all of; repeated or comma-separated) and ``ip_version``
    from the query string; a key not in ``allowed`` is a 400, as an unknown filter."""
    params = request.query_params
    bad = [k for k in params if k not in allowed]
    if bad:
        raise errors.HTTPBadRequest(f"{bad} is invalid attribute for filtering")
    count = to_int(params.get("count", "1"))
    if count < 1:
        raise errors.InvalidInput(f"Invalid input for count. Reason: '{count}' should be "
                                  "at least 1.")
    version = params.get("ip_version")
    if version is not None and version not in ("4", "6"):
        raise errors.InvalidInput(f"Invalid input for ip_version. Reason: '{version}' is not "
                                  "in [4, 6].")
    tags = tuple(t for v in params.getlist("tags") for t in v.split(",") if t)
    return scheduler.Constraints(count, tags, int(version) if version else None)


def candidate_dict(c: scheduler.Candidate) -> dict[str, Any]:
    """One ``network_candidates`` item."""
    return {"network_id": c.network_id, "network_name": c.network_name,
            "project_id": c.project_id, "tenant_id": c.project_id, "shared": c.shared,
            "router:external": c.router_external, "tags": c.tags, "rank": c.rank,
            "eligible": c.rank is not None, "free_ips": min(c.free_ips, _MAX_JSON_INT),
            "used_ips": c.used_ips, "total_ips": min(c.total_ips, _MAX_JSON_INT),
            "reasons": c.reasons}


@router.get("/v2.0/auto-allocated-topology/{project_id}")
async def get_auto_allocated_topology(project_id: str, request: Request, env: EnvDep,
                                      ctx: ContextDep) -> JSONResponse:
    fields = [f for f in request.query_params.getlist("fields") if f] or None
    network_id, project = await call(env, scheduler.auto_allocated_topology, ctx,
                                     project_id.removesuffix(".json"), fields)
    return JSONResponse({"auto_allocated_topology": {
        "id": network_id, "tenant_id": project, "project_id": project}})


@router.delete("/v2.0/auto-allocated-topology/{project_id}", status_code=204)
async def delete_auto_allocated_topology(project_id: str, env: EnvDep, ctx: ContextDep):
    await call(env, scheduler.delete_auto_allocated_topology, ctx, project_id.removesuffix(".json"))
    return no_content()


@router.get("/v2.0/network-candidates")
@router.get("/v2.0/network-candidates.json")
async def list_network_candidates(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    constraints = parse_constraints(
        request, {"count", "tags", "ip_version", "project_id", "tenant_id", "fields"})
    params = request.query_params
    project = params.get("project_id") or params.get("tenant_id")
    items = await call(env, scheduler.list_candidates, ctx, constraints, project)
    fields = [f for f in params.getlist("fields") if f] or None
    return JSONResponse({"network_candidates": query.only_fields(
        [candidate_dict(c) for c in items], fields)})


@router.post("/v2.0/scheduled-ports", status_code=201, openapi_extra=openapi.create_operation(
    "port", "ports", ScheduledPortCreate))
@router.post("/v2.0/scheduled-ports.json", status_code=201)
async def create_scheduled_ports(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    constraints = parse_constraints(request, {"tags", "ip_version"})
    items, bulk = await body.parse_create(request, "port", "ports", ScheduledPortCreate)
    created = await call(env, _scheduled, ctx, items, constraints)
    return JSONResponse({"ports": created} if bulk else {"port": created[0]}, status_code=201)


def _scheduled(env: Any, ctx: Any, items: list[dict[str, Any]], constraints: Any
               ) -> list[dict[str, Any]]:
    """The ports ``scheduler.schedule_ports`` created, as a port show answers them."""
    return views.written_items(env, ctx, PORT, port_reads.READER,
                               scheduler.schedule_ports(env, ctx, items, constraints))

"""``/v2.0/quotas`` (extensions ``quotas`` and ``quota_details``; reference B.9)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import openapi
from neutrino.api.body import read_json
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.services import quotas

router = APIRouter()


@router.get("/v2.0/quotas")
async def list_quotas(env: EnvDep, ctx: ContextDep) -> JSONResponse:
    limits = await call(env, quotas.list_quotas, ctx)
    return JSONResponse({"quotas": [{**by_resource, "project_id": project, "tenant_id": project}
                                    for project, by_resource in limits.items()]})


@router.get("/v2.0/quotas/project")
@router.get("/v2.0/quotas/tenant")
async def own_project(ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"project": {"project_id": ctx.project_id}, "tenant": {"tenant_id": ctx.project_id}})


@router.get("/v2.0/quotas/{project_id}/default")
async def default_quota(project_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"quota": await call(env, quotas.default_quota, ctx, project_id)})


@router.get("/v2.0/quotas/{project_id}/details")
@router.get("/v2.0/quotas/{project_id}/details.json")
async def quota_details(project_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"quota": await call(env, quotas.quota_details, ctx, project_id)})


@router.get("/v2.0/quotas/{project_id}")
async def get_quota(project_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    project_id = project_id.removesuffix(".json")
    return JSONResponse({"quota": await call(env, quotas.get_quota, ctx, project_id)})


@router.put("/v2.0/quotas/{project_id}", openapi_extra=openapi.body_operation(
    {"quota": {"type": "object", "additionalProperties": {"type": "integer"}}}))
async def update_quota(project_id: str, request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    data = await read_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("quota"), dict):
        raise errors.HTTPBadRequest("Unable to find 'quota' in request body")
    result = await call(env, quotas.update_quota, ctx, project_id.removesuffix(".json"), data["quota"])
    return JSONResponse({"quota": result})


@router.delete("/v2.0/quotas/{project_id}")
async def delete_quota(project_id: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, quotas.delete_quota, ctx, project_id.removesuffix(".json"))
    return no_content()

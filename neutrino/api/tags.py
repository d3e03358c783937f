"""``/v2.0/{collection}/{id}/tags`` (reference A.4, ``neutron/extensions/tagging.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import openapi
from neutrino.api.body import read_json
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.services import tags

router = APIRouter()
PREFIX = "/v2.0/{collection}/{resource_id}/tags"


async def _tags_body(request: Request) -> list[str]:
    data = await read_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("tags"), list):
        raise errors.HTTPBadRequest("Invalid tags body: {\"tags\": [...]} is required")
    return data["tags"]


@router.get(PREFIX)
async def get_tags(collection: str, resource_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"tags": await call(env, tags.get_tags, ctx, collection, resource_id)})


_TAGS = openapi.body_operation({"tags": openapi.STRINGS})


@router.put(PREFIX, openapi_extra=_TAGS)
async def replace_tags(collection: str, resource_id: str, request: Request, env: EnvDep,
                       ctx: ContextDep) -> JSONResponse:
    new = await _tags_body(request)
    return JSONResponse({"tags": await call(env, tags.replace_tags, ctx, collection, resource_id, new)})


@router.post(PREFIX, openapi_extra=_TAGS)
async def add_tags(collection: str, resource_id: str, request: Request, env: EnvDep,
                   ctx: ContextDep) -> JSONResponse:
    new = await _tags_body(request)
    result = await call(env, tags.add_tags, ctx, collection, resource_id, new)
    return JSONResponse({"tags": result}, status_code=201)


@router.delete(PREFIX)
async def remove_all_tags(collection: str, resource_id: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, tags.remove_tags, ctx, collection, resource_id)
    return no_content()


@router.get(PREFIX + "/{tag}")
async def check_tag(collection: str, resource_id: str, tag: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, tags.has_tag, ctx, collection, resource_id, tag)
    return no_content()


@router.put(PREFIX + "/{tag}")
async def add_tag(collection: str, resource_id: str, tag: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, tags.add_tags, ctx, collection, resource_id, [tag])
    return Response(status_code=201)


@router.delete(PREFIX + "/{tag}")
async def remove_tag(collection: str, resource_id: str, tag: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, tags.remove_tags, ctx, collection, resource_id, tag)
    return no_content()

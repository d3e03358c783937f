"""``/v2.0/instances``: the instance registry behind the metadata service
(neutrino extension ``instance-metadata``; admin only).

POST registers (creates, or replaces an instance with the same ``id``) and
answers 201; PUT ``/{id}`` registers under that id and answers 200; GET lists
(``?project_id=`` filters) or shows; DELETE answers 204.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import openapi
from neutrino.api.body import read_json, validate
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.api.schemas.instances import InstanceCreate, InstanceUpdate
from neutrino.api.wire.instances import INSTANCE
from neutrino.services import instance_metadata

router = APIRouter()


async def _body(request: Request) -> object:
    data = await read_json(request)
    if not isinstance(data, dict) or "instance" not in data:
        raise errors.HTTPBadRequest("Unable to find 'instance' in request body")
    return data["instance"]


@router.post("/v2.0/instances", status_code=201, openapi_extra=openapi.create_operation(
    "instance", None, InstanceCreate))
async def register_instance(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    data = validate(InstanceCreate, await _body(request), "instance", create=True)
    row, _created = await call(env, instance_metadata.register_instance, ctx, data.pop("id"), data)
    return JSONResponse({"instance": INSTANCE.render_objects([row])[0]}, status_code=201)


@router.get("/v2.0/instances")
async def list_instances(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    project = request.query_params.get("project_id") or request.query_params.get("tenant_id")
    rows = await call(env, instance_metadata.list_instances, ctx, project)
    return JSONResponse({"instances": INSTANCE.render_objects(rows)})


@router.get("/v2.0/instances/{instance_id}")
async def show_instance(instance_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    row = await call(env, instance_metadata.get_instance, ctx, instance_id)
    return JSONResponse({"instance": INSTANCE.render_objects([row])[0]})


@router.put("/v2.0/instances/{instance_id}", openapi_extra=openapi.update_operation(
    "instance", InstanceUpdate))
async def replace_instance(instance_id: str, request: Request, env: EnvDep,
                           ctx: ContextDep) -> JSONResponse:
    try:
        uuid.UUID(instance_id)
    except ValueError:
        raise errors.InvalidInput(f"Invalid input for id. Reason: '{instance_id}' is not a "
                                  "valid UUID.") from None
    data = validate(InstanceUpdate, await _body(request), "instance", create=False)
    row, _created = await call(env, instance_metadata.register_instance, ctx, instance_id, data)
    return JSONResponse({"instance": INSTANCE.render_objects([row])[0]})


@router.delete("/v2.0/instances/{instance_id}")
async def delete_instance(instance_id: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, instance_metadata.delete_instance, ctx, instance_id)
    return no_content()

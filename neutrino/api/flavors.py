"""``/v2.0/flavors`` and ``/v2.0/service_profiles`` (extension ``flavors``,
services/flavors.py): the Collection builder's five routes each, and a flavor's
service profile bindings ``/v2.0/flavors/{id}/service_profiles[/{profile id}]``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from neutrino import errors
from neutrino.api import body, openapi
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import Collection, add_collection
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.flavors import (FlavorCreate, FlavorProfileBinding, FlavorUpdate,
                                          ServiceProfileCreate, ServiceProfileUpdate)
from neutrino.api.wire.flavors import FLAVOR, SERVICE_PROFILE
from neutrino.services import flavor_reads, flavors

router = APIRouter()


@router.post("/v2.0/flavors/{flavor_id}/service_profiles", status_code=201,
             openapi_extra=openapi.create_operation("service_profile", None,
                                                    FlavorProfileBinding))
async def bind(flavor_id: str, request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    if not isinstance(data, dict) or "service_profile" not in data:
        raise errors.HTTPBadRequest("Unable to find 'service_profile' in request body")
    sp = body.validate(FlavorProfileBinding, data["service_profile"], "service_profile",
                       create=True)
    return JSONResponse({"service_profile": await call(env, flavors.bind, ctx, flavor_id,
                                                       sp["id"])}, status_code=201)


@router.get("/v2.0/flavors/{flavor_id}/service_profiles/{sp_id}")
async def show_binding(flavor_id: str, sp_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"service_profile": await call(env, flavors.get_binding, ctx,
                                                       flavor_id, sp_id)})


@router.delete("/v2.0/flavors/{flavor_id}/service_profiles/{sp_id}", status_code=204)
async def unbind(flavor_id: str, sp_id: str, env: EnvDep, ctx: ContextDep) -> Response:
    await call(env, flavors.unbind, ctx, flavor_id, sp_id)
    return Response(status_code=204)


add_collection(router, Collection(
    "flavors", "flavor", FlavorCreate, FlavorUpdate, flavors.create_flavors,
    flavors.update_flavor, flavors.delete_flavor,
    wire=FLAVOR, reads=flavor_reads.READER))
add_collection(router, Collection(
    "service_profiles", "service_profile", ServiceProfileCreate, ServiceProfileUpdate,
    flavors.create_service_profiles, flavors.update_service_profile,
    flavors.delete_service_profile, wire=SERVICE_PROFILE, reads=flavor_reads.PROFILE_READER))

"""Router member actions (reference B.4): ``PUT /v2.0/routers/{id}/<action>``: interfaces,
extra routes (``extraroute-atomic``), external gateways (``external-gateway-multihoming``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi
from neutrino.api.resources import add_member_action
from neutrino.api.schemas.routers import ExternalGateway, Route
from neutrino.api.wire.routers import ROUTER, ROUTER_INTERFACE
from neutrino.services import router_gateways, router_reads, routers

router = APIRouter()


_INTERFACE = openapi.body_operation({"subnet_id": {"type": "string"}, "port_id": {"type": "string"}},
                                    required=[])
_ROUTES = openapi.body_operation({"router": {
    "type": "object", "required": ["routes"],
    "properties": {"routes": {"type": "array", "items": openapi.model_schema(Route)}}}})


for _action in (routers.add_router_interface, routers.remove_router_interface):
    add_member_action(router, "routers", "router_id", _action, _INTERFACE, wire=ROUTER_INTERFACE)


async def _routes(request: Request) -> list[dict[str, str]]:
    """``{"router": {"routes": [...]}}`` -> validated routes."""
    data = await body.read_json(request)
    router = data.get("router") if isinstance(data, dict) else None
    routes = router.get("routes") if isinstance(router, dict) else None
    if not isinstance(routes, list):
        raise errors.HTTPBadRequest("Unable to find 'routes' in request body")
    return [body.validate(Route, r, "route", create=True) for r in routes]


for _action in (routers.add_extraroutes, routers.remove_extraroutes):
    add_member_action(router, "routers", "router_id", _action, _ROUTES, parse=_routes,
                      wrap="router", wire=ROUTER, reads=router_reads.READER)


async def _gateways(request: Request) -> list[dict] | None:
    """``{"router": {"external_gateways": [...]}}`` -> validated gateways; None when the
    router has no ``external_gateways`` (Neutron then returns the router unchanged)."""
    data = await body.read_json(request)
    router_body = data.get("router") if isinstance(data, dict) else None
    if not isinstance(router_body, dict):
        raise errors.HTTPBadRequest("Unable to find 'router' in request body")
    if router_body.get("external_gateways") is None:
        return None
    gateways = router_body["external_gateways"]
    if not isinstance(gateways, list):
        raise errors.InvalidInput("Invalid input for external_gateways. Reason: "
                                  f"'{gateways}' is not a list.")
    return [body.validate(ExternalGateway, g, "external_gateways", create=True)
            for g in gateways]


for _action in (router_gateways.add_external_gateways, router_gateways.update_external_gateways,
                router_gateways.remove_external_gateways):
    add_member_action(router, "routers", "router_id", _action, parse=_gateways, wrap="router",
                      wire=ROUTER, reads=router_reads.READER)

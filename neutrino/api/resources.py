"""CRUD routes for the core resources, built once from a small description.

Every collection follows the same contract (reference A.1): POST creates one
or, with a list body, many (all or nothing) and answers 201; GET lists with
filters, fields, sorting and paging; GET/PUT/DELETE on an item; DELETE 204.
Member actions that take Neutron's bare body (``add_member_action``) are built
here too.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Path, Request

from neutrino import errors
from neutrino.api import body, openapi, query
from neutrino.api.deps import ContextDep, EnvDep, IfMatchDep, call
from neutrino.api.responses import JSONResponse, no_content
from neutrino.api.schemas.common import NeutronBody
from neutrino.api.schemas.networks import NetworkCreate, NetworkUpdate
from neutrino.api.schemas.ports import PortCreate, PortUpdate
from neutrino.api.schemas.routers import (FloatingIPCreate, FloatingIPUpdate, RouterCreate,
                                          RouterUpdate)
from neutrino.api.schemas.segments import SegmentCreate, SegmentUpdate
from neutrino.api.schemas.security_groups import (SecurityGroupCreate, SecurityGroupRuleCreate,
                                                  SecurityGroupRuleUpdate, SecurityGroupUpdate)
from neutrino.api.schemas.subnets import SubnetCreate, SubnetUpdate
from neutrino.api.wire import views
from neutrino.api.wire.declare import Resource
from neutrino.api.wire.floatingips import FLOATINGIP
from neutrino.api.wire.networks import NETWORK
from neutrino.api.wire.ports import PORT
from neutrino.api.wire.routers import ROUTER
from neutrino.api.wire.security_groups import SECURITY_GROUP, SECURITY_GROUP_RULE
from neutrino.api.wire.segments import SEGMENT
from neutrino.api.wire.subnets import SUBNET
from neutrino.services import (floatingip_reads, floatingips, network_reads, networks,
                               port_reads, ports, router_reads, routers,
                               security_group_reads, security_groups, segment_reads,
                               segments, subnet_reads, subnets)
from neutrino.services.listing import Reader, Written


@dataclass(frozen=True)
class Collection:
    """One REST collection and the service functions behind it. ``plural`` is
    the JSON key; the URL uses ``path`` when it differs (``security-groups``). A
    collection without ``create`` (agents) has no POST route. List and show are
    rendered from the wire-format declaration ``wire`` (``api/wire``) over the
    service's reader of domain rows ``reads``, and so is what ``create`` and ``update``
    return (``listing.Written``: what they wrote)."""

    plural: str
    singular: str
    create_schema: type[NeutronBody] | None
    update_schema: type[NeutronBody]
    create: Callable[..., Written] | None
    update: Callable[..., Written]
    delete: Callable[..., None]
    _: KW_ONLY
    wire: Resource
    reads: Reader
    path: str | None = None


COLLECTIONS = [
    Collection("networks", "network", NetworkCreate, NetworkUpdate, networks.create_networks,
               networks.update_network, networks.delete_network,
               wire=NETWORK, reads=network_reads.READER),
    Collection("subnets", "subnet", SubnetCreate, SubnetUpdate, subnets.create_subnets,
               subnets.update_subnet, subnets.delete_subnet,
               wire=SUBNET, reads=subnet_reads.READER),
    Collection("ports", "port", PortCreate, PortUpdate, ports.create_ports, ports.update_port,
               ports.delete_port, wire=PORT, reads=port_reads.READER),
    Collection("routers", "router", RouterCreate, RouterUpdate, routers.create_routers,
               routers.update_router, routers.delete_router,
               wire=ROUTER, reads=router_reads.READER),
    Collection("floatingips", "floatingip", FloatingIPCreate, FloatingIPUpdate,
               floatingips.create_floatingips, floatingips.update_floatingip,
               floatingips.delete_floatingip, wire=FLOATINGIP,
               reads=floatingip_reads.READER),
    Collection("security_groups", "security_group", SecurityGroupCreate, SecurityGroupUpdate,
               security_groups.create_security_groups, security_groups.update_security_group,
               security_groups.delete_security_group, path="security-groups",
               wire=SECURITY_GROUP, reads=security_group_reads.READER),
    Collection("security_group_rules", "security_group_rule", SecurityGroupRuleCreate,
               SecurityGroupRuleUpdate, security_groups.create_security_group_rules,
               security_groups.update_security_group_rule,
               security_groups.delete_security_group_rule, path="security-group-rules",
               wire=SECURITY_GROUP_RULE, reads=security_group_reads.RULE_READER),
    Collection("segments", "segment", SegmentCreate, SegmentUpdate, segments.create_segments,
               segments.update_segment, segments.delete_segment,
               wire=SEGMENT, reads=segment_reads.READER),
]


def add_collection(router: APIRouter, c: Collection) -> None:
    """Register the five routes of ``c`` (``.json`` suffixes are accepted too)."""

    def answered(write: Callable[..., Written], one: bool = False) -> Callable[..., Any]:
        """``write`` (a service's create, or with ``one`` its update) answering API
        dicts: what it wrote rendered from the declaration as a show answers it."""
        def run(env: Any, ctx: Any, *args: Any) -> Any:
            items = views.written_items(env, ctx, c.wire, c.reads, write(env, ctx, *args))
            return items[0] if one else items
        return run

    created_items = answered(c.create) if c.create else None
    updated_item = answered(c.update, one=True)

    async def create(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
        items, bulk = await body.parse_create(request, c.singular, c.plural, c.create_schema)
        created = await call(env, created_items, ctx, items)
        return JSONResponse({c.plural: created} if bulk else {c.singular: created[0]}, status_code=201)

    async def list_(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
        q = query.parse_list_query(request, env.settings.pagination_max_limit)
        items, ids = await call(env, views.list_items, ctx, c.wire, c.reads, q)
        result: dict[str, Any] = {c.plural: items}
        links = query.page_links(request, c.plural, q, ids)
        if links:
            result[f"{c.plural}_links"] = links
        return JSONResponse(result)

    async def show(item_id: str, request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
        fields = [f for f in request.query_params.getlist("fields") if f] or None
        item = await call(env, views.show_item, ctx, c.wire, c.reads, item_id, fields)
        return JSONResponse({c.singular: item})

    async def update(item_id: str, request: Request, env: EnvDep, ctx: ContextDep,
                     if_match: IfMatchDep) -> JSONResponse:
        data = await body.parse_update(request, c.singular, c.update_schema)
        return JSONResponse({c.singular: await call(env, updated_item, ctx, item_id, data,
                                                     if_match)})

    async def delete(item_id: str, request: Request, env: EnvDep, ctx: ContextDep,
                     if_match: IfMatchDep):
        if (await request.body()).strip():
            raise errors.HTTPBadRequest("Request body is not supported in DELETE.")
        await call(env, c.delete, ctx, item_id, if_match)
        return no_content()

    # ".json" first: "{item_id}" would otherwise swallow the suffix.
    path = c.path or c.plural
    attributes = c.update_schema.ATTRIBUTES
    for suffix in (".json", ""):
        if c.create is not None:
            router.add_api_route(f"/v2.0/{path}{suffix}", create, methods=["POST"],
                                 status_code=201, openapi_extra=openapi.create_operation(
                                     c.singular, c.plural, c.create_schema))
        router.add_api_route(f"/v2.0/{path}{suffix}", list_, methods=["GET"],
                             openapi_extra=openapi.list_operation(c.plural, attributes))
        router.add_api_route(f"/v2.0/{path}/{{item_id}}{suffix}", show, methods=["GET"],
                             openapi_extra=openapi.show_operation(c.singular, attributes))
        router.add_api_route(f"/v2.0/{path}/{{item_id}}{suffix}", update, methods=["PUT"],
                             openapi_extra=openapi.update_operation(c.singular, c.update_schema))
        router.add_api_route(f"/v2.0/{path}/{{item_id}}{suffix}", delete, methods=["DELETE"],
                             status_code=204, openapi_extra=openapi.delete_operation())


def add_member_action(router: APIRouter, path: str, id_name: str, action: Callable,
                      openapi_extra: dict[str, Any] | None = None, *,
                      parse: Callable[[Request], Awaitable[Any]] = body.read_json,
                      wrap: str | None = None, wire: Resource | None = None,
                      reads: Reader | None = None) -> None:
    """Register ``PUT /v2.0/{path}/{<id_name>}/<action name>`` (neutron-lib's
    ``ACTION_MAP`` member actions): ``parse(request)`` -- by default the bare JSON body
    (``{"prefixes": [...]}``, ``{"sub_ports": [...]}``), left to the service to check --
    goes to ``action(ctx, id, parsed)``, whose result is answered 200 as it is, or as
    ``{wrap: result}`` (the router actions answer ``{"router": {...}}``). With ``wire``,
    the action returns what it wrote (``listing.Written``, one object), rendered from
    ``wire`` and ``reads`` as a show answers it (``reads`` may be None where ``wire``
    has no related loads: a router's interface info); without, its result is no
    resource (a subnet pool's prefixes). The route and its OpenAPI operation are named
    after ``action``."""

    def answered(env: Any, ctx: Any, item_id: str, parsed: Any) -> Any:
        result = action(env, ctx, item_id, parsed)
        if wire is not None:
            return views.written_items(env, ctx, wire, reads, result)[0]
        return result

    async def handler(request: Request, env: EnvDep, ctx: ContextDep,
                      item_id: str = Path(alias=id_name)) -> JSONResponse:
        result = await call(env, answered, ctx, item_id, await parse(request))
        return JSONResponse(result if wrap is None else {wrap: result})

    name = action.__name__
    router.add_api_route(f"/v2.0/{path}/{{{id_name}}}/{name}", handler, methods=["PUT"],
                         name=name, openapi_extra=openapi_extra)

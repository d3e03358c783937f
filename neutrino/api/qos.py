"""``/v2.0/qos/...`` (extensions ``qos``, ``qos-rules-alias``, ``qos-rule-type-details``):
policies through the Collection builder; per rule type ``/qos/policies/{id}/<type>_rules``
(POST 201, GET, GET/PUT/DELETE one) and the alias routes ``/qos/alias_<type>_rules/{id}``
(GET/PUT/DELETE); ``/qos/rule-types`` and ``/qos/rule-types/{type}``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api import body, openapi, query, tags
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import Collection, add_collection
from neutrino.api.responses import JSONResponse, no_content
from neutrino.api.schemas.qos import QosPolicyCreate, QosPolicyUpdate, RULE_SCHEMAS
from neutrino.api.wire import views
from neutrino.api.wire.qos_policies import QOS_POLICY
from neutrino.api.wire.qos_rules import RULES
from neutrino.services import qos, qos_policy_reads, qos_rule_reads, qos_rules
from neutrino.services.listing import ListQuery

router = APIRouter()


@router.get("/v2.0/qos/rule-types")
async def list_rule_types(request: Request, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    params = request.query_params
    items = await call(env, qos_rules.list_rule_types, ctx,
                       params.get("all_supported", "").lower() == "true",
                       params.get("all_rules", "").lower() == "true")
    fields = [f for f in params.getlist("fields") if f] or None
    return JSONResponse({"rule_types": query.only_fields(items, fields)})


@router.get("/v2.0/qos/rule-types/{rule_type}")
async def get_rule_type(rule_type: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"rule_type": await call(env, qos_rules.get_rule_type, ctx, rule_type)})


def _add_rule_routes(rule_type: str) -> None:
    """The rule type's routes, answered from its declaration (``api/wire/qos_rules.py``)
    and reader (``services.qos_rule_reads``): a list takes ``fields=`` and nothing else of
    its query, a show nothing of it (as before the declarations)."""
    create_schema, update_schema = RULE_SCHEMAS[rule_type]
    wire, reads = RULES[rule_type], qos_rule_reads.READERS[rule_type]
    created = views.written_one(qos_rules.create_rule, wire, reads)
    updated = views.written_one(qos_rules.update_rule, wire, reads)
    singular = f"{rule_type}_rule"
    base = f"/v2.0/qos/policies/{{policy_id}}/{rule_type}_rules"
    alias = f"/v2.0/qos/alias_{rule_type}_rules/{{rule_id}}"

    async def create(policy_id: str, request: Request, env: EnvDep, ctx: ContextDep):
        data = await body.read_json(request)
        item = body.validate(create_schema, (data or {}).get(singular) if isinstance(data, dict)
                             else None, singular, create=True)
        item = {**{n: f.default for n, f in create_schema.model_fields.items()
                   if not f.is_required()}, **item}
        return JSONResponse({singular: await call(env, created, ctx, rule_type, policy_id,
                                                  item)}, status_code=201)

    async def list_(policy_id: str, request: Request, env: EnvDep, ctx: ContextDep):
        fields = [f for f in request.query_params.getlist("fields") if f] or None
        items, _ = await call(env, views.list_items, ctx, wire, reads,
                              ListQuery(fields=fields), policy_id)
        return JSONResponse({f"{singular}s": items})

    async def show(policy_id: str, rule_id: str, env: EnvDep, ctx: ContextDep):
        return JSONResponse({singular: await call(env, views.show_item, ctx, wire, reads,
                                                  rule_id, None, policy_id)})

    async def update(policy_id: str, rule_id: str, request: Request, env: EnvDep,
                     ctx: ContextDep):
        data = await body.parse_update(request, singular, update_schema)
        return JSONResponse({singular: await call(env, updated, ctx, rule_type, policy_id,
                                                  rule_id, data)})

    async def delete(policy_id: str, rule_id: str, env: EnvDep, ctx: ContextDep):
        await call(env, qos_rules.delete_rule, ctx, rule_type, policy_id, rule_id)
        return no_content()

    async def alias_show(rule_id: str, env: EnvDep, ctx: ContextDep):
        return JSONResponse({singular: await call(env, views.show_item, ctx, wire, reads,
                                                  rule_id, None)})

    async def alias_update(rule_id: str, request: Request, env: EnvDep, ctx: ContextDep):
        data = await body.parse_update(request, f"alias_{singular}", update_schema)
        return JSONResponse({singular: await call(env, updated, ctx, rule_type, None,
                                                  rule_id, data)})

    async def alias_delete(rule_id: str, env: EnvDep, ctx: ContextDep):
        await call(env, qos_rules.delete_rule, ctx, rule_type, None, rule_id)
        return no_content()

    attributes = update_schema.ATTRIBUTES
    router.add_api_route(base, create, methods=["POST"], status_code=201,
                         openapi_extra=openapi.create_operation(singular, None, create_schema))
    router.add_api_route(base, list_, methods=["GET"], openapi_extra=openapi.list_operation(
        f"{singular}s", attributes, paged=False))
    router.add_api_route(base + "/{rule_id}", show, methods=["GET"],
                         openapi_extra=openapi.show_operation(singular, attributes))
    router.add_api_route(base + "/{rule_id}", update, methods=["PUT"],
                         openapi_extra=openapi.update_operation(singular, update_schema))
    router.add_api_route(base + "/{rule_id}", delete, methods=["DELETE"], status_code=204,
                         openapi_extra=openapi.delete_operation())
    router.add_api_route(alias, alias_show, methods=["GET"],
                         openapi_extra=openapi.show_operation(singular, attributes))
    router.add_api_route(alias, alias_update, methods=["PUT"], openapi_extra=openapi.update_operation(
        f"alias_{singular}", update_schema, answer=singular))
    router.add_api_route(alias, alias_delete, methods=["DELETE"], status_code=204,
                         openapi_extra=openapi.delete_operation())


for _type in RULE_SCHEMAS:
    _add_rule_routes(_type)


def _add_tag_routes() -> None:
    """``/v2.0/qos/policies/{id}/tags[/{tag}]``: the generic tags handlers (``api.tags``)
    for collection ``policies``."""
    def bind(handler):
        takes = handler.__code__.co_varnames[:handler.__code__.co_argcount]

        async def forward(resource_id: str, request: Request, env, ctx, **kwargs):
            if "request" in takes:
                kwargs["request"] = request
            return await handler("policies", resource_id, env=env, ctx=ctx, **kwargs)

        # {tag} only where the path has it: a "tag" query parameter is no argument
        if "tag" in takes:
            async def route(resource_id: str, tag: str, request: Request, env: EnvDep,
                            ctx: ContextDep):
                return await forward(resource_id, request, env, ctx, tag=tag)
        else:
            async def route(resource_id: str, request: Request, env: EnvDep, ctx: ContextDep):
                return await forward(resource_id, request, env, ctx)
        return route
    prefix = "/v2.0/qos/policies/{resource_id}/tags"
    for path, method, handler, status in (
            (prefix, "GET", tags.get_tags, 200), (prefix, "PUT", tags.replace_tags, 200),
            (prefix, "POST", tags.add_tags, 201), (prefix, "DELETE", tags.remove_all_tags, 204),
            (prefix + "/{tag}", "GET", tags.check_tag, 204),
            (prefix + "/{tag}", "PUT", tags.add_tag, 201),
            (prefix + "/{tag}", "DELETE", tags.remove_tag, 204)):
        extra = openapi.body_operation({"tags": openapi.STRINGS}) \
            if path == prefix and method in ("PUT", "POST") else None
        router.add_api_route(path, bind(handler), methods=[method], status_code=status,
                             openapi_extra=extra)


_add_tag_routes()

add_collection(router, Collection(
    "policies", "policy", QosPolicyCreate, QosPolicyUpdate, qos.create_policies,
    qos.update_policy, qos.delete_policy,
    path="qos/policies", wire=QOS_POLICY, reads=qos_policy_reads.READER))

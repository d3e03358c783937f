"""The OpenAPI document at ``/openapi.json``, built from the declarations that validate.

Routes read raw bodies (``api/body.py`` gives Neutron's messages), so FastAPI alone would
document nothing. Each route that has a request model passes one of the fragments below
as FastAPI's ``openapi_extra``: the request body from the same pydantic model that
validates it, in Neutron's envelope (``{"network": {...}}``, bulk ``{"networks": [...]}``),
list parameters (one filter per attribute, ``fields``, ``limit``/``marker``/
``sort_key``/``sort_dir``/``page_reverse``, reference A.3) and the response envelope,
whose resource object names the attributes of the model's ``ATTRIBUTES`` (the services
build dicts, so the values are left open). ``install`` post-processes the whole document:
pydantic's ``$defs`` become ``components/schemas``, every operation documents ``4XX`` as
the ``NeutronError`` body (reference A.2) instead of FastAPI's 422, and the ``.json``
aliases stay out (same handlers). The result is OpenAPI 3.1 (FastAPI's version).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from neutrino.api.schemas.common import NeutronBody

Schema = dict[str, Any]
_REF = "#/components/schemas/{model}"
NEUTRON_ERROR: Schema = {
    "type": "object", "required": ["NeutronError"],
    "properties": {"NeutronError": {
        "type": "object", "required": ["type", "message", "detail"],
        "properties": {"type": {"type": "string"}, "message": {"type": "string"},
                       "detail": {"type": "string"}}}}}
LIST_RESERVED = ("fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse")
_TAG_FILTERS = ("tags-any", "not-tags", "not-tags-any")
_LINKS: Schema = {"type": "array", "items": {
    "type": "object", "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}}}


def model_schema(model: type[NeutronBody]) -> Schema:
    """The JSON schema pydantic validates ``model`` with (aliases as the API spells them,
    ``binding:host_id``); nested models are ``$ref``s to ``components/schemas``, their
    definitions left in ``$defs`` for ``install`` to move there."""
    return model.model_json_schema(by_alias=True, ref_template=_REF, mode="validation")


def resource_schema(attributes: frozenset[str] | set[str]) -> Schema:
    """A resource as answered: an object naming ``attributes``, values open (the services
    build the dicts; ``fields=`` may leave any of them out)."""
    return {"type": "object", "properties": {a: {} for a in sorted(attributes)}}


def envelope(key: str, schema: Schema) -> Schema:
    """``{key: schema}``, Neutron's envelope."""
    return {"type": "object", "required": [key], "properties": {key: schema},
            "additionalProperties": False}


def _json(schema: Schema, description: str = "") -> Schema:
    return {"description": description or "OK",
            "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    param: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


def fields_parameter() -> Schema:
    """``fields=a&fields=b``: only those attributes in the answer."""
    return _query("fields", {"type": "array", "items": {"type": "string"}},
                  "attributes to return")


def list_parameters(attributes: frozenset[str] | set[str]) -> list[Schema]:
    """Neutron's list query (reference A.3): a filter per attribute (repeated: any of),
    the tag filters when the resource has ``tags``, then fields, sorting and paging."""
    params = [_query(a, {"type": "array", "items": {"type": "string"}}, "filter")
              for a in sorted(attributes) if a not in LIST_RESERVED]
    if "tags" in attributes:
        params += [_query(t, {"type": "array", "items": {"type": "string"}}, "tag filter")
                   for t in _TAG_FILTERS]
    return params + [
        fields_parameter(),
        _query("limit", {"type": "integer", "minimum": 0}, "page size"),
        _query("marker", {"type": "string"}, "id of the last item of the previous page"),
        _query("sort_key", {"type": "array", "items": {"type": "string"}}),
        _query("sort_dir", {"type": "array", "items": {"enum": ["asc", "desc"]}}),
        _query("page_reverse", {"type": "boolean"})]


def create_operation(singular: str, plural: str | None, model: type[NeutronBody]) -> Schema:
    """POST: ``{singular: model}``, or with ``plural`` also the bulk ``{plural: [model]}``;
    201 with the created resource(s)."""
    one, item = model_schema(model), resource_schema(model.ATTRIBUTES)
    bodies, answers = [envelope(singular, one)], [envelope(singular, item)]
    if plural and plural != singular:
        bodies.append(envelope(plural, {"type": "array", "minItems": 1, "items": one}))
        answers.append(envelope(plural, {"type": "array", "items": item}))
    pick = (lambda s: s[0]) if len(bodies) == 1 else (lambda s: {"oneOf": s})
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": pick(bodies)}}},
            "responses": {"201": _json(pick(answers), "Created")}}


def list_operation(plural: str, attributes: frozenset[str] | set[str], *,
                   paged: bool = True) -> Schema:
    """GET a collection: ``{plural: [...]}`` (and ``<plural>_links`` when paged)."""
    answer: Schema = {"type": "object", "required": [plural],
                      "properties": {plural: {"type": "array",
                                              "items": resource_schema(attributes)}}}
    if paged:
        answer["properties"][f"{plural}_links"] = _LINKS
    return {"parameters": list_parameters(attributes) if paged else [fields_parameter()],
            "responses": {"200": _json(answer)}}


def show_operation(singular: str, attributes: frozenset[str] | set[str]) -> Schema:
    """GET one: ``{singular: {...}}``, ``fields`` accepted."""
    return {"parameters": [fields_parameter()],
            "responses": {"200": _json(envelope(singular, resource_schema(attributes)))}}


def update_operation(singular: str, model: type[NeutronBody], *,
                     answer: str | None = None) -> Schema:
    """PUT one: ``{singular: model}`` -> ``{answer or singular: {...}}`` (QoS alias rules
    take ``alias_<type>_rule`` and answer ``<type>_rule``)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
                "schema": envelope(singular, model_schema(model))}}},
            "responses": {"200": _json(envelope(answer or singular,
                                                resource_schema(model.ATTRIBUTES)))}}


def body_operation(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """A member action's bare body (``{"prefixes": [...]}``, ``{"subnet_id": ...}``): an
    object of ``properties``, all of them required unless ``required`` says which."""
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required}
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


STRINGS: Schema = {"type": "array", "items": {"type": "string"}}


def delete_operation() -> Schema:
    """DELETE one: 204, no body."""
    return {"responses": {"204": {"description": "Deleted"}}}


def operation_id(route: APIRoute) -> str:
    """``"<METHOD> <path>"``: unique where FastAPI's own ids repeat (paths differing in
    ``-``/``_``, a handler under two paths). FastAPI's ``generate_unique_id_function``."""
    return f"{sorted(route.methods)[0]} {route.path_format}"


def install(app: FastAPI) -> None:
    """Serve the post-processed document as ``app.openapi()`` (cached, as FastAPI's).

    Raises ValueError while building it when two models of one name differ (their
    ``components/schemas`` entry would be ambiguous)."""

    def openapi() -> Schema:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              openapi_version=app.openapi_version, routes=app.routes,
                              description="OpenStack Networking API v2.0 (Neutron's), "
                                          "served by neutrino")
            app.openapi_schema = finish(doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(doc: Schema) -> Schema:
    """Leave the ``.json`` aliases out; hoist ``$defs`` into ``components/schemas``;
    document ``4XX`` as NeutronError and drop FastAPI's 422 (requests are validated by
    ``api/body.py``, never by FastAPI). Works on a copy: the routes' ``openapi_extra``
    stay whole for the next app."""
    doc = copy.deepcopy(doc)
    schemas: Schema = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    doc["paths"] = {path: item for path, item in doc["paths"].items()
                    if not path.endswith(".json")}
    _hoist(doc["paths"], schemas)
    schemas["NeutronError"] = NEUTRON_ERROR
    error = _json({"$ref": _REF.format(model="NeutronError")}, "NeutronError")
    for item in doc["paths"].values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.setdefault("4XX", error)
    return doc


def _hoist(node: Any, schemas: Schema) -> None:
    if isinstance(node, dict):
        for name, definition in node.pop("$defs", {}).items():
            _hoist(definition, schemas)
            if schemas.setdefault(name, definition) != definition:
                raise ValueError(f"two request models named {name} differ")
        for value in node.values():
            _hoist(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist(value, schemas)

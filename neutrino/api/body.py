"""Request bodies in Neutron's envelope, validated, with Neutron's messages.

Order of checks as ``prepare_request_body`` (``neutron/api/v2/base.py``,
reference A.1): body present, resource key present, value is an object,
unknown attributes, read-only attributes, required attributes, then values.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from pydantic import ValidationError

from neutrino import errors
from neutrino.api.schemas.common import NeutronBody


async def read_json(request: Request) -> Any:
    """The decoded JSON body; HTTPBadRequest when missing or malformed, InvalidInput
    when a key or string holds NUL (U+0000)."""
    raw = await request.body()
    if not raw.strip():
        raise errors.HTTPBadRequest("Resource body required")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.HTTPBadRequest(f"Malformed JSON in request body: {exc}") from None
    if _has_nul(data):
        # PostgreSQL's text cannot hold it (the driver's error was a 500); see api/nul.py
        raise errors.InvalidInput("Invalid input for operation: NUL characters (\\u0000) "
                                  "are not accepted.")
    return data


def _has_nul(data: Any) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_nul(v) for v in data)
    return False


async def parse_create(request: Request, singular: str, plural: str,
                       model: type[NeutronBody]) -> tuple[list[dict[str, Any]], bool]:
    """``{singular: {...}}`` or bulk ``{plural: [{...}, ...]}`` -> (items, is_bulk).

    Items are dicts of the attributes the client set, validated by ``model``.
    """
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.HTTPBadRequest("Body contains invalid data")
    # a collection named like its resource (security_groups_default_statefulness): a
    # list is bulk, a dict is one
    if plural in body and (plural != singular or isinstance(body[plural], list)):
        items = body[plural]
        if not isinstance(items, list):
            raise errors.HTTPBadRequest(f"Invalid input for {plural}: a list is required")
        if not items:
            raise errors.HTTPBadRequest("Resources required")
        items = [i[singular] if isinstance(i, dict) and set(i) == {singular} else i for i in items]
        return [validate(model, item, singular, create=True) for item in items], True
    if singular not in body:
        raise errors.HTTPBadRequest(f"Unable to find '{singular}' in request body")
    return [validate(model, body[singular], singular, create=True)], False


async def parse_update(request: Request, singular: str, model: type[NeutronBody]) -> dict[str, Any]:
    """``{singular: {...}}`` -> the attributes to change, validated by ``model``."""
    body = await read_json(request)
    if not isinstance(body, dict) or singular not in body:
        raise errors.HTTPBadRequest(f"Unable to find '{singular}' in request body")
    return validate(model, body[singular], singular, create=False)


def validate(model: type[NeutronBody], data: Any, singular: str, *, create: bool) -> dict[str, Any]:
    """Validate one resource dict; raise HTTPBadRequest/InvalidInput as Neutron words it."""
    if not isinstance(data, dict):
        raise errors.HTTPBadRequest(f"Invalid format for {singular}: an object is required")
    accepted = {f.alias or name for name, f in model.model_fields.items()}
    extra = [k for k in data if k not in accepted]
    unknown = [k for k in extra if k not in model.ATTRIBUTES]
    if unknown:
        raise errors.HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    if extra:
        if create:
            raise errors.HTTPBadRequest(f"Attribute '{extra[0]}' not allowed in POST")
        raise errors.HTTPBadRequest(f"Cannot update read-only attribute {extra[0]}")
    try:
        # Field names, not the API's aliases ("binding_host_id" for "binding:host_id").
        return model.model_validate(data).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise _translate(exc) from None


def _translate(exc: ValidationError) -> errors.NeutronError:
    err = exc.errors()[0]
    attr = str(err["loc"][0]) if err["loc"] else "body"
    if err["type"] == "missing" and len(err["loc"]) == 1:
        return errors.HTTPBadRequest(
            f"Failed to parse request. Required attribute '{attr}' not specified")
    message = err["msg"].removeprefix("Value error, ")
    where = ".".join(str(p) for p in err["loc"][1:])
    if err["type"] == "extra_forbidden":
        message = f"unrecognized key '{err['loc'][-1]}'"
    reason = f"{message} (at {where}, got {err.get('input')!r})" if where else (
        f"{message}, got {err.get('input')!r}" if err["type"] != "value_error" else message)
    return errors.InvalidInput(f"Invalid input for {attr}. Reason: {reason}.")

"""Shared request-body types. Shape is checked here; meaning in ``services``.

Models forbid unknown keys; ``api/body.py`` turns pydantic errors into
Neutron's messages ("Unrecognized attribute(s) 'x'", "Invalid input for x.
Reason: ...").

A resource's create body extends its update body (``class TrunkCreate(TrunkUpdate)``)
with the attributes set only at creation (neutron-lib's ``allow_post`` without
``allow_put``), so an updatable attribute is declared once.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints

_MAC_RE = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$")


class NeutronBody(BaseModel):
    """Base for request bodies. ``ATTRIBUTES`` lists every attribute of the
    resource, so a known but read-only one gets the right error."""

    model_config = ConfigDict(extra="forbid")
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()


def _uuid(value: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a valid UUID") from None
    return value


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"'{value}' is not a valid IP address") from None


def _cidr(value: str) -> str:
    try:
        if "/" not in value:
            raise ValueError
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"'{value}' is not a valid IP subnet") from None
    return value


def _mac(value: str) -> str:
    mac = value.lower().replace("-", ":")
    if not _MAC_RE.match(mac):
        raise ValueError(f"'{value}' is not a valid MAC address")
    if mac == "00:00:00:00:00:00" or int(mac[:2], 16) & 1:
        raise ValueError(f"'{value}' is not a valid MAC address (zero, broadcast or multicast)")
    return mac


def _int_string(value: object) -> object:
    """An integer written as a string becomes the integer (neutron-lib's
    ``convert_to_int``: ``"4"`` -> 4); anything else is left to the type's check."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return value


Name = Annotated[str, StringConstraints(max_length=255)]
Description = Annotated[str, StringConstraints(max_length=255)]
ProjectId = Annotated[str, StringConstraints(max_length=255)]
UUIDStr = Annotated[str, AfterValidator(_uuid)]
IPAddress = Annotated[str, AfterValidator(_ip)]
CIDR = Annotated[str, AfterValidator(_cidr)]
MACAddress = Annotated[str, AfterValidator(_mac)]
IPVersion = Annotated[Literal[4, 6], BeforeValidator(_int_string)]
STANDARD_ATTRIBUTES = frozenset({"id", "name", "description", "project_id", "tenant_id",
                                 "created_at", "updated_at", "revision_number", "tags"})


class NamedBody(NeutronBody):
    """Base for bodies with the standard ``name`` and ``description``: strings of at
    most 255 characters (neutron-lib's ``NAME_MAX_LEN``, ``DESCRIPTION_FIELD_SIZE``),
    "" when left out."""

    name: Name = ""
    description: Description = ""

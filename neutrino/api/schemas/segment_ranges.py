"""Request bodies for ``/v2.0/network_segment_ranges`` (neutron-lib
``api/definitions/network_segment_range.py``). Shape only: ``minimum``/``maximum``
within neutron-lib's limit (1..2^32-1, ``type:range``); which ids a type allows, which
types are supported and the physical network are ``services/segment_ranges.py``'s."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from neutrino.api.schemas.common import NamedBody, ProjectId, _int_string
from neutrino.api.wire.segment_ranges import SEGMENT_RANGE

RANGE_ATTRIBUTES = SEGMENT_RANGE.names  # the wire declaration's (api/wire/segment_ranges.py)
SegmentId = Annotated[int, BeforeValidator(_int_string), Field(ge=1, le=2 ** 32 - 1)]


def _bool(value: object) -> object:
    """neutron-lib's ``convert_to_boolean`` for strings ("true", "False", "1")."""
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


class NetworkSegmentRangeCreate(NamedBody):
    ATTRIBUTES = RANGE_ATTRIBUTES
    shared: Annotated[bool, BeforeValidator(_bool)] = True
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    network_type: Literal["vlan", "vxlan", "gre", "geneve"]
    physical_network: Annotated[str, StringConstraints(max_length=64)] | None = None
    minimum: SegmentId
    maximum: SegmentId


class NetworkSegmentRangeUpdate(NamedBody):
    ATTRIBUTES = RANGE_ATTRIBUTES
    minimum: SegmentId | None = None
    maximum: SegmentId | None = None

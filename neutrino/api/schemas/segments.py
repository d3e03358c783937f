"""Request bodies for ``/v2.0/segments`` (extension ``segment``, reference B.7)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from neutrino.api.schemas.common import Description, NeutronBody, ProjectId, UUIDStr
from neutrino.api.wire.segments import SEGMENT

SEGMENT_ATTRIBUTES = SEGMENT.names  # the wire declaration's (api/wire/segments.py)
SegmentName = Annotated[str, StringConstraints(max_length=255)]


class SegmentCreate(NeutronBody):
    ATTRIBUTES = SEGMENT_ATTRIBUTES
    network_id: UUIDStr
    network_type: Literal["flat", "vlan", "geneve"]
    physical_network: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    segmentation_id: int | None = None
    name: SegmentName | None = None
    description: Description = ""
    # accepted and not shown, as Neutron's segment (a segment belongs to no project)
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class SegmentUpdate(NeutronBody):
    ATTRIBUTES = SEGMENT_ATTRIBUTES
    name: SegmentName | None = None
    description: Description = ""

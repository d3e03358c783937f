"""``segment`` as the API shows it (reference B.7; neutron-lib ``segment``,
``standard_attr_segment`` definitions).

Every shown attribute is a column of ``db.models.NetworkSegment``; there are no loads.
A segment belongs to no project: ``project_id``/``tenant_id`` are accepted in requests
and never shown (Neutron's segment), and it has no tags. Who reads segments at all
(admins) is the service's row rule (``services.segment_reads``), not an attribute's.
"""

from __future__ import annotations

import dataclasses

from neutrino.api.wire.declare import Attribute, Resource, standard

_REQUEST_ONLY = ("project_id", "tenant_id")
_STANDARD = tuple(
    dataclasses.replace(a, shown=False) if a.name in _REQUEST_ONLY
    else dataclasses.replace(a, default=None) if a.name == "name" else a
    for a in standard(tags=False))

SEGMENT = Resource("segment", "segments", _STANDARD + (
    Attribute("network_id", "uuid", "network_id"),
    Attribute("network_type", "string", "network_type"),
    Attribute("physical_network", "string", "physical_network"),
    Attribute("segmentation_id", "integer", "segmentation_id"),
))

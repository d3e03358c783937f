"""``network_segment_range`` as the API shows it (neutron-lib
``network_segment_range`` definition).

Columns are ``db.models.NetworkSegmentRange``'s (a shared range has no project:
``project_id``/``tenant_id`` are null); loads are ``services.segment_range_reads.LOADS``:
``tags``, ``used`` (``{"<segmentation id>": project_id}`` of the segments in the range)
and ``available`` (its lowest free ids), the last two read from the range's type,
physical network and bounds, only when planned. Every column filters and sorts (the
description too); the loads do neither. Who reads ranges at all (admins) is the
service's row rule (``services.segment_range_reads``), not an attribute's.
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource, standard

_SPAN = ("network_type", "physical_network", "minimum", "maximum")  # what used/available read

SEGMENT_RANGE = Resource("network_segment_range", "network_segment_ranges", standard() + (
    Attribute("default", "boolean", "default", default=False),
    Attribute("shared", "boolean", "shared", default=True),
    Attribute("network_type", "string", "network_type"),
    Attribute("physical_network", "string", "physical_network"),
    Attribute("minimum", "integer", "minimum"),
    Attribute("maximum", "integer", "maximum"),
    Attribute("used", "dict", value=lambda row, rel: rel["used"][row["id"]], needs=_SPAN,
              load="used"),
    Attribute("available", "list", value=lambda row, rel: rel["available"][row["id"]],
              needs=_SPAN, load="available"),
))

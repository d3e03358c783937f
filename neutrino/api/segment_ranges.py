"""``/v2.0/network-segment-ranges`` (extension ``network-segment-range``, admin only;
``services/segment_ranges.py``). Neutron's path has hyphens (its extension's
``get_resources``: ``COLLECTION_NAME.replace('_', '-')``; tempest uses it); openstacksdk
asks for ``/v2.0/network_segment_ranges``, so that path answers too."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api.resources import Collection, add_collection
from neutrino.api.schemas.segment_ranges import (NetworkSegmentRangeCreate,
                                                  NetworkSegmentRangeUpdate)
from neutrino.api.wire.segment_ranges import SEGMENT_RANGE
from neutrino.services import segment_range_reads, segment_ranges

router = APIRouter()

for _path in ("network-segment-ranges", "network_segment_ranges"):
    add_collection(router, Collection(
        "network_segment_ranges", "network_segment_range", NetworkSegmentRangeCreate,
        NetworkSegmentRangeUpdate, segment_ranges.create_network_segment_ranges,
        segment_ranges.update_network_segment_range,
        segment_ranges.delete_network_segment_range, path=_path, wire=SEGMENT_RANGE,
        reads=segment_range_reads.READER))

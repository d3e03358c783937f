"""Errors of segments and routed networks (neutron-lib ``exceptions/segments.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest


class FixedIpsSubnetsNotOnSameSegment(BadRequest):
    """A port's fixed IPs on subnets of different segments (neutron-lib
    ``exceptions/segments.py``): a port sits on one segment."""

    def __init__(self) -> None:
        super().__init__("Cannot allocate addresses from different segments.")

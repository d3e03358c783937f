"""Which layer-2 domain each segment of a network is: the rule shared by the OVN
realisation (``ovn.desired``) and the services that must place one port per
domain (``services.metadata_port``).

ovn-controller wires at most one localnet port per logical switch on a chassis (it
keeps one ``localnet_port`` per local datapath; ovn-architecture(7), "Logical
switches with localnet ports"), so a network whose segments all sat on one switch
would carry one VLAN tag per chassis and drop the others: seed 004's literal
network, VLANs 200 and 201 on physnet ``default``, reached by every host.
neutrino therefore gives every flat/vlan segment but a network's first (``segment_index``
0: the one it was created with) a logical switch of its own, ``neutron-<segment id>``;
the first stays on the network's switch ``neutron-<network id>`` with the overlay, if any.
The rule reads only the segment itself, so deleting a segment never moves another.
A port goes on the switch of the segment its addresses'
subnets sit on (``subnet.segment_id``); a port without such an address stays on the
network's switch. Every domain with DHCP-served subnets gets its own metadata port.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from neutrino.constants import PHYSNET_TYPES


def own_switch_segments(segments: Iterable[Any]) -> dict[str, str]:
    """``{segment id: network id}`` of the segments that get a logical switch of their
    own: every flat/vlan segment with a physical network and a ``segment_index`` other
    than 0. ``segments`` are rows with ``id``, ``network_id``, ``network_type``,
    ``physical_network`` and ``segment_index``."""
    return {s.id: s.network_id for s in segments
            if s.network_type in PHYSNET_TYPES and s.physical_network
            and getattr(s, "segment_index", 0)}


def domain_of(network_id: str, segment_ids: Iterable[str | None],
              own: dict[str, str]) -> str:
    """The layer-2 domain of a port or subnet group: the first of ``segment_ids`` (its
    addresses' subnets' segments, in the port's order) that has its own switch, else
    ``network_id``. Domains are named by segment id or network id: the switch is
    ``neutron-<domain>``."""
    for seg in segment_ids:
        if seg is not None and seg in own:
            return seg
    return network_id

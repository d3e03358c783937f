"""Which layer-2 domain each segment of a network is: the rule shared by the OVN
realisation (``ovn.segment_switches``) and the services that must place one port per
domain (``services.metadata_port``).

ovn-controller wires at most one localnet port per logical switch on a chassis (it
keeps one ``localnet_port`` per local datapath; ovn-architecture(7), "Logical
switches with localnet ports"), so a network whose segments all sat on one switch
would carry one VLAN tag per chassis and drop the others: seed 004's literal
network, VLANs 200 and 201 on physnet ``default``, reached by every host.
neutrino therefore gives every flat/vlan segment after the network's first one a
logical switch of its own, ``neutron-<segment id>``; the first (lowest
``segment_index``, then id) stays on the network's switch ``neutron-<network id>``
with the overlay, if any. A port goes on the switch of the segment its addresses'
subnets sit on (``subnet.segment_id``); a port without such an address stays on the
network's switch. Every domain with DHCP-served subnets gets its own metadata port.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from neutrino.constants import PHYSNET_TYPES



def own_switch_segments(segments: Iterable[Any]) -> dict[str, str]:
    """``{segment id: network id}`` of the segments that get a logical switch of their
    own: every flat/vlan segment with a physical network except each network's first
    (by ``segment_index``, then id). ``segments`` are rows with ``id``, ``network_id``,
    ``network_type``, ``physical_network`` and (optionally) ``segment_index``."""
    by_network: dict[str, list[Any]] = defaultdict(list)
    for seg in segments:
        if seg.network_type in PHYSNET_TYPES and seg.physical_network:
            by_network[seg.network_id].append(seg)
    own: dict[str, str] = {}
    for network_id, segs in by_network.items():
        segs.sort(key=lambda s: (getattr(s, "segment_index", 0) or 0, s.id))
        own.update((s.id, network_id) for s in segs[1:])
    return own


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

"""Pure prefix math for subnet pools: compaction, free space, and the choice of a prefix.

Neutron does this with netaddr's ``IPSet`` (``neutron/ipam/subnet_alloc.py``:
``_compact_subnetpool_prefix_list``, ``_get_available_prefix_list``,
``_allocate_any_subnet``, ``_allocate_specific_subnet``); here it is Python's
``ipaddress`` (``collapse_addresses``, ``address_exclude``). Every function takes
and returns networks of one IP version; nothing here touches the database.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from neutrino.ipam.ranges import IPNetwork

# Neutron's SubnetPoolHelper._PREFIX_VERSION_INFO: the widest prefix length a pool
# allows by default, and the prefix length a quota unit is (IPv4 /32, IPv6 /64).
DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}
MAX_PREFIXLEN = {4: 32, 6: 128}
QUOTA_UNIT = {4: 32, 6: 64}


def compact(prefixes: Iterable[IPNetwork | str]) -> list[IPNetwork]:
    """``prefixes`` (networks or CIDR text, host bits ignored) merged into the fewest
    networks covering exactly the same addresses, in address order
    (``["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/26"]`` -> ``[10.0.0.0/24]``)."""
    nets = [p if not isinstance(p, str) else ipaddress.ip_network(p, strict=False)
            for p in prefixes]
    return list(ipaddress.collapse_addresses(nets))


def to_text(prefixes: Iterable[IPNetwork]) -> list[str]:
    """Networks as the API prints them: ``["10.0.0.0/24", ...]``."""
    return [str(p) for p in prefixes]


def subtract(prefixes: Iterable[IPNetwork], taken: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The addresses of ``prefixes`` outside every network of ``taken``, compacted,
    in address order (netaddr's ``IPSet.difference``)."""
    pieces = compact(prefixes)
    for t in compact(taken):
        kept: list[IPNetwork] = []
        for piece in pieces:
            if t.subnet_of(piece):
                kept.extend(piece.address_exclude(t))  # nothing when t == piece
            elif not piece.subnet_of(t):
                kept.append(piece)
        pieces = kept
    return compact(pieces)


def overlaps(a: Iterable[IPNetwork], b: Iterable[IPNetwork]) -> bool:
    """Whether any network of ``a`` shares an address with any of ``b``."""
    b = list(b)
    return any(x.overlaps(y) for x in a for y in b)


def covers(outer: Iterable[IPNetwork], inner: Iterable[IPNetwork]) -> bool:
    """Whether every address of ``inner`` lies in ``outer`` (``IPSet.issubset``)."""
    return not subtract(inner, outer)


def first_fit(free: Iterable[IPNetwork], prefixlen: int) -> IPNetwork | None:
    """The network of length ``prefixlen`` Neutron's ``_allocate_any_subnet`` takes
    from the free space: the first of the free blocks sorted from the smallest
    (longest prefix) to the largest, ties in address order, that can hold it, and
    the lowest such network inside it. None when no free block is large enough.
    Taking the smallest block that fits keeps large blocks whole."""
    for block in sorted(free, key=lambda n: -n.prefixlen):  # stable: address order kept
        if block.prefixlen <= prefixlen:
            return next(block.subnets(new_prefix=prefixlen))
    return None


def fits(free: Iterable[IPNetwork], cidr: IPNetwork) -> bool:
    """Whether ``cidr`` lies wholly inside one free block (``_allocate_specific_subnet``)."""
    return any(cidr.subnet_of(block) for block in free if block.version == cidr.version)


def quota_units(prefixlen: int, version: int) -> float:
    """How many quota units (/32 for IPv4, /64 for IPv6) a prefix of ``prefixlen``
    holds: ``2 ** (unit - prefixlen)``, a fraction for an IPv6 prefix longer than
    /64, as Neutron's ``_num_quota_units_in_prefixlen`` counts it."""
    return 2.0 ** (QUOTA_UNIT[version] - prefixlen)

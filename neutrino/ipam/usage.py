"""How many of a subnet's allocations lie outside its allocation pools.

A subnet's ``ipallocation_blocks`` counters give every allocation in it, pools or
not; a router interface on ``gateway_ip`` or a fixed IP asked for outside the
pools is one of them but takes no pool address. Those are few and sit in the gaps
between the pools, so they are counted by range scans of the ``ipallocations``
primary key (subnet_id, ip_key) over the gaps only: never a walk of the pools'
allocations. ``ip_key`` is fixed-width hex, so text order is address order.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from neutrino.db.models import IPAllocation
from neutrino.ipam import ranges

_CHUNK = 100  # subnets per statement


def outside_pool_counts(session: Session, subnets: Iterable[Any]) -> dict[str, int]:
    """``{subnet_id: allocations outside its allocation pools}`` for subnet rows with
    ``id``, ``cidr`` and ``allocation_pools`` (every id a key; one statement per
    100 subnets)."""
    subnets = list(subnets)
    counts = {s.id: 0 for s in subnets}
    for i in range(0, len(subnets), _CHUNK):
        clauses = [_outside(s) for s in subnets[i:i + _CHUNK]]
        rows = session.execute(select(IPAllocation.subnet_id, func.count())
                               .where(or_(*clauses)).group_by(IPAllocation.subnet_id))
        counts.update({sid: int(n) for sid, n in rows})
    return counts


def _outside(subnet: Any) -> Any:
    """SQL: an allocation of ``subnet`` in none of its pools."""
    version = ranges.parse_cidr(subnet.cidr).version
    pools = sorted(ranges.pools_from_db(subnet.allocation_pools or ()), key=lambda p: p.first)
    gaps = []
    below = None  # the last address of the previous pool
    for pool in pools:
        upper = IPAllocation.ip_key < ranges.ip_key(pool.first, version)
        gaps.append(upper if below is None else and_(
            IPAllocation.ip_key > ranges.ip_key(below, version), upper))
        below = pool.last
    if below is not None:
        gaps.append(IPAllocation.ip_key > ranges.ip_key(below, version))
    in_subnet = IPAllocation.subnet_id == subnet.id
    return and_(in_subnet, or_(*gaps)) if gaps else in_subnet

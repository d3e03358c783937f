"""Address allocation backed by the database's unique key.

An address belongs to a port when its ``ipallocations`` row commits; the
primary key (subnet_id, ip_key) makes a second owner impossible, and a
transaction that loses a race is re-run by ``Database.run``.

Finding a free address never walks every allocation: ``ipallocation_blocks``
counts allocations per block of 256 addresses, so the allocator skips full
blocks by reading one small row each, then reads at most 256 allocations of
the block it picks. It picks at random among the first few blocks with room
(as Neutron picks at random among the first free addresses), so concurrent
allocations rarely collide, and an address just freed is rarely handed out
again at once.
"""

from __future__ import annotations

import ipaddress
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import bindparam, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db import pg_pipeline
from neutrino.db.models import IPAllocation, IPAllocationBlock
from neutrino.ipam import ranges
from neutrino.ipam.ranges import BLOCK_BITS, Pool

BLOCK_SIZE = 1 << BLOCK_BITS
_SCAN_BATCH = 256
# Statements built once and run with parameters: building SQL per call costs
# more than running it on this path.
_TAKEN = select(IPAllocation.port_id).where(
    IPAllocation.subnet_id == bindparam("subnet_id"), IPAllocation.ip_key == bindparam("ip_key"))
# Results never read: deferred in a PostgreSQL write's pipeline (db.pg_pipeline); a taken
# address raises at the next sync, and Database.run re-runs the transaction.
_INSERT = insert(IPAllocation.__table__).execution_options(**{pg_pipeline.DEFERRED: True})
_BLOCKS = (select(IPAllocationBlock.block, IPAllocationBlock.used)
           .where(IPAllocationBlock.subnet_id == bindparam("subnet_id"),
                  IPAllocationBlock.block.between(bindparam("lo"), bindparam("hi")))
           .order_by(IPAllocationBlock.block).limit(_SCAN_BATCH))
_KEYS_IN = select(IPAllocation.ip_key).where(
    IPAllocation.subnet_id == bindparam("subnet_id"),
    IPAllocation.ip_key.between(bindparam("lo"), bindparam("hi")))
CANDIDATE_BLOCKS = 4  # random choice among this many blocks with room


@dataclass(frozen=True)
class SubnetSpace:
    """What the allocator needs to know about one subnet."""

    id: str
    network_id: str
    net: ranges.IPNetwork
    gateway_ip: str | None
    pools: tuple[Pool, ...]

    @property
    def version(self) -> int:
        return self.net.version


def allocate_address(session: Session, space: SubnetSpace, port_id: str, ip: str) -> str:
    """Give ``ip`` (already checked by ``ranges.check_fixed_ip``) to the port.

    Returns the canonical address text. Raises IpAddressAlreadyAllocated when
    it is in use; a concurrent taker makes the commit fail and the transaction
    is re-run, which then raises.
    """
    value = int(ipaddress.ip_address(ip))
    key = ranges.ip_key(value, space.version)
    taken = session.scalar(_TAKEN, {"subnet_id": space.id, "ip_key": key})
    if taken is not None:
        raise errors.IpAddressAlreadyAllocated(ip, space.id)
    return _insert(session, space, port_id, value)


def allocate_any(session: Session, space: SubnetSpace, port_id: str, *,
                 lowest: bool = False) -> str | None:
    """Give the port a free address from the subnet's pools; None when full.

    ``lowest`` takes the lowest free address (Neutron's "prefer next" for
    ``network:dhcp``/``network:distributed`` owners) instead of a random one.
    """
    pending: list[int] = []
    for block in _blocks_with_room(session, space):
        pending.append(block)
        if len(pending) < (1 if lowest else CANDIDATE_BLOCKS):
            continue
        found = _try_blocks(session, space, pending, lowest)
        if found is not None:
            return _insert(session, space, port_id, found)
        pending = []
    found = _try_blocks(session, space, pending, lowest) if pending else None
    return None if found is None else _insert(session, space, port_id, found)


def release_port(session: Session, port_id: str) -> None:
    """Free all addresses of a port."""
    rows = session.execute(select(IPAllocation.subnet_id, IPAllocation.ip_address)
                           .where(IPAllocation.port_id == port_id)).all()
    release_addresses(session, port_id, [tuple(r) for r in rows])


def release_addresses(session: Session, port_id: str, pairs: list[tuple[str, str]]) -> None:
    """Free the port's addresses given as ``[(subnet_id, ip_address)]``."""
    for subnet_id, ip in pairs:
        addr = ipaddress.ip_address(ip)
        value, version = int(addr), addr.version
        session.execute(delete(IPAllocation).where(
            IPAllocation.subnet_id == subnet_id, IPAllocation.ip_key == ranges.ip_key(value, version),
            IPAllocation.port_id == port_id))
        _pending_deltas(session)[(subnet_id, ranges.block_key(value >> BLOCK_BITS, version))] -= 1


def used_counts(session: Session, subnet_ids: list[str]) -> dict[str, int]:
    """``{subnet_id: number of allocated addresses}`` from the block counters."""
    if not subnet_ids:
        return {}
    rows = session.execute(
        select(IPAllocationBlock.subnet_id, func.sum(IPAllocationBlock.used))
        .where(IPAllocationBlock.subnet_id.in_(subnet_ids))
        .group_by(IPAllocationBlock.subnet_id)).all()
    counts = {sid: 0 for sid in subnet_ids}
    counts.update({sid: int(n or 0) for sid, n in rows})
    return counts


# --- internals ---------------------------------------------------------------

def _blocks_with_room(session: Session, space: SubnetSpace) -> Iterator[int]:
    """Blocks overlapping the pools, in address order, that are not full.

    A block is full when every address of the CIDR in it is allocated; a
    block whose only free addresses lie outside the pools is yielded and
    simply found empty by ``_try_blocks``.
    """
    version = space.version
    for pool in space.pools:
        cursor, end = pool.first >> BLOCK_BITS, pool.last >> BLOCK_BITS
        while cursor <= end:
            rows = session.execute(_BLOCKS, {"subnet_id": space.id,
                                             "lo": ranges.block_key(cursor, version),
                                             "hi": ranges.block_key(end, version)}).all()
            for key, used in rows:
                block = int(key, 16)
                while cursor < block:  # absent rows are empty blocks
                    yield cursor
                    cursor += 1
                if used < _cidr_addresses_in(block, space.net):
                    yield block
                cursor = block + 1
            if len(rows) < _SCAN_BATCH:
                while cursor <= end:
                    yield cursor
                    cursor += 1


def _try_blocks(session: Session, space: SubnetSpace, blocks: list[int], lowest: bool) -> int | None:
    order = blocks if lowest else random.sample(blocks, len(blocks))
    for block in order:
        free = _free_in_block(session, space, block)
        if free:
            return free[0] if lowest else random.choice(free)
    return None


def _free_in_block(session: Session, space: SubnetSpace, block: int) -> list[int]:
    lo, hi = block << BLOCK_BITS, (block << BLOCK_BITS) + BLOCK_SIZE - 1
    version = space.version
    used = {int(k, 16) for k in session.scalars(
        _KEYS_IN, {"subnet_id": space.id, "lo": ranges.ip_key(lo, version),
                   "hi": ranges.ip_key(hi, version)})}
    free = []
    for pool in space.pools:
        for ip in range(max(lo, pool.first), min(hi, pool.last) + 1):
            if ip not in used:
                free.append(ip)
    return free


def _insert(session: Session, space: SubnetSpace, port_id: str, value: int) -> str:
    text = ranges.int_to_ip(value, space.version)
    session.execute(_INSERT, {"subnet_id": space.id, "ip_key": ranges.ip_key(value, space.version),
                              "ip_address": text, "port_id": port_id, "network_id": space.network_id})
    _pending_deltas(session)[(space.id, ranges.block_key(value >> BLOCK_BITS, space.version))] += 1
    return text


def _cidr_addresses_in(block: int, net: ranges.IPNetwork) -> int:
    lo = block << BLOCK_BITS
    hi = lo + BLOCK_SIZE - 1
    return max(0, min(hi, int(net.broadcast_address)) - max(lo, int(net.network_address)) + 1)


def _pending_deltas(session: Session) -> Counter:
    return session.info.setdefault("ipam_block_deltas", Counter())


@event.listens_for(Session, "before_commit")
def _write_block_counts(session: Session) -> None:
    """Apply the block counter changes of this transaction.

    Done at commit time, in key order, so a block row is locked only for the
    commit itself (concurrent allocators in one block barely wait) and two
    transactions never lock blocks in opposite orders.
    """
    deltas = session.info.pop("ipam_block_deltas", None)
    if not deltas:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for (subnet_id, block), delta in sorted(deltas.items()):
        if delta > 0:
            stmt = insert(IPAllocationBlock).values(subnet_id=subnet_id, block=block, used=delta)
            session.execute(stmt.on_conflict_do_update(
                index_elements=["subnet_id", "block"],
                set_={"used": IPAllocationBlock.used + delta}),
                execution_options={pg_pipeline.DEFERRED: True})  # goes with the COMMIT
        elif delta < 0:
            session.execute(update(IPAllocationBlock).where(
                IPAllocationBlock.subnet_id == subnet_id, IPAllocationBlock.block == block)
                .values(used=IPAllocationBlock.used + delta))


@event.listens_for(Session, "after_rollback")
def _forget_block_counts(session: Session) -> None:
    session.info.pop("ipam_block_deltas", None)


def space_of(sub: Any) -> SubnetSpace:
    """The allocator's view of a subnet row (a ``db.models.Subnet`` or a row with its
    ``id``, ``network_id``, ``cidr``, ``gateway_ip``, ``allocation_pools``)."""
    return SubnetSpace(
        id=sub.id, network_id=sub.network_id, net=ranges.parse_cidr(sub.cidr),
        gateway_ip=sub.gateway_ip, pools=tuple(ranges.pools_from_db(sub.allocation_pools)))

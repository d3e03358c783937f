"""Loading an instance's metadata from the database, with a short cache.

A miss costs three small indexed queries (instance by id; its ports by
``device_id`` with their addresses and subnets; associated floating IPs). Hits cost
nothing: cloud-init reads ~30 paths in a burst at boot, and the agent forwards
every one. Entries live ``metadata_cache_seconds`` (Nova caches for
``metadata_cache_expiration``, 15 s), so a re-registered instance or a changed
port is served within that time, by every process, with no invalidation message.
Unknown instances are never cached. When reloading fails (database away), the
expired entry is served rather than failing the guest's boot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from neutrino.db.models import FloatingIP, Instance, IPAllocation, Network, Port, Subnet
from neutrino.db.session import Database
from neutrino.metadata.content import InstanceData, PortData, SubnetData

LOG = logging.getLogger(__name__)
MAX_ENTRIES = 20000

_TABLES = (Instance, Port, Network, IPAllocation, Subnet, FloatingIP)
_Ti, _Tp, _Tn, _Ta, _Ts, _Tf = (m.__table__ for m in _TABLES)
_I, _P, _N, _A, _S, _F = (t.c for t in (_Ti, _Tp, _Tn, _Ta, _Ts, _Tf))
# Core statements with bound parameters: compiled once, three indexed lookups per load.
_INSTANCE = select(_I.id, _I.project_id, _I.name, _I.hostname, _I.availability_zone,
                   _I.launch_index, _I.public_keys, _I.user_data, _I.vendor_data
                   ).where(_I.id == bindparam("instance_id"))
_PORT_ADDRESSES = (
    select(_P.id.label("port_id"), _P.mac_address, _P.network_id.label("port_network_id"), _N.mtu,
           _A.ip_address, _S.id.label("subnet_id"), _S.network_id, _S.ip_version, _S.cidr,
           _S.gateway_ip, _S.enable_dhcp, _S.ipv6_address_mode, _S.dns_nameservers,
           _S.host_routes)
    .join(_Tn, _N.id == _P.network_id)
    .outerjoin(_Ta, _A.port_id == _P.id)
    .outerjoin(_Ts, _S.id == _A.subnet_id)
    .where(_P.device_id == bindparam("instance_id"))
    .order_by(_P.created_at, _P.id, _S.created_at, _S.id, _A.ip_key))
_FLOATING = (select(_F.floating_ip_address).join(_Tp, _P.id == _F.fixed_port_id)
             .where(_P.device_id == bindparam("instance_id"))
             .order_by(_F.created_at, _F.id))


def load_instance(session: Session, instance_id: str) -> InstanceData | None:
    """The instance's metadata, or None if it is not registered."""
    conn = session.connection()
    params = {"instance_id": instance_id}
    row = conn.execute(_INSTANCE, params).first()
    if row is None:
        return None
    ports: dict[str, tuple[Any, list[tuple[str, SubnetData]]]] = {}
    subnets: dict[str, SubnetData] = {}
    for r in conn.execute(_PORT_ADDRESSES, params):
        fixed = ports.setdefault(r.port_id, (r, []))[1]
        if r.ip_address is None:
            continue
        subnet = subnets.get(r.subnet_id)
        if subnet is None:
            subnet = subnets[r.subnet_id] = SubnetData(
                r.subnet_id, r.network_id, r.ip_version, r.cidr, r.gateway_ip, r.enable_dhcp,
                r.ipv6_address_mode, tuple(r.dns_nameservers or ()),
                tuple((h["destination"], h["nexthop"]) for h in r.host_routes or ()))
        fixed.append((r.ip_address, subnet))
    floating = tuple(conn.execute(_FLOATING, params).scalars()) if ports else ()
    return InstanceData(
        id=row.id, project_id=row.project_id, name=row.name, hostname=row.hostname,
        availability_zone=row.availability_zone, launch_index=row.launch_index,
        public_keys=tuple((k["name"], k["key"]) for k in row.public_keys or ()),
        user_data=row.user_data, vendor_data=row.vendor_data or {},
        ports=tuple(PortData(p.port_id, p.mac_address, p.port_network_id, p.mtu, tuple(fixed))
                    for p, fixed in ports.values()),
        floating_ips=floating)


class InstanceStore:
    """Instances by id for the service's event loop, cached ``ttl`` seconds.

    Concurrent misses for one instance share a single load. On SQLite the load
    runs on the loop (no round trip to overlap); on PostgreSQL in a thread.
    """

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._entries: dict[str, tuple[float, InstanceData]] = {}
        self._loading: dict[str, asyncio.Future] = {}

    async def get(self, instance_id: str) -> InstanceData | None:
        """The instance, or None if unknown. Raises the database's error only when
        there is no earlier copy to fall back on."""
        entry = self._entries.get(instance_id)
        now = time.monotonic()
        if entry is not None and entry[0] > now:
            return entry[1]
        pending = self._loading.get(instance_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._loading[instance_id] = future
        try:
            data = await self._load(instance_id)
        except Exception as exc:
            if entry is None:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it
                raise
            LOG.warning("metadata of instance %s could not be reloaded (%s); serving the "
                        "copy from %.0f s ago", instance_id, exc, now - entry[0] + self._ttl)
            data = entry[1]
        except BaseException:
            future.cancel()
            raise
        finally:
            self._loading.pop(instance_id, None)
        if data is None:
            self._entries.pop(instance_id, None)
        elif self._ttl > 0:
            self._remember(instance_id, data, now)
        future.set_result(data)
        return data

    def fresh_for(self, instance_id: str) -> float:
        """Seconds the cached copy of the instance stays in use (0.0 when there is
        none, or only an expired one kept because reloading failed)."""
        entry = self._entries.get(instance_id)
        return max(0.0, entry[0] - time.monotonic()) if entry is not None else 0.0

    def forget(self, instance_id: str) -> None:
        """Drop one cached entry (tests, and callers that know it changed)."""
        self._entries.pop(instance_id, None)

    def _remember(self, instance_id: str, data: InstanceData, now: float) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[instance_id] = (now + self._ttl, data)

    async def _load(self, instance_id: str) -> InstanceData | None:
        def run(session: Session) -> Any:
            return load_instance(session, instance_id)
        if self._db.is_sqlite:
            return self._db.run(run, write=False)
        return await asyncio.to_thread(self._db.run, run, write=False)

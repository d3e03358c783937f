"""Loading an instance's metadata from the database, with a short cache.

A miss costs four small indexed queries (instance by id, its ports by
``device_id``, their addresses with subnets, associated floating IPs). Hits cost
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import FloatingIP, Instance, IPAllocation, Network, Port, Subnet
from neutrino.db.session import Database
from neutrino.metadata.content import InstanceData, PortData, SubnetData

LOG = logging.getLogger(__name__)
MAX_ENTRIES = 20000

_PORTS = (select(Port.id, Port.mac_address, Port.network_id, Network.mtu)
          .join(Network, Network.id == Port.network_id)
          .order_by(Port.created_at, Port.id))
_ADDRESSES = (select(IPAllocation.port_id, IPAllocation.ip_address, Subnet.id, Subnet.network_id,
                     Subnet.ip_version, Subnet.cidr, Subnet.gateway_ip, Subnet.enable_dhcp,
                     Subnet.ipv6_address_mode, Subnet.dns_nameservers, Subnet.host_routes)
              .join(Subnet, Subnet.id == IPAllocation.subnet_id)
              .order_by(Subnet.created_at, Subnet.id, IPAllocation.ip_key))
_FLOATING = select(FloatingIP.floating_ip_address).order_by(FloatingIP.created_at, FloatingIP.id)


def load_instance(session: Session, instance_id: str) -> InstanceData | None:
    """The instance's metadata, or None if it is not registered."""
    row = session.get(Instance, instance_id)
    if row is None:
        return None
    ports = session.execute(_PORTS.where(Port.device_id == instance_id)).all()
    port_ids = [p.id for p in ports]
    fixed: dict[str, list[tuple[str, SubnetData]]] = {pid: [] for pid in port_ids}
    floating: tuple[str, ...] = ()
    if port_ids:
        for r in session.execute(_ADDRESSES.where(IPAllocation.port_id.in_(port_ids))):
            subnet = SubnetData(r.id, r.network_id, r.ip_version, r.cidr, r.gateway_ip,
                                r.enable_dhcp, r.ipv6_address_mode, tuple(r.dns_nameservers or ()),
                                tuple((h["destination"], h["nexthop"]) for h in r.host_routes or ()))
            fixed[r.port_id].append((r.ip_address, subnet))
        floating = tuple(session.scalars(_FLOATING.where(FloatingIP.fixed_port_id.in_(port_ids))))
    return InstanceData(
        id=row.id, project_id=row.project_id, name=row.name, hostname=row.hostname,
        availability_zone=row.availability_zone, launch_index=row.launch_index,
        public_keys=tuple((k["name"], k["key"]) for k in row.public_keys or ()),
        user_data=row.user_data, vendor_data=row.vendor_data or {},
        ports=tuple(PortData(p.id, p.mac_address, p.network_id, p.mtu, tuple(fixed[p.id]))
                    for p in ports),
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

"""Network IP availability (extensions ``network-ip-availability`` and
``network-ip-availability-details``; reference B.8).

Totals are pool sizes; used counts every allocation in the subnet, as Neutron's
``used_ips``. What is free is what the pools still hold: pool addresses not
allocated (``SubnetUsage.free_ips``), so an address taken outside the pools (a
router interface on ``gateway_ip``, a fixed IP asked for there) does not make a
network look fuller than it is; the scheduler and the 409s count that.
``ip_availability_details`` (Neutron's ``network_ip_availability_details_db``) gives
per subnet and per network ``total_ips_in_subnet`` (the CIDR, IPv4 less network
and broadcast), ``total_ips_in_allocation_pool``, ``used_ips_in_subnet`` and
``used_ips_in_allocation_pool``. Neutron limits this to admins; neutrino also lets
a project read its own networks and shared ones, so users can see where addresses
are left.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Collection

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import IPAllocationBlock, Network, Subnet
from neutrino.ipam import ranges, usage
from neutrino.services import listing, networks
from neutrino.services.context import Context
from neutrino.services.env import Env

SPEC = listing.ResourceSpec(
    id_column=Network.id,
    filters={
        "network_id": listing.eq(Network.id),
        "network_name": listing.eq(Network.name),
        "project_id": listing.eq(Network.project_id),
        "tenant_id": listing.eq(Network.project_id),
        "ip_version": lambda values: Network.id.in_(select(Subnet.network_id).where(
            Subnet.ip_version.in_(listing.int_values(values)))),
    },
    sort_keys={"network_id": Network.id, "network_name": Network.name},
    not_found=errors.NetworkNotFound,
)


@dataclass(frozen=True)
class NetworkUsage:
    """One network's ``id``, ``name``, ``project_id`` and the ``subnets``' address
    counts (``api/wire/ip_availability.py`` renders it)."""

    id: str
    name: str
    project_id: str
    subnets: list[SubnetUsage]


def list_availabilities(env: Env, ctx: Context, query: listing.ListQuery) -> list[NetworkUsage]:
    """The usage of each network the caller sees, filtered, sorted and paged as
    ``query`` says (``SPEC``); raises what ``listing.apply_list_query`` raises."""
    def run(session: Session) -> list[NetworkUsage]:
        stmt = listing.apply_list_query(
            session, select(Network.id, Network.name, Network.project_id)
            .where(networks.visible(ctx)), SPEC, query)
        ip_versions = {listing.to_int(v) for v in query.filters.get("ip_version", [])}
        return _availabilities(session, listing.fetch(session, stmt, query), ip_versions)
    return env.db.run(run, write=False)


def get_availability(env: Env, ctx: Context, network_id: str) -> NetworkUsage:
    """One network's usage as ``list_availabilities`` gives it. Raises NetworkNotFound
    (404) when the network does not exist or the caller may not see it
    (``networks.visible``). The statements are built once (an admin's) and run on the
    session's connection: building a statement and its cache key, and loading an ORM
    object, were most of this request's time (issue 22 wants it within 1 ms)."""
    def run(session: Session) -> NetworkUsage:
        conn: Any = session.connection()
        stmt = _NETWORK if ctx.is_admin else _NETWORK.where(networks.visible(ctx))
        net = conn.execute(stmt, {"network_id": network_id}).first()
        if net is None:
            raise errors.NetworkNotFound(network_id)
        return _availabilities(conn, [net], set())[0]
    return env.db.run(run, write=False)


_NETWORK = select(Network.id, Network.name, Network.project_id).where(
    Network.id == bindparam("network_id"))


def _availabilities(session: Session, nets: list[Any], ip_versions: set[int]) -> list[NetworkUsage]:
    usage = subnet_usage(session, [n.id for n in nets], ip_versions)
    return [NetworkUsage(net.id, net.name, net.project_id, usage[net.id]) for net in nets]


@dataclass(frozen=True)
class SubnetUsage:
    """One subnet's address counts, as network-ip-availability reports them (B.8):
    ``total_ips`` is the size of its allocation pools, ``used_ips`` every
    allocation in the subnet (inside the pools or not, e.g. a gateway port),
    ``used_in_pools`` those inside the pools: ``free_ips`` is what the pools have
    left. ``segment_id`` is the segment of a routed network's subnet (None
    otherwise): availability is counted per segment subnet. ``service_types`` are
    the subnet's (extension subnet-service-types)."""

    id: str
    name: str
    network_id: str
    ip_version: int
    cidr: str
    enable_dhcp: bool
    ipv6_address_mode: str | None
    ipv6_ra_mode: str | None
    total_ips: int
    used_ips: int
    segment_id: str | None = None
    used_in_pools: int | None = None  # None: every allocation is in the pools
    service_types: tuple[str, ...] = ()

    @property
    def free_ips(self) -> int:
        """Pool addresses not allocated."""
        used = self.used_ips if self.used_in_pools is None else self.used_in_pools
        return max(0, self.total_ips - used)

    @cached_property
    def details(self) -> dict[str, int]:
        """``ip_availability_details`` of the subnet (extension
        network-ip-availability-details); computed once, as a network's totals and its
        subnets' entries both read it."""
        size = ranges.parse_cidr(self.cidr).num_addresses
        return {"total_ips_in_subnet": max(0, size - 2) if self.ip_version == 4 else size,
                "total_ips_in_allocation_pool": self.total_ips,
                "used_ips_in_subnet": self.used_ips,
                "used_ips_in_allocation_pool": self.total_ips - self.free_ips}


def subnet_usage(session: Session, network_ids: Any,
                 ip_versions: Collection[int] = ()) -> dict[str, list[SubnetUsage]]:
    """``{network_id: [SubnetUsage]}`` (subnets in creation order; every id a key) in one
    query; ``network_ids`` is a list or a SELECT of ids. The one place addresses are
    counted: availability and the scheduler use it."""
    result: dict[str, list[SubnetUsage]] = defaultdict(list)
    if isinstance(network_ids, list) and not network_ids:
        return result
    if isinstance(network_ids, list) and len(network_ids) == 1 and not ip_versions:
        # one network (an availability, a port's subnet choice): a statement built once
        rows = session.execute(_ONE_NETWORK, {"network_id": network_ids[0]}).all()
    else:
        stmt = _SUBNET_USAGE.where(Subnet.network_id.in_(network_ids))
        if ip_versions:
            stmt = stmt.where(Subnet.ip_version.in_(ip_versions))
        rows = session.execute(stmt).all()
    outside = usage.outside_pool_counts(session, [s for s in rows if s.used])
    for s in rows:
        result[s.network_id].append(SubnetUsage(
            id=s.id, name=s.name, network_id=s.network_id, ip_version=s.ip_version,
            cidr=s.cidr, enable_dhcp=s.enable_dhcp, ipv6_address_mode=s.ipv6_address_mode,
            ipv6_ra_mode=s.ipv6_ra_mode,
            total_ips=ranges.total_size(ranges.pools_from_db(s.allocation_pools)),
            used_ips=int(s.used), segment_id=s.segment_id,
            used_in_pools=int(s.used) - outside.get(s.id, 0),
            service_types=tuple(s.service_types or ())))
    return result


# Subnets with their allocation counts (summed block counters) in one query.
_SUBNET_USAGE = select(
    Subnet.id, Subnet.name, Subnet.network_id, Subnet.ip_version, Subnet.cidr,
    Subnet.allocation_pools, Subnet.enable_dhcp, Subnet.ipv6_address_mode, Subnet.ipv6_ra_mode,
    Subnet.segment_id, Subnet.service_types,
    select(func.coalesce(func.sum(IPAllocationBlock.used), 0))
    .where(IPAllocationBlock.subnet_id == Subnet.id).scalar_subquery().label("used"),
).order_by(Subnet.created_at, Subnet.id)
_ONE_NETWORK = _SUBNET_USAGE.where(Subnet.network_id == bindparam("network_id"))

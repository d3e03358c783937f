"""Network IP availability (extension ``network-ip-availability``; reference B.8).

Totals are pool sizes; used counts every allocation in the subnet. Neutron
limits this to admins; neutrino also lets a project read its own networks
and shared ones, so users can see where addresses are left.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import IPAllocationBlock, Network, Subnet
from neutrino.ipam import ranges
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
            Subnet.ip_version.in_([listing.to_int(v) for v in values]))),
    },
    sort_keys={"network_id": Network.id, "network_name": Network.name},
    not_found=errors.NetworkNotFound,
)


def list_availabilities(env: Env, ctx: Context, query: listing.ListQuery) -> list[dict[str, Any]]:
    """``[{network_id, network_name, project_id, total_ips, used_ips, subnet_ip_availability}]``."""
    def run(session: Session) -> list[dict[str, Any]]:
        stmt = listing.apply_list_query(
            session, select(Network.id, Network.name, Network.project_id)
            .where(networks.visible(ctx)), SPEC, query)
        ip_versions = {listing.to_int(v) for v in query.filters.get("ip_version", [])}
        return _availabilities(session, listing.fetch(session, stmt, query), ip_versions)
    return env.db.run(run, write=False)


def get_availability(env: Env, ctx: Context, network_id: str) -> dict[str, Any]:
    def run(session: Session) -> dict[str, Any]:
        net = networks.find_visible(session, ctx, network_id)
        return _availabilities(session, [net], set())[0]
    return env.db.run(run, write=False)


def _availabilities(session: Session, nets: list[Any], ip_versions: set[int]) -> list[dict[str, Any]]:
    ids = [n.id for n in nets]
    subnets = defaultdict(list)
    if ids:
        stmt = _SUBNET_USAGE.where(Subnet.network_id.in_(ids))
        if ip_versions:
            stmt = stmt.where(Subnet.ip_version.in_(ip_versions))
        for sub in session.execute(stmt):
            subnets[sub.network_id].append(sub)
    result = []
    for net in nets:
        per_subnet = [{
            "subnet_id": s.id, "subnet_name": s.name, "ip_version": s.ip_version, "cidr": s.cidr,
            "total_ips": ranges.total_size(ranges.pools_from_db(s.allocation_pools)),
            "used_ips": int(s.used),
        } for s in subnets[net.id]]
        result.append({
            "network_id": net.id, "network_name": net.name,
            "project_id": net.project_id, "tenant_id": net.project_id,
            "total_ips": sum(s["total_ips"] for s in per_subnet),
            "used_ips": sum(s["used_ips"] for s in per_subnet),
            "subnet_ip_availability": per_subnet,
        })
    return result


# Subnets with their allocation counts (summed block counters) in one query.
_SUBNET_USAGE = select(
    Subnet.id, Subnet.name, Subnet.network_id, Subnet.ip_version, Subnet.cidr,
    Subnet.allocation_pools,
    select(func.coalesce(func.sum(IPAllocationBlock.used), 0))
    .where(IPAllocationBlock.subnet_id == Subnet.id).scalar_subquery().label("used"),
).order_by(Subnet.created_at, Subnet.id)

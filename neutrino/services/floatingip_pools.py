"""Floating IP pools (extension ``floatingip-pools``, ``GET /v2.0/floatingip-pools``, the
collection name translated as Neutron does): the IPv4 subnets of the external networks
the caller can take floating IPs from.

As Neutron's ``FloatingIPPoolsDbMixin.get_floatingip_pools``: one entry
``{subnet_id, subnet_name, network_id, cidr, project_id}`` per IPv4 subnet of an
external network, ``project_id`` the caller's. Networks are those external as the
caller sees them (``rbac.external_for``: ``router:external``, or an
``access_as_external`` entry for its project; admins: every external network).
Read only; filters on the five attributes, ``fields``; sorted by subnet id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import Network, Subnet
from neutrino.services import listing, rbac
from neutrino.services.context import Context
from neutrino.services.env import Env

ATTRIBUTES = ("subnet_id", "subnet_name", "network_id", "cidr", "project_id")


def list_floatingip_pools(env: Env, ctx: Context, query: listing.ListQuery) -> list[dict[str, Any]]:
    """The pools, ``[{subnet_id, subnet_name, network_id, cidr, project_id}]``,
    those matching ``query.filters`` on these attributes (any of a filter's values)."""
    def run(session: Session) -> list[dict[str, Any]]:
        rows = session.execute(
            select(Subnet.id, Subnet.name, Subnet.network_id, Subnet.cidr)
            .join(Network, Network.id == Subnet.network_id)
            .where(Subnet.ip_version == 4, rbac.external_for(ctx)).order_by(Subnet.id)).all()
        return [{"subnet_id": r.id, "subnet_name": r.name, "network_id": r.network_id,
                 "cidr": r.cidr, "project_id": ctx.project_id} for r in rows]
    pools = env.db.run(run, write=False)
    return [p for p in pools
            if all(str(p[key]) in values for key, values in query.filters.items()
                   if key in ATTRIBUTES)]

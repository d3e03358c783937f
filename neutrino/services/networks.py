"""Networks (reference B.1). One transaction per public call."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import IPAllocation, IPAllocationBlock, Network, Port, Subnet
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quotas

# Ports removed together with their network (Neutron's AUTO_DELETE_PORT_OWNERS).
AUTO_DELETE_PORT_OWNERS = ("network:dhcp", "network:distributed")

SPEC = listing.ResourceSpec(
    id_column=Network.id,
    filters={
        **listing.standard_filters(Network),
        "admin_state_up": listing.eq(Network.admin_state_up, listing.to_bool),
        "status": listing.eq(Network.status),
        "shared": listing.eq(Network.shared, listing.to_bool),
        "mtu": listing.eq(Network.mtu, listing.to_int),
    },
    sort_keys={k: getattr(Network, k) for k in (
        "id", "name", "project_id", "admin_state_up", "status", "mtu", "created_at",
        "updated_at", "revision_number")} | {"tenant_id": Network.project_id},
    not_found=errors.NetworkNotFound,
)


def visible(ctx: Context):
    """Networks the caller may see: its own and shared ones (admins: all)."""
    if ctx.is_admin:
        return Network.id.is_not(None)
    return or_(Network.project_id == ctx.project_id, Network.shared.is_(True))


def find_visible(session: Session, ctx: Context, network_id: str, *, for_update: bool = False) -> Network:
    """The network, or NetworkNotFound when it does not exist or is hidden."""
    net = session.get(Network, network_id, with_for_update=for_update)
    if net is None or not (ctx.is_admin or net.project_id == ctx.project_id or net.shared):
        raise errors.NetworkNotFound(network_id)
    return net


def find_owned(session: Session, ctx: Context, network_id: str, action: str) -> Network:
    """A network the caller may change: 404 if hidden, 403 if only visible."""
    net = find_visible(session, ctx, network_id)
    if not ctx.is_admin and net.project_id != ctx.project_id:
        raise errors.PolicyNotAuthorized(action)
    return net


def create_networks(env: Env, ctx: Context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create networks all-or-nothing. ``items`` are validated ``NetworkCreate`` dicts."""
    for data in items:
        if "shared" in data and data["shared"]:
            common.require_admin(ctx, "create_network:shared")

    def run(session: Session) -> list[dict[str, Any]]:
        rows = []
        projects = [common.owner_project(ctx, data) for data in items]
        check_quotas(session, env, "network", projects)
        for data, project in zip(items, projects):
            stamp = common.now()
            net = Network(id=common.new_id(), project_id=project, name=data.get("name", ""),
                          description=data.get("description", ""),
                          admin_state_up=data.get("admin_state_up", True), status="ACTIVE",
                          shared=data.get("shared", False),
                          mtu=data.get("mtu") or env.settings.network_mtu,
                          created_at=stamp, updated_at=stamp, revision_number=1)
            session.add(net)
            common.enqueue_ovn(session, "network", net.id)
            rows.append(net)
        session.flush()
        return network_dicts(session, rows)
    return env.db.run(run)


def get_network(env: Env, ctx: Context, network_id: str, fields: list[str] | None = None) -> dict[str, Any]:
    def run(session: Session) -> dict[str, Any]:
        return network_dicts(session, [find_visible(session, ctx, network_id)], fields)[0]
    return env.db.run(run, write=False)


def list_networks(env: Env, ctx: Context, query: listing.ListQuery) -> list[dict[str, Any]]:
    def run(session: Session) -> list[dict[str, Any]]:
        stmt = listing.apply_list_query(
            session, select(Network.__table__).where(visible(ctx)), SPEC, query)
        return network_dicts(session, listing.fetch(session, stmt, query), query.fields)
    return env.db.run(run, write=False)


def update_network(env: Env, ctx: Context, network_id: str, data: dict[str, Any],
                   if_match: int | None = None) -> dict[str, Any]:
    """Update name, description, admin_state_up, mtu, shared (admin)."""
    if "shared" in data:
        common.require_admin(ctx, "update_network:shared")

    def run(session: Session) -> dict[str, Any]:
        net = find_owned(session, ctx, network_id, "update_network")
        common.check_if_match(net, if_match)
        if common.apply_changes(net, data):
            common.touch(net)
            common.enqueue_ovn(session, "network", net.id)
        session.flush()
        return network_dicts(session, [net])[0]
    return env.db.run(run)


def delete_network(env: Env, ctx: Context, network_id: str, if_match: int | None = None) -> None:
    """Delete a network, its subnets and its auto-deleted ports.

    Raises NetworkInUse (409) while other ports exist.
    """
    def run(session: Session) -> None:
        net = find_owned(session, ctx, network_id, "delete_network")
        common.check_if_match(net, if_match)
        ports = session.execute(select(Port.id, Port.device_owner)
                                .where(Port.network_id == network_id)).all()
        if any(p.device_owner not in AUTO_DELETE_PORT_OWNERS for p in ports):
            raise errors.NetworkInUse(network_id)
        subnet_ids = list(session.scalars(select(Subnet.id).where(Subnet.network_id == network_id)))
        port_ids = [p.id for p in ports]
        session.execute(delete(IPAllocation).where(IPAllocation.network_id == network_id))
        if subnet_ids:
            session.execute(delete(IPAllocationBlock).where(IPAllocationBlock.subnet_id.in_(subnet_ids)))
        session.execute(delete(Port).where(Port.network_id == network_id))
        session.execute(delete(Subnet).where(Subnet.network_id == network_id))
        session.delete(net)
        common.delete_tags(session, [network_id, *subnet_ids, *port_ids])
        for pid in port_ids:
            common.enqueue_ovn(session, "port", pid)
        for sid in subnet_ids:
            common.enqueue_ovn(session, "subnet", sid)
        common.enqueue_ovn(session, "network", network_id)
    env.db.run(run)


def network_dicts(session: Session, rows: Iterable[Any], fields: list[str] | None = None) -> list[dict[str, Any]]:
    """API dicts for network rows (ORM objects or result rows), in the same order."""
    rows = list(rows)
    ids = [r.id for r in rows]
    want = common.wanted(fields)
    tags = common.tags_of(session, ids) if want("tags") else {}
    subnets: dict[str, list[str]] = defaultdict(list)
    if want("subnets") and ids:
        for net_id, sub_id in session.execute(
                select(Subnet.network_id, Subnet.id).where(Subnet.network_id.in_(ids))
                .order_by(Subnet.created_at, Subnet.id)):
            subnets[net_id].append(sub_id)
    result = []
    for r in rows:
        d = common.api_dict(r, tags.get(r.id, []))
        d["subnets"] = subnets.get(r.id, [])
        result.append(d)
    return result

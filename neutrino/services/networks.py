"""Networks (reference B.1). One transaction per public call."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors, policy
from neutrino.db.models import (FloatingIP, IPAllocation, IPAllocationBlock, Network, NetworkSegment,
                                Port, Subnet)
from neutrino.services import agents, common, listing, mtu, qos, qos_bindings, rbac
from neutrino.services import segments
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quotas

# Ports removed together with their network (Neutron's AUTO_DELETE_PORT_OWNERS).
AUTO_DELETE_PORT_OWNERS = (c.DEVICE_OWNER_DHCP, c.DEVICE_OWNER_DISTRIBUTED)
# Ports that only exist because the network is external.
EXTERNAL_PORT_OWNERS = (c.DEVICE_OWNER_ROUTER_GW, c.DEVICE_OWNER_FLOATINGIP)

SPEC = listing.ResourceSpec(
    id_column=Network.id,
    filters={
        **listing.standard_filters(Network),
        "admin_state_up": listing.eq(Network.admin_state_up, listing.to_bool),
        "status": listing.eq(Network.status),
        "shared": listing.eq(Network.shared, listing.to_bool),
        "mtu": listing.eq(Network.mtu, listing.to_int),
        "router:external": listing.eq(Network.router_external, listing.to_bool),
        "is_default": listing.eq(Network.is_default, listing.to_bool),
        "port_security_enabled": listing.eq(Network.port_security_enabled, listing.to_bool),
        "provider:network_type": lambda values: _segment_filter(
            values, NetworkSegment.network_type, segments.GENEVE),
        "l2_adjacency": lambda values: _l2_adjacency_filter(
            [listing.to_bool(v) for v in values]),
        "provider:physical_network": lambda values: _segment_filter(
            values, NetworkSegment.physical_network),
        "provider:segmentation_id": lambda values: _segment_filter(
            listing.int_values(values), NetworkSegment.segmentation_id),
    },
    sort_keys={k: getattr(Network, k) for k in (
        "id", "name", "project_id", "admin_state_up", "status", "mtu", "created_at",
        "updated_at", "revision_number")} | {"tenant_id": Network.project_id},
    not_found=errors.NetworkNotFound,
)


def _segment_filter(values: list[Any], column: Any, overlay_value: Any = None) -> listing.Clause:
    """Filter on a provider attribute: networks with a segment that matches (as ML2's
    ``_filter_nets_provider``); an overlay network without segments matches its shown
    value (``geneve``)."""
    clause = Network.id.in_(select(NetworkSegment.network_id).where(column.in_(values)))
    if overlay_value is not None and overlay_value in values:
        clause = or_(clause, Network.id.not_in(select(NetworkSegment.network_id)))
    return clause


def _l2_adjacency_filter(values: list[bool]) -> listing.Clause:
    """``l2_adjacency`` is false exactly for routed networks (subnets on segments)."""
    routed = Network.id.in_(select(Subnet.network_id).where(Subnet.segment_id.is_not(None)))
    if True in values and False in values:
        return listing.true()
    return ~routed if True in values else routed


def visible(ctx: Context):
    """Networks the caller may see: its own, shared and external ones, and those
    an RBAC policy names its project in (admins: all). One SQL condition."""
    return rbac.visible(ctx)


def _caller_spec(ctx: Context) -> listing.ResourceSpec:
    """SPEC with ``shared`` / ``router:external`` filtering on the caller's view of them."""
    return dataclasses.replace(SPEC, filters={
        **SPEC.filters, "shared": listing.bool_filter(rbac.shared_for(ctx)),
        "router:external": listing.bool_filter(rbac.external_for(ctx))})


def find_visible(session: Session, ctx: Context, network_id: str, *, for_update: bool = False) -> Network:
    """The network, or NetworkNotFound when it does not exist or is hidden."""
    net = session.get(Network, network_id, with_for_update=for_update)
    if net is None or not rbac.can_see(session, ctx, net):
        raise errors.NetworkNotFound(network_id)
    return net


def find_owned(session: Session, ctx: Context, network_id: str, action: str) -> Network:
    """A network the caller may change: 404 if hidden, 403 if only visible."""
    return common.require_owned(ctx, find_visible(session, ctx, network_id),
                                errors.PolicyNotAuthorized(action))


def create_networks(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create networks all-or-nothing. ``items`` are validated ``NetworkCreate`` dicts.
    Returns the new rows (the API renders them: ``api/wire/networks.py``)."""
    for data in items:
        if data.get("shared"):
            policy.require(ctx, "create_network:shared")
        if data.get("router_external"):
            policy.require(ctx, "create_network:router:external")
        if data.get("is_default"):
            policy.require(ctx, "create_network:is_default")
        if segments.requested(data):
            policy.require(ctx, "create_network:segments" if data.get(segments.SEGMENTS)
                                 else "create_network:provider:network_type")

    def run(session: Session) -> listing.Written:
        rows = []
        projects = [common.owner_project(ctx, data) for data in items]
        check_quotas(session, env, "network", projects)
        for data, project in zip(items, projects):
            stamp = common.now()
            net = Network(id=common.new_id(), project_id=project, name=data.get("name", ""),
                          description=data.get("description", ""),
                          admin_state_up=data.get("admin_state_up", True), status="ACTIVE",
                          shared=data.get("shared", False),
                          router_external=data.get("router_external", False),
                          port_security_enabled=data.get("port_security_enabled", True),
                          dns_domain=data.get("dns_domain", ""),
                          availability_zone_hints=agents.check_zones(
                              session, data.get("availability_zone_hints", [])),
                          mtu=mtu.choose(env, data.get("mtu"), segments.on_physical_networks(data)),
                          created_at=stamp, updated_at=stamp, revision_number=1)
            session.add(net)
            session.flush()  # its segments and RBAC entries reference it
            segments.add_network_segments(session, env, net.id, data)
            for action, on in ((rbac.SHARED, net.shared), (rbac.EXTERNAL, net.router_external)):
                if on:
                    rbac.mirror_wildcard(session, net, action, True)
            _set_default(session, net, data.get("is_default"))
            qos_bindings.set_policy(session, ctx, "network", net, data["qos_policy_id"]
                                    if "qos_policy_id" in data
                                    else qos.default_policy_id(session, project))
            common.enqueue_ovn(session, "network", net.id)
            rows.append(net)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def update_network(env: Env, ctx: Context, network_id: str, data: dict[str, Any],
                   if_match: int | None = None) -> listing.Written:
    """Update name, description, admin_state_up, mtu, shared, router:external and
    is_default (admin); returns the row.

    Raises InvalidInput (400) for an MTU above the network's maximum and
    NetworkMTUSubnetConflict (409) for one too small for its subnets (``services.mtu``),
    Conflict (409) when router:external is turned off while router
    gateways or floating IPs use the network (Neutron's ExternalNetworkInUse), and
    InvalidSharedSetting (409) when shared is turned off while other projects use it,
    DefaultExternalNetworkExists (409) for a second default external network.
    """
    for attr in ("shared", "router:external", "is_default"):
        if attr.replace(":", "_") in data:
            policy.require(ctx, f"update_network:{attr}")
    changes = {k: v for k, v in data.items() if k not in ("is_default", "qos_policy_id")}

    def run(session: Session) -> listing.Written:
        net = find_owned(session, ctx, network_id, "update_network")
        common.check_if_match(net, if_match)
        if data.get("router_external") is False:
            in_use = session.scalar(select(Port.id).where(
                Port.network_id == net.id, Port.device_owner.in_(EXTERNAL_PORT_OWNERS)).limit(1))
            if in_use is not None:
                raise errors.Conflict(f"External network {net.id} cannot be updated to be made "
                                      "non-external, since it has existing gateway ports.")
        if net.shared and data.get("shared") is False:
            _check_unshare(session, net)
        if "shared" in data and data["shared"] != net.shared:
            rbac.mirror_wildcard(session, net, rbac.SHARED, data["shared"])
        if "router_external" in data:  # False also drops entries naming projects
            rbac.mirror_wildcard(session, net, rbac.EXTERNAL, data["router_external"])
        updates = dict(changes)
        if "mtu" in updates:
            updates["mtu"] = mtu.choose(env, updates["mtu"],
                                        mtu.on_physical_networks(session, net.id))
            mtu.check_change(session, net, updates["mtu"])
        changed = common.apply_changes(net, updates)
        session.flush()
        changed |= _set_default(session, net, data.get("is_default"))
        if "qos_policy_id" in data:
            changed |= qos_bindings.set_policy(session, ctx, "network", net, data["qos_policy_id"])
        if changed:
            common.touch(net)
            common.enqueue_ovn(session, "network", net.id)
        session.flush()
        return listing.Written([net])
    return env.db.run(run)


class DefaultExternalNetworkExists(errors.Conflict):
    def __init__(self, network: str) -> None:
        super().__init__(f"Unable to complete operation. Default external network {network} "
                         "already exists.")


def _set_default(session: Session, net: Network, wanted: bool | None) -> bool:
    """Apply ``is_default`` as Neutron's ``_ensure_external_network_default_value_callback``:
    a second default is refused, and only an external network keeps the flag (a network
    that stops being external loses it). True if it changed."""
    if wanted:
        other = session.scalar(select(Network.id).where(Network.is_default.is_(True),
                                                        Network.id != net.id).limit(1))
        if other is not None:
            raise DefaultExternalNetworkExists(other)
    value = net.is_default if wanted is None else wanted
    value = bool(value) and rbac.is_external(session, net)
    if value == net.is_default:
        return False
    net.is_default = value
    return True


class InvalidSharedSetting(errors.Conflict):
    def __init__(self, network: str) -> None:
        super().__init__(f"Unable to reconfigure sharing settings for network {network}. "
                         "Multiple tenants are using it.")


def _check_unshare(session: Session, net: Network) -> None:
    """Neutron's ``_validate_shared_update``: a network stops being shared only if no
    other project has ports (``network:*`` owners aside) or subnets on it, unless an
    RBAC policy still shares it to that project."""
    users = set(session.scalars(select(Port.project_id).where(
        Port.network_id == net.id, ~Port.device_owner.startswith(c.DEVICE_OWNER_NETWORK_PREFIX))))
    users |= set(session.scalars(select(Subnet.project_id).where(Subnet.network_id == net.id)))
    if users - {net.project_id} - rbac.shared_targets(session, net.id):
        raise InvalidSharedSetting(net.name)


def delete_network(env: Env, ctx: Context, network_id: str, if_match: int | None = None) -> None:
    """Delete a network, its subnets, its auto-deleted ports and, on an external
    network, its floating IPs that are not associated (Neutron's
    ``delete_disassociated_floatingips``).

    Raises NetworkInUse (409) while other ports exist (associated floating IPs too).
    """
    def run(session: Session) -> None:
        net = find_owned(session, ctx, network_id, "delete_network")
        common.check_if_match(net, if_match)
        ports = session.execute(select(Port.id, Port.device_owner)
                                .where(Port.network_id == network_id)).all()
        loose = dict(session.execute(select(FloatingIP.floating_port_id, FloatingIP.id).where(
            FloatingIP.floating_network_id == network_id, FloatingIP.fixed_port_id.is_(None))).all())
        if any(p.device_owner not in AUTO_DELETE_PORT_OWNERS and p.id not in loose
               for p in ports):
            raise errors.NetworkInUse(network_id)
        if loose:
            session.execute(delete(FloatingIP).where(FloatingIP.id.in_(list(loose.values()))))
            common.delete_tags(session, list(loose.values()))
        subnet_ids = list(session.scalars(select(Subnet.id).where(Subnet.network_id == network_id)))
        segment_ids = list(session.scalars(select(NetworkSegment.id)
                                           .where(NetworkSegment.network_id == network_id)))
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
        for sid in segment_ids:  # a segment's own switch goes with it
            common.enqueue_ovn(session, "segment", sid)
        common.enqueue_ovn(session, "network", network_id)
    env.db.run(run)


def subnets_of(session: Session, ids: Any) -> tuple[dict[str, list[str]], dict[str, bool]]:
    """``({network id: [subnet ids by creation]}, {network id: True})``, the second
    for the networks with a subnet on a segment (routed networks, extension
    ``l2_adjacency``); ``ids`` lists network ids or SELECTs them."""
    subnets: dict[str, list[str]] = defaultdict(list)
    routed: dict[str, bool] = {}
    for net_id, sub_id, segment_id in session.execute(
            select(Subnet.network_id, Subnet.id, Subnet.segment_id)
            .where(Subnet.network_id.in_(ids)).order_by(Subnet.created_at, Subnet.id)):
        subnets[net_id].append(sub_id)
        if segment_id is not None:
            routed[net_id] = True
    return subnets, routed

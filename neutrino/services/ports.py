"""Ports (reference B.3, C.6). One transaction per public call.

Which addresses a port gets is decided in ``services.port_addresses`` (C.2) and, on
a routed network, ``services.routed_ports`` (B.7: the segment its host reaches); its
``security_groups``, ``port_security_enabled`` and ``allowed_address_pairs`` in
``services.port_security``; its ``dns_name``, ``dns_domain``, ``extra_dhcp_opts`` and
``dns_assignment`` in ``services.port_extras``; ``trusted``, ``device_profile``,
``numa_affinity_policy`` and ``propagate_uplink_status`` in ``services.port_vif``; its
INACTIVE bindings (live migration) in ``services.port_bindings``.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from types import SimpleNamespace
from collections import defaultdict
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors, policy
from neutrino.db import pg_pipeline
from neutrino.db.models import (FloatingIP, IPAllocation, Network, Port, PortBinding,
                                SecurityGroupPortBinding)
from neutrino.ipam import allocator
from neutrino.notifiers import nova
from neutrino.services import (common, listing, port_addresses, port_create_reads, port_extras,
                               port_forwardings, port_security, port_vif, qos_bindings, rbac,
                               routed_ports, trunk_ports)
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.networks import find_visible as find_visible_network
from neutrino.services.quotas import check_quotas

# Its result is never read: deferred in a PostgreSQL write's pipeline (db.pg_pipeline).
_INSERT_PORT = insert(Port.__table__).execution_options(**{pg_pipeline.DEFERRED: True})
# What ML2/OVN reports for a port bound to a chassis (reference D.3, zed vif_details).
VIF_DETAILS = {"port_filter": True, "connectivity": "l2"}


@dataclass(frozen=True)
class NewPort:
    """A port :func:`insert_port` wrote: ``row`` its ``ports`` columns (as attributes),
    ``fixed`` its ``[(subnet id, ip address)]`` (IPv4 first, then in address order),
    its ``tags`` and the ids of its security ``groups``."""

    row: SimpleNamespace
    fixed: list[tuple[str, str]]
    tags: list[str]
    groups: list[str]

    @property
    def id(self) -> str:
        return self.row.id
# Ports that belong to a router or floating IP and are deleted only with it.
L3_OWNERS = (c.DEVICE_OWNER_ROUTER_INTF, c.DEVICE_OWNER_ROUTER_GW, c.DEVICE_OWNER_FLOATINGIP)


def _fixed_ips_filter(values: list[str]) -> listing.Clause:
    """``fixed_ips=ip_address=X``, ``fixed_ips=subnet_id=Y``, ``fixed_ips=ip_address_substr=Z``;
    conditions apply to the same allocation (Neutron ``_get_ports_query``)."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or key not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise errors.InvalidInput(f"Invalid input for fixed_ips. Reason: '{value}' is not of "
                                      "the form <key>=[value], key one of ip_address, subnet_id, "
                                      "ip_address_substr.")
        by_key[key].append(item)
    stmt = select(IPAllocation.port_id)
    if by_key["ip_address"]:
        stmt = stmt.where(IPAllocation.ip_address.in_(_canonical_ips(by_key["ip_address"])))
    if by_key["subnet_id"]:
        stmt = stmt.where(IPAllocation.subnet_id.in_(by_key["subnet_id"]))
    for substr in by_key["ip_address_substr"]:
        stmt = stmt.where(IPAllocation.ip_address.contains(substr, autoescape=True))
    return Port.id.in_(stmt)


def _canonical_ips(values: list[str]) -> list[str]:
    result = []
    for value in values:
        try:
            result.append(str(ipaddress.ip_address(value)))
        except ValueError:
            result.append(value)  # matches nothing, as Neutron
    return result


SPEC = listing.ResourceSpec(
    id_column=Port.id,
    filters={
        **listing.standard_filters(Port),
        "network_id": listing.eq(Port.network_id),
        "mac_address": listing.eq(Port.mac_address, str.lower),
        "admin_state_up": listing.eq(Port.admin_state_up, listing.to_bool),
        "status": listing.eq(Port.status),
        "device_id": listing.eq(Port.device_id),
        "device_owner": listing.eq(Port.device_owner),
        "fixed_ips": _fixed_ips_filter,
        "port_security_enabled": listing.eq(Port.port_security_enabled, listing.to_bool),
        "ip_allocation": listing.eq(Port.ip_allocation),
        # extension port-security-groups-filtering: ports in any of the groups
        "security_groups": lambda values: Port.id.in_(
            select(SecurityGroupPortBinding.port_id).where(
                SecurityGroupPortBinding.security_group_id.in_(values))),
    },
    sort_keys={k: getattr(Port, k) for k in (
        "id", "name", "project_id", "network_id", "mac_address", "admin_state_up", "status",
        "device_id", "device_owner", "ip_allocation", "created_at", "updated_at",
        "revision_number")}
    | {"tenant_id": Port.project_id},
    not_found=errors.PortNotFound,
)


def visible(ctx: Context):
    """Ports the caller may see: its own and those on its networks (admins and
    services: all)."""
    if ctx.is_admin or ctx.is_service:
        return Port.id.is_not(None)
    own_networks = select(Network.id).where(Network.project_id == ctx.project_id)
    return or_(Port.project_id == ctx.project_id, Port.network_id.in_(own_networks))


def find_visible(session: Session, ctx: Context, port_id: str) -> Port:
    port = session.get(Port, port_id)
    if port is None or not (ctx.is_admin or ctx.is_service or port.project_id == ctx.project_id
                            or session.get(Network, port.network_id).project_id == ctx.project_id):
        raise errors.PortNotFound(port_id)
    return port


def create_ports(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create ports all-or-nothing. ``items`` are validated ``PortCreate`` dicts.
    Returns the new rows with the related data the create knows (the API renders them:
    ``api/wire/ports.py``; a one-port create needs no further read).

    Raises NetworkNotFound, PolicyNotAuthorized (403: ``network:*`` owner,
    mac_address or ip_address on another project's network), MacAddressInUse,
    IpAddressAlreadyAllocated, IpAddressGenerationFailure (409), InvalidIp*
    (400), OverQuota (409).
    """
    def run(session: Session) -> listing.Written:
        made: list[NewPort] = []
        projects = [common.owner_project(ctx, data) for data in items]
        # one port (the common request): its network, quota, default group and the
        # network's QoS policy in one statement; otherwise (or a missing network) apart
        found = port_create_reads.load(session, env, ctx, items[0]["network_id"], projects[0]) \
            if len(items) == 1 else None
        if found is None:
            check_quotas(session, env, "port", projects)
        for data, project in zip(items, projects):
            net = found.net if found else find_visible_network(session, ctx, data["network_id"])
            _check_policy(session, ctx, net, data, "create")
            made.append(insert_port(session, env, net, project, data, ctx=ctx,
                                    default_group=found.default_group if found else None,
                                    subnets=found.subnets if found else None))
            if data.get("qos_policy_id"):
                qos_bindings.set_policy(session, ctx, "port", made[-1].row,
                                        data["qos_policy_id"])
        # what port_reads' loads would read, known already (a new port is no trunk parent)
        related: dict[str, dict[str, Any]] = {
            "tags": {p.id: sorted(p.tags) for p in made},
            "fixed_ips": {p.id: p.fixed for p in made},
            "security_groups": {p.id: sorted(p.groups) for p in made},
            "trunk_details": {}}
        if found and not items[0].get("qos_policy_id"):  # a new port binds no policy
            related.update(qos={}, qos_network={found.net.id: found.network_qos})
        return listing.Written([p.row for p in made], related)
    return env.db.run(run)


def update_port(env: Env, ctx: Context, port_id: str, data: dict[str, Any],
                if_match: int | None = None) -> listing.Written:
    """Update a port and return it. A new ``fixed_ips`` list replaces the old one atomically:
    addresses still listed are kept, others released, new ones allocated.
    ``security_groups``, ``port_security_enabled`` and ``allowed_address_pairs``
    are checked as ``port_security.update_port_security`` says. On a routed
    network a new ``binding:host_id`` allocates the addresses a deferred port waits
    for, from the segments that host reaches (HostNotConnectedToAnySegment, 409),
    and must reach the segments of the addresses it has
    (HostNotCompatibleWithFixedIps, 409; ``routed_ports.bind_to_host``).
    ``mac_address`` null regenerates the MAC (extension ``port-mac-address-regenerate``);
    a bound port's MAC cannot change (PortBound, 409, Neutron's
    ``_check_mac_update_allowed``: its ``binding:vif_type`` is not ``unbound``).
    ``port_vif.prepare_update`` checks Nova's attributes (PortBoundNUMAAffinityPolicy)."""
    def run(session: Session) -> listing.Written:
        port = find_visible(session, ctx, port_id)
        net = session.get(Network, port.network_id)
        common.check_if_match(port, if_match)
        _check_policy(session, ctx, net, data, "update")
        changed = False
        if "fixed_ips" in data:
            changed = port_addresses.replace_fixed_ips(session, net, port, data.pop("fixed_ips"))
            port_forwardings.remove_for_port(session, port.id, session.scalars(
                select(IPAllocation.ip_address).where(IPAllocation.port_id == port.id)).all())
            if changed and port.ip_allocation == "deferred":
                port.ip_allocation = "immediate"
        host = data.get("binding_host_id")
        if host and host != port.binding_host_id:
            changed = routed_ports.bind_to_host(session, net, port, host,
                                                settings=env.settings) or changed
        if "mac_address" in data and data["mac_address"] is None:
            # a taken MAC fails the unique key and Database.run re-runs with a new one
            data["mac_address"] = _random_mac(env.settings.base_mac)
        if "mac_address" in data and data["mac_address"] != port.mac_address:
            if port.binding_host_id:
                raise errors.PortBound(port.id, "ovs", port.mac_address, data["mac_address"])
            _check_mac_free(session, net.id, data["mac_address"])
        addresses_changed = changed or data.get("mac_address", port.mac_address) != port.mac_address
        if "qos_policy_id" in data:
            changed = qos_bindings.set_policy(session, ctx, "port", port,
                                              data.pop("qos_policy_id")) or changed
        port_extras.prepare_update(env, port, data)
        port_vif.prepare_update(port, data)
        changed = port_security.update_port_security(session, env, ctx, port, data) or changed
        if common.apply_changes(port, data) or changed:
            common.touch(port)
            common.enqueue_ovn(session, "port", port.id)
            trunk_ports.parent_changed(session, [port])
        nova.port_updated(session, env.settings, port, addresses_changed)
        session.flush()
        return listing.Written([port])
    return env.db.run(run)


def set_port_binding_state(env: Env, port_id: str, *, up: bool, chassis_host: str | None) -> bool:
    """Record what OVN reports for a port: ACTIVE when a chassis claimed it
    (``binding:host_id`` becomes that chassis' hostname if it was unset), DOWN
    when released. Returns False if the port no longer exists. A deferred port of
    a routed network that gets a host this way gets its addresses too
    (``routed_ports.allocate_deferred``).

    Called by the SB watcher, not by users, so there is no Context.
    """
    def run(session: Session) -> bool | None:
        port = session.get(Port, port_id)
        if port is None:
            return None
        status = "ACTIVE" if up else "DOWN"
        changed, previous = port.status != status, port.status
        port.status = status
        nova.port_status_changed(session, env.settings, port, previous)
        if up and chassis_host and port.binding_host_id != chassis_host and not _migrating_from(
                session, port.id, chassis_host):
            port.binding_host_id = chassis_host
            changed = True
        if changed:
            common.touch(port)
            # the LSP carries the revision (and requested-chassis follows the host)
            common.enqueue_ovn(session, "port", port.id)
            trunk_ports.parent_changed(session, [port])
        return port.ip_allocation == "deferred" and bool(port.binding_host_id)
    deferred = env.db.run(run)
    if deferred is None:
        return False
    if deferred:
        routed_ports.allocate_deferred(env, port_id)
    return True


def _migrating_from(session: Session, port_id: str, host: str) -> bool:
    """Whether ``host`` holds an INACTIVE binding of the port (``port_bindings``): a live
    migration's other end, still claiming the port in the SB until the NB write that
    moved ``requested-chassis`` reaches it; the ACTIVE binding decides the host."""
    return session.get(PortBinding, (port_id, host)) is not None


def delete_port(env: Env, ctx: Context, port_id: str, if_match: int | None = None) -> None:
    """Delete a port and free its addresses; its floating IPs are disassociated.

    Raises ServicePortInUse (409) for a router interface, router gateway or
    floating IP port: those go with their router or floating IP.
    """
    def run(session: Session) -> None:
        port = find_visible(session, ctx, port_id)
        common.check_if_match(port, if_match)
        if port.device_owner in L3_OWNERS:
            raise errors.ServicePortInUse(port.id, port.device_owner)
        trunk_ports.check_deletable(session, port.id)
        disassociate_floatingips(session, port.id)
        port_forwardings.remove_for_port(session, port.id)
        allocator.release_port(session, port.id)
        common.delete_tags(session, [port.id])
        nova.port_deleted(session, env.settings, port)
        if port_extras.publishes_dns(port):  # its switch's DNS records lose its names
            common.enqueue_ovn(session, "network", port.network_id)
        from neutrino.services import network_logs  # it imports this module
        network_logs.clean_logs(session, port_id=port_id)
        session.delete(port)
        common.enqueue_ovn(session, "port", port_id)
    env.db.run(run)


def disassociate_floatingips(session: Session, port_id: str) -> None:
    """Unset the internal port of every floating IP bound to ``port_id`` (the
    floating IPs stay, DOWN), as Neutron does before deleting a port."""
    for fip in session.scalars(select(FloatingIP).where(FloatingIP.fixed_port_id == port_id)):
        if fip.router_id:
            common.enqueue_ovn(session, "router", fip.router_id)
        fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
        fip.status = "DOWN"
        common.touch(fip)


# --- internals ---------------------------------------------------------------

def _check_policy(session: Session, ctx: Context, net: Network, data: dict[str, Any],
                  op: str) -> None:
    """Neutron's default port rules (A.5) for ``op`` ("create" or "update"): binding
    attributes need admin or the service role (Nova); ``network:*`` owners are
    admin-only; another project's network must be shared to the caller (RBAC);
    mac_address, fixed IP addresses, port_security_enabled and
    allowed_address_pairs need admin or the network's owner (Neutron's
    ``<op>_port:<attr>`` rules, any value given counting as set)."""
    if ctx.is_admin:
        return
    port_vif.check_policy(ctx, data, op)
    for key, attr in (("binding_host_id", "binding:host_id"), ("binding_profile", "binding:profile")):
        if key in data:
            policy.require(ctx, f"{op}_port:{attr}")  # admin or service by default
    if ctx.is_service:
        return
    if data.get("device_owner", "").startswith(c.DEVICE_OWNER_NETWORK_PREFIX):
        raise errors.PolicyNotAuthorized(f"{op}_port:device_owner")
    if net.project_id != ctx.project_id and not rbac.shared_to(session, net, ctx.project_id):
        # visible only because it is external: its addresses are for routers and floating IPs
        raise errors.PolicyNotAuthorized(f"{op}_port:network_id")
    if net.project_id != ctx.project_id:
        if "mac_address" in data:
            raise errors.PolicyNotAuthorized(f"{op}_port:mac_address")
        if any("ip_address" in f for f in data.get("fixed_ips") or ()):
            raise errors.PolicyNotAuthorized(f"{op}_port:fixed_ips:ip_address")
        for attr in ("port_security_enabled", "allowed_address_pairs"):
            if attr in data:
                raise errors.PolicyNotAuthorized(f"{op}_port:{attr}")


def insert_port(session: Session, env: Env, net: Network, project: str, data: dict[str, Any], *,
                ctx: Context | None = None, default_group: str | None = None,
                subnets: list[Any] | None = None) -> NewPort:
    """Insert one port with its addresses, tags and security groups and enqueue
    it; return them (``NewPort``).

    ``data`` holds PortCreate attributes; no policy is checked here (callers
    do, or make ports on the user's behalf: router interfaces, gateways,
    floating IPs); ``ctx`` (None for those) only restricts the security groups
    to the port's project unless admin; ``default_group`` is the project's default
    security group when the caller read it (``port_security.bind_new_port``), ``subnets``
    the network's as ``port_addresses.network_subnets`` gives them (read when None).
    Raises the IPAM errors of
    ``create_ports`` and the port security errors of ``port_security``.
    Core inserts, not the ORM unit of work: this is the hottest write path.
    On a routed network (subnets on segments, reference B.7) a port without
    ``fixed_ips`` takes its addresses from the segments its ``binding:host_id``
    reaches, or none yet (``ip_allocation`` ``deferred``) without a host.
    """
    stamp = common.now()
    mac = data.get("mac_address")
    if mac is not None:
        _check_mac_free(session, net.id, mac)
    else:
        mac = _random_mac(env.settings.base_mac)
    if subnets is None:
        subnets = port_addresses.network_subnets(session, net.id)
    host = data.get("binding_host_id", "")
    requested = data.get("fixed_ips")
    routed = routed_ports.is_routed(subnets)
    if requested is None:
        allocation = "deferred" if routed and not host else "immediate"
    else:
        allocation = "immediate" if requested else "none"
    row = {"id": common.new_id(), "project_id": project, "network_id": net.id,
           "mac_address": mac, "name": data.get("name", ""),
           "description": data.get("description", ""),
           "admin_state_up": data.get("admin_state_up", True), "status": "DOWN",
           "device_id": data.get("device_id", ""), "device_owner": data.get("device_owner", ""),
           "binding_host_id": host,
           "binding_vnic_type": data.get("binding_vnic_type", "normal"),
           "binding_profile": data.get("binding_profile", {}),
           **port_security.new_port_columns(env, net, mac, data),
           **port_extras.new_port_columns(env, data),
           **port_vif.new_port_columns(data),
           "ip_allocation": allocation,
           "created_at": stamp, "updated_at": stamp, "revision_number": 1}
    session.execute(_INSERT_PORT, row)
    port = SimpleNamespace(**row)
    if requested is not None:
        fixed = port_addresses.allocate_requested(session, net, port, subnets, requested)
        if routed and host:
            used = {sid for sid, _ in fixed}
            routed_ports.check_host_fits(session, net, port.id, host,
                                         [s for s in subnets if s.id in used])
    elif allocation == "deferred":
        fixed = []
    else:
        fixed = routed_ports.allocate_on_host(session, net, port, subnets, host,
                                              settings=env.settings) if routed else \
            port_addresses.allocate_default(session, net, port, subnets, settings=env.settings)
    tags = common.validate_tags(data["tags"]) if data.get("tags") else []
    if tags:
        common.add_tags(session, port.id, tags)
    groups = port_security.bind_new_port(session, ctx, port, data.get("security_groups"),
                                         default_group=default_group)
    common.enqueue_ovn(session, "port", port.id)
    fixed.sort(key=lambda f: (":" in f[1], ipaddress.ip_address(f[1])))
    return NewPort(port, fixed, tags, groups)


def _check_mac_free(session: Session, network_id: str, mac: str) -> None:
    taken = session.scalar(select(Port.id).where(Port.network_id == network_id,
                                                 Port.mac_address == mac))
    if taken is not None:
        raise errors.MacAddressInUse(network_id, mac)


def _random_mac(base_mac: str) -> str:
    """A MAC from ``base_mac`` (C.6): its first three octets, and the fourth too
    when it is not 00; the rest random. Collisions fail the unique key and retry."""
    base = base_mac.split(":")
    fixed = 4 if base[3] != "00" else 3
    return ":".join(base[:fixed] + [f"{random.randrange(256):02x}" for _ in range(6 - fixed)])

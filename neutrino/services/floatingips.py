"""Floating IPs (reference B.5). One transaction per public call.

A floating IP owns a ``network:floatingip`` port (project "") on an external
network that holds its address. While associated it names the internal port
and fixed IP it is NATed to and the router doing it: the router with a gateway
on the floating network and an interface on the fixed IP's subnet. Every
change enqueues the routers involved for the NB sync; ``status`` is ACTIVE
while associated, DOWN otherwise.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors, policy
from neutrino.db.models import FloatingIP, IPAllocation, Network, Port, Router, Subnet
from neutrino.ipam import allocator, ranges, usage
from neutrino.notifiers import nova
from neutrino.services import (common, listing, port_forwardings, ports, qos_bindings, rbac,
                               service_subnets)
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quotas

SPEC = listing.ResourceSpec(
    id_column=FloatingIP.id,
    filters={
        **listing.standard_filters(FloatingIP),
        "floating_network_id": listing.eq(FloatingIP.floating_network_id),
        "floating_ip_address": listing.eq(FloatingIP.floating_ip_address),
        "port_id": listing.eq(FloatingIP.fixed_port_id),
        "fixed_ip_address": listing.eq(FloatingIP.fixed_ip_address),
        "router_id": listing.eq(FloatingIP.router_id),
        "status": listing.eq(FloatingIP.status),
    },
    sort_keys={k: getattr(FloatingIP, k) for k in (
        "id", "project_id", "floating_network_id", "floating_ip_address", "fixed_ip_address",
        "router_id", "status", "created_at", "updated_at", "revision_number")}
    | {"tenant_id": FloatingIP.project_id, "port_id": FloatingIP.fixed_port_id},
    not_found=errors.FloatingIPNotFound,
)


def visible(ctx: Context):
    """Floating IPs the caller may see: its own (admins: all)."""
    return common.own(ctx, FloatingIP)


def find_visible(session: Session, ctx: Context, fip_id: str) -> FloatingIP:
    """The floating IP, or FloatingIPNotFound (404) when absent or another project's."""
    return common.get_own(session, ctx, FloatingIP, fip_id, errors.FloatingIPNotFound)


def create_floatingips(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create floating IPs all-or-nothing. ``items`` are validated ``FloatingIPCreate``
    dicts. Returns the new rows (the API renders them: ``api/wire/floatingips.py``).

    Raises NetworkNotFound (404), BadRequest (not an external network, no IPv4
    subnet, fixed_ip_address without port_id), PolicyNotAuthorized
    (floating_ip_address for non-admins), IpAddressAlreadyAllocated (409),
    ExternalIpAddressExhausted (400), OverQuota (409), and the association
    errors of :func:`update_floatingip`.
    """
    for data in items:
        if data.get("floating_ip_address") is not None:
            policy.require(ctx, "create_floatingip:floating_ip_address")
        if data.get("fixed_ip_address") is not None and data.get("port_id") is None:
            raise errors.BadRequest("fixed_ip_address cannot be specified without a port_id")

    def run(session: Session) -> listing.Written:
        projects = [common.owner_project(ctx, data) for data in items]
        check_quotas(session, env, "floatingip", projects)
        rows = []
        for data, project in zip(items, projects):
            rows.append(_create(session, env, ctx, project, data))
            if data.get("qos_policy_id"):
                session.flush()
                qos_bindings.set_policy(session, ctx, "floatingip", rows[-1],
                                        data["qos_policy_id"])
            nova.floatingip_changed(session, env.settings, None, rows[-1].fixed_port_id)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def update_floatingip(env: Env, ctx: Context, fip_id: str, data: dict[str, Any],
                      if_match: int | None = None) -> listing.Written:
    """Associate (``port_id``, optional ``fixed_ip_address``), disassociate
    (``port_id: null``, or an empty body as Neutron) or describe a floating IP; returns
    the row.

    Raises PortNotFound (404), BadRequest (another project's port unless admin, a
    ``network:*`` port, no or ambiguous IPv4 address, fixed_ip_address without
    port), ExternalGatewayForFloatingIPNotFound (404),
    FloatingIPPortAlreadyAssociated (409).
    """
    def run(session: Session) -> listing.Written:
        fip = find_visible(session, ctx, fip_id)
        common.check_if_match(fip, if_match)
        changed, old_port_id = False, fip.fixed_port_id
        if not data:  # an empty body disassociates (Neutron keeps this old meaning)
            changed = _disassociate(session, fip)
        elif "port_id" in data or "fixed_ip_address" in data:
            port_id = data.get("port_id", fip.fixed_port_id)
            if port_id is not None:
                port_forwardings.check_floatingip_free(session, fip.id)
            if port_id is None:
                if data.get("fixed_ip_address") is not None:
                    raise errors.BadRequest("fixed_ip_address cannot be specified without a "
                                            "port_id")
                changed = _disassociate(session, fip)
            else:
                changed = _associate(session, ctx, fip, port_id, data.get("fixed_ip_address"))
        if "qos_policy_id" in data:
            changed = qos_bindings.set_policy(session, ctx, "floatingip", fip,
                                              data["qos_policy_id"]) or changed
        if "description" in data and data["description"] != fip.description:
            fip.description = data["description"]
            changed = True
        if changed:
            common.touch(fip)
            nova.floatingip_changed(session, env.settings, old_port_id, fip.fixed_port_id)
        session.flush()
        return listing.Written([fip])
    return env.db.run(run)


def delete_floatingip(env: Env, ctx: Context, fip_id: str, if_match: int | None = None) -> None:
    """Delete a floating IP and release its address."""
    def run(session: Session) -> None:
        fip = find_visible(session, ctx, fip_id)
        common.check_if_match(fip, if_match)
        port_forwardings.check_floatingip_free(session, fip.id)
        if fip.router_id:
            common.enqueue_ovn(session, "router", fip.router_id)
        nova.floatingip_changed(session, env.settings, fip.fixed_port_id, None)
        port_id = fip.floating_port_id
        session.delete(fip)
        session.flush()
        allocator.release_port(session, port_id)
        session.delete(session.get(Port, port_id))
        common.delete_tags(session, [fip_id])
        common.enqueue_ovn(session, "port", port_id)
    env.db.run(run)


def port_details_of(session: Session, port_ids: list[str]) -> dict[str, dict[str, Any]]:
    """``{port id: port_details}`` (extension fip-port-details: the port's name,
    network_id, mac_address, admin_state_up, status, device_id, device_owner)."""
    details = {}
    if port_ids:
        for p in session.execute(select(
                Port.id, Port.name, Port.network_id, Port.mac_address, Port.admin_state_up,
                Port.status, Port.device_id, Port.device_owner).where(Port.id.in_(port_ids))):
            details[p.id] = {"name": p.name, "network_id": p.network_id,
                             "mac_address": p.mac_address, "admin_state_up": p.admin_state_up,
                             "status": p.status, "device_id": p.device_id,
                             "device_owner": p.device_owner}
    return details


# --- internals ---------------------------------------------------------------

def _create(session: Session, env: Env, ctx: Context, project: str, data: dict[str, Any]) -> FloatingIP:
    net = session.get(Network, data["floating_network_id"])
    if net is None or not (ctx.is_admin or rbac.visible_to(session, net, project)):
        raise errors.NetworkNotFound(data["floating_network_id"])
    if not rbac.external_to(session, net, project):
        raise errors.BadRequest(f"Bad floatingip request: Network {net.id} is not a valid "
                                "external network.")
    v4 = list(session.scalars(select(Subnet).where(Subnet.network_id == net.id,
                                                   Subnet.ip_version == 4)
                              .order_by(Subnet.created_at, Subnet.id)))
    if data.get("subnet_id") is not None:
        v4 = [s for s in v4 if s.id == data["subnet_id"]]
        if not v4:
            raise errors.BadRequest(f"Bad floatingip request: subnet {data['subnet_id']} is not "
                                    f"an IPv4 subnet of external network {net.id}.")
    if not v4:
        raise errors.BadRequest(f"Bad floatingip request: Network {net.id} does not contain any "
                                "IPv4 subnet")
    fip_id = common.new_id()
    address = data.get("floating_ip_address")
    if address is not None:
        fixed = [{"ip_address": address, **({"subnet_id": v4[0].id} if data.get("subnet_id") else {})}]
        port = ports.insert_port(session, env, net, "", {
            "fixed_ips": fixed, "device_owner": c.DEVICE_OWNER_FLOATINGIP, "device_id": fip_id})
    else:
        # subnets open to floating IPs first (subnet-service-types); room counted in the
        # pools only (an address outside them, e.g. the upstream gateway's, takes none)
        usable = service_subnets.usable(v4, c.DEVICE_OWNER_FLOATINGIP)
        service_subnets.check_any(v4, usable, net.id, c.DEVICE_OWNER_FLOATINGIP)
        used = allocator.used_counts(session, [s.id for s in usable])
        outside = usage.outside_pool_counts(session, usable)
        free = [s for s in usable if used[s.id] - outside[s.id]
                < ranges.total_size(ranges.pools_from_db(s.allocation_pools))]
        if not free:
            raise errors.ExternalIpAddressExhausted(net.id)
        port = ports.insert_port(session, env, net, "", {
            "fixed_ips": [{"subnet_id": free[0].id}], "device_owner": c.DEVICE_OWNER_FLOATINGIP,
            "device_id": fip_id})
    address = port.fixed[0][1]
    if ipaddress.ip_address(address).version != 4:
        raise errors.BadRequest("Bad floatingip request: floating_ip_address must be IPv4")
    stamp = common.now()
    fip = FloatingIP(id=fip_id, project_id=project, name="", description=data.get("description", ""),
                     floating_network_id=net.id, floating_port_id=port.id,
                     floating_ip_address=address, status="DOWN",
                     created_at=stamp, updated_at=stamp, revision_number=1)
    session.add(fip)
    session.flush()
    if data.get("port_id") is not None:
        _associate(session, ctx, fip, data["port_id"], data.get("fixed_ip_address"))
    return fip


def _associate(session: Session, ctx: Context, fip: FloatingIP, port_id: str,
               fixed_ip: str | None) -> bool:
    """Point the floating IP at (port, fixed IP) through the router that reaches it."""
    port = ports.find_visible(session, ctx, port_id)  # a network's owner sees its ports
    if port.project_id != fip.project_id and not ctx.is_admin:
        raise errors.BadRequest(f"Bad floatingip request: Cannot process floating IP association "
                                f"with Port {port.id}, since that port is owned by a different "
                                "tenant")
    if port.device_owner.startswith(c.DEVICE_OWNER_NETWORK_PREFIX):
        raise errors.BadRequest(f"Bad floatingip request: Port {port.id} is unable to be "
                                f"assigned a floating IP (device owner {port.device_owner}).")
    addresses = session.execute(select(IPAllocation.subnet_id, IPAllocation.ip_address)
                                .where(IPAllocation.port_id == port.id)).all()
    v4 = [(s, ip) for s, ip in addresses if ipaddress.ip_address(ip).version == 4]
    if fixed_ip is not None:
        fixed_ip = str(ipaddress.ip_address(fixed_ip))
        chosen = next(((s, ip) for s, ip in v4 if ip == fixed_ip), None)
        if chosen is None:
            raise errors.BadRequest(f"Bad floatingip request: Port {port.id} does not have fixed "
                                    f"ip {fixed_ip}.")
    elif len(v4) == 1:
        chosen = v4[0]
    elif not v4:
        raise errors.BadRequest(f"Bad floatingip request: Port {port.id} does not have any "
                                "IPv4 address.")
    else:
        raise errors.BadRequest(f"Port {port.id} has multiple fixed IPv4 addresses.  Must provide "
                                "a specific IPv4 address when assigning a floating IP")
    subnet_id, ip = chosen
    if (fip.fixed_port_id, fip.fixed_ip_address) == (port.id, ip):
        return False
    taken = session.scalar(select(FloatingIP.id).where(
        FloatingIP.floating_network_id == fip.floating_network_id,
        FloatingIP.fixed_port_id == port.id, FloatingIP.fixed_ip_address == ip,
        FloatingIP.id != fip.id))
    if taken is not None:
        raise errors.FloatingIPPortAlreadyAssociated(fip.floating_ip_address, fip.id, port.id, ip,
                                                     fip.floating_network_id)
    router_id = router_for(session, fip.floating_network_id, subnet_id)
    if router_id is None:
        raise errors.ExternalGatewayForFloatingIPNotFound(subnet_id, fip.floating_network_id,
                                                          port.id)
    if fip.router_id and fip.router_id != router_id:
        common.enqueue_ovn(session, "router", fip.router_id)
    fip.fixed_port_id, fip.fixed_ip_address, fip.router_id = port.id, ip, router_id
    fip.status = "ACTIVE"
    common.enqueue_ovn(session, "router", router_id)
    return True


def _disassociate(session: Session, fip: FloatingIP) -> bool:
    if fip.fixed_port_id is None:
        return False
    if fip.router_id:
        common.enqueue_ovn(session, "router", fip.router_id)
    fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
    fip.status = "DOWN"
    return True


def router_for(session: Session, external_network_id: str, subnet_id: str) -> str | None:
    """The router with a gateway on the external network and an interface on the
    subnet, preferring the one whose interface holds the subnet's gateway_ip
    (Neutron ``_get_router_for_floatingip``)."""
    # any gateway of the router: its first or another (external-gateway-multihoming)
    gateway_routers = select(Port.device_id).where(Port.network_id == external_network_id,
                                                   Port.device_owner == c.DEVICE_OWNER_ROUTER_GW)
    candidates = session.execute(
        select(Router.id, IPAllocation.ip_address)
        .join(Port, Port.device_id == Router.id)
        .join(IPAllocation, IPAllocation.port_id == Port.id)
        .where(Port.device_owner == c.DEVICE_OWNER_ROUTER_INTF, IPAllocation.subnet_id == subnet_id,
               Router.id.in_(gateway_routers))
        .order_by(Router.created_at, Router.id)).all()
    if not candidates:
        return None
    gateway_ip = session.scalar(select(Subnet.gateway_ip).where(Subnet.id == subnet_id))
    return next((r for r, ip in candidates if ip == gateway_ip), candidates[0][0])

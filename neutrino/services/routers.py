"""Routers: gateways, interfaces and extra routes (reference B.4). One transaction per public call.

A router's interfaces are ports with ``device_owner=network:router_interface``
and ``device_id`` = the router; its gateway is the port ``gw_port_id``
(``network:router_gateway``, project ""), on an external network. Every change
enqueues the router for the NB sync ("router"), and the ports it touches.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors
from neutrino.db.models import FloatingIP, IPAllocation, Network, Port, Router, Subnet
from neutrino.ipam import allocator, ranges
from neutrino.services import (common, gateway_ports, listing, port_addresses, ports,
                               qos_bindings, rbac, router_extras, subnets)
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quotas

MAX_ROUTES = 30  # Neutron's max_routes

SPEC = listing.ResourceSpec(
    id_column=Router.id,
    filters={
        **listing.standard_filters(Router),
        "admin_state_up": listing.eq(Router.admin_state_up, listing.to_bool),
        "status": listing.eq(Router.status),
        "enable_snat": listing.eq(Router.enable_snat, listing.to_bool),
    },
    sort_keys={k: getattr(Router, k) for k in (
        "id", "name", "project_id", "admin_state_up", "status", "created_at", "updated_at",
        "revision_number", "enable_snat")} | {"tenant_id": Router.project_id},
    not_found=errors.RouterNotFound,
)


def visible(ctx: Context):
    """Routers the caller may see: its own (admins: all)."""
    return common.own(ctx, Router)


def find_visible(session: Session, ctx: Context, router_id: str) -> Router:
    """The router, or RouterNotFound when it does not exist or is another project's."""
    return common.get_own(session, ctx, Router, router_id, errors.RouterNotFound)


def create_routers(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create routers all-or-nothing. ``items`` are validated ``RouterCreate`` dicts.
    Returns the new rows (the API renders them: ``api/wire/routers.py``).

    Raises the gateway errors of :func:`update_router` and OverQuota (409).
    """
    for data in items:
        _check_gateway_policy(ctx, data.get("external_gateway_info"), "create_router")
        router_extras.check_create(ctx, data)

    def run(session: Session) -> listing.Written:
        projects = [common.owner_project(ctx, data) for data in items]
        check_quotas(session, env, "router", projects)
        rows = []
        for data, project in zip(items, projects):
            stamp = common.now()
            router = Router(id=common.new_id(), project_id=project, name=data.get("name", ""),
                            description=data.get("description", ""),
                            admin_state_up=data.get("admin_state_up", True), status="ACTIVE",
                            enable_snat=True, routes=[], created_at=stamp, updated_at=stamp,
                            revision_number=1,
                            availability_zone_hints=router_extras.zone_hints(session, data),
                            flavor_id=router_extras.flavor(session, data),
                            **router_extras.default_route_flags(data))
            session.add(router)
            session.flush()
            if data.get("external_gateway_info"):
                info = dict(data["external_gateway_info"])
                qos_policy = info.pop("qos_policy_id", None)
                _set_gateway(session, env, router, info)
                if qos_policy:
                    qos_bindings.set_policy(session, ctx, "router", router, qos_policy)
            common.enqueue_ovn(session, "router", router.id)
            rows.append(router)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def update_router(env: Env, ctx: Context, router_id: str, data: dict[str, Any],
                  if_match: int | None = None) -> listing.Written:
    """Update name, description, admin_state_up, external_gateway_info, routes; returns
    the row.

    ``external_gateway_info`` None or ``{}`` removes the gateway. Raises
    NetworkNotFound (also when the router's project cannot see the network),
    BadRequest (not an external network),
    PolicyNotAuthorized (enable_snat / external_fixed_ips for non-admins),
    RouterExternalGatewayInUseByFloatingIp (409), InvalidRoutes (400).
    """
    if "external_gateway_info" in data:
        _check_gateway_policy(ctx, data["external_gateway_info"], "update_router")
    router_extras.check_update(ctx, data)

    def run(session: Session) -> listing.Written:
        router = find_visible(session, ctx, router_id)
        common.check_if_match(router, if_match)
        changed = False
        if "external_gateway_info" in data:
            info = dict(data.pop("external_gateway_info") or {})
            has_qos, qos_policy = "qos_policy_id" in info, info.pop("qos_policy_id", None)
            changed = _set_gateway(session, env, router, info)
            if not info or has_qos:  # no gateway, no gateway policy (qos-gateway-ip)
                changed = qos_bindings.set_policy(session, ctx, "router", router,
                                                  qos_policy if info else None) or changed
        if "routes" in data:
            data["routes"] = _check_routes(session, router, data["routes"])
        if common.apply_changes(router, data) or changed:
            common.touch(router)
            common.enqueue_ovn(session, "router", router.id)
        session.flush()
        return listing.Written([router])
    return env.db.run(run)


def delete_router(env: Env, ctx: Context, router_id: str, if_match: int | None = None) -> None:
    """Delete a router and its gateway port. Raises RouterInUse (409) while it has interfaces."""
    def run(session: Session) -> None:
        router = find_visible(session, ctx, router_id)
        common.check_if_match(router, if_match)
        if _interface_ports(session, router.id):
            raise errors.RouterInUse(router.id)
        _remove_gateways(session, router)
        session.delete(router)
        common.delete_tags(session, [router.id])
        common.enqueue_ovn(session, "router", router.id)
    env.db.run(run)


@dataclass(frozen=True)
class RouterInterface:
    """What an interface action changed, Neutron's "interface info"
    (``l3_db._make_router_interface_info``): the router's ``id`` and ``project_id``, the
    interface ``port_id`` on ``network_id``, the ``subnet_ids`` added or removed
    (``api/wire/routers.ROUTER_INTERFACE`` renders it)."""

    id: str
    project_id: str
    port_id: str
    network_id: str
    subnet_ids: tuple[str, ...]


def add_router_interface(env: Env, ctx: Context, router_id: str,
                         body: dict[str, Any]) -> listing.Written:
    """``PUT /routers/{id}/add_router_interface`` with ``{"subnet_id"}`` or ``{"port_id"}``.

    By subnet: a new port holding the subnet's gateway_ip. By port: the port
    becomes the interface. Raises BadRequest (both or neither given, subnet
    without gateway, subnet already on the router, overlapping CIDRs, port
    without addresses or with two IPv4 subnets), PortInUse (409),
    SubnetNotFound/PortNotFound/RouterNotFound (404). Returns the ``RouterInterface``
    it made.
    """
    subnet_id, port_id = _interface_args(body)

    def run(session: Session) -> listing.Written:
        router = find_visible(session, ctx, router_id)
        if port_id is not None:
            port = ports.find_visible(session, ctx, port_id)
            if port.device_id or port.device_owner:
                raise errors.PortInUse(port.network_id, port.id, port.device_id)
            held = _subnets_of_port(session, port.id)
            if not held:
                raise errors.BadRequest("Bad router request: Router port must have at least one "
                                        "fixed IP.")
            if sum(1 for s in held if s.ip_version == 4) > 1:
                raise errors.BadRequest("Bad router request: Cannot have multiple IPv4 subnets "
                                        "on router port.")
            for sub in held:
                _check_attachable(session, router, sub)
            port.device_owner, port.device_id = c.DEVICE_OWNER_ROUTER_INTF, router.id
            common.touch(port)
            common.enqueue_ovn(session, "port", port.id)
            iface_id, net_id, sub_ids = port.id, port.network_id, [s.id for s in held]
        else:
            sub = subnets.find_visible(session, ctx, subnet_id)
            if not ctx.is_admin and sub.project_id != router.project_id:
                net = session.get(Network, sub.network_id)
                if not rbac.shared_to(session, net, router.project_id):
                    raise errors.BadRequest(f"Bad router request: Cannot add interface of subnet "
                                            f"{sub.id}, owned by another project.")
            if not sub.gateway_ip:
                raise errors.BadRequest("Bad router request: Subnet for router interface must "
                                        "have a gateway IP.")
            _check_attachable(session, router, sub)
            net = session.get(Network, sub.network_id)
            created = ports.insert_port(session, env, net, router.project_id, {
                "fixed_ips": [{"subnet_id": sub.id, "ip_address": sub.gateway_ip}],
                "device_owner": c.DEVICE_OWNER_ROUTER_INTF, "device_id": router.id})
            iface_id, net_id, sub_ids = created.id, net.id, [sub.id]
        common.touch(router)  # its interfaces are part of it: the revision moves (Neutron too)
        common.enqueue_ovn(session, "router", router.id)
        return _interface_info(router, iface_id, net_id, sub_ids)
    return env.db.run(run)


def remove_router_interface(env: Env, ctx: Context, router_id: str,
                            body: dict[str, Any]) -> listing.Written:
    """``PUT /routers/{id}/remove_router_interface`` with ``{"subnet_id"}`` and/or ``{"port_id"}``.

    Removes the subnet's address from the interface port, and the port once it
    holds none (by port: the whole port). Raises RouterInterfaceNotFound /
    RouterInterfaceNotFoundForSubnet (404), RouterInterfaceInUseByFloatingIP and
    RouterInterfaceInUseByRoute (409), Conflict when subnet and port disagree. Returns
    the ``RouterInterface`` it removed.
    """
    subnet_id, port_id = _interface_args(body, both_allowed=True)

    def run(session: Session) -> listing.Written:
        router = find_visible(session, ctx, router_id)
        interfaces = _interface_ports(session, router.id)
        if port_id is not None:
            port = next((p for p in interfaces if p.id == port_id), None)
            if port is None:
                raise errors.RouterInterfaceNotFound(router.id, port_id)
            held = _subnets_of_port(session, port.id)
            if subnet_id is not None and subnet_id not in {s.id for s in held}:
                raise errors.Conflict(f"Subnet {subnet_id} does not match port {port_id}'s "
                                      "addresses.")
            removing = [s for s in held if subnet_id is None or s.id == subnet_id]
        else:
            found = [(p, s) for p in interfaces for s in _subnets_of_port(session, p.id)
                     if s.id == subnet_id]
            if not found:
                raise errors.RouterInterfaceNotFoundForSubnet(router.id, subnet_id)
            port, removing = found[0][0], [found[0][1]]
            held = _subnets_of_port(session, port.id)
        for sub in removing:
            _check_detachable(session, router, sub)
        if len(removing) == len(held):
            ports.disassociate_floatingips(session, port.id)
            allocator.release_port(session, port.id)
            common.delete_tags(session, [port.id])
            session.delete(port)
        else:
            pairs = session.execute(select(IPAllocation.subnet_id, IPAllocation.ip_address).where(
                IPAllocation.port_id == port.id,
                IPAllocation.subnet_id.in_([s.id for s in removing]))).all()
            allocator.release_addresses(session, port.id, [tuple(p) for p in pairs])
            common.touch(port)
        common.touch(router)
        common.enqueue_ovn(session, "port", port.id)
        common.enqueue_ovn(session, "router", router.id)
        return _interface_info(router, port.id, port.network_id, [s.id for s in removing])
    return env.db.run(run)


def add_extraroutes(env: Env, ctx: Context, router_id: str,
                    routes: list[dict[str, str]]) -> listing.Written:
    """``add_extraroutes`` (extension extraroute-atomic): add the routes not there
    yet, in one transaction; returns the router. Raises InvalidRoutes (400) as :func:`update_router`."""
    return _change_extraroutes(env, ctx, router_id, routes, add=True)


def remove_extraroutes(env: Env, ctx: Context, router_id: str,
                       routes: list[dict[str, str]]) -> listing.Written:
    """``remove_extraroutes`` (extension extraroute-atomic): remove the given
    routes; absent ones are ignored. Returns the router."""
    return _change_extraroutes(env, ctx, router_id, routes, add=False)


def _change_extraroutes(env: Env, ctx: Context, router_id: str, routes: list[dict[str, str]],
                        *, add: bool) -> listing.Written:
    def run(session: Session) -> listing.Written:
        router = find_visible(session, ctx, router_id)
        current = list(router.routes or [])
        given = _normalise_routes(routes)
        if add:
            new = current + [r for r in given if r not in current]
        else:
            new = [r for r in current if r not in given]
        if new != current:
            router.routes = _check_routes(session, router, new)
            common.touch(router)
            common.enqueue_ovn(session, "router", router.id)
        session.flush()
        return listing.Written([router])
    return env.db.run(run)


# --- internals ---------------------------------------------------------------

def _check_gateway_policy(ctx: Context, info: dict[str, Any] | None, action: str) -> None:
    """Neutron's defaults: only admins choose enable_snat or the gateway's addresses."""
    if not info or ctx.is_admin:
        return
    for key in ("enable_snat", "external_fixed_ips"):
        if key in info:
            raise errors.PolicyNotAuthorized(f"{action}:external_gateway_info:{key}")


def _set_gateway(session: Session, env: Env, router: Router, info: dict[str, Any]) -> bool:
    """Make the router's first gateway match ``info`` (``{}``: none); its other gateways
    (``external-gateway-multihoming``) stay, and removing the first promotes the next
    (``services/gateway_ports.py``). True if anything changed."""
    old = session.get(Port, router.gw_port_id) if router.gw_port_id else None
    if not info:
        if old is None:
            return False
        gateway_ports.check_unused(session, router, old)
        gateway_ports.delete(session, router, old)
        return True
    net = gateway_ports.check_network(session, router, info)
    changed = False
    enable_snat = info.get("enable_snat", True)
    if router.enable_snat != enable_snat:
        router.enable_snat = enable_snat
        changed = True
    fixed_ips = info.get("external_fixed_ips")
    if old is not None and old.network_id == net.id:
        if fixed_ips is not None:
            changed |= port_addresses.replace_fixed_ips(session, net, old, fixed_ips)
            if changed:
                common.touch(old)
                common.enqueue_ovn(session, "port", old.id)
        return changed
    if old is not None:
        gateway_ports.check_unused(session, router, old)
        # the new port becomes the first gateway, not an older extra one
        gateway_ports.delete(session, router, old, promote_next=False)
    # Without external_fixed_ips the port gets addresses as any port does (C.2); on a
    # network without subnets it gets none, and the gateway waits for one (Neutron only
    # logs "No IPs available"): OVN gets no gateway LRP until the port has an address.
    gateway_ports.check_overlap(session, router, net)
    gateway_ports.create(session, env, router, net, fixed_ips)
    return True


def _remove_gateways(session: Session, router: Router) -> None:
    """Delete every gateway port of the router (it is being deleted)."""
    router.gw_port_id = None
    session.flush()
    for port in gateway_ports.ports_of(session, router):
        allocator.release_port(session, port.id)
        session.delete(port)
        common.enqueue_ovn(session, "port", port.id)


def _interface_args(body: dict[str, Any], *, both_allowed: bool = False) -> tuple[str | None, str | None]:
    if not isinstance(body, dict) or set(body) - {"subnet_id", "port_id"}:
        raise errors.BadRequest("Bad router request: only 'subnet_id' and 'port_id' are accepted.")
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if subnet_id is None and port_id is None:
        raise errors.BadRequest("Bad router request: Either subnet_id or port_id must be "
                                "specified")
    if subnet_id is not None and port_id is not None and not both_allowed:
        raise errors.BadRequest("Bad router request: Cannot specify both subnet-id and port-id")
    for value in (subnet_id, port_id):  # neutron-lib's validate_uuid, as l3_db does
        if value is not None and not common.is_uuid(value):
            raise errors.BadRequest(f"Bad router request: '{value}' is not a valid UUID")
    return subnet_id, port_id


def _interface_ports(session: Session, router_id: str) -> list[Port]:
    return list(session.scalars(select(Port).where(
        Port.device_id == router_id, Port.device_owner == c.DEVICE_OWNER_ROUTER_INTF)
        .order_by(Port.created_at, Port.id)))


def _subnets_of_port(session: Session, port_id: str) -> list[Subnet]:
    return list(session.scalars(select(Subnet).join(IPAllocation, IPAllocation.subnet_id == Subnet.id)
                                .where(IPAllocation.port_id == port_id).order_by(Subnet.id)))


def _router_subnets(session: Session, router: Router) -> list[Subnet]:
    """Subnets the router has an address in: its interfaces' and its gateway's."""
    port_ids = select(Port.id).where(Port.device_id == router.id,
                                     Port.device_owner.in_((c.DEVICE_OWNER_ROUTER_INTF,
                                                            c.DEVICE_OWNER_ROUTER_GW)))
    return list(session.scalars(select(Subnet).join(IPAllocation, IPAllocation.subnet_id == Subnet.id)
                                .where(IPAllocation.port_id.in_(port_ids))))


def _check_attachable(session: Session, router: Router, sub: Subnet) -> None:
    """400 when the subnet is already on the router or overlaps one that is."""
    cidr = ranges.parse_cidr(sub.cidr)
    for other in _router_subnets(session, router):
        if other.id == sub.id:
            raise errors.BadRequest(f"Bad router request: Router already has a port on subnet "
                                    f"{sub.id}.")
        if other.ip_version == sub.ip_version and ranges.parse_cidr(other.cidr).overlaps(cidr):
            raise errors.BadRequest(f"Bad router request: Cidr {sub.cidr} of subnet {sub.id} "
                                    f"overlaps with cidr {other.cidr} of subnet {other.id}.")


def _check_detachable(session: Session, router: Router, sub: Subnet) -> None:
    """409 while floating IPs or extra routes of the router need the subnet."""
    cidr = ranges.parse_cidr(sub.cidr)
    fip_ips = session.scalars(select(FloatingIP.fixed_ip_address).where(
        FloatingIP.router_id == router.id, FloatingIP.fixed_ip_address.is_not(None)))
    if any(ipaddress.ip_address(ip) in cidr for ip in fip_ips):
        raise errors.RouterInterfaceInUseByFloatingIP(router.id, sub.id)
    if any(ipaddress.ip_address(r["nexthop"]) in cidr for r in router.routes or ()):
        raise errors.RouterInterfaceInUseByRoute(router.id, sub.id)


def _check_routes(session: Session, router: Router, routes: list[dict[str, str]]) -> list[dict[str, str]]:
    """Normalise extra routes; each nexthop must be on a subnet of the router and
    not one of its own addresses (Neutron ``_validate_routes``)."""
    if len(routes) > MAX_ROUTES:
        raise errors.BadRequest(f"Number of routes exceeds the maximum {MAX_ROUTES}")
    subs = _router_subnets(session, router)
    own = set(session.scalars(select(IPAllocation.ip_address).where(IPAllocation.port_id.in_(
        select(Port.id).where(Port.device_id == router.id)))))
    result = _normalise_routes(routes)
    for route in result:
        dest, hop = route["destination"], route["nexthop"]
        if ipaddress.ip_network(dest).version != ipaddress.ip_address(hop).version:
            raise errors.InvalidRoutes(f"destination {dest} and nexthop {hop} differ in IP version")
        if not any(ipaddress.ip_address(hop) in ranges.parse_cidr(s.cidr) for s in subs):
            raise errors.InvalidRoutes(f"the nexthop is not connected with router. Route: "
                                       f"{{'destination': '{dest}', 'nexthop': '{hop}'}}")
        if hop in own:
            raise errors.InvalidRoutes(f"the nexthop is used by router. Route: "
                                       f"{{'destination': '{dest}', 'nexthop': '{hop}'}}")
    return result


def _normalise_routes(routes: list[dict[str, str]]) -> list[dict[str, str]]:
    """Canonical CIDR and address text, duplicates dropped, order kept."""
    result: list[dict[str, str]] = []
    for route in routes:
        entry = {"destination": str(ipaddress.ip_network(route["destination"], strict=False)),
                 "nexthop": str(ipaddress.ip_address(route["nexthop"]))}
        if entry not in result:
            result.append(entry)
    return result


def _interface_info(router: Router, port_id: str, network_id: str,
                    subnet_ids: list[str]) -> listing.Written:
    return listing.Written([RouterInterface(router.id, router.project_id, port_id, network_id,
                                            tuple(subnet_ids))])

"""A router's gateway ports (extension ``external-gateway-multihoming``): the rows,
their order and the checks shared by ``external_gateway_info`` (``services/routers.py``)
and ``external_gateways`` (``services/router_gateways.py``). Runs inside the caller's
transaction; writes only ports, their addresses and ``Router.gw_port_id``.

A router's gateways are its ports with ``device_owner`` ``network:router_gateway`` and
``device_id`` = the router, project "" (Neutron's ``_create_router_gw_port``). The first
is ``Router.gw_port_id`` (the "compatibility" gateway ``external_gateway_info`` shows),
the others follow in creation order (``created_at``, then port id: timestamps have
second resolution). There are extra gateways only while there is a first one: removing
the first promotes the next (Neutron's ``ExtraGatewaysDbOnlyMixin._update_router_gw_info``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors
from neutrino.db.models import FloatingIP, IPAllocation, Network, Port, Router, Subnet
from neutrino.ipam import allocator, ranges
from neutrino.services import common, ports, rbac
from neutrino.services.env import Env


def ports_of(session: Session, router: Router) -> list[Port]:
    """The router's gateway ports, the first (``gw_port_id``) first, then in creation order."""
    rows = list(session.scalars(select(Port).where(
        Port.device_id == router.id, Port.device_owner == c.DEVICE_OWNER_ROUTER_GW)
        .order_by(Port.created_at, Port.id)))
    return sorted(rows, key=lambda p: p.id != router.gw_port_id)


def by_router(session: Session, routers: Iterable[Any]) -> dict[str, list[dict[str, Any]]]:
    """``{router id: [gateway]}`` for router rows (``id``, ``gw_port_id``), each gateway
    ``{"port_id", "network_id", "external_fixed_ips": [{"subnet_id", "ip_address"}]}``
    (IPv4 first, then by address), the first gateway first; routers without any: absent.
    Two queries whatever the number of routers."""
    first = {r.id: r.gw_port_id for r in routers}
    if not any(first.values()):
        return {}
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_port: dict[str, dict[str, Any]] = {}
    for port_id, router_id, net_id in session.execute(
            select(Port.id, Port.device_id, Port.network_id).where(
                Port.device_id.in_(list(first)), Port.device_owner == c.DEVICE_OWNER_ROUTER_GW)
            .order_by(Port.created_at, Port.id)):
        gw = {"port_id": port_id, "network_id": net_id, "external_fixed_ips": []}
        by_port[port_id] = gw
        result[router_id].append(gw)
    for port_id, sub_id, ip in session.execute(
            select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address)
            .where(IPAllocation.port_id.in_(list(by_port)))):
        by_port[port_id]["external_fixed_ips"].append({"subnet_id": sub_id, "ip_address": ip})
    for router_id, gateways in result.items():
        gateways.sort(key=lambda g: g["port_id"] != first.get(router_id))
        for gw in gateways:
            gw["external_fixed_ips"].sort(key=lambda f: (":" in f["ip_address"], f["ip_address"]))
    return dict(result)


def api_gateway(gw: dict[str, Any]) -> dict[str, Any]:
    """One ``external_gateways`` entry as Neutron formats it (``format_gateway_info``):
    ``{"network_id", "external_fixed_ips"}``."""
    return {"network_id": gw["network_id"], "external_fixed_ips": gw["external_fixed_ips"]}


def check_network(session: Session, router: Router, info: dict[str, Any]) -> Network:
    """The external network of a requested gateway ``info`` (``network_id``,
    ``external_fixed_ips``), as Neutron's ``_validate_gw_info``: NetworkNotFound (404)
    when it does not exist or the router's project cannot see it; BadRequest (400) when
    it is not external for that project, or a requested address is a subnet's
    ``gateway_ip`` ("External IP ... is the same as the gateway IP")."""
    net = session.get(Network, info["network_id"])
    if net is None or not rbac.visible_to(session, net, router.project_id):
        raise errors.NetworkNotFound(info["network_id"])
    if not rbac.external_to(session, net, router.project_id):
        raise errors.BadRequest(f"Bad router request: Network {net.id} is not an external "
                                "network.")
    gateway_ips = set(session.scalars(select(Subnet.gateway_ip).where(
        Subnet.network_id == net.id, Subnet.gateway_ip.is_not(None))))
    for fixed in info.get("external_fixed_ips") or ():
        if fixed.get("ip_address") in gateway_ips:
            raise errors.BadRequest(f"Bad router request: External IP {fixed['ip_address']} "
                                    "is the same as the gateway IP")
    return net


def check_overlap(session: Session, router: Router, net: Network) -> None:
    """400 when a subnet of ``net`` overlaps a subnet of the router's interfaces or of
    its gateways on other networks; gateways on the same network may share its
    subnets (Neutron ``ExtraGatewaysDbOnlyMixin._check_for_dup_router_subnets``)."""
    mine = list(session.scalars(select(Subnet).where(Subnet.network_id == net.id)))
    if not mine:
        return
    gw_nets = select(Port.network_id).where(Port.device_id == router.id,
                                            Port.device_owner == c.DEVICE_OWNER_ROUTER_GW,
                                            Port.network_id != net.id)
    iface_subnets = select(IPAllocation.subnet_id).join(Port, Port.id == IPAllocation.port_id) \
        .where(Port.device_id == router.id, Port.device_owner == c.DEVICE_OWNER_ROUTER_INTF)
    others = session.scalars(select(Subnet).where(
        Subnet.network_id.in_(gw_nets) | Subnet.id.in_(iface_subnets)))
    for other in others:
        for sub in mine:
            if other.ip_version == sub.ip_version and ranges.parse_cidr(other.cidr).overlaps(
                    ranges.parse_cidr(sub.cidr)):
                raise errors.BadRequest(
                    f"Bad router request: Cidr {sub.cidr} of subnet {sub.id} overlaps with "
                    f"cidr {other.cidr} of subnet {other.id}.")


def create(session: Session, env: Env, router: Router, net: Network,
           fixed_ips: list[dict[str, str]] | None) -> str:
    """Insert a gateway port of ``router`` on ``net`` (``fixed_ips`` as a port create's;
    None: addresses as any port gets them) and return its id. It becomes the first
    gateway when the router has none. Raises the IPAM errors of ``ports.insert_port``."""
    port = ports.insert_port(session, env, net, "", {
        "fixed_ips": fixed_ips, "device_owner": c.DEVICE_OWNER_ROUTER_GW,
        "device_id": router.id})
    if router.gw_port_id is None:
        router.gw_port_id = port.id
    return port.id


def check_unused(session: Session, router: Router, port: Port) -> None:
    """RouterExternalGatewayInUseByFloatingIp (409) when the router's floating IPs on
    ``port``'s network need it: they do unless another gateway of the router is on
    that network (Neutron ``_delete_extra_gw_port``)."""
    used = session.scalar(select(FloatingIP.id).where(
        FloatingIP.router_id == router.id,
        FloatingIP.floating_network_id == port.network_id).limit(1))
    if used is None:
        return
    other = session.scalar(select(Port.id).where(
        Port.device_id == router.id, Port.device_owner == c.DEVICE_OWNER_ROUTER_GW,
        Port.network_id == port.network_id, Port.id != port.id).limit(1))
    if other is None:
        raise errors.RouterExternalGatewayInUseByFloatingIp(router.id, port.network_id)


def delete(session: Session, router: Router, port: Port, *, promote_next: bool = True) -> None:
    """Delete one gateway port (no checks: :func:`check_unused` first); when it was the
    first gateway the next one becomes first (:func:`promote`) unless ``promote_next``
    is false (the caller makes a new first one)."""
    if router.gw_port_id == port.id:
        router.gw_port_id = None
        session.flush()
    allocator.release_port(session, port.id)
    session.delete(port)
    session.flush()
    common.enqueue_ovn(session, "port", port.id)
    if promote_next:
        promote(session, router)


def promote(session: Session, router: Router) -> None:
    """Without a first gateway, make the router's oldest remaining gateway port the first."""
    if router.gw_port_id is None:
        rest = ports_of(session, router)
        if rest:
            router.gw_port_id = rest[0].id

"""Routers, floating IPs and router ports -> their OVN northbound rows. Pure: no I/O.

Logical_Router ``neutron-<router id>`` with its ports (``lrp-<port id>``), their
Gateway_Chassis, static routes (the gateway's default routes, extra routes),
policies (the metadata reroute), and NAT rows (SNAT, floating IPs), as ML2/OVN
writes them (reference D.5). Rows are ``ovn.rows`` dataclasses; the switch side
is ``ovn.desired``, which calls :func:`desired_routers`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from neutrino import constants as c
from neutrino.constants import PHYSNET_TYPES
from neutrino.ovn import router_az
from neutrino.ovn.rows import (EXT_AZ_HINTS, EXT_FIP_EXTERNAL_MAC, EXT_FIP_ID,
                               EXT_FIP_NETWORK_ID, EXT_FIP_PORT_ID, EXT_GW_NETWORK_ID,
                               EXT_GW_PORT_ID, EXT_IS_EXT_GW, EXT_METADATA_ROUTE,
                               EXT_NETWORK_NAME, EXT_REVISION, EXT_ROUTER_NAME,
                               EXT_ROUTE_SUBNET_ID, EXT_SUBNET_IDS, MAX_GW_CHASSIS,
                               METADATA_CIDR, METADATA_POLICY_PRIORITY, Desired,
                               GatewayChassis, LogicalRouter, LogicalRouterPort, Nat,
                               RouterPolicy, StaticRoute, ip_order, ipv6_mode, lrp_name,
                               prefixlen, router_name, switch_name)


def desired_router(router: Any, gw_port: Any | None) -> LogicalRouter:
    """The router's ``Logical_Router`` ``neutron-<router id>`` (D.5, zed
    external_ids). ``gw_port`` is its gateway port row or None."""
    return LogicalRouter(
        name=router_name(router.id), enabled=bool(router.admin_state_up),
        options={"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true"},
        external_ids={EXT_ROUTER_NAME: router.name,
                      EXT_GW_PORT_ID: gw_port.id if gw_port is not None else "",
                      EXT_GW_NETWORK_ID: gw_port.network_id if gw_port is not None else "",
                      EXT_REVISION: str(router.revision_number),
                      EXT_AZ_HINTS: ",".join(getattr(router, "availability_zone_hints", None)
                                             or [])})


def desired_router_port(port: Any, fixed_ips: Iterable[tuple[Any, str]], router_id: str, *,
                        mtu: int | None = None) -> LogicalRouterPort | None:
    """The ``Logical_Router_Port`` ``lrp-<port id>`` of a router interface or
    gateway port (D.5), or None when the port has no address (an LRP needs
    one). ``fixed_ips`` is ``[(subnet row, ip)]``; ``mtu`` the port's network
    MTU, for IPv6 router advertisements.

    The first IPv6 subnet with an address mode sets ``ipv6_ra_configs``
    (``address_mode`` with "_" for "-", ``send_periodic`` "true", "false" on
    a gateway port, ``mtu``), as Neutron's
    ``_get_nets_and_ipv6_ra_confs_for_router_port``.
    """
    fixed = sorted(fixed_ips, key=lambda f: ip_order(f[1]))
    if not fixed:
        return None
    ra: dict[str, str] = {}
    for sub, _ in fixed:
        mode = ipv6_mode(sub) if sub.ip_version == 6 else None
        if mode:
            ra = {"address_mode": mode.replace("-", "_"),
                  "send_periodic": "false" if port.device_owner == c.DEVICE_OWNER_ROUTER_GW else "true"}
            if mtu is not None:
                ra["mtu"] = str(mtu)
            break
    return LogicalRouterPort(
        name=lrp_name(port.id), router=router_name(router_id), mac=port.mac_address.lower(),
        networks=tuple(f"{ip}/{prefixlen(sub.cidr)}" for sub, ip in fixed),
        external_ids={EXT_REVISION: str(port.revision_number),
                      EXT_SUBNET_IDS: " ".join(dict.fromkeys(sub.id for sub, _ in fixed)),
                      EXT_NETWORK_NAME: switch_name(port.network_id),
                      EXT_ROUTER_NAME: router_id},
        ipv6_ra_configs=ra)


def gateway_chassis_order(router_id: str, candidates: Iterable[str]) -> list[str]:
    """The chassis to host a router's gateway, best first, at most
    ``MAX_GW_CHASSIS``: highest-random-weight (rendezvous) order by
    sha256(router id, chassis name). Deterministic, spreads routers over the
    chassis, and a chassis coming or going only moves the routers it ranks
    first for: everyone else keeps their order."""
    def weight(chassis: str) -> bytes:
        return hashlib.sha256(f"{router_id}\0{chassis}".encode()).digest()
    return sorted(set(candidates), key=lambda c: (weight(c), c), reverse=True)[:MAX_GW_CHASSIS]


def desired_gateway_chassis(lrp: str, router_id: str, candidates: Iterable[str],
                            avoid: Iterable[str] = ()) -> list[GatewayChassis]:
    """``Gateway_Chassis`` rows ``<lrp>_<chassis>`` for a gateway LRP:
    priorities N..1 in :func:`gateway_chassis_order` (D.5); [] without
    candidates (the gateway then has no chassis: never an invented one).
    ``avoid``: chassis already first for another gateway LRP of the router, moved
    after the others (anti-affinity, as ML2/OVN's ``OVNGatewayLeastLoadedScheduler``
    spreads a router's gateway ports)."""
    avoided = set(avoid)
    order = sorted(gateway_chassis_order(router_id, candidates), key=lambda c: c in avoided)
    return [GatewayChassis(f"{lrp}_{c}", lrp, c, len(order) - i) for i, c in enumerate(order)]


def desired_gateway_routes(router_id: str, gw_fixed_ips: Iterable[tuple[Any, str]],
                           bfd_port: str = "") -> list[StaticRoute]:
    """Default routes of a router gateway (D.5): ``0.0.0.0/0`` (``::/0``) via
    the gateway_ip of each external subnet the gateway port has an address
    in, marked ``neutron:is_ext_gw``. ``bfd_port`` (the gateway LRP of a router
    with ``enable_default_route_bfd``) becomes each route's ``output_port``
    with a BFD session to the next hop, as ML2/OVN (``ovn/bfd.py``)."""
    routes = {}
    for sub, _ in gw_fixed_ips:
        if sub.gateway_ip and sub.id not in routes:
            routes[sub.id] = StaticRoute(
                router_name(router_id), "0.0.0.0/0" if sub.ip_version == 4 else "::/0",
                sub.gateway_ip, {EXT_IS_EXT_GW: "true", EXT_ROUTE_SUBNET_ID: sub.id},
                output_port=bfd_port, bfd=bool(bfd_port))
    return list(routes.values())


def desired_snat(router: Any, gw_fixed_ips: Iterable[tuple[Any, str]],
                 interface_subnets: Iterable[Any],
                 pool_scopes: Mapping[str, str] | None = None) -> list[Nat]:
    """One ``snat`` NAT per IPv4 interface subnet to the gateway's (first)
    IPv4 address, when ``enable_snat`` and the gateway has one (D.5).

    Address scopes: ``pool_scopes`` maps a subnet pool id to its address scope
    id; a subnet's scope is its ``subnetpool_id``'s. An interface subnet in the
    scope of the gateway address's subnet gets no row: its traffic leaves with
    its own addresses, routed, as Neutron's L3 agent does ("Prevents snat
    within the same address scope", ``router_info.py``
    ``process_external_port_address_scope_routing``). ML2/OVN itself writes SNAT
    for every subnet; the upstream must route the scope's prefixes back."""
    gw_v4 = sorted(((ip, sub) for sub, ip in gw_fixed_ips if sub.ip_version == 4),
                   key=lambda pair: ip_order(pair[0]))
    if not router.enable_snat or not gw_v4:
        return []
    scopes = pool_scopes or {}
    gw_scope = scopes.get(getattr(gw_v4[0][1], "subnetpool_id", None) or "")
    cidrs = dict.fromkeys(
        s.cidr for s in interface_subnets if s.ip_version == 4 and (
            gw_scope is None or scopes.get(getattr(s, "subnetpool_id", None) or "") != gw_scope))
    return [Nat(router_name(router.id), "snat", gw_v4[0][0], cidr) for cidr in cidrs]


def desired_metadata_policies(router_id: str, port: Any, fixed_ips: Iterable[tuple[Any, str]],
                              metadata_ips: Mapping[str, str]) -> list[RouterPolicy]:
    """Metadata through the router for guests that ignore DHCP option 121 and send
    169.254.169.254 to their default gateway: per IPv4 subnet of interface ``port``
    whose network has a metadata port address there (``metadata_ips``: subnet id ->
    address), a ``reroute`` policy of priority ``METADATA_POLICY_PRIORITY`` sending
    what enters from that subnet for 169.254.169.254/32 back out to that address
    (ovn-nb(5), Logical_Router_Policy), so it reaches the network's own metadata agent
    and never the gateway's SNAT."""
    policies = []
    for sub, _ in fixed_ips:
        metadata_ip = metadata_ips.get(sub.id)
        if sub.ip_version != 4 or not metadata_ip:
            continue
        policies.append(RouterPolicy(
            router=router_name(router_id), priority=METADATA_POLICY_PRIORITY,
            match=(f'inport == "{lrp_name(port.id)}" && ip4.src == {sub.cidr} && '
                   f"ip4.dst == {METADATA_CIDR.split('/')[0]}"),
            action="reroute", nexthops=(metadata_ip,),
            external_ids={EXT_ROUTE_SUBNET_ID: sub.id, EXT_METADATA_ROUTE: "true"}))
    return policies


def desired_extra_routes(router: Any) -> list[StaticRoute]:
    """``Router.routes`` ``[{destination, nexthop}]`` as static routes (zed: no external_ids)."""
    return [StaticRoute(router_name(router.id), r["destination"], r["nexthop"])
            for r in router.routes or ()]


def desired_floating_ip(fip: Any, floating_mac: str | None = None, *,
                        distributed: bool = False) -> Nat | None:
    """The ``dnat_and_snat`` NAT of an associated floating IP (D.5); None when
    not associated. As ML2/OVN's ``_create_or_update_floatingip``
    (mech_driver/ovsdb/ovn_client.py): ``logical_port`` is the fixed port and
    ``floating_mac``, the MAC of the floating IP's own port
    (``floating_port_id``), is ``external_ids:neutron:fip_external_mac``.
    With ``distributed`` (``enable_distributed_floating_ip``) it is also the
    ``external_mac``: the chassis hosting the fixed port NATs the traffic
    itself, straight onto the external network. Without it (or without a
    MAC) ``external_mac`` stays unset: NATed on the gateway chassis."""
    if not (fip.router_id and fip.fixed_port_id and fip.fixed_ip_address):
        return None
    router = router_name(fip.router_id)
    mac = floating_mac.lower() if floating_mac else ""
    external_ids = {EXT_FIP_ID: fip.id, EXT_REVISION: str(fip.revision_number),
                    EXT_FIP_PORT_ID: fip.fixed_port_id, EXT_ROUTER_NAME: router,
                    EXT_FIP_NETWORK_ID: fip.floating_network_id}
    if mac:
        external_ids[EXT_FIP_EXTERNAL_MAC] = mac
    return Nat(router, "dnat_and_snat", fip.floating_ip_address, fip.fixed_ip_address,
               logical_port=fip.fixed_port_id, external_mac=mac if distributed else "",
               external_ids=external_ids)


def parse_bridge_mappings(value: str) -> frozenset[str]:
    """The physical networks of an ``ovn-bridge-mappings`` value
    (``"physnet1:br-ex,physnet2:br-x"``); malformed entries are skipped."""
    physnets = (entry.partition(":") for entry in value.split(","))
    return frozenset(p.strip() for p, sep, b in physnets if sep and p.strip() and b.strip())


def desired_routers(routers: Iterable[Any], router_ports: Iterable[Any],
                    fixed_ips: Mapping[str, list[tuple[Any, str]]], *,
                    networks: Mapping[str, Any] | None = None, segments: Iterable[Any] = (),
                    floating_ips: Iterable[Any] = (),
                    floating_macs: Mapping[str, str] | None = None,
                    distributed_floating_ips: bool = False,
                    chassis: Mapping[str, Iterable[str]] | None = None,
                    pool_scopes: Mapping[str, str] | None = None,
                    metadata_ips: Mapping[str, str] | None = None) -> Desired:
    """Routers, their ports, routes, NATs and gateway chassis (D.5) as a
    ``Desired`` holding only those. ``pool_scopes`` (subnet pool id -> address
    scope id) leaves same-scope subnets without SNAT (:func:`desired_snat`).

    ``router_ports`` are port rows with a router owner (any order, others are
    ignored): an interface belongs to the router named by its ``device_id``,
    the gateway is the port ``Router.gw_port_id``, and the router's other
    ``network:router_gateway`` ports are its further gateways
    (``external-gateway-multihoming``, in creation order): each an LRP with
    gateway chassis (those first for an earlier one last) and SNAT, as ML2/OVN;
    their default routes only with ``enable_default_route_ecmp`` (all then share the
    prefix: OVN spreads over them), BFD on each with ``enable_default_route_bfd``.
    Routes are known by (prefix, next hop): gateways on one external subnet share
    their default route, the first gateway's (ML2/OVN would write the same route
    twice, with BFD once per gateway LRP).
    ``fixed_ips`` maps port id
    to ``[(subnet row, ip)]``; ``networks`` (id -> row) gives MTUs;
    ``segments`` the physical networks of the gateway networks.
    ``floating_ips`` become ``dnat_and_snat`` NATs (:func:`desired_floating_ip`),
    ``floating_macs`` maps a floating IP port id to its MAC, and
    ``distributed_floating_ips`` (the ``enable_distributed_floating_ip``
    setting) makes them distributed.
    ``chassis`` maps each gateway-capable SB chassis name to the physical
    networks it bridges (``ovn.chassis.chassis_physnets``); gateway candidates
    are those bridging one of the gateway network's physical networks, and
    declaring one of the router's ``availability_zone_hints`` if it has any
    (``ovn.router_az``). None: chassis unknown, ``gateway_chassis`` is None.
    ``metadata_ips`` (subnet id -> the metadata port's address there) give the
    interfaces their metadata policies (:func:`desired_metadata_policies`).
    """
    networks = networks or {}
    physnets: dict[str, set[str]] = defaultdict(set)
    for seg in segments:
        if seg.network_type in PHYSNET_TYPES and seg.physical_network:
            physnets[seg.network_id].add(seg.physical_network)
    by_id = {p.id: p for p in router_ports}
    interfaces: dict[str, list[Any]] = defaultdict(list)
    extra_gateways: dict[str, list[Any]] = defaultdict(list)
    for port in sorted(by_id.values(), key=lambda p: (getattr(p, "created_at", "") or "", p.id)):
        if port.device_owner == c.DEVICE_OWNER_ROUTER_INTF:
            interfaces[port.device_id].append(port)
        elif port.device_owner == c.DEVICE_OWNER_ROUTER_GW:
            extra_gateways[port.device_id].append(port)
    lrs, lrps, routes, nats, policies = {}, {}, {}, {}, {}
    gwcs: dict[str, GatewayChassis] | None = {} if chassis is not None else None

    def lrp(port: Any, router_id: str) -> LogicalRouterPort | None:
        net = networks.get(port.network_id)
        row = desired_router_port(port, fixed_ips.get(port.id, ()), router_id,
                                  mtu=net.mtu if net is not None else None)
        if row is not None:
            lrps[row.name] = row
        return row

    for router in routers:
        gw = by_id.get(router.gw_port_id) if router.gw_port_id else None
        lrs[router_name(router.id)] = desired_router(router, gw)
        iface_subnets = []
        for port in sorted(interfaces.get(router.id, ()), key=lambda p: p.id):
            if lrp(port, router.id) is not None:
                iface_subnets += [sub for sub, _ in fixed_ips.get(port.id, ())]
                policies.update((p.key, p) for p in desired_metadata_policies(
                    router.id, port, fixed_ips.get(port.id, ()), metadata_ips or {}))
        extra = desired_extra_routes(router)
        # the first gateway, then the others (external-gateway-multihoming): an LRP each
        # with its gateway chassis and SNAT (ML2/OVN ``_add_router_ext_gw``,
        # ``update_nat_rules``); default routes of the others only with ECMP
        gws = [gw] + [p for p in extra_gateways.get(router.id, ()) if p.id != gw.id] \
            if gw is not None else []
        gw_routes: list[StaticRoute] = []
        firsts: list[str] = []
        for i, port in enumerate(gws):
            gw_lrp = lrp(port, router.id)
            if gw_lrp is None:
                continue
            gw_ips = fixed_ips.get(port.id, [])
            if i == 0 or getattr(router, "enable_default_route_ecmp", False):
                bfd = getattr(router, "enable_default_route_bfd", False)
                gw_routes += desired_gateway_routes(router.id, gw_ips,
                                                    gw_lrp.name if bfd else "")
            nats.update((n.key, n) for n in desired_snat(router, gw_ips, iface_subnets,
                                                         pool_scopes))
            if gwcs is not None:
                wanted = physnets.get(port.network_id, set())
                candidates = router_az.in_zones(
                    [c for c, nets in chassis.items() if wanted & set(nets)], chassis,
                    getattr(router, "availability_zone_hints", None))
                rows = desired_gateway_chassis(gw_lrp.name, router.id, candidates, firsts)
                gwcs.update((g.name, g) for g in rows)
                firsts += [g.chassis_name for g in rows[:1]]
        extra = gw_routes + extra
        for route in extra:
            routes.setdefault(route.key, route)  # a gateway route wins over an equal extra one
    floating_macs = floating_macs or {}
    for fip in floating_ips:
        nat = desired_floating_ip(fip, floating_macs.get(fip.floating_port_id),
                                  distributed=distributed_floating_ips)
        if nat is not None and nat.router in lrs:
            nats[nat.key] = nat
    return Desired(routers=lrs, router_ports=lrps, static_routes=routes, nats=nats,
                   router_policies=policies, gateway_chassis=gwcs)

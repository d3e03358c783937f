"""Database rows -> the OVN northbound rows they should become. Pure: no I/O.

Every builder takes rows as plain objects with the attributes of the
``neutrino.db.models`` columns (ORM objects, result rows, or namespaces in
tests) and returns the frozen dataclasses of ``ovn.rows``, named after the NB
tables. The mapping is ML2/OVN's (reference D.1-D.4), external_ids included, so a
row can be traced back to its Neutron resource and a Neutron-made NB can be taken
over. This module builds the switch side (switches, their ports, localnet ports,
DHCP_Options) and :func:`desired_state`, the whole picture; the routers' rows come
from ``ovn.desired_routers``, security groups' from ``ovn.security_groups``.

Ownership is recognised exactly as Neutron marks rows, never by a private
tag: a Logical_Switch named ``neutron-<network id>`` (and every port on it), a
Logical_Switch_Port named after a port id, a DHCP_Options row carrying
``external_ids:subnet_id`` (with ``port_id`` too: a port's own, ``ovn.port_dhcp``),
a DNS row whose ``external_ids:ls_name`` is a ``neutron-`` switch (``ovn.dns``),
a Logical_Router named ``neutron-<router id>`` and
everything on it (its ports and their Gateway_Chassis rows, static routes,
NATs), a Logical_Router_Port named ``lrp-<port id>``. Rows without these marks
are never touched.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from neutrino import constants as c
from neutrino.constants import PHYSNET_TYPES
from neutrino.ovn import port_dhcp
from neutrino.ovn.dns import DnsInputs, desired_dns, dhcp_dns_servers
from neutrino.ovn.trunks import child_of
from neutrino.ovn.security_groups import (EXT_SG_IDS, desired_port_groups, port_groups_of,
                                          port_security)
from neutrino.services.segment_switches import domain_of, own_switch_segments
from neutrino.ovn.rows import (EXT_AZ_HINTS, EXT_CIDRS, EXT_DEVICE_ID, EXT_DEVICE_OWNER,
                               EXT_MTU, EXT_NETWORK_NAME, EXT_PORT_NAME, EXT_PROJECT_ID,
                               EXT_REVISION, EXT_SEGMENT_NETWORK, EXT_SUBNET_ID,
                               METADATA_CIDR, ROUTER_OWNERS, Desired, DhcpOptions,
                               LogicalSwitch, LogicalSwitchPort, derived_mac, ip_order,
                               ipv6_mode, localnet_name, lrp_name, ovn_set, prefixlen,
                               switch_name)
from neutrino.ovn.desired_routers import desired_routers

# Datapath tunnel keys ovn-northd never assigns itself (lib/ovn-util.h: 2^24-1 - 65535 + 1).
OVN_MIN_DP_KEY_GLOBAL = (1 << 24) - 1 - ((1 << 16) - 1) + 1
UNKNOWN_ADDRESS = "unknown"
DEFAULT_LEASE_TIME = 43200


def desired_switch(network: Any, tunnel_key: int | None = None) -> LogicalSwitch:
    """The network's ``Logical_Switch`` (D.2). Multicast snooping is off, as
    Neutron's default ``igmp_snooping_enable=False`` writes it. ``tunnel_key`` (the
    VNI of the network's geneve segment) becomes ``other_config:requested-tnl-key``,
    which ovn-northd honours as the datapath's tunnel key (ovn-nb(5), 1 to 2^24-1)."""
    other_config = {"mcast_snoop": "false", "mcast_flood_unregistered": "false"}
    if tunnel_key:
        other_config["requested-tnl-key"] = str(tunnel_key)
    return LogicalSwitch(
        name=switch_name(network.id),
        external_ids={EXT_NETWORK_NAME: network.name, EXT_MTU: str(network.mtu),
                      EXT_REVISION: str(network.revision_number),
                      EXT_AZ_HINTS: ",".join(network.availability_zone_hints or [])},
        other_config=other_config)


def desired_segment_switch(network: Any, segment_id: str) -> LogicalSwitch:
    """The ``Logical_Switch`` ``neutron-<segment id>`` of a segment that gets a switch of
    its own (``services.segment_switches``): the network's switch without its overlay
    tunnel key, naming its network in ``external_ids:neutrino:network_id``."""
    row = desired_switch(network)
    return dataclasses.replace(row, name=switch_name(segment_id), external_ids={
        **row.external_ids, EXT_SEGMENT_NETWORK: network.id})


def tunnel_keys(segments: Iterable[Any]) -> dict[str, int]:
    """``{network id: VNI}`` of the networks whose (first, by ``segment_index``) geneve
    segment has a VNI OVN can take as the datapath tunnel key: one of the keys
    ovn-northd never assigns by itself (``OVN_MIN_DP_KEY_GLOBAL`` and up, lib/ovn-util.h).
    A lower VNI may equal a key northd already gave another datapath (a router): the
    request would move that datapath to a new key, which ovn-controller 23.03 does not
    follow until a full recompute (its ports lose DHCP and traffic), so it is not made."""
    keys: dict[str, tuple[int, int]] = {}
    for seg in segments:
        if (seg.network_type == "geneve" and seg.segmentation_id
                and seg.segmentation_id >= OVN_MIN_DP_KEY_GLOBAL):
            index = getattr(seg, "segment_index", 0)
            if seg.network_id not in keys or index < keys[seg.network_id][0]:
                keys[seg.network_id] = (index, seg.segmentation_id)
    return {net: vni for net, (_, vni) in keys.items()}


def desired_dhcp_options(subnet: Any, network: Any, *, base_mac: str,
                         lease_time: int = DEFAULT_LEASE_TIME,
                         metadata_ip: str | None = None,
                         dns: DnsInputs | None = None) -> DhcpOptions | None:
    """The subnet's ``DHCP_Options`` row, or None when OVN must not answer DHCP:
    DHCP disabled, an IPv6 SLAAC subnet, or an IPv4 subnet with neither a
    gateway nor a metadata port address to serve from.

    ``metadata_ip`` is the address of the network's metadata port
    (``network:distributed``) in this subnet. When given it is the
    fallback ``server_id`` and the first classless static route
    (169.254.169.254/32 via it), exactly as D.4 orders them.

    ``dns`` (``ovn.dns.DnsInputs``) gives subnets without ``dns_nameservers`` the
    default resolvers as ``dns_server`` and IPv4 subnets the ``domain_name`` of a
    non-default ``dns_domain`` setting, as ML2/OVN; None: neither.
    """
    dns = dns or DnsInputs()
    servers = dhcp_dns_servers(subnet, dns.servers or ())
    if not subnet.enable_dhcp:
        return None
    if subnet.ip_version == 6:
        mode = ipv6_mode(subnet)
        if mode == c.IPV6_SLAAC:
            return None
        options = {"server_id": derived_mac(base_mac, subnet.id)}
        if servers:
            options["dns_server"] = ovn_set(servers)
        if mode == c.DHCPV6_STATELESS:
            options["dhcpv6_stateless"] = "true"
    else:
        server_ip = subnet.gateway_ip or metadata_ip
        if not server_ip:
            return None
        options = {"server_id": server_ip, "server_mac": derived_mac(base_mac, subnet.id),
                   "lease_time": str(lease_time), "mtu": str(network.mtu)}
        if dns.domain_name:
            options["domain_name"] = dns.domain_name
        if subnet.gateway_ip:
            options["router"] = subnet.gateway_ip
        if servers:
            options["dns_server"] = ovn_set(servers)
        routes = classless_static_routes(subnet, metadata_ip)
        if routes:
            options["classless_static_route"] = routes
    return DhcpOptions(subnet_id=subnet.id, cidr=subnet.cidr, options=options,
                       external_ids={EXT_SUBNET_ID: subnet.id,
                                     EXT_REVISION: str(subnet.revision_number)})


def classless_static_routes(subnet: Any, metadata_ip: str | None = None) -> str | None:
    """DHCP option 121 as OVN writes it, or None when there is no route:
    ``{169.254.169.254/32,<metadata ip>, <dest>,<nexthop>, ..., 0.0.0.0/0,<gateway>}``.

    The default route comes last and only alongside another route: RFC 3442
    clients ignore option 3 (router) once option 121 is present.
    """
    routes = [f"{METADATA_CIDR},{metadata_ip}"] if metadata_ip else []
    routes += [f"{r['destination']},{r['nexthop']}" for r in subnet.host_routes or ()]
    if not routes:
        return None
    if subnet.gateway_ip:
        routes.append(f"0.0.0.0/0,{subnet.gateway_ip}")
    return ovn_set(routes)


def chassis_options(port: Any, migrating_to: str | None = None) -> dict[str, str]:
    """An LSP's ``requested-chassis`` (the port's ``binding:host_id``) and, during a
    live migration, the destination after it plus ``activation-strategy`` "rarp", as
    ML2/OVN's ``_configure_requested_chassis_options``: OVN (22.09+) then binds the
    port on both chassis and opens the destination when the hypervisor sends a RARP
    from it. The destination is ``binding:profile`` ``migrating_to`` (what Nova sets
    and ML2/OVN reads) or else ``migrating_to``: the host of the port's bound INACTIVE
    binding (extension ``binding-extended``, ``services.port_bindings``)."""
    host = getattr(port, "binding_host_id", "") or ""
    dest = (getattr(port, "binding_profile", None) or {}).get("migrating_to") or migrating_to
    if host and dest and dest != host:
        return {"requested-chassis": f"{host},{dest}", "activation-strategy": "rarp"}
    return {"requested-chassis": host}


def desired_lsp(port: Any, fixed_ips: Iterable[tuple[Any, str]],
                dhcp_options: Mapping[str, DhcpOptions], *,
                security_groups: Iterable[str] = (),
                migrating_to: str | None = None,
                switch: str | None = None) -> LogicalSwitchPort | None:
    """The port's ``Logical_Switch_Port`` (D.3), or None for a floating IP port.

    ``fixed_ips`` is ``[(subnet row, ip address)]`` in the API's order (IPv4
    first); ``dhcp_options`` the desired rows of the network's subnets;
    ``security_groups`` the port's group ids. With port security
    (``port_security_enabled``, default true) the port's MAC and addresses,
    plus its ``allowed_address_pairs``, are its ``port_security`` and it is in
    ``neutron_pg_drop`` and its groups' port groups (``port_groups``).
    ``network:*`` owners are trusted and ports without port security are open:
    no port security, no port groups, and (type "") the ``unknown`` address as
    Neutron writes it; trusted ports get no DHCP options either. A router
    interface or gateway port is the peer of its LRP (D.5): type ``router``,
    addresses ``router``, ``options:router-port``; a gateway also announces
    the router's NAT addresses (``nat-addresses=router``). ``migrating_to`` is the
    host of a live migration's destination binding (:func:`chassis_options`).
    ``switch``: the switch holding it, its network's unless its segment has its own
    (``services.segment_switches``). A trunk subport is a child port
    (``ovn.trunks.child_of``: ``parent_name``, ``tag_request``) with no requested chassis.
    """
    owner = port.device_owner or ""
    switch = switch or switch_name(port.network_id)
    if owner == c.DEVICE_OWNER_FLOATINGIP:
        return None
    fixed = list(fixed_ips)
    entry = " ".join([port.mac_address, *(ip for _, ip in fixed)])
    trusted = owner.startswith(c.DEVICE_OWNER_NETWORK_PREFIX)
    lsp_type = "localport" if owner == c.DEVICE_OWNER_DISTRIBUTED else ""
    security, pair_macs = _port_security(port, entry) if port_security(port) else ((), ())
    addresses = (entry, UNKNOWN_ADDRESS) if not security and not lsp_type else (entry, *pair_macs)
    groups = tuple(security_groups)
    parent_name, tag = child_of(port)
    # a child port goes wherever its parent is bound (live migration included)
    options = chassis_options(port, migrating_to) if parent_name is None else {
        "requested-chassis": ""}
    if owner in ROUTER_OWNERS:
        lsp_type, addresses, options = "router", ("router",), {"router-port": lrp_name(port.id)}
        if owner == c.DEVICE_OWNER_ROUTER_GW:
            options.update({"nat-addresses": "router", "exclude-lb-vips-from-garp": "true"})
    cidrs = " ".join(f"{ip}/{prefixlen(sub.cidr)}" for sub, ip in fixed)
    return LogicalSwitchPort(
        name=port.id, switch=switch, type=lsp_type,
        addresses=addresses, port_security=security, enabled=bool(port.admin_state_up),
        options=options,
        external_ids={EXT_PORT_NAME: port.name, EXT_DEVICE_ID: port.device_id,
                      EXT_DEVICE_OWNER: owner, EXT_PROJECT_ID: port.project_id,
                      EXT_CIDRS: cidrs, EXT_NETWORK_NAME: switch,
                      EXT_SG_IDS: " ".join(sorted(groups)),
                      EXT_REVISION: str(port.revision_number)},
        dhcpv4_options=None if trusted else _port_dhcp(fixed, dhcp_options, 4),
        dhcpv6_options=None if trusted else _port_dhcp(fixed, dhcp_options, 6),
        parent_name=parent_name, tag_request=tag,
        port_groups=port_groups_of(port, groups))


def _port_security(port: Any, entry: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(``port_security`` entries, extra ``addresses`` MACs) of a port with port
    security, as Neutron's ``_get_allowed_addresses_from_port``: allowed
    address pairs with the port's MAC extend its entry, others get an entry
    ``"<mac> <ip or cidr>"`` each and their MACs join the addresses."""
    own, others = [entry], []
    for pair in getattr(port, "allowed_address_pairs", None) or ():
        if pair["mac_address"] == port.mac_address:
            own.append(pair["ip_address"])
        else:
            others.append(f"{pair['mac_address']} {pair['ip_address']}")
    macs = sorted({o.split()[0] for o in others})
    return (" ".join(own), *sorted(set(others))), tuple(macs)


def desired_localnet(segment: Any, own_switch: bool = False) -> LogicalSwitchPort | None:
    """The segment's localnet ``Logical_Switch_Port`` ``provnet-<segment id>``
    (D.1, D.2, D.10), or None for a segment without a physical network (or
    not flat/vlan). A vlan segment's id goes in ``tag_request``. It sits on the
    network's switch, or with ``own_switch`` on the segment's
    (``services.segment_switches``)."""
    if segment.network_type not in PHYSNET_TYPES or not segment.physical_network:
        return None
    return LogicalSwitchPort(
        name=localnet_name(segment.id),
        switch=switch_name(segment.id if own_switch else segment.network_id), type="localnet",
        addresses=(UNKNOWN_ADDRESS,),
        options={"network_name": segment.physical_network, "mcast_flood": "false",
                 "mcast_flood_reports": "true"},
        tag_request=segment.segmentation_id if segment.network_type == "vlan" else None)


def desired_state(networks: Iterable[Any], subnets: Iterable[Any], ports: Iterable[Any],
                  allocations: Iterable[Any], *, base_mac: str,
                  lease_time: int = DEFAULT_LEASE_TIME, segments: Iterable[Any] = (),
                  routers: Iterable[Any] = (), router_ports: Iterable[Any] = (),
                  floating_ips: Iterable[Any] = (),
                  floating_macs: Mapping[str, str] | None = None,
                  distributed_floating_ips: bool = False,
                  chassis: Mapping[str, Iterable[str]] | None = None,
                  metadata_ips: Mapping[str, str] | None = None,
                  security_groups: Iterable[Any] = (), security_group_rules: Iterable[Any] = (),
                  port_security_groups: Mapping[str, Iterable[str]] | None = None,
                  pool_scopes: Mapping[str, str] | None = None,
                  dns: DnsInputs | None = None,
                  migrations: Mapping[str, str] | None = None) -> Desired:
    """All desired rows for the given networks, subnets, ports and routers.
    ``dns`` (``ovn.dns.DnsInputs``) gives the networks' DNS rows and the DHCP
    resolvers (see :func:`desired_dhcp_options`); a port's ``extra_dhcp_opts`` give
    it a DHCP row of its own (``ovn.port_dhcp``).
    ``pool_scopes`` maps subnet pool ids to address scope ids (SNAT, see
    :func:`desired_snat`).

    ``subnets`` must include every subnet a given port (or router port) has
    an address in; ``allocations`` are rows with ``port_id``, ``subnet_id``,
    ``ip_address``. A subnet whose network is not given gets no DHCP row.
    ``segments`` of the given networks become localnet ports (every flat/vlan
    segment its own, with its VLAN tag; every one after a network's first on a switch
    of its own, which holds the ports with addresses on its subnets:
    ``services.segment_switches``) and give geneve networks their tunnel key;
    ``routers``, ``router_ports``, ``floating_ips``, ``floating_macs``,
    ``distributed_floating_ips`` and ``chassis`` are as :func:`desired_routers`
    (its ``networks`` and ``segments`` are these).
    ``metadata_ips`` maps a subnet id to the address the network's metadata
    port (``network:distributed``) holds there: the subnet's DHCP options then
    route 169.254.169.254/32 to it (see :func:`desired_dhcp_options`).
    ``security_groups`` and their ``security_group_rules`` become port groups
    and ACLs (``neutron_pg_drop`` always comes along); ``port_security_groups``
    maps a port id to its group ids (see ``ovn.security_groups``). ``migrations``
    maps a port id to the host of its bound INACTIVE binding (a live migration's
    destination, :func:`chassis_options`).
    """
    nets = {n.id: n for n in networks}
    migrations = migrations or {}
    metadata_ips = metadata_ips or {}
    subs = {s.id: s for s in subnets}
    segments = list(segments)
    own = {s: n for s, n in own_switch_segments(segments).items() if n in nets}
    dhcp = {}
    for sub in subs.values():
        net = nets.get(sub.network_id)
        row = desired_dhcp_options(sub, net, base_mac=base_mac, lease_time=lease_time,
                                   metadata_ip=metadata_ips.get(sub.id), dns=dns) \
            if net is not None else None
        if row is not None:
            dhcp[sub.id] = row
    ips: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for a in allocations:
        ips[a.port_id].append((subs[a.subnet_id], a.ip_address))
    lsps = {}
    for port in ports:
        fixed = sorted(ips.get(port.id, ()), key=lambda f: ip_order(f[1]))
        domain = domain_of(port.network_id,
                           (getattr(sub, "segment_id", None) for sub, _ in fixed), own)
        lsp = desired_lsp(port, fixed, dhcp,
                          security_groups=(port_security_groups or {}).get(port.id, ()),
                          migrating_to=migrations.get(port.id), switch=switch_name(domain))
        if lsp is not None:
            lsps[lsp.name] = port_dhcp.apply_port_options(port, lsp, dhcp)
    for seg in segments:
        lsp = desired_localnet(seg, seg.id in own) if seg.network_id in nets else None
        if lsp is not None:
            lsps[lsp.name] = lsp
    routing = desired_routers(routers, router_ports, ips, networks=nets, segments=segments,
                              floating_ips=floating_ips, floating_macs=floating_macs,
                              distributed_floating_ips=distributed_floating_ips,
                              chassis=chassis, pool_scopes=pool_scopes,
                              metadata_ips=metadata_ips)
    pgs, acls = desired_port_groups(security_groups, security_group_rules)
    keys = tunnel_keys(segments)
    dns = dns or DnsInputs()
    dns_rows = desired_dns(nets.values(), dns.ports, dns.addresses, switch_name=switch_name,
                           dns_domain_setting=dns.dns_domain)
    switches = [desired_switch(n, keys.get(n.id)) for n in nets.values()]
    switches += [desired_segment_switch(nets[n], s) for s, n in own.items()]
    return dataclasses.replace(
        routing, switches={s.name: dataclasses.replace(s, dns_records=(_dns_key(s),))
                           if _dns_key(s) in dns_rows else s for s in switches},
        ports=lsps, dhcp_options=dhcp, port_groups=pgs, acls=acls, dns=dns_rows)


def _dns_key(switch: LogicalSwitch) -> str:
    """The DNS row a switch uses: its network's (a segment's own switch shares it)."""
    network = switch.external_ids.get(EXT_SEGMENT_NETWORK)
    return switch_name(network) if network else switch.name


def _port_dhcp(fixed: list[tuple[Any, str]], dhcp: Mapping[str, DhcpOptions],
               version: int) -> str | None:
    """The subnet whose DHCP row serves the port: the first of its subnets of
    that version with a row; for IPv6 a stateful one is preferred (Neutron's
    ``_get_subnet_dhcp_options_for_port``)."""
    candidates = [sub.id for sub, _ in fixed if sub.ip_version == version and sub.id in dhcp]
    if version == 6:
        stateful = [s for s in candidates if "dhcpv6_stateless" not in dhcp[s].options]
        candidates = stateful or candidates
    return candidates[0] if candidates else None

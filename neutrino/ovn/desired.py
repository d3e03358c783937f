"""Database rows -> the OVN northbound rows they should become. Pure: no I/O.

Every builder takes rows as plain objects with the attributes of the
``neutrino.db.models`` columns (ORM objects, result rows, or namespaces in
tests) and returns frozen dataclasses named after the NB tables. The mapping
is ML2/OVN's (reference D.1-D.4), external_ids included, so a row can be
traced back to its Neutron resource and a Neutron-made NB can be taken over.

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
import hashlib
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neutrino import constants as c
from neutrino.constants import PHYSNET_TYPES
from neutrino.ovn import port_dhcp, router_az
from neutrino.ovn.dns import Dns, DnsInputs, desired_dns, dhcp_dns_servers
from neutrino.ovn.address_groups import AddressSet
from neutrino.ovn.trunks import child_of
from neutrino.ovn.port_forwarding import LoadBalancer
from neutrino.ovn.qos import QoS
from neutrino.ovn.security_groups import (EXT_SG_IDS, Acl, PortGroup, desired_port_groups,
                                          port_groups_of, port_security)
from neutrino.services.segment_switches import domain_of, own_switch_segments

SWITCH_PREFIX = "neutron-"
# Neutron's external_ids keys (neutron/common/ovn/constants.py).
EXT_NETWORK_NAME = "neutron:network_name"
EXT_MTU = "neutron:mtu"
EXT_REVISION = "neutron:revision_number"
EXT_AZ_HINTS = "neutron:availability_zone_hints"
# A segment's own switch names its network (``services.segment_switches``).
EXT_SEGMENT_NETWORK = "neutrino:network_id"
EXT_PORT_NAME = "neutron:port_name"
EXT_DEVICE_ID = "neutron:device_id"
EXT_DEVICE_OWNER = "neutron:device_owner"
EXT_PROJECT_ID = "neutron:project_id"
EXT_CIDRS = "neutron:cidrs"
EXT_SUBNET_ID = "subnet_id"
EXT_PORT_ID = "port_id"  # a port's own DHCP_Options row (extra_dhcp_opts, ovn.port_dhcp)
EXT_ROUTER_NAME = "neutron:router_name"
EXT_GW_PORT_ID = "neutron:gw_port_id"
EXT_GW_NETWORK_ID = "neutron:gw_network_id"
EXT_SUBNET_IDS = "neutron:subnet_ids"
EXT_IS_EXT_GW = "neutron:is_ext_gw"
EXT_ROUTE_SUBNET_ID = "neutron:subnet_id"
EXT_FIP_ID = "neutron:fip_id"
EXT_FIP_PORT_ID = "neutron:fip_port_id"
EXT_FIP_NETWORK_ID = "neutron:fip_network_id"
EXT_FIP_EXTERNAL_MAC = "neutron:fip_external_mac"

ROUTER_PREFIX = "neutron-"  # Logical_Router names, like switches (D.1)
LRP_PREFIX = "lrp-"
PROVNET_PREFIX = "provnet-"
MAX_GW_CHASSIS = 5  # Neutron's MAX_GW_CHASSIS
# Datapath tunnel keys ovn-northd never assigns itself (lib/ovn-util.h: 2^24-1 - 65535 + 1).
OVN_MIN_DP_KEY_GLOBAL = (1 << 24) - 1 - ((1 << 16) - 1) + 1

# The metadata port (network:distributed) is a localport; a floating IP port has no
# LSP at all (D.3).
ROUTER_OWNERS = (c.DEVICE_OWNER_ROUTER_INTF, c.DEVICE_OWNER_ROUTER_GW)
UNKNOWN_ADDRESS = "unknown"
METADATA_CIDR = "169.254.169.254/32"
METADATA_POLICY_PRIORITY = 1000  # above ML2/OVN's default-route policies, below none of ours
EXT_METADATA_ROUTE = "neutrino:metadata"  # marks a metadata reroute policy
DEFAULT_LEASE_TIME = 43200


@dataclass(frozen=True)
class LogicalSwitch:
    """A ``Logical_Switch`` row (D.2). Maps must not be mutated."""

    TABLE = "Logical_Switch"
    name: str
    external_ids: Mapping[str, str] = field(default_factory=dict)
    other_config: Mapping[str, str] = field(default_factory=dict)
    # the DNS rows it uses, by their key (its own name: ``ovn.dns``); apply resolves them
    dns_records: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogicalSwitchPort:
    """A ``Logical_Switch_Port`` row (D.3) and the switch holding it.

    ``dhcpv4_options``/``dhcpv6_options`` name the DHCP_Options row by its
    subnet id (the apply step resolves it to the row's UUID); None is empty.
    """

    TABLE = "Logical_Switch_Port"
    name: str
    switch: str
    type: str = ""
    addresses: tuple[str, ...] = ()
    port_security: tuple[str, ...] = ()
    enabled: bool = True
    options: Mapping[str, str] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)
    dhcpv4_options: str | None = None
    dhcpv6_options: str | None = None
    tag_request: int | None = None  # a localnet port's VLAN (D.2), a child port's tag
    # a trunk subport's parent LSP (ovn-nb(5) "Containers"; ovn/trunks.py)
    parent_name: str | None = None
    # Not a column: the Port_Groups whose ``ports`` hold this LSP (D.3, D.6).
    port_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class DhcpOptions:
    """A subnet's ``DHCP_Options`` row (D.4), found by ``external_ids:subnet_id``."""

    TABLE = "DHCP_Options"
    subnet_id: str
    cidr: str
    options: Mapping[str, str] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LogicalRouter:
    """A ``Logical_Router`` row (D.5)."""

    TABLE = "Logical_Router"
    name: str
    enabled: bool = True
    options: Mapping[str, str] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LogicalRouterPort:
    """A ``Logical_Router_Port`` row (D.5) and the router holding it."""

    TABLE = "Logical_Router_Port"
    name: str
    router: str
    mac: str = ""
    networks: tuple[str, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)
    ipv6_ra_configs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayChassis:
    """A ``Gateway_Chassis`` row of a gateway LRP (``port``): the highest
    ``priority`` among live chassis hosts the router's gateway (D.5)."""

    TABLE = "Gateway_Chassis"
    name: str
    port: str
    chassis_name: str
    priority: int


@dataclass(frozen=True)
class StaticRoute:
    """A ``Logical_Router_Static_Route`` of ``router`` (D.5), known by
    (router, ip_prefix, nexthop) as Neutron matches routes."""

    TABLE = "Logical_Router_Static_Route"
    router: str
    ip_prefix: str
    nexthop: str
    external_ids: Mapping[str, str] = field(default_factory=dict)
    # enable_default_route_bfd (ovn/bfd.py): the gateway LRP, and a BFD row to nexthop
    output_port: str = ""
    bfd: bool = False

    @property
    def key(self) -> str:
        return f"{self.router} {self.ip_prefix} via {self.nexthop}"


@dataclass(frozen=True)
class RouterPolicy:
    """A ``Logical_Router_Policy`` of ``router`` (ovn-nb(5)), known by (router,
    priority, match) as OVN's ``lr-policy-add`` refuses a second one."""

    TABLE = "Logical_Router_Policy"
    router: str
    priority: int
    match: str
    action: str
    nexthops: tuple[str, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.router} {self.priority} {self.match}"


@dataclass(frozen=True)
class Nat:
    """A ``NAT`` row of ``router`` (D.5), known by (router, type, external_ip,
    logical_ip). ``logical_port``/``external_mac`` "" mean unset; both set make
    a distributed ``dnat_and_snat`` (ovn-nb(5): NATed on the chassis hosting
    ``logical_port``, answering for ``external_ip`` with ``external_mac``)."""

    TABLE = "NAT"
    router: str
    type: str
    external_ip: str
    logical_ip: str
    logical_port: str = ""
    external_mac: str = ""
    external_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.router} {self.type} {self.external_ip} {self.logical_ip}"


@dataclass(frozen=True)
class Desired:
    """Desired NB rows: switches, ports, routers, router ports and gateway
    chassis by name, DHCP rows by subnet id (a port's own: ``<subnet id>/<port id>``),
    routes and NATs by their ``key``, DNS rows by switch name.

    ``gateway_chassis`` None means the chassis are unknown (no SB): Gateway_Chassis
    rows are then neither computed nor touched.
    """

    switches: Mapping[str, LogicalSwitch] = field(default_factory=dict)
    ports: Mapping[str, LogicalSwitchPort] = field(default_factory=dict)
    dhcp_options: Mapping[str, DhcpOptions] = field(default_factory=dict)
    routers: Mapping[str, LogicalRouter] = field(default_factory=dict)
    router_ports: Mapping[str, LogicalRouterPort] = field(default_factory=dict)
    static_routes: Mapping[str, StaticRoute] = field(default_factory=dict)
    nats: Mapping[str, Nat] = field(default_factory=dict)
    router_policies: Mapping[str, RouterPolicy] = field(default_factory=dict)  # by key
    gateway_chassis: Mapping[str, GatewayChassis] | None = field(default_factory=dict)
    port_groups: Mapping[str, PortGroup] = field(default_factory=dict)  # by name
    acls: Mapping[str, Acl] = field(default_factory=dict)  # by ``Acl.key``
    dns: Mapping[str, Dns] = field(default_factory=dict)  # by switch name (``ovn.dns``)
    address_sets: Mapping[str, AddressSet] = field(default_factory=dict)  # by name
    meters: Mapping[str, Any] = field(default_factory=dict)  # ``network_log.Meter`` by name
    # port forwardings' balancers by name, each on its router (``ovn.port_forwarding``)
    load_balancers: Mapping[str, LoadBalancer] = field(default_factory=dict)
    qos: Mapping[str, QoS] = field(default_factory=dict)  # by ``QoS.key`` (``ovn.qos``)


def switch_name(network_id: str) -> str:
    """``neutron-<network id>`` (D.1)."""
    return SWITCH_PREFIX + network_id


def network_id_of(switch: str) -> str | None:
    """The network id in a neutrino/Neutron switch name, else None."""
    return switch[len(SWITCH_PREFIX):] if switch.startswith(SWITCH_PREFIX) else None


def router_name(router_id: str) -> str:
    """``neutron-<router id>`` (D.1)."""
    return ROUTER_PREFIX + router_id


def lrp_name(port_id: str) -> str:
    """``lrp-<port id>`` (D.1)."""
    return LRP_PREFIX + port_id


def localnet_name(segment_id: str) -> str:
    """``provnet-<segment id>`` (D.1)."""
    return PROVNET_PREFIX + segment_id


def derived_mac(base_mac: str, key: str) -> str:
    """A MAC inside ``base_mac`` (its first three octets, four when the fourth is
    not 00, as C.6) whose other octets come from a hash of ``key``: stable for a
    subnet without storing anything. Used for DHCP ``server_mac``/``server_id``."""
    base = base_mac.lower().split(":")
    fixed = 4 if base[3] != "00" else 3
    digest = hashlib.sha256(key.encode()).digest()
    return ":".join(base[:fixed] + [f"{b:02x}" for b in digest[:6 - fixed]])


def ipv6_mode(subnet: Any) -> str | None:
    """The subnet's IPv6 address mode; ``ipv6_ra_mode`` stands in when
    ``ipv6_address_mode`` is unset (as neutrino's IPAM does)."""
    return subnet.ipv6_address_mode or subnet.ipv6_ra_mode


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
            options["dns_server"] = _ovn_set(servers)
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
            options["dns_server"] = _ovn_set(servers)
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
    return _ovn_set(routes)


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
    cidrs = " ".join(f"{ip}/{_prefixlen(sub.cidr)}" for sub, ip in fixed)
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
    fixed = sorted(fixed_ips, key=lambda f: _ip_order(f[1]))
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
        networks=tuple(f"{ip}/{_prefixlen(sub.cidr)}" for sub, ip in fixed),
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
                   key=lambda pair: _ip_order(pair[0]))
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
        fixed = sorted(ips.get(port.id, ()), key=lambda f: _ip_order(f[1]))
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


def _ovn_set(values: Iterable[str]) -> str:
    """``{a, b}``: the brace list OVN's DHCP options take."""
    return "{" + ", ".join(values) + "}"


def _prefixlen(cidr: str) -> int:
    return int(cidr.rsplit("/", 1)[1])


def _ip_order(ip: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(ip)
    return addr.version, int(addr)

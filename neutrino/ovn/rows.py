"""The OVN northbound rows neutrino owns, as frozen dataclasses named after their
tables, and the names and ``external_ids`` keys that mark them as Neutron's.

The mapping is ML2/OVN's (reference D.1-D.5): switches ``neutron-<network id>``,
routers ``neutron-<router id>``, router ports ``lrp-<port id>``, localnet ports
``provnet-<segment id>``, and Neutron's ``external_ids`` keys
(``neutron/common/ovn/constants.py``). ``ovn.desired`` and ``ovn.desired_routers``
build these rows; ``ovn.observe`` reads them back from the NB and ``ovn.plan``
compares the two.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from neutrino import constants as c

if TYPE_CHECKING:  # the other tables' rows, built by their own modules
    from neutrino.ovn.address_groups import AddressSet
    from neutrino.ovn.dns import Dns
    from neutrino.ovn.port_forwarding import LoadBalancer
    from neutrino.ovn.qos import QoS
    from neutrino.ovn.security_groups import Acl, PortGroup
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

# The metadata port (network:distributed) is a localport; a floating IP port has no
# LSP at all (D.3).
ROUTER_OWNERS = (c.DEVICE_OWNER_ROUTER_INTF, c.DEVICE_OWNER_ROUTER_GW)
METADATA_CIDR = "169.254.169.254/32"
METADATA_POLICY_PRIORITY = 1000  # above ML2/OVN's default-route policies, below none of ours
EXT_METADATA_ROUTE = "neutrino:metadata"  # marks a metadata reroute policy


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


def ovn_set(values: Iterable[str]) -> str:
    """``{a, b}``: the brace list OVN's DHCP options take."""
    return "{" + ", ".join(values) + "}"


def prefixlen(cidr: str) -> int:
    return int(cidr.rsplit("/", 1)[1])


def ip_order(ip: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(ip)
    return addr.version, int(addr)


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

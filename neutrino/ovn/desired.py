"""Database rows -> the OVN northbound rows they should become. Pure: no I/O.

Every builder takes rows as plain objects with the attributes of the
``neutrino.db.models`` columns (ORM objects, result rows, or namespaces in
tests) and returns frozen dataclasses named after the NB tables. The mapping
is ML2/OVN's (reference D.1-D.4), external_ids included, so a row can be
traced back to its Neutron resource and a Neutron-made NB can be taken over.

Ownership is recognised exactly as Neutron marks rows, never by a private
tag: a Logical_Switch named ``neutron-<network id>`` (and every port on it), a
Logical_Switch_Port named after a port id, a DHCP_Options row carrying
``external_ids:subnet_id``. Rows without these marks are never touched.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SWITCH_PREFIX = "neutron-"
# Neutron's external_ids keys (neutron/common/ovn/constants.py).
EXT_NETWORK_NAME = "neutron:network_name"
EXT_MTU = "neutron:mtu"
EXT_REVISION = "neutron:revision_number"
EXT_AZ_HINTS = "neutron:availability_zone_hints"
EXT_PORT_NAME = "neutron:port_name"
EXT_DEVICE_ID = "neutron:device_id"
EXT_DEVICE_OWNER = "neutron:device_owner"
EXT_PROJECT_ID = "neutron:project_id"
EXT_CIDRS = "neutron:cidrs"
EXT_SUBNET_ID = "subnet_id"
EXT_PORT_ID = "port_id"  # per-port DHCP_Options rows (extra_dhcp_opts); neutrino makes none

OWNER_DISTRIBUTED = "network:distributed"  # the metadata port -> localport
OWNER_FLOATINGIP = "network:floatingip"  # no LSP at all (D.3)
UNKNOWN_ADDRESS = "unknown"
IPV6_SLAAC, IPV6_STATELESS = "slaac", "dhcpv6-stateless"
METADATA_CIDR = "169.254.169.254/32"
DEFAULT_LEASE_TIME = 43200


@dataclass(frozen=True)
class LogicalSwitch:
    """A ``Logical_Switch`` row (D.2). Maps must not be mutated."""

    TABLE = "Logical_Switch"
    name: str
    external_ids: Mapping[str, str] = field(default_factory=dict)
    other_config: Mapping[str, str] = field(default_factory=dict)


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


@dataclass(frozen=True)
class DhcpOptions:
    """A subnet's ``DHCP_Options`` row (D.4), found by ``external_ids:subnet_id``."""

    TABLE = "DHCP_Options"
    subnet_id: str
    cidr: str
    options: Mapping[str, str] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Desired:
    """Desired NB rows: switches and ports by name, DHCP rows by subnet id."""

    switches: Mapping[str, LogicalSwitch] = field(default_factory=dict)
    ports: Mapping[str, LogicalSwitchPort] = field(default_factory=dict)
    dhcp_options: Mapping[str, DhcpOptions] = field(default_factory=dict)


def switch_name(network_id: str) -> str:
    """``neutron-<network id>`` (D.1)."""
    return SWITCH_PREFIX + network_id


def network_id_of(switch: str) -> str | None:
    """The network id in a neutrino/Neutron switch name, else None."""
    return switch[len(SWITCH_PREFIX):] if switch.startswith(SWITCH_PREFIX) else None


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


def desired_switch(network: Any) -> LogicalSwitch:
    """The network's ``Logical_Switch`` (D.2). Multicast snooping is off, as
    Neutron's default ``igmp_snooping_enable=False`` writes it."""
    return LogicalSwitch(
        name=switch_name(network.id),
        external_ids={EXT_NETWORK_NAME: network.name, EXT_MTU: str(network.mtu),
                      EXT_REVISION: str(network.revision_number), EXT_AZ_HINTS: ""},
        other_config={"mcast_snoop": "false", "mcast_flood_unregistered": "false"})


def desired_dhcp_options(subnet: Any, network: Any, *, base_mac: str,
                         lease_time: int = DEFAULT_LEASE_TIME,
                         metadata_ip: str | None = None) -> DhcpOptions | None:
    """The subnet's ``DHCP_Options`` row, or None when OVN must not answer DHCP:
    DHCP disabled, an IPv6 SLAAC subnet, or an IPv4 subnet with neither a
    gateway nor a metadata port address to serve from.

    ``metadata_ip`` is the hook for the metadata issue: the address of the
    network's ``network:distributed`` port in this subnet. When given it is the
    fallback ``server_id`` and the first classless static route
    (169.254.169.254/32 via it), exactly as D.4 orders them.
    """
    if not subnet.enable_dhcp:
        return None
    if subnet.ip_version == 6:
        mode = ipv6_mode(subnet)
        if mode == IPV6_SLAAC:
            return None
        options = {"server_id": derived_mac(base_mac, subnet.id)}
        if subnet.dns_nameservers:
            options["dns_server"] = _ovn_set(subnet.dns_nameservers)
        if mode == IPV6_STATELESS:
            options["dhcpv6_stateless"] = "true"
    else:
        server_ip = subnet.gateway_ip or metadata_ip
        if not server_ip:
            return None
        options = {"server_id": server_ip, "server_mac": derived_mac(base_mac, subnet.id),
                   "lease_time": str(lease_time), "mtu": str(network.mtu)}
        if subnet.gateway_ip:
            options["router"] = subnet.gateway_ip
        if subnet.dns_nameservers:
            options["dns_server"] = _ovn_set(subnet.dns_nameservers)
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


def desired_lsp(port: Any, fixed_ips: Iterable[tuple[Any, str]],
                dhcp_options: Mapping[str, DhcpOptions]) -> LogicalSwitchPort | None:
    """The port's ``Logical_Switch_Port`` (D.3), or None for a floating IP port.

    ``fixed_ips`` is ``[(subnet row, ip address)]`` in the API's order (IPv4
    first); ``dhcp_options`` the desired rows of the network's subnets.
    ``network:*`` owners are trusted: no port security, no DHCP options, and
    (type "") the ``unknown`` address as Neutron writes it.
    """
    owner = port.device_owner or ""
    if owner == OWNER_FLOATINGIP:
        return None
    fixed = list(fixed_ips)
    entry = " ".join([port.mac_address, *(ip for _, ip in fixed)])
    trusted = owner.startswith("network:")
    lsp_type = "localport" if owner == OWNER_DISTRIBUTED else ""
    port_security = () if trusted else (entry,)
    addresses = (entry, UNKNOWN_ADDRESS) if not port_security and not lsp_type else (entry,)
    cidrs = " ".join(f"{ip}/{_prefixlen(sub.cidr)}" for sub, ip in fixed)
    return LogicalSwitchPort(
        name=port.id, switch=switch_name(port.network_id), type=lsp_type,
        addresses=addresses, port_security=port_security, enabled=bool(port.admin_state_up),
        options={"requested-chassis": getattr(port, "binding_host_id", "") or ""},
        external_ids={EXT_PORT_NAME: port.name, EXT_DEVICE_ID: port.device_id,
                      EXT_DEVICE_OWNER: owner, EXT_PROJECT_ID: port.project_id,
                      EXT_CIDRS: cidrs, EXT_NETWORK_NAME: switch_name(port.network_id),
                      EXT_REVISION: str(port.revision_number)},
        dhcpv4_options=None if trusted else _port_dhcp(fixed, dhcp_options, 4),
        dhcpv6_options=None if trusted else _port_dhcp(fixed, dhcp_options, 6))


def desired_state(networks: Iterable[Any], subnets: Iterable[Any], ports: Iterable[Any],
                  allocations: Iterable[Any], *, base_mac: str,
                  lease_time: int = DEFAULT_LEASE_TIME) -> Desired:
    """All desired rows for the given networks, subnets and ports.

    ``subnets`` must include every subnet a given port has an address in;
    ``allocations`` are rows with ``port_id``, ``subnet_id``, ``ip_address``.
    A subnet whose network is not given gets no DHCP row.
    """
    nets = {n.id: n for n in networks}
    subs = {s.id: s for s in subnets}
    dhcp = {}
    for sub in subs.values():
        net = nets.get(sub.network_id)
        # Metadata hook (another issue): pass the network:distributed port's
        # address in this subnet as metadata_ip.
        row = desired_dhcp_options(sub, net, base_mac=base_mac, lease_time=lease_time) \
            if net is not None else None
        if row is not None:
            dhcp[sub.id] = row
    ips: dict[str, list[tuple[Any, str]]] = defaultdict(list)
    for a in allocations:
        ips[a.port_id].append((subs[a.subnet_id], a.ip_address))
    lsps = {}
    for port in ports:
        fixed = sorted(ips.get(port.id, ()), key=lambda f: _ip_order(f[1]))
        lsp = desired_lsp(port, fixed, dhcp)
        if lsp is not None:
            lsps[lsp.name] = lsp
    return Desired(switches={s.name: s for s in map(desired_switch, nets.values())},
                   ports=lsps, dhcp_options=dhcp)


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

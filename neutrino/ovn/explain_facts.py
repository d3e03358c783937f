"""What ``explain`` reads from the database: the request, the packet, the names.

* :class:`ExplainRequest`: the API body ``{"explain": {"destination", "protocol",
  "port", "raw"}}`` validated (InvalidInput, 400, for anything else).
* :func:`plan`: the first packet of the connection as ovn-trace should simulate it
  (:class:`Plan`): ``inport`` the source port's LSP, ``eth.src`` its MAC, ``eth.dst``
  the destination port's MAC when it is on the same network (or the port owning the
  destination address there), else the MAC of the router interface on the source
  subnet's ``gateway_ip``, as the instance's own ARP for its gateway would find.
  When no router interface serves the subnet the plan carries an early answer
  (nothing routes the packet off the subnet) and no trace is needed.
* :func:`load_facts`: after the trace, the Neutron rows behind the OVN names it
  printed (``<port id>``, ``lrp-<port id>``, ``cr-lrp-<port id>``,
  ``provnet-<segment id>``) and the ACL match of every rule of the security groups
  of those ports (``ovn.security_groups.acl_match``, the text ovn-northd copies into
  the ``ls_*_acl`` flows), as a :class:`Facts` of plain dicts (JSON-able, so unit
  tests can replay a recorded trace).
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors
from neutrino.db.models import (FloatingIP, IPAllocation, Network, NetworkSegment, Port, Router,
                                SecurityGroup, SecurityGroupPortBinding, SecurityGroupRule, Subnet)
from neutrino.ovn.security_groups import PG_DROP, acl_match, desired_drop_group, pg_name
from neutrino.services.common import is_uuid
from neutrino.services.context import Context
from neutrino.services.ports import find_visible

PROTOCOLS = ("icmp", "tcp", "udp")
_KEYS = {"destination", "protocol", "port", "raw"}


@dataclass(frozen=True)
class ExplainRequest:
    """A validated request: ``destination`` an IPv4/IPv6 address or a port UUID,
    ``protocol`` icmp|tcp|udp, ``port`` 1-65535 for tcp/udp (None for icmp),
    ``raw`` whether to return the ovn-trace text."""

    destination: str
    protocol: str = "icmp"
    port: int | None = None
    raw: bool = False

    @classmethod
    def from_body(cls, data: Any) -> ExplainRequest:
        """From the ``explain`` object of the body. Raises InvalidInput (400)."""
        if not isinstance(data, dict):
            raise errors.InvalidInput("Invalid input for explain. Reason: an object is required.")
        if unknown := sorted(set(data) - _KEYS):
            raise errors.InvalidInput(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        destination = data.get("destination")
        if not isinstance(destination, str) or not (is_uuid(destination) or _is_ip(destination)):
            raise errors.InvalidInput("Invalid input for destination. Reason: "
                                      f"'{destination}' is not an IP address or a port UUID.")
        protocol = data.get("protocol") or "icmp"
        if protocol not in PROTOCOLS:
            raise errors.InvalidInput(f"Invalid input for protocol. Reason: '{protocol}' is not "
                                      f"in {list(PROTOCOLS)}.")
        port = data.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                                 or not 1 <= port <= 65535):
            raise errors.InvalidInput(f"Invalid input for port. Reason: '{port}' is not an "
                                      "integer in 1-65535.")
        if protocol == "icmp" and port is not None:
            raise errors.InvalidInput("Invalid input for port. Reason: icmp takes no port.")
        if protocol != "icmp" and port is None:
            raise errors.InvalidInput(f"Invalid input for port. Reason: {protocol} needs a "
                                      "destination port.")
        raw = data.get("raw", False)
        if not isinstance(raw, bool):
            raise errors.InvalidInput(f"Invalid input for raw. Reason: '{raw}' is not a boolean.")
        return cls(destination if is_uuid(destination) else
                   str(ipaddress.ip_address(destination)), protocol, port, raw)


@dataclass
class Plan:
    """The packet: source port, destination (port id or None), addresses, MACs, and
    ``early``: ``(kind, summary, ids)`` of a verdict reached without a trace."""

    source_port_id: str
    dest_port_id: str | None
    ip_version: int
    ip_src: str
    ip_dst: str
    eth_src: str
    eth_dst: str
    protocol: str
    port: int | None
    source_subnet_id: str
    early: tuple[str, str, dict[str, str]] | None = None


@dataclass
class Facts:
    """Neutron rows by id, as plain dicts: ``ports`` (name, network_id, mac_address,
    device_owner, device_id, binding_host_id, port_security_enabled, fixed_ips,
    security_group_ids), ``networks`` (name), ``subnets`` (cidr, gateway_ip,
    network_id), ``routers`` (name, gw_port_id, enable_snat, routes), ``segments``
    (network_id, network_type, physical_network, segmentation_id), ``floatingips``
    (floating_ip_address, fixed_ip_address, router_id, fixed_port_id),
    ``security_groups`` (id -> name) and ``acls``:
    ACL match text -> the rule (id, security_group_id, group_name, direction,
    ethertype, protocol, port_range_min/max, remote_*), or ``{"drop": True}`` for
    ``neutron_pg_drop``'s own ACLs."""

    ports: dict[str, dict] = field(default_factory=dict)
    networks: dict[str, dict] = field(default_factory=dict)
    subnets: dict[str, dict] = field(default_factory=dict)
    routers: dict[str, dict] = field(default_factory=dict)
    segments: dict[str, dict] = field(default_factory=dict)
    floatingips: dict[str, dict] = field(default_factory=dict)
    security_groups: dict[str, str] = field(default_factory=dict)
    acls: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def plan(session: Session, ctx: Context, port_id: str, req: ExplainRequest) -> Plan:
    """The packet for ``req`` from port ``port_id``. Raises PortNotFound (404: not
    visible, or not the caller's project unless admin; also a destination port id
    that is not visible), InvalidInput (400: no address of the destination's IP
    version on the source port, no address on the destination port)."""
    src = find_visible(session, ctx, port_id)
    if not ctx.is_admin and src.project_id != ctx.project_id:
        raise errors.PortNotFound(port_id)
    src_ips = _addresses(session, src.id)
    dest = None
    if is_uuid(req.destination):
        dest = find_visible(session, ctx, req.destination)
        dst_ips = _addresses(session, dest.id)
        versions = [v for v in (4, 6) if any(ipaddress.ip_address(a).version == v
                                             for a, _ in src_ips)
                    and any(ipaddress.ip_address(a).version == v for a, _ in dst_ips)]
        if not versions:
            raise errors.InvalidInput(f"Invalid input for destination. Reason: ports {src.id} "
                                      f"and {dest.id} have no address of one IP version.")
        version = versions[0]
        ip_dst = next(a for a, _ in dst_ips if ipaddress.ip_address(a).version == version)
    else:
        ip_dst = req.destination
        version = ipaddress.ip_address(ip_dst).version
    own = [(a, s) for a, s in src_ips if ipaddress.ip_address(a).version == version]
    if not own:
        raise errors.InvalidInput(f"Invalid input for destination. Reason: port {src.id} has "
                                  f"no IPv{version} address.")
    ip_src, subnet_id = own[0]
    subnet = session.get(Subnet, subnet_id)
    p = Plan(src.id, dest.id if dest else None, version, ip_src, ip_dst, src.mac_address, "",
             req.protocol, req.port, subnet_id)
    if dest is None:  # an address: a port on the source network owning it?
        dest = session.scalars(select(Port).join(IPAllocation, IPAllocation.port_id == Port.id)
                               .where(IPAllocation.network_id == src.network_id,
                                      IPAllocation.ip_address == ip_dst)).first()
    if dest is not None and dest.network_id == src.network_id:
        p.eth_dst = dest.mac_address
        return p
    on_link = [s for s in session.scalars(select(Subnet).where(
        Subnet.network_id == src.network_id)) if ipaddress.ip_address(ip_dst)
        in ipaddress.ip_network(s.cidr)]
    if on_link:
        p.early = ("switch", f"no port on network {_name(session.get(Network, src.network_id))} "
                   f"has address {ip_dst}: nothing answers it", {"network_id": src.network_id})
        return p
    gateway = None
    if subnet.gateway_ip:
        gateway = session.scalars(
            select(Port).join(IPAllocation, IPAllocation.port_id == Port.id)
            .where(IPAllocation.subnet_id == subnet.id,
                   IPAllocation.ip_address == subnet.gateway_ip,
                   Port.device_owner == c.DEVICE_OWNER_ROUTER_INTF)).first()
    if gateway is None:
        p.early = ("route", f"subnet {subnet.cidr} has no router interface on its gateway "
                   f"{subnet.gateway_ip or '(none)'}: nothing routes {ip_dst} off the subnet",
                   {"subnet_id": subnet.id})
        return p
    p.eth_dst = gateway.mac_address
    return p


def ovn_port_ids(names: set[str]) -> tuple[set[str], set[str]]:
    """(Neutron port ids, segment ids) behind OVN logical port names."""
    ports, segments = set(), set()
    for name in names:
        for prefix in ("cr-lrp-", "lrp-"):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        if name.startswith("provnet-"):
            segments.add(name[len("provnet-"):])
        elif is_uuid(name):
            ports.add(name)
    return ports, segments


def load_facts(session: Session, port_ids: set[str], segment_ids: set[str]) -> Facts:
    """The :class:`Facts` for these ports and segments (their networks, subnets,
    routers, routers' gateway ports and floating IPs, security group rules)."""
    facts = Facts()
    rows = list(session.scalars(select(Port).where(Port.id.in_(port_ids)))) if port_ids else []
    router_ids = {p.device_id for p in rows if p.device_owner in (
        c.DEVICE_OWNER_ROUTER_INTF, c.DEVICE_OWNER_ROUTER_GW)}
    routers = list(session.scalars(select(Router).where(Router.id.in_(router_ids)))) \
        if router_ids else []
    gw_ids = {r.gw_port_id for r in routers if r.gw_port_id} - {p.id for p in rows}
    if gw_ids:
        rows += list(session.scalars(select(Port).where(Port.id.in_(gw_ids))))
    ids = [p.id for p in rows]
    groups_of: dict[str, list[str]] = {}
    for b in session.scalars(select(SecurityGroupPortBinding).where(
            SecurityGroupPortBinding.port_id.in_(ids))) if ids else []:
        groups_of.setdefault(b.port_id, []).append(b.security_group_id)
    allocations = list(session.scalars(select(IPAllocation).where(IPAllocation.port_id.in_(ids)))) \
        if ids else []
    for p in rows:
        facts.ports[p.id] = {
            "name": p.name, "network_id": p.network_id, "mac_address": p.mac_address,
            "device_owner": p.device_owner, "device_id": p.device_id,
            "binding_host_id": p.binding_host_id,
            "port_security_enabled": bool(p.port_security_enabled),
            "fixed_ips": [{"ip_address": a.ip_address, "subnet_id": a.subnet_id}
                          for a in allocations if a.port_id == p.id],
            "security_group_ids": sorted(groups_of.get(p.id, []))}
    segments = list(session.scalars(select(NetworkSegment).where(
        NetworkSegment.id.in_(segment_ids)))) if segment_ids else []
    for s in segments:
        facts.segments[s.id] = {"network_id": s.network_id, "network_type": s.network_type,
                                "physical_network": s.physical_network,
                                "segmentation_id": s.segmentation_id}
    net_ids = {p.network_id for p in rows} | {s.network_id for s in segments}
    for n in session.scalars(select(Network).where(Network.id.in_(net_ids))) if net_ids else []:
        facts.networks[n.id] = {"name": n.name}
    for s in session.scalars(select(Subnet).where(Subnet.network_id.in_(net_ids))) \
            if net_ids else []:
        facts.subnets[s.id] = {"cidr": s.cidr, "gateway_ip": s.gateway_ip,
                               "network_id": s.network_id}
    for r in routers:
        facts.routers[r.id] = {"name": r.name, "gw_port_id": r.gw_port_id,
                               "enable_snat": bool(r.enable_snat), "routes": list(r.routes or [])}
    for f in session.scalars(select(FloatingIP).where(FloatingIP.router_id.in_(router_ids))) \
            if router_ids else []:
        facts.floatingips[f.id] = {"floating_ip_address": f.floating_ip_address,
                                   "fixed_ip_address": f.fixed_ip_address,
                                   "router_id": f.router_id, "fixed_port_id": f.fixed_port_id}
    group_ids = {g for gs in groups_of.values() for g in gs}
    names = {g.id: g.name for g in session.scalars(select(SecurityGroup).where(
        SecurityGroup.id.in_(group_ids)))} if group_ids else {}
    facts.security_groups = {g: names.get(g) or g for g in group_ids}
    for rule in session.scalars(select(SecurityGroupRule).where(
            SecurityGroupRule.security_group_id.in_(group_ids))) if group_ids else []:
        facts.acls[acl_match(rule, pg_name(rule.security_group_id))] = {
            "id": rule.id, "security_group_id": rule.security_group_id,
            "group_name": names.get(rule.security_group_id, ""), "direction": rule.direction,
            "ethertype": rule.ethertype, "protocol": rule.protocol,
            "port_range_min": rule.port_range_min, "port_range_max": rule.port_range_max,
            "remote_ip_prefix": rule.normalized_cidr or rule.remote_ip_prefix,
            "remote_group_id": rule.remote_group_id,
            "remote_address_group_id": rule.remote_address_group_id}
    _, drop_acls = desired_drop_group()
    for acl in drop_acls:
        facts.acls[acl.match] = {"drop": acl.action == "drop", "port_group": PG_DROP}
    return facts


def _addresses(session: Session, port_id: str) -> list[tuple[str, str]]:
    """(address, subnet id) of a port, IPv4 first, then by address."""
    rows = session.execute(select(IPAllocation.ip_address, IPAllocation.subnet_id).where(
        IPAllocation.port_id == port_id)).all()
    return sorted(((a, s) for a, s in rows),
                  key=lambda r: (ipaddress.ip_address(r[0]).version, ipaddress.ip_address(r[0])))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _name(row: Any) -> str:
    return f"{row.name} ({row.id})" if row is not None and row.name else \
        (row.id if row is not None else "?")

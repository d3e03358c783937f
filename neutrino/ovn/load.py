"""Load stage of the NB sync: the NB rows the database wants, read in one go.

One job: read the database (one read transaction, one snapshot, a fixed
number of bulk queries) and build the desired NB rows with the pure builders
of ``ovn.desired`` and ``ovn.security_groups``.

* :func:`load_resources` takes outbox entries ``(resource_type, resource_id)``
  (types in ``RESOURCE_TYPES``) and returns ``(Scope, Desired)``: the rows
  those resources decide (a ``Scope`` of NB names and subnet ids) and the
  rows they want (a ``desired.Desired``, tables keyed by name or key).
* :func:`load_all` returns the ``Desired`` of the whole database (an audit).
* :func:`unscheduled_gateways` / :func:`warn_unscheduled` name the gateway
  LRPs of a ``Desired`` that no chassis can host.

Sources: the SQLAlchemy models of ``neutrino.db.models`` (networks, segments,
subnets, ports, IP allocations, routers, floating IPs, security groups, their
rules and port bindings, address groups and their addresses, port forwardings) and, for gateway chassis, a ``chassis`` mapping
(gateway-capable SB chassis name -> physical networks, see ``ovn.chassis``).
Writes nothing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino.db.models import (AddressAssociation, AddressGroup, FloatingIP, IPAllocation,
                                Network, NetworkSegment, Port, PortBinding, PortForwarding, Router,
                                SecurityGroup, SecurityGroupPortBinding, SecurityGroupRule, Subnet,
                                SubnetPool)
from neutrino.ovn.rows import (EXT_GW_PORT_ID, EXT_NETWORK_NAME, LRP_PREFIX, ROUTER_OWNERS,
                               Desired, localnet_name, lrp_name, router_name, switch_name)
from neutrino.ovn.desired import desired_state
from neutrino.ovn import load_extras
from neutrino.ovn.load_extras import IDS, rows_in
from neutrino.ovn.qos import load_l3_qos, load_port_qos
from neutrino.ovn.address_groups import address_set_names, desired_address_sets
from neutrino.ovn.port_forwarding import desired_load_balancers
from neutrino.ovn.security_groups import PG_DROP, pg_name
from neutrino.services.dns import DNS_DOMAIN_DEFAULT

LOG = logging.getLogger(__name__)

RESOURCE_TYPES = ("network", "subnet", "port", "router", "security_group", "address_group",
                  "segment")


@dataclass(frozen=True)
class Scope:
    """Rows a load is authoritative for: switch names, LSP names, subnet ids,
    router names and LRP names. A row in scope that is not desired is deleted;
    so are localnet LSPs (``provnet-*``) on a switch in scope and every LRP,
    route, NAT and gateway chassis on a router in scope, and every ACL of a
    port group in scope (``port_groups``: names). ``member_groups``: port groups
    in scope only for their ports' memberships (a port's security groups): the
    row is written, and added with its ACLs when missing, but the ACLs of one
    that exists are its group's to decide. ``address_sets``: the address set names
    of the address groups in scope."""

    switches: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    subnets: frozenset[str] = frozenset()
    routers: frozenset[str] = frozenset()
    router_ports: frozenset[str] = frozenset()
    port_groups: frozenset[str] = frozenset()
    address_sets: frozenset[str] = frozenset()
    member_groups: frozenset[str] = frozenset()


def load_resources(session: Session, resources: Iterable[tuple[str, str]], *, base_mac: str,
                   lease_time: int, chassis: Mapping[str, Iterable[str]] | None = None,
                   distributed_floating_ips: bool = False,
                   dns_domain: str = DNS_DOMAIN_DEFAULT,
                   dns_servers: tuple[str, ...] | None = None,
                   log_limits: tuple[int, int] = (100, 25)) -> tuple[Scope, Desired]:
    """Desired rows for outbox entries ``(resource_type, resource_id)`` and their scope.

    A network brings its switch, its segments' own switches
    (``services.segment_switches``), its localnet ports and its subnets' DHCP
    rows; a segment (enqueued when deleted) its own switch and localnet port; a subnet its DHCP row and the ports holding addresses in it (their
    DHCP references change); a port its LSP, its switch and its subnets' DHCP
    rows; a router its Logical_Router and everything on it (interface and
    gateway LRPs, routes, SNAT and floating IP NATs, distributed with
    ``distributed_floating_ips``, gateway chassis from ``chassis``, see
    ``desired.desired_routers``; the load balancers of its floating IPs' port
    forwardings, ``ovn.port_forwarding``); a security group its port
    group and ACLs. A port also brings its groups' port groups (``Scope.member_groups``:
    its memberships can always be written; their ACLs only if the group is missing)
    and ``neutron_pg_drop`` is always in scope. An address group brings its two address sets (``ovn.address_groups``;
    a rule naming it is its security group's). Unknown resource types are ignored.
    Absent resources are in
    scope but not desired: deleted. Network logs mark the ACLs they cover and
    bring the logging meters, rate/burst ``log_limits`` (``load_extras.with_logs``).
    A switch in scope brings its DNS row (``ovn.dns``, from the ``dns_domain``
    setting and the network's ports with names; ``dns_servers`` the default DHCP
    resolvers) and the ports of its network with extra DHCP options (their own
    DHCP rows copy the subnets', ``ovn.load_extras``).
    A fixed number of queries per call, whatever the number of resources.
    """
    _one_snapshot(session)
    wanted: dict[str, set[str]] = {t: set() for t in RESOURCE_TYPES}
    for rtype, rid in resources:
        if rtype in wanted:
            wanted[rtype].add(rid)
    port_ids = wanted["port"] | set(rows_in(session, _SUBNET_PORT_IDS, wanted["subnet"]))
    ports = rows_in(session, _PORTS, port_ids)
    routers = rows_in(session, _ROUTERS, wanted["router"])
    router_ports = rows_in(session, _ROUTER_PORTS, [r.id for r in routers])
    floating_ips = rows_in(session, _ROUTER_FLOATING_IPS, [r.id for r in routers])
    floating_macs = rows_in(session, _MACS, {f.floating_port_id for f in floating_ips})
    net_ids = wanted["network"] | {p.network_id for p in ports} | set(
        rows_in(session, _SUBNET_NETWORK_IDS, wanted["subnet"]))
    extra = [p for p in load_extras.extra_dhcp_ports(session, net_ids) if p.id not in port_ids]
    ports, port_ids = ports + extra, port_ids | {p.id for p in extra}
    all_net_ids = net_ids | {p.network_id for p in router_ports}
    networks = rows_in(session, _NETWORKS, all_net_ids)
    segments = rows_in(session, _NETWORK_SEGMENTS, all_net_ids)
    subnets = rows_in(session, _NETWORK_SUBNETS, all_net_ids)
    allocations = rows_in(session, _PORT_ALLOCATIONS,
                          {p.id for p in ports} | {p.id for p in router_ports})
    metadata = rows_in(session, _NETWORK_METADATA_IPS, all_net_ids)
    bindings = rows_in(session, _PORT_BINDINGS, {p.id for p in ports})
    group_ids = wanted["security_group"] | {b.security_group_id for b in bindings}
    groups = rows_in(session, _GROUPS, group_ids)
    rules = rows_in(session, _GROUP_RULES, group_ids)
    ag_ids = wanted["address_group"]
    groups_ag = rows_in(session, _ADDRESS_GROUPS, ag_ids)
    ag_addresses = rows_in(session, _GROUP_ADDRESSES, ag_ids)
    scope = Scope(
        # a segment's own switch (services.segment_switches) is in scope with its network,
        # and after its deletion by its id
        switches=frozenset(map(switch_name, net_ids | wanted["segment"] | {
            s.id for s in segments if s.network_id in net_ids})),
        ports=frozenset(port_ids | {localnet_name(s.id) for s in segments if s.network_id in net_ids}
                        | {localnet_name(s) for s in wanted["segment"]}),
        subnets=frozenset(wanted["subnet"] | {s.id for s in subnets if s.network_id in net_ids}),
        routers=frozenset(map(router_name, wanted["router"])),
        router_ports=frozenset(lrp_name(p.id) for p in router_ports),
        port_groups=frozenset({PG_DROP} | {pg_name(g) for g in wanted["security_group"]}),
        member_groups=frozenset(pg_name(g) for g in group_ids - wanted["security_group"]),
        address_sets=frozenset(n for g in ag_ids for n in address_set_names(g)))
    forwardings = rows_in(session, _FORWARDINGS, [f.id for f in floating_ips])
    desired = _with_qos(session, ports, _with_load_balancers(forwardings, floating_ips, _with_address_sets(
        groups_ag, ag_addresses, desired_state(networks, subnets, ports, allocations, base_mac=base_mac,
                                lease_time=lease_time, segments=segments, routers=routers,
                                router_ports=router_ports, floating_ips=floating_ips,
                                floating_macs={p.id: p.mac_address for p in floating_macs},
                                distributed_floating_ips=distributed_floating_ips,
                                chassis=chassis, metadata_ips=_by_subnet(metadata),
                                security_groups=groups, security_group_rules=rules,
                                port_security_groups=_groups_by_port(bindings),
                                pool_scopes=_pool_scopes(session) if routers else None,
                                dns=load_extras.dns_inputs(session, all_net_ids,
                                                           dns_domain=dns_domain,
                                                           servers=dns_servers),
                                migrations=dict(rows_in(session, _PORT_MIGRATIONS,
                                                        {p.id for p in ports})))),
        router_ports), routers=routers, router_ports=router_ports, floating_ips=floating_ips,
        distributed=distributed_floating_ips)
    return scope, load_extras.with_logs(session, desired, log_limits)


_AG_ADDRESSES = select(AddressAssociation.address_group_id, AddressAssociation.address)


def _with_load_balancers(forwardings: Iterable[Any], floating_ips: Iterable[Any],
                         desired: Desired, ports: Iterable[Any] = ()) -> Desired:
    """``desired`` with the balancers of the port forwardings of ``floating_ips``
    on routers it holds, and on the switches of their interfaces (``ovn.port_forwarding``);
    ``ports`` holds the routers' gateway ports (extra ones included: not interfaces)."""
    gateways = {lrp_name(r.external_ids[EXT_GW_PORT_ID]) for r in desired.routers.values()
                if r.external_ids.get(EXT_GW_PORT_ID)}
    gateways |= {lrp_name(p.id) for p in ports if p.device_owner == c.DEVICE_OWNER_ROUTER_GW}
    switches: dict[str, list[str]] = defaultdict(list)
    for lrp in desired.router_ports.values():
        if lrp.name not in gateways and lrp.external_ids.get(EXT_NETWORK_NAME):
            switches[lrp.router].append(lrp.external_ids[EXT_NETWORK_NAME])
    balancers = desired_load_balancers(forwardings, {f.id: f for f in floating_ips}, router_name,
                                       switches)
    return dataclasses.replace(desired, load_balancers={
        n: b for n, b in balancers.items() if b.router in desired.routers})


def _with_qos(session: Session, ports: Iterable[Any], desired: Desired, *,
              routers: Iterable[Any] = (), router_ports: Iterable[Any] = (),
              floating_ips: Iterable[Any] = (), distributed: bool = False) -> Desired:
    """``desired`` with the QoS rows of ``ports`` (and minimum bandwidth in their LSPs'
    options), and of the routers' gateways and floating IPs (``ovn.qos``)."""
    rows, options = load_port_qos(session, ports, desired.ports)
    rows.update(load_l3_qos(session, routers, router_ports, floating_ips, desired.ports,
                            distributed=distributed))
    lsps = {**desired.ports, **{p: dataclasses.replace(
        desired.ports[p], options={**desired.ports[p].options, **o}) for p, o in options.items()}}
    return dataclasses.replace(desired, qos=rows, ports=lsps)


def _with_address_sets(groups: Iterable[Any], addresses: Iterable[Any], desired: Desired) -> Desired:
    """``desired`` with the address sets of the address groups (``ovn.address_groups``)."""
    return dataclasses.replace(desired, address_sets=desired_address_sets(groups, addresses))


# (subnet_id, ip_address) of the metadata ports (reference C.4, D.4): the
# DHCP option 121 route to 169.254.169.254 and the fallback server_id.
_METADATA_IPS = (select(IPAllocation.subnet_id, IPAllocation.ip_address)
                 .join(Port, Port.id == IPAllocation.port_id)
                 .where(Port.device_owner == c.DEVICE_OWNER_DISTRIBUTED))


_BINDINGS = select(SecurityGroupPortBinding.port_id, SecurityGroupPortBinding.security_group_id)
# (port_id, host) of bound INACTIVE bindings: live migrations' destinations
# (``desired.chassis_options``); a former active binding left INACTIVE is unbound.
_MIGRATIONS = (select(PortBinding.port_id, PortBinding.host)
               .where(PortBinding.status == "INACTIVE", PortBinding.vif_type != "unbound")
               .order_by(PortBinding.port_id, PortBinding.host.desc()))

# load_resources' statements, built once: each selects by the expanding list ``ids``
# (``load_extras.rows_in``); a statement built per call costs more than running it.
_SUBNET_PORT_IDS = select(IPAllocation.port_id).where(IPAllocation.subnet_id.in_(IDS))
_SUBNET_NETWORK_IDS = select(Subnet.network_id).where(Subnet.id.in_(IDS))
_PORTS = select(Port.__table__).where(Port.id.in_(IDS))
_ROUTERS = select(Router.__table__).where(Router.id.in_(IDS))
_ROUTER_PORTS = select(Port.__table__).where(Port.device_id.in_(IDS),
                                             Port.device_owner.in_(ROUTER_OWNERS))
_ROUTER_FLOATING_IPS = select(FloatingIP.__table__).where(FloatingIP.router_id.in_(IDS))
_MACS = select(Port.id, Port.mac_address).where(Port.id.in_(IDS))
_NETWORKS = select(Network.__table__).where(Network.id.in_(IDS))
_NETWORK_SEGMENTS = select(NetworkSegment.__table__).where(NetworkSegment.network_id.in_(IDS))
_NETWORK_SUBNETS = select(Subnet.__table__).where(Subnet.network_id.in_(IDS))
_PORT_ALLOCATIONS = select(IPAllocation.port_id, IPAllocation.subnet_id,
                           IPAllocation.ip_address).where(IPAllocation.port_id.in_(IDS))
_NETWORK_METADATA_IPS = _METADATA_IPS.where(Port.network_id.in_(IDS))
_PORT_BINDINGS = _BINDINGS.where(SecurityGroupPortBinding.port_id.in_(IDS))
_GROUPS = select(SecurityGroup.__table__).where(SecurityGroup.id.in_(IDS))
_GROUP_RULES = select(SecurityGroupRule.__table__).where(
    SecurityGroupRule.security_group_id.in_(IDS))
_ADDRESS_GROUPS = select(AddressGroup.id, AddressGroup.revision_number).where(
    AddressGroup.id.in_(IDS))
_GROUP_ADDRESSES = _AG_ADDRESSES.where(AddressAssociation.address_group_id.in_(IDS))
_FORWARDINGS = select(PortForwarding.__table__).where(PortForwarding.floatingip_id.in_(IDS))
_PORT_MIGRATIONS = _MIGRATIONS.where(PortBinding.port_id.in_(IDS))


def _pool_scopes(session: Session) -> dict[str, str]:
    """``{subnet pool id: address scope id}`` of the pools in a scope: a router does
    not SNAT a subnet of its gateway's scope (``desired.desired_snat``)."""
    return dict(session.execute(select(SubnetPool.id, SubnetPool.address_scope_id)
                                .where(SubnetPool.address_scope_id.is_not(None))).all())


def _groups_by_port(rows: Iterable[Any]) -> dict[str, list[str]]:
    """``{port id: [security group ids]}`` from binding rows."""
    result: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        result[r.port_id].append(r.security_group_id)
    return result


def _by_subnet(rows: Iterable[Any]) -> dict[str, str]:
    """``{subnet id: address}``, the lowest address when a port holds several."""
    result: dict[str, str] = {}
    for r in rows:
        held = result.get(r.subnet_id)
        if held is None or ipaddress.ip_address(r.ip_address) < ipaddress.ip_address(held):
            result[r.subnet_id] = r.ip_address
    return result


def load_all(session: Session, *, base_mac: str, lease_time: int,
             chassis: Mapping[str, Iterable[str]] | None = None,
             distributed_floating_ips: bool = False, dns_domain: str = DNS_DOMAIN_DEFAULT,
             dns_servers: tuple[str, ...] | None = None,
             log_limits: tuple[int, int] = (100, 25)) -> Desired:
    """Desired rows for the whole database (``chassis``, ``distributed_floating_ips``,
    ``dns_domain``, ``dns_servers`` and ``log_limits`` as :func:`load_resources`)."""
    _one_snapshot(session)
    ports = session.execute(select(Port.__table__)).all()
    allocations = session.execute(select(IPAllocation.port_id, IPAllocation.subnet_id,
                                         IPAllocation.ip_address)).all()
    groups = session.execute(select(AddressGroup.id, AddressGroup.revision_number)).all()
    routers = session.execute(select(Router.__table__)).all()
    floating_ips = session.execute(select(FloatingIP.__table__)).all()
    desired = _with_qos(session, ports, _with_load_balancers(
        session.execute(select(PortForwarding.__table__)).all(), floating_ips,
        _with_address_sets(groups, session.execute(_AG_ADDRESSES).all(), desired_state(
        session.execute(select(Network.__table__)).all(),
        session.execute(select(Subnet.__table__)).all(),
        ports, allocations,
        base_mac=base_mac, lease_time=lease_time,
        segments=session.execute(select(NetworkSegment.__table__)).all(),
        routers=routers,
        router_ports=[p for p in ports if p.device_owner in ROUTER_OWNERS],
        floating_ips=floating_ips,
        floating_macs={p.id: p.mac_address for p in ports
                       if p.device_owner == c.DEVICE_OWNER_FLOATINGIP},
        distributed_floating_ips=distributed_floating_ips, chassis=chassis,
        metadata_ips=_by_subnet(session.execute(_METADATA_IPS).all()),
        security_groups=session.execute(select(SecurityGroup.__table__)).all(),
        security_group_rules=session.execute(select(SecurityGroupRule.__table__)).all(),
        port_security_groups=_groups_by_port(session.execute(_BINDINGS).all()),
        pool_scopes=_pool_scopes(session),
        dns=load_extras.dns_inputs_of(ports, allocations, dns_domain=dns_domain,
                                      servers=dns_servers),
        migrations=dict(session.execute(_MIGRATIONS).all()))), ports),
        routers=routers, router_ports=[p for p in ports if p.device_owner in ROUTER_OWNERS],
        floating_ips=floating_ips, distributed=distributed_floating_ips)
    return load_extras.with_logs(session, desired, log_limits)


def gateway_router_ids(session: Session) -> list[str]:
    """Ids of the routers with a gateway: those whose gateway chassis depend on the SB."""
    return list(session.scalars(select(Router.id).where(Router.gw_port_id.is_not(None))))


def unscheduled_gateways(desired: Desired) -> list[str]:
    """Names of the desired gateway LRPs without any gateway chassis (no
    gateway-capable chassis bridges their external network); [] when chassis
    are unknown."""
    if desired.gateway_chassis is None:
        return []
    scheduled = {g.port for g in desired.gateway_chassis.values()}
    gateways = (lrp_name(r.external_ids[EXT_GW_PORT_ID]) for r in desired.routers.values()
                if r.external_ids.get(EXT_GW_PORT_ID))
    return sorted(n for n in gateways if n in desired.router_ports and n not in scheduled)


def warn_unscheduled(desired: Desired) -> None:
    """Log each router gateway that no chassis can host."""
    for lrp in unscheduled_gateways(desired):
        LOG.warning("no gateway chassis bridges the external network of gateway port %s: "
                    "it gets no Gateway_Chassis (check ovn-bridge-mappings and "
                    "ovn-cms-options=enable-chassis-as-gw, and availability-zones= when "
                    "its router has availability_zone_hints)", lrp[len(LRP_PREFIX):])


def _one_snapshot(session: Session) -> None:
    """Make every statement of this read see one snapshot: PostgreSQL readers
    run in autocommit (a snapshot per statement); SQLite's read transaction
    already is one."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                              "postgresql_readonly": True})

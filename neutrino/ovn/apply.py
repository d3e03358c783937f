"""Bring NB rows in line with the database: load, compute, diff, apply.

The steps, each usable alone:

* :func:`load_resources` / :func:`load_all` read the database (one read
  transaction, bulk queries) and return the desired rows and the *scope*: the
  rows whose existence the result decides.
* :func:`read_nb` copies the rows neutrino may own out of the IDL, under the
  connection lock, refusing a replica that is not complete (``IdlNotReady``).
* :func:`plan` (pure) diffs desired against observed rows into ``Change``s.
* :func:`nb_commands` turns changes into small ovsdbapp commands with
  idempotency flags; :func:`execute` commits them in ONE transaction.

Replaying a batch is harmless: the second time the plan is empty and nothing
is sent. Only rows marked as Neutron marks them are ever changed (see
``ovn.desired``); any LSP on a ``neutron-`` switch and anything on a
``neutron-`` router (LRPs and their Gateway_Chassis, static routes, NATs) is
owned, so a row added there by hand is extra and removed by a repair.
Child rows (LRP, Gateway_Chassis, route, NAT) are added to and removed from
their parent's column; OVSDB deletes them once unreferenced (reference D.0).
Security groups are port groups with ACLs (``ovn.security_groups``): a
port group named ``pg_*`` marked with its group id, and ``neutron_pg_drop``,
is owned with all its ACLs. An LSP's membership in owned port groups is
compared as its ``port_groups`` and changed with ``pg_add_ports`` /
``pg_del_ports``, one port at a time: a rule change rewrites only that
group's ACLs, a port joining a group touches no other member.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ovsdbapp.backend.ovs_idl import idlutils
from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import (FloatingIP, IPAllocation, Network, NetworkSegment, Port, Router,
                                SecurityGroup, SecurityGroupPortBinding, SecurityGroupRule, Subnet)
from neutrino.ovn import idl as ovn_idl
from neutrino.ovn.commands import ChildAddCommand, DbReplaceCommand
from neutrino.ovn.desired import (EXT_FIP_ID, EXT_GW_PORT_ID, EXT_NETWORK_NAME, EXT_PORT_ID,
                                  EXT_SUBNET_ID, LRP_PREFIX, OWNER_DISTRIBUTED,
                                  PROVNET_PREFIX, ROUTER_OWNERS,
                                  ROUTER_PREFIX, SWITCH_PREFIX, Desired, DhcpOptions,
                                  GatewayChassis, LogicalRouter, LogicalRouterPort, LogicalSwitch,
                                  LogicalSwitchPort, Nat, StaticRoute, desired_state, localnet_name,
                                  lrp_name, network_id_of, router_name, switch_name)
from neutrino.ovn.security_groups import (EXT_SG_RULE_ID, PG_DROP, Acl, PortGroup, is_owned,
                                          pg_name, sg_id_of)

LOG = logging.getLogger(__name__)

RESOURCE_TYPES = ("network", "subnet", "port", "router", "security_group")
ADD, SET, DEL = "add", "set", "del"
_CHUNK = 500  # ids per IN list: far below every database's bound-parameter limit

LS, LSP, DHCP = LogicalSwitch.TABLE, LogicalSwitchPort.TABLE, DhcpOptions.TABLE
LR, LRP, GWC = LogicalRouter.TABLE, LogicalRouterPort.TABLE, GatewayChassis.TABLE
ROUTE, NAT = StaticRoute.TABLE, Nat.TABLE
PG, ACL = PortGroup.TABLE, Acl.TABLE
# Columns compared per table ("switch"/"router"/"port" say where a child row
# lives, they are not columns of it).
COLUMNS = {
    LS: ("external_ids", "other_config"),
    LSP: ("switch", "type", "addresses", "port_security", "enabled", "options", "external_ids",
          "dhcpv4_options", "dhcpv6_options", "tag_request", "port_groups"),
    DHCP: ("cidr", "options", "external_ids"),
    LR: ("enabled", "options", "external_ids"),
    LRP: ("router", "mac", "networks", "external_ids", "ipv6_ra_configs"),
    GWC: ("chassis_name", "priority"),
    ROUTE: ("external_ids",),
    NAT: ("logical_port", "external_mac", "external_ids"),
    PG: ("external_ids",),
    ACL: ("action", "external_ids"),
}
# Where a child row is referenced from: (parent table, column).
_PARENT = {LRP: (LR, "ports"), ROUTE: (LR, "static_routes"), NAT: (LR, "nat"),
           GWC: (LRP, "gateway_chassis"), ACL: (PG, "acls")}
# Optional (0..1) columns: "" / None stand for the empty set.
_OPTIONAL = ("tag_request", "logical_port", "external_mac")


@dataclass(frozen=True)
class Scope:
    """Rows a load is authoritative for: switch names, LSP names, subnet ids,
    router names and LRP names. A row in scope that is not desired is deleted;
    so are localnet LSPs (``provnet-*``) on a switch in scope and every LRP,
    route, NAT and gateway chassis on a router in scope, and every ACL of a
    port group in scope (``port_groups``: names)."""

    switches: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    subnets: frozenset[str] = frozenset()
    routers: frozenset[str] = frozenset()
    router_ports: frozenset[str] = frozenset()
    port_groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Found:
    """An NB row as read: its UUID, its content, and for a child row the UUID
    of its parent (an LSP's switch; an LRP's, route's or NAT's router; a
    gateway chassis' LRP)."""

    uuid: uuid.UUID
    row: Any
    parent_uuid: uuid.UUID | None = None


@dataclass(frozen=True)
class Observed:
    """NB rows neutrino may own. Lists hold duplicates, the one to keep first."""

    switches: Mapping[str, list[Found]] = field(default_factory=dict)
    ports: Mapping[str, Found] = field(default_factory=dict)
    dhcp_options: Mapping[str, list[Found]] = field(default_factory=dict)
    routers: Mapping[str, list[Found]] = field(default_factory=dict)
    router_ports: Mapping[str, Found] = field(default_factory=dict)
    static_routes: Mapping[str, list[Found]] = field(default_factory=dict)
    nats: Mapping[str, list[Found]] = field(default_factory=dict)
    gateway_chassis: Mapping[str, Found] = field(default_factory=dict)
    port_groups: Mapping[str, list[Found]] = field(default_factory=dict)
    acls: Mapping[str, list[Found]] = field(default_factory=dict)  # by ``Acl.key``


@dataclass(frozen=True)
class Change:
    """One row to add, set (the differing ``columns``) or delete."""

    action: str
    table: str
    key: str  # a name, a subnet id (DHCP), or a route's/NAT's key
    row: Any = None  # the desired row (add, set)
    columns: tuple[str, ...] = ()
    uuid: uuid.UUID | None = None  # the NB row (set, del)
    parent_uuid: uuid.UUID | None = None  # child set/del: the row holding it

    @property
    def drift(self) -> str:
        """How an audit names it: missing, different or extra."""
        return {ADD: "missing", SET: "different", DEL: "extra"}[self.action]

    @property
    def resource(self) -> str:
        """The database resource the row comes from, e.g. ``port <id>``; ``""``
        for an extra row (nothing in the database wants it)."""
        if self.action == DEL:
            return ""
        row = self.row
        if self.table == LS:
            return f"network {network_id_of(self.key)}"
        if self.table == LSP:
            if self.key.startswith(PROVNET_PREFIX):
                return f"segment {self.key[len(PROVNET_PREFIX):]}"
            return f"port {self.key}"
        if self.table == DHCP:
            return f"subnet {self.key}"
        if self.table in (LRP, GWC):
            lrp = row.name if self.table == LRP else row.port
            return f"port {lrp[len(LRP_PREFIX):]}"
        if self.table == NAT and EXT_FIP_ID in row.external_ids:
            return f"floatingip {row.external_ids[EXT_FIP_ID]}"
        if self.table in (PG, ACL):
            if EXT_SG_RULE_ID in row.external_ids:
                return f"security_group_rule {row.external_ids[EXT_SG_RULE_ID]}"
            group = sg_id_of(row.name if self.table == PG else row.port_group)
            return f"security_group {group}" if group else "port security (all ports)"
        name = row.name if self.table == LR else row.router
        return f"router {name[len(ROUTER_PREFIX):]}"


# --- database -------------------------------------------------------------------

def load_resources(session: Session, resources: Iterable[tuple[str, str]], *, base_mac: str,
                   lease_time: int, chassis: Mapping[str, Iterable[str]] | None = None
                   ) -> tuple[Scope, Desired]:
    """Desired rows for outbox entries ``(resource_type, resource_id)`` and their scope.

    A network brings its switch, its localnet ports and its subnets' DHCP
    rows; a subnet its DHCP row and the ports holding addresses in it (their
    DHCP references change); a port its LSP, its switch and its subnets' DHCP
    rows; a router its Logical_Router and everything on it (interface and
    gateway LRPs, routes, SNAT and floating IP NATs, gateway chassis from
    ``chassis``, see ``desired.desired_routers``); a security group its port
    group and ACLs. A port also brings its groups' port groups and ACLs (so
    its memberships can always be written) and ``neutron_pg_drop`` is always
    in scope. Unknown resource types are ignored. Absent resources are in
    scope but not desired: deleted.
    A fixed number of queries per call, whatever the number of resources.
    """
    _one_snapshot(session)
    wanted: dict[str, set[str]] = {t: set() for t in RESOURCE_TYPES}
    for rtype, rid in resources:
        if rtype in wanted:
            wanted[rtype].add(rid)
    port_ids = wanted["port"] | set(_in(session, lambda c: select(IPAllocation.port_id).where(
        IPAllocation.subnet_id.in_(c)), wanted["subnet"]))
    ports = _in(session, lambda c: select(Port.__table__).where(Port.id.in_(c)), port_ids)
    routers = _in(session, lambda c: select(Router.__table__).where(Router.id.in_(c)),
                  wanted["router"])
    router_ports = _in(session, lambda c: select(Port.__table__).where(
        Port.device_id.in_(c), Port.device_owner.in_(ROUTER_OWNERS)), [r.id for r in routers])
    floating_ips = _in(session, lambda c: select(FloatingIP.__table__).where(
        FloatingIP.router_id.in_(c)), [r.id for r in routers])
    net_ids = wanted["network"] | {p.network_id for p in ports} | set(_in(
        session, lambda c: select(Subnet.network_id).where(Subnet.id.in_(c)), wanted["subnet"]))
    all_net_ids = net_ids | {p.network_id for p in router_ports}
    networks = _in(session, lambda c: select(Network.__table__).where(Network.id.in_(c)),
                   all_net_ids)
    segments = _in(session, lambda c: select(NetworkSegment.__table__).where(
        NetworkSegment.network_id.in_(c)), all_net_ids)
    subnets = _in(session, lambda c: select(Subnet.__table__).where(Subnet.network_id.in_(c)),
                  all_net_ids)
    allocations = _in(session, lambda c: select(
        IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address)
        .where(IPAllocation.port_id.in_(c)), {p.id for p in ports} | {p.id for p in router_ports})
    metadata = _in(session, lambda c: _METADATA_IPS.where(Port.network_id.in_(c)),
                   all_net_ids)
    bindings = _in(session, lambda c: _BINDINGS.where(SecurityGroupPortBinding.port_id.in_(c)),
                   {p.id for p in ports})
    group_ids = wanted["security_group"] | {b.security_group_id for b in bindings}
    groups = _in(session, lambda c: select(SecurityGroup.__table__).where(
        SecurityGroup.id.in_(c)), group_ids)
    rules = _in(session, lambda c: select(SecurityGroupRule.__table__).where(
        SecurityGroupRule.security_group_id.in_(c)), group_ids)
    scope = Scope(
        switches=frozenset(map(switch_name, net_ids)),
        ports=frozenset(port_ids | {localnet_name(s.id) for s in segments if s.network_id in net_ids}),
        subnets=frozenset(wanted["subnet"] | {s.id for s in subnets if s.network_id in net_ids}),
        routers=frozenset(map(router_name, wanted["router"])),
        router_ports=frozenset(lrp_name(p.id) for p in router_ports),
        port_groups=frozenset({PG_DROP} | {pg_name(g) for g in group_ids}))
    return scope, desired_state(networks, subnets, ports, allocations, base_mac=base_mac,
                                lease_time=lease_time, segments=segments, routers=routers,
                                router_ports=router_ports, floating_ips=floating_ips,
                                chassis=chassis, metadata_ips=_by_subnet(metadata),
                                security_groups=groups, security_group_rules=rules,
                                port_security_groups=_groups_by_port(bindings))


# (subnet_id, ip_address) of the metadata ports (reference C.4, D.4): the
# DHCP option 121 route to 169.254.169.254 and the fallback server_id.
_METADATA_IPS = (select(IPAllocation.subnet_id, IPAllocation.ip_address)
                 .join(Port, Port.id == IPAllocation.port_id)
                 .where(Port.device_owner == OWNER_DISTRIBUTED))


_BINDINGS = select(SecurityGroupPortBinding.port_id, SecurityGroupPortBinding.security_group_id)


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
             chassis: Mapping[str, Iterable[str]] | None = None) -> Desired:
    """Desired rows for the whole database (``chassis`` as :func:`load_resources`)."""
    _one_snapshot(session)
    ports = session.execute(select(Port.__table__)).all()
    return desired_state(
        session.execute(select(Network.__table__)).all(),
        session.execute(select(Subnet.__table__)).all(),
        ports,
        session.execute(select(IPAllocation.port_id, IPAllocation.subnet_id,
                               IPAllocation.ip_address)).all(),
        base_mac=base_mac, lease_time=lease_time,
        segments=session.execute(select(NetworkSegment.__table__)).all(),
        routers=session.execute(select(Router.__table__)).all(),
        router_ports=[p for p in ports if p.device_owner in ROUTER_OWNERS],
        floating_ips=session.execute(select(FloatingIP.__table__)).all(),
        chassis=chassis, metadata_ips=_by_subnet(session.execute(_METADATA_IPS).all()),
        security_groups=session.execute(select(SecurityGroup.__table__)).all(),
        security_group_rules=session.execute(select(SecurityGroupRule.__table__)).all(),
        port_security_groups=_groups_by_port(session.execute(_BINDINGS).all()))


def gateway_router_ids(session: Session) -> list[str]:
    """Ids of the routers with a gateway: those whose gateway chassis depend on the SB."""
    return list(session.scalars(select(Router.id).where(Router.gw_port_id.is_not(None))))


def unscheduled_gateways(desired: Desired) -> list[str]:
    """Names of the desired gateway LRPs without any gateway chassis (no
    chassis bridges their external network); [] when chassis are unknown."""
    if desired.gateway_chassis is None:
        return []
    scheduled = {g.port for g in desired.gateway_chassis.values()}
    gateways = (lrp_name(r.external_ids[EXT_GW_PORT_ID]) for r in desired.routers.values()
                if r.external_ids.get(EXT_GW_PORT_ID))
    return sorted(n for n in gateways if n in desired.router_ports and n not in scheduled)


def _one_snapshot(session: Session) -> None:
    """Make every statement of this read see one snapshot: PostgreSQL readers
    run in autocommit (a snapshot per statement); SQLite's read transaction
    already is one."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                              "postgresql_readonly": True})


def _in(session: Session, stmt: Callable[[list[str]], Any], ids: Iterable[str]) -> list[Any]:
    ids = sorted(set(ids))
    rows: list[Any] = []
    for i in range(0, len(ids), _CHUNK):
        result = session.execute(stmt(ids[i:i + _CHUNK]))
        rows += result.scalars().all() if len(result.keys()) == 1 else result.all()
    return rows


# --- northbound, read -----------------------------------------------------------

def read_nb(api: Any, scope: Scope | None = None, port_names: Iterable[str] = (),
            router_port_names: Iterable[str] = ()) -> Observed:
    """Copy the NB rows neutrino may own out of the IDL.

    ``scope`` None reads every owned row (switches named ``neutron-*``, every
    LSP on them, DHCP rows with ``external_ids:subnet_id``, routers named
    ``neutron-*`` and every LRP, gateway chassis, route and NAT on them) plus
    the LSPs named in ``port_names`` and the LRPs named in
    ``router_port_names`` wherever they are, and every owned port group with
    its ACLs; a scope reads only its rows (and the localnet LSPs of its
    switches, everything on its routers, the ACLs of its port groups). An
    LSP's ``port_groups`` are the owned port groups holding it. Raises
    IdlNotReady unless the IDL is connected with a complete copy.
    """
    with api.ovsdb_connection.lock:
        if not ovn_idl.is_ready(api):
            raise ovn_idl.IdlNotReady("the NB IDL is not connected with a complete copy")
        return _Reader(api.idl).read(scope, port_names, router_port_names)


class _Reader:
    """One consistent read of the IDL (the caller holds the connection lock)."""

    def __init__(self, idl: Any) -> None:
        self.idl = idl
        self.tables = idl.tables
        self._switch_of: dict[uuid.UUID, Any] = {}  # LSP uuid -> LS row
        self._scanned = False
        self._router_of: dict[uuid.UUID, Any] | None = None  # LRP uuid -> LR row, on demand
        self._member_of: dict[uuid.UUID, list[str]] | None = None  # LSP uuid -> owned PGs

    def read(self, scope: Scope | None, port_names: Iterable[str],
             router_port_names: Iterable[str] = ()) -> Observed:
        dhcp = self._dhcp_options()
        self.dhcp_subnet = {found[0].uuid: sid for sid, found in dhcp.items()}
        if scope is None:
            ls_rows = [r for r in self.tables[LS].rows.values() if r.name.startswith(SWITCH_PREFIX)]
        else:
            ls_rows = [r for name in sorted(scope.switches) for r in self._by_name(LS, name)]
        members = {ls.uuid: ls.ports for ls in ls_rows}
        for ls in ls_rows:
            self._switch_of.update((p.uuid, ls) for p in members[ls.uuid])
        if scope is None:
            lsp_rows = {p.uuid: p for ls in ls_rows for p in members[ls.uuid]}
        else:
            lsp_rows = {p.uuid: p for ls in ls_rows for p in members[ls.uuid]
                        if p.name.startswith(PROVNET_PREFIX)}
        for name in set(port_names) | (scope.ports if scope is not None else set()):
            lsp_rows.update((r.uuid, r) for r in self._by_name(LSP, name))
        switches: dict[str, list[Found]] = defaultdict(list)
        for ls in ls_rows:
            switches[ls.name].append(Found(ls.uuid, LogicalSwitch(
                ls.name, dict(ls.external_ids), dict(ls.other_config))))
        for found in switches.values():  # keep the fullest duplicate
            found.sort(key=lambda f: (-len(members[f.uuid]), str(f.uuid)))
        ports = {r.name: self._lsp(r) for r in lsp_rows.values()}
        return Observed(switches=dict(switches), ports=ports, dhcp_options=dhcp,
                        **self._routing(scope, router_port_names), **self._port_groups(scope))

    def _port_groups(self, scope: Scope | None) -> dict[str, Any]:
        """Owned port groups (all, or those of the scope) and their ACLs."""
        if scope is None:
            rows = [r for r in self.tables[PG].rows.values() if is_owned(r.name, r.external_ids)]
        else:
            rows = [r for name in sorted(scope.port_groups) for r in self._by_name(PG, name)
                    if is_owned(r.name, r.external_ids)]
        groups, acls = {}, defaultdict(list)
        for pg in rows:
            groups[pg.name] = [Found(pg.uuid, PortGroup(pg.name, dict(pg.external_ids)))]
            for a in pg.acls:
                acl = Acl(pg.name, a.direction, a.priority, a.match, a.action,
                          dict(a.external_ids))
                acls[acl.key].append(Found(a.uuid, acl, pg.uuid))
        for found in acls.values():
            found.sort(key=lambda f: str(f.uuid))
        return {"port_groups": groups, "acls": dict(acls)}

    def _groups_of(self, lsp: Any) -> tuple[str, ...]:
        if self._member_of is None:
            self._member_of = defaultdict(list)
            for pg in self.tables[PG].rows.values():
                if is_owned(pg.name, pg.external_ids):
                    for p in pg.ports:
                        self._member_of[p.uuid].append(pg.name)
        return tuple(sorted(self._member_of.get(lsp.uuid, ())))

    def _routing(self, scope: Scope | None, router_port_names: Iterable[str]) -> dict[str, Any]:
        """Routers (fullest duplicate first), their LRPs and gateway chassis, the
        routes and NATs of each kept router, and the LRPs named elsewhere."""
        if scope is None:
            lr_rows = [r for r in self.tables[LR].rows.values() if r.name.startswith(ROUTER_PREFIX)]
        else:
            lr_rows = [r for name in sorted(scope.routers) for r in self._by_name(LR, name)]
        by_name: dict[str, list[Any]] = defaultdict(list)
        for lr in lr_rows:
            by_name[lr.name].append(lr)
        routers, routes, nats = {}, defaultdict(list), defaultdict(list)
        lrps: dict[uuid.UUID, tuple[Any, Any]] = {}  # LRP uuid -> (LRP row, LR row)
        for name, rows in by_name.items():
            rows.sort(key=lambda r: (-len(r.ports) - len(r.static_routes) - len(r.nat),
                                     str(r.uuid)))
            routers[name] = [Found(r.uuid, LogicalRouter(
                r.name, r.enabled[0] if r.enabled else True, dict(r.options),
                dict(r.external_ids))) for r in rows]
            for lr in rows:
                lrps.update((p.uuid, (p, lr)) for p in lr.ports)
            kept = rows[0]
            for r in kept.static_routes:
                route = StaticRoute(name, r.ip_prefix, r.nexthop, dict(r.external_ids))
                routes[route.key].append(Found(r.uuid, route, kept.uuid))
            for r in kept.nat:
                nat = Nat(name, r.type, r.external_ip, r.logical_ip,
                          r.logical_port[0] if r.logical_port else "",
                          r.external_mac[0] if r.external_mac else "", dict(r.external_ids))
                nats[nat.key].append(Found(r.uuid, nat, kept.uuid))
        names = set(router_port_names) | (scope.router_ports if scope is not None else set())
        for name in names:
            for p in self._by_name(LRP, name):
                if p.uuid not in lrps:
                    lrps[p.uuid] = (p, self._router(p))
        router_ports, gateway_chassis = {}, {}
        for p, lr in lrps.values():
            router_ports[p.name] = Found(p.uuid, LogicalRouterPort(
                p.name, lr.name if lr is not None else "", p.mac, tuple(p.networks),
                dict(p.external_ids), dict(p.ipv6_ra_configs)),
                lr.uuid if lr is not None else None)
            for g in p.gateway_chassis:
                gateway_chassis[g.name] = Found(g.uuid, GatewayChassis(
                    g.name, p.name, g.chassis_name, g.priority), p.uuid)
        for found in (*routes.values(), *nats.values()):
            found.sort(key=lambda f: str(f.uuid))
        return {"routers": routers, "router_ports": router_ports, "static_routes": dict(routes),
                "nats": dict(nats), "gateway_chassis": gateway_chassis}

    def _router(self, lrp: Any) -> Any:
        if self._router_of is None:
            self._router_of = {p.uuid: lr for lr in self.tables[LR].rows.values()
                               for p in lr.ports}
        return self._router_of.get(lrp.uuid)

    def _by_name(self, table: str, name: str) -> list[Any]:
        return list(idlutils.rows_by_value(self.idl, table, "name", name))  # by index

    def _dhcp_options(self) -> dict[str, list[Found]]:
        found: dict[str, list[Found]] = defaultdict(list)
        for r in self.tables[DHCP].rows.values():
            ext = dict(r.external_ids)
            if EXT_SUBNET_ID in ext:
                found[ext[EXT_SUBNET_ID]].append(Found(r.uuid, DhcpOptions(
                    ext[EXT_SUBNET_ID], r.cidr, dict(r.options), ext)))
        for rows in found.values():  # keep a subnet row, never a per-port one
            rows.sort(key=lambda f: (EXT_PORT_ID in f.row.external_ids, str(f.uuid)))
        return dict(found)

    def _lsp(self, r: Any) -> Found:
        ls = self._switch(r)
        return Found(r.uuid, LogicalSwitchPort(
            name=r.name, switch=ls.name if ls is not None else "", type=r.type,
            addresses=tuple(r.addresses), port_security=tuple(r.port_security),
            enabled=r.enabled[0] if r.enabled else True, options=dict(r.options),
            external_ids=dict(r.external_ids), dhcpv4_options=self._dhcp_ref(r.dhcpv4_options),
            dhcpv6_options=self._dhcp_ref(r.dhcpv6_options),
            tag_request=r.tag_request[0] if r.tag_request else None,
            port_groups=self._groups_of(r)),
            ls.uuid if ls is not None else None)

    def _switch(self, lsp: Any) -> Any:
        if lsp.uuid not in self._switch_of:
            hint = lsp.external_ids.get(EXT_NETWORK_NAME)
            for ls in self._by_name(LS, hint) if hint else ():
                self._switch_of.update((p.uuid, ls) for p in ls.ports)
        if lsp.uuid not in self._switch_of and not self._scanned:
            self._scanned = True
            for ls in self.tables[LS].rows.values():
                self._switch_of.update((p.uuid, ls) for p in ls.ports)
        return self._switch_of.get(lsp.uuid)

    def _dhcp_ref(self, rows: list[Any]) -> str | None:
        if not rows:
            return None
        return self.dhcp_subnet.get(rows[0].uuid, f"uuid:{rows[0].uuid}")


# --- diff (pure) ----------------------------------------------------------------

def plan(desired: Desired, observed: Observed, scope: Scope | None = None) -> list[Change]:
    """The changes that make ``observed`` equal ``desired``.

    With a scope only its rows are considered (see ``Scope``); without one,
    every observed and desired row (an audit). Deterministic order: switches,
    DHCP rows, ports, then routers, router ports, gateway chassis, routes, NATs.
    """
    changes: list[Change] = []
    everything = scope is None
    switch_names = desired.switches.keys() | observed.switches.keys() if everything \
        else scope.switches
    for name in sorted(switch_names):
        changes += _plan_rows(LS, name, desired.switches.get(name), observed.switches.get(name, []))
    subnet_ids = desired.dhcp_options.keys() | observed.dhcp_options.keys() if everything \
        else scope.subnets
    for sid in sorted(subnet_ids):
        changes += _plan_rows(DHCP, sid, desired.dhcp_options.get(sid),
                              observed.dhcp_options.get(sid, []))
    keep = {name: found[0].uuid for name, found in observed.switches.items()
            if found and name in desired.switches}
    if everything:
        port_names = desired.ports.keys() | observed.ports.keys()
    else:
        on_scope = {f.uuid for name in scope.switches for f in observed.switches.get(name, [])}
        port_names = scope.ports | {n for n, f in observed.ports.items()
                                    if n.startswith(PROVNET_PREFIX) and f.parent_uuid in on_scope}
    changes += _plan_members(LSP, "switch", port_names, desired.ports, observed.ports, keep)
    return changes + _plan_routing(desired, observed, scope) + _plan_port_groups(
        desired, observed, scope)


def _plan_port_groups(desired: Desired, observed: Observed, scope: Scope | None) -> list[Change]:
    """Port groups and their ACLs (memberships are the LSPs' ``port_groups``)."""
    names = desired.port_groups.keys() | observed.port_groups.keys() if scope is None \
        else scope.port_groups
    changes: list[Change] = []
    for name in sorted(names):
        changes += _plan_rows(PG, name, desired.port_groups.get(name),
                              observed.port_groups.get(name, []))
    keys = ({k for k, a in desired.acls.items() if a.port_group in names}
            | {k for k, f in observed.acls.items() if f and f[0].row.port_group in names})
    for key in sorted(keys):
        changes += _plan_rows(ACL, key, desired.acls.get(key), observed.acls.get(key, []))
    return changes


def _plan_routing(desired: Desired, observed: Observed, scope: Scope | None) -> list[Change]:
    """Routers and everything on them. A child whose parent is recreated is
    added to the new parent; the old one goes with its parent."""
    everything = scope is None
    names = desired.routers.keys() | observed.routers.keys() if everything else scope.routers
    changes: list[Change] = []
    for name in sorted(names):
        changes += _plan_rows(LR, name, desired.routers.get(name), observed.routers.get(name, []))
    keep = {name: found[0].uuid for name, found in observed.routers.items()
            if found and name in desired.routers}
    if everything:
        lrp_names = desired.router_ports.keys() | observed.router_ports.keys()
    else:
        on_scope = {f.uuid for name in names for f in observed.routers.get(name, [])}
        lrp_names = scope.router_ports | {n for n, f in observed.router_ports.items()
                                          if f.parent_uuid in on_scope}
    lrp_changes = _plan_members(LRP, "router", lrp_names, desired.router_ports,
                                observed.router_ports, keep)
    changes += lrp_changes
    if desired.gateway_chassis is not None:
        recreated = {c.key for c in lrp_changes if c.action == ADD or "router" in c.columns}
        wanted = {n: g for n, g in desired.gateway_chassis.items() if g.port in lrp_names}
        have = {n: f for n, f in observed.gateway_chassis.items() if f.row.port in lrp_names}
        for name in sorted(wanted.keys() | have.keys()):
            want, found = wanted.get(name), have.get(name)
            if want is not None and want.port in recreated:
                changes.append(Change(ADD, GWC, name, row=want))
            elif found is not None and want is not None and found.row.port == want.port:
                changes += _plan_rows(GWC, name, want, [found])
            else:
                if found is not None:
                    changes.append(Change(DEL, GWC, name, uuid=found.uuid,
                                          parent_uuid=found.parent_uuid))
                if want is not None:
                    changes.append(Change(ADD, GWC, name, row=want))
    for table, want_rows, have_rows in ((ROUTE, desired.static_routes, observed.static_routes),
                                        (NAT, desired.nats, observed.nats)):
        keys = ({k for k, r in want_rows.items() if r.router in names}
                | {k for k, f in have_rows.items() if f and f[0].row.router in names})
        for key in sorted(keys):
            found = [f for f in have_rows.get(key, []) if f.parent_uuid == keep.get(f.row.router)]
            stale = [f for f in have_rows.get(key, []) if f not in found]
            changes += _plan_rows(table, key, want_rows.get(key), found)
            changes += [Change(DEL, table, key, uuid=f.uuid, parent_uuid=f.parent_uuid)
                        for f in stale]
    return changes


def _plan_members(table: str, parent_column: str, names: Iterable[str],
                  desired: Mapping[str, Any], observed: Mapping[str, Found],
                  keep: Mapping[str, uuid.UUID]) -> list[Change]:
    """LSPs on switches or LRPs on routers, by name (names are unique). A row
    on another parent than the kept one differs in ``parent_column``: it moves."""
    changes = []
    for name in sorted(names):
        want, have = desired.get(name), observed.get(name)
        if have is None:
            if want is not None:
                changes.append(Change(ADD, table, name, row=want))
        elif want is None:
            changes.append(Change(DEL, table, name, uuid=have.uuid, parent_uuid=have.parent_uuid))
        else:
            cols = differing(want, have.row)
            if have.parent_uuid is None or have.parent_uuid != keep.get(getattr(want, parent_column)):
                cols = (parent_column,) + tuple(c for c in cols if c != parent_column)
            if cols:
                changes.append(Change(SET, table, name, row=want, columns=cols, uuid=have.uuid,
                                      parent_uuid=have.parent_uuid))
    return changes


def _plan_rows(table: str, key: str, want: Any, have: list[Found]) -> list[Change]:
    changes = []
    if want is not None and not have:
        changes.append(Change(ADD, table, key, row=want))
    elif want is not None:
        cols = differing(want, have[0].row)
        if cols:
            changes.append(Change(SET, table, key, row=want, columns=cols, uuid=have[0].uuid,
                                  parent_uuid=have[0].parent_uuid))
    extra = have[1:] if want is not None else have
    return changes + [Change(DEL, table, key, uuid=f.uuid, parent_uuid=f.parent_uuid)
                      for f in extra]


def differing(want: Any, have: Any) -> tuple[str, ...]:
    """Columns of two rows of one table that differ (sets compared unordered)."""
    return tuple(c for c in COLUMNS[want.TABLE] if _norm(getattr(want, c)) != _norm(getattr(have, c)))


def _norm(value: Any) -> Any:
    if isinstance(value, tuple):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


# --- northbound, write ----------------------------------------------------------

def nb_commands(api: Any, changes: Sequence[Change], observed: Observed) -> list[Any]:
    """ovsdbapp commands for ``changes``, in an order one transaction accepts:
    DHCP rows, switches and routers first (new ports refer to them), then
    switch ports, router ports, gateway chassis, routes and NATs, then router,
    switch and DHCP deletions. Rows on a deleted (or moved) parent go with it:
    child tables are garbage-collected once unreferenced (reference D.0).
    Port groups and their ACLs come first, LSP memberships right after the
    LSPs, port group deletions last."""
    switch_ref: dict[str, Any] = {n: f[0].uuid for n, f in observed.switches.items() if f}
    dhcp_ref: dict[str, Any] = {s: f[0].uuid for s, f in observed.dhcp_options.items() if f}
    router_ref: dict[str, Any] = {n: f[0].uuid for n, f in observed.routers.items() if f}
    lrp_ref: dict[str, Any] = {n: f.uuid for n, f in observed.router_ports.items()}
    dropped = {c.uuid for c in changes if c.table == LS and c.action == DEL}
    dropped_routers = {c.uuid for c in changes if c.table == LR and c.action == DEL}
    gone_lrps = {c.uuid for c in changes if c.table == LRP
                 and (c.action == DEL or "router" in c.columns)}
    pg_ref: dict[str, Any] = {n: f[0].uuid for n, f in observed.port_groups.items() if f}
    lsp_ref: dict[str, Any] = {n: f.uuid for n, f in observed.ports.items()}
    cmds: list[Any] = _port_group_commands(api, changes, pg_ref)

    def of(table: str, action: str) -> list[Change]:
        return [c for c in changes if c.table == table and c.action == action]

    for c in of(DHCP, ADD):
        add = api.dhcp_options_add(c.row.cidr, **c.row.external_ids)
        cmds += [add, api.dhcp_options_set_options(add, **c.row.options)]
        dhcp_ref[c.key] = add
    for c in of(DHCP, SET):
        if "options" in c.columns:
            cmds.append(api.dhcp_options_set_options(c.uuid, **c.row.options))
        cols = {k: getattr(c.row, k) for k in c.columns if k != "options"}
        if cols:
            cmds.append(DbReplaceCommand(api, DHCP, c.uuid, **_plain(cols)))
    for c in of(LS, ADD):
        switch_ref[c.key] = api.ls_add(c.key, may_exist=True, external_ids=dict(c.row.external_ids),
                                       other_config=dict(c.row.other_config))
        cmds.append(switch_ref[c.key])
    for c in of(LS, SET):
        cmds.append(DbReplaceCommand(api, LS, c.uuid, **_plain(
            {k: getattr(c.row, k) for k in c.columns})))
    for c in of(LR, ADD):
        router_ref[c.key] = api.lr_add(c.key, may_exist=True, **_values(c.row, COLUMNS[LR]))
        cmds.append(router_ref[c.key])
    for c in of(LR, SET):
        cmds.append(DbReplaceCommand(api, LR, c.uuid, **_values(c.row, c.columns)))
    for c in of(LSP, DEL):
        if c.parent_uuid not in dropped:
            cmds.append(api.lsp_del(c.uuid, switch=c.parent_uuid, if_exists=True))
    for c in of(LSP, SET):
        if "switch" in c.columns:  # moved: a port lives on exactly one switch
            if c.parent_uuid is not None:
                cmds.append(api.lsp_del(c.uuid, switch=c.parent_uuid, if_exists=True))
            lsp_ref[c.key] = _lsp_add(api, c.row, switch_ref, dhcp_ref)
            cmds.append(lsp_ref[c.key])
        else:
            cols = {k: _lsp_value(c.row, k, dhcp_ref) for k in c.columns if k != "port_groups"}
            if cols:
                cmds.append(DbReplaceCommand(api, LSP, c.uuid, **cols))
    for c in of(LSP, ADD):
        lsp_ref[c.key] = _lsp_add(api, c.row, switch_ref, dhcp_ref)
        cmds.append(lsp_ref[c.key])
    cmds += _member_commands(api, changes, observed, pg_ref, lsp_ref)
    parents = {LRP: router_ref, ROUTE: router_ref, NAT: router_ref, GWC: lrp_ref}
    gone = {LRP: dropped_routers, ROUTE: dropped_routers, NAT: dropped_routers, GWC: gone_lrps}
    for table in (LRP, GWC, ROUTE, NAT):
        for c in of(table, DEL):
            if c.parent_uuid is not None and c.parent_uuid not in gone[table]:
                cmds.append(_child_del(api, table, c.parent_uuid, c.uuid))
        for c in of(table, SET):
            if table == LRP and "router" in c.columns:  # moved: delete, then add anew
                if c.parent_uuid is not None and c.parent_uuid not in dropped_routers:
                    cmds.append(_child_del(api, table, c.parent_uuid, c.uuid))
                lrp_ref[c.key] = _child_add(api, c.row, parents[table])
                cmds.append(lrp_ref[c.key])
            else:
                cmds.append(DbReplaceCommand(api, table, c.uuid, **_values(c.row, c.columns)))
        for c in of(table, ADD):
            add = _child_add(api, c.row, parents[table])
            if table == LRP:
                lrp_ref[c.key] = add
            cmds.append(add)
    for c in of(LR, DEL):
        cmds.append(api.lr_del(c.uuid, if_exists=True))
    for c in of(LS, DEL):
        cmds.append(api.ls_del(c.uuid, if_exists=True))
    for c in of(DHCP, DEL):
        cmds.append(api.dhcp_options_del(c.uuid))
    for c in of(PG, DEL):
        cmds.append(api.pg_del(c.uuid, if_exists=True))
    return cmds


def _port_group_commands(api: Any, changes: Sequence[Change], pg_ref: dict[str, Any]) -> list[Any]:
    """Port group additions and updates and their ACLs' changes; a new port
    group's command goes in ``pg_ref``. ACLs of a deleted port group go with it."""
    dropped = {c.uuid for c in changes if c.table == PG and c.action == DEL}
    cmds: list[Any] = []
    for c in changes:
        if c.table == PG and c.action == ADD:
            pg_ref[c.key] = api.pg_add(c.key, may_exist=True,
                                       external_ids=dict(c.row.external_ids))
            cmds.append(pg_ref[c.key])
        elif c.table == PG and c.action == SET:
            cmds.append(DbReplaceCommand(api, PG, c.uuid, **_values(c.row, c.columns)))
    for c in changes:
        if c.table != ACL:
            continue
        if c.action == DEL and c.parent_uuid is not None and c.parent_uuid not in dropped:
            cmds.append(_child_del(api, ACL, c.parent_uuid, c.uuid))
        elif c.action == SET:
            cmds.append(DbReplaceCommand(api, ACL, c.uuid, **_values(c.row, c.columns)))
        elif c.action == ADD:
            cmds.append(_child_add(api, c.row, pg_ref))
    return cmds


def _member_commands(api: Any, changes: Sequence[Change], observed: Observed,
                     pg_ref: Mapping[str, Any], lsp_ref: Mapping[str, Any]) -> list[Any]:
    """LSPs joining and leaving port groups: every group of a new (or moved)
    LSP, the difference for one whose ``port_groups`` differ. A port group
    being deleted loses its members with it; so does a deleted LSP."""
    dropped = {c.key for c in changes if c.table == PG and c.action == DEL}
    cmds: list[Any] = []
    for c in changes:
        if c.table != LSP or c.action == DEL:
            continue
        new = c.action == ADD or "switch" in c.columns
        if not new and "port_groups" not in c.columns:
            continue
        have = set() if new else set(observed.ports[c.key].row.port_groups)
        want = set(c.row.port_groups)
        for pg in sorted(want - have):
            if pg not in pg_ref:
                raise LookupError(f"port group {pg} of port {c.key} is neither in NB nor added")
            cmds.append(api.pg_add_ports(pg_ref[pg], lsp_ref[c.key]))
        for pg in sorted(have - want - dropped):
            cmds.append(api.pg_del_ports(pg_ref.get(pg, pg), c.uuid, if_exists=True))
    return cmds


def _child_add(api: Any, row: Any, parent_ref: Mapping[str, Any]) -> Any:
    """Insert ``row`` (an LRP, gateway chassis, route, NAT or ACL) into its parent."""
    parent_table, column = _PARENT[row.TABLE]
    parent = {GWC: "port", ACL: "port_group"}.get(row.TABLE, "router")
    parent = getattr(row, parent)
    if parent not in parent_ref:
        raise LookupError(f"{parent_table} {parent} of {row.TABLE} {_name(row)} is neither in "
                          "NB nor added")
    cols = [c for c in COLUMNS[row.TABLE] if c not in ("router", "port")]
    cols += {LRP: ["name"], GWC: ["name"], ROUTE: ["ip_prefix", "nexthop"],
             NAT: ["type", "external_ip", "logical_ip"],
             ACL: ["direction", "priority", "match"]}[row.TABLE]
    return ChildAddCommand(api, row.TABLE, parent_table, parent_ref[parent], column,
                           **_values(row, cols))


def _child_del(api: Any, table: str, parent: uuid.UUID, child: uuid.UUID) -> Any:
    """Drop ``child`` from its parent's column; OVSDB deletes the unreferenced row."""
    parent_table, column = _PARENT[table]
    return api.db_remove(parent_table, parent, column, child, if_exists=True)


def _name(row: Any) -> str:
    return getattr(row, "name", None) or row.key


def _values(row: Any, columns: Iterable[str]) -> dict[str, Any]:
    """Column values of a desired row as ovsdbapp sets them: fresh lists and
    dicts, optional columns as a 0/1-element list."""
    values = _plain({c: getattr(row, c) for c in columns})
    for c in _OPTIONAL:
        if c in values:
            values[c] = [] if values[c] in (None, "") else [values[c]]
    return values


def _lsp_add(api: Any, lsp: LogicalSwitchPort, switch_ref: Mapping[str, Any],
             dhcp_ref: Mapping[str, Any]) -> Any:
    if lsp.switch not in switch_ref:
        raise LookupError(f"switch {lsp.switch} of port {lsp.name} is neither in NB nor added")
    cols = {k: _lsp_value(lsp, k, dhcp_ref) for k in COLUMNS[LSP]
            if k not in ("switch", "port_groups")}
    return api.lsp_add(switch_ref[lsp.switch], lsp.name, may_exist=True, **cols)


def _lsp_value(lsp: LogicalSwitchPort, column: str, dhcp_ref: Mapping[str, Any]) -> Any:
    value = getattr(lsp, column)
    if column in ("dhcpv4_options", "dhcpv6_options"):
        return [dhcp_ref[value]] if value is not None else []
    return _values(lsp, [column])[column]


def _plain(columns: Mapping[str, Any]) -> dict[str, Any]:
    """Fresh lists and dicts: ovsdbapp writes command results into them."""
    return {k: list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v
            for k, v in columns.items()}


def execute(api: Any, commands: Sequence[Any]) -> None:
    """Commit ``commands`` in one NB transaction (nothing at all when empty)."""
    if not commands:
        return
    with api.transaction(check_error=True) as txn:
        for command in commands:
            txn.add(command)


# --- the whole step -------------------------------------------------------------

def apply_resources(env: Any, api: Any, resources: Iterable[tuple[str, str]],
                    chassis: Mapping[str, Iterable[str]] | None = None) -> list[Change]:
    """Make the NB rows of ``resources`` (outbox entries) match the database,
    in one NB transaction; return the changes made ([] when already in line).
    ``chassis`` (SB chassis name -> physical networks, see ``ovn.chassis``)
    places router gateways; None leaves Gateway_Chassis rows alone."""
    settings = env.settings
    resources = set(resources)
    scope, desired = env.db.run(lambda s: load_resources(
        s, resources, base_mac=settings.base_mac, lease_time=settings.dhcp_lease_time,
        chassis=chassis), write=False)
    warn_unscheduled(desired)
    observed = read_nb(api, scope)
    changes = plan(desired, observed, scope)
    execute(api, nb_commands(api, changes, observed))
    LOG.debug("%d resource(s): %d NB change(s)", len(resources), len(changes))
    return changes


def warn_unscheduled(desired: Desired) -> None:
    """Log each router gateway that no chassis can host."""
    for lrp in unscheduled_gateways(desired):
        LOG.warning("no chassis bridges the external network of gateway port %s: "
                    "it gets no Gateway_Chassis (check ovn-bridge-mappings)", lrp[len(LRP_PREFIX):])

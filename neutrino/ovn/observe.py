"""Observe stage of the NB sync: the NB rows neutrino may own, as the IDL holds them.

One job: copy rows out of the NB IDL replica into plain values, under the
connection lock, refusing a replica that is not complete (``IdlNotReady``).

* :func:`read_nb` takes an ovsdbapp NB API and a ``load.Scope`` (or None
  with extra LSP/LRP names, for an audit) and returns an ``Observed``: per
  table, ``{name or key: Found}`` (names unique in NB: LSPs, LRPs, gateway
  chassis) or ``{name or key: [Found, ...]}`` (duplicates possible, the one to
  keep first). A ``Found`` is the row's UUID, its content as the row type of
  ``ovn.desired`` / ``ovn.security_groups`` (so it compares with a desired
  row) and, for a child row, its parent's UUID.
* ``LS``, ``LSP``, ``DHCP``, ``LR``, ``LRP``, ``GWC``, ``ROUTE``, ``NAT``,
  ``PG``, ``ACL``, ``DNS``: the names of the NB tables neutrino owns rows in.

Only rows marked as Neutron marks them are read (see ``ovn.desired``); any
LSP on a ``neutron-`` switch and anything on a ``neutron-`` router (LRPs and
their Gateway_Chassis, static routes, NATs) is owned, so a row added there by
hand is read too (and a repair removes it). A DHCP row with ``port_id`` besides
``subnet_id`` is a port's own (extra DHCP options), keyed ``<subnet>/<port>``
(``ovn.port_dhcp``); a DNS row is owned when its ``external_ids:ls_name`` names a
``neutron-`` switch, keyed by that name (``ovn.dns``), and a switch's
``dns_records`` are read as those keys. A port group named ``pg_*``
marked with its group id, and ``neutron_pg_drop``, is owned with all its ACLs
(``ovn.security_groups``); an LSP's memberships in owned port groups are read
as its ``port_groups``. An address set named ``ag_*`` marked with its address
group's id is owned (``ovn.address_groups``), and so is a ``Load_Balancer`` whose
``neutron:device_owner`` is ``port_forwarding_plugin`` (``ovn.port_forwarding``).

Source: the in-memory NB replica of ``ovn.idl`` (``api.idl``, read through
the ``name`` indexes and, for a scope, the DHCP, DNS and QoS indexes of
``ovn.nb_index``: a round reads its own rows, not whole tables); ownership as ``ovn.desired`` and
``ovn.security_groups`` define it. Writes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ovsdbapp.backend.ovs_idl import idlutils

from neutrino.ovn import address_groups as ag
from neutrino.ovn import idl as ovn_idl
from neutrino.ovn import nb_index
from neutrino.ovn.address_groups import AddressSet
from neutrino.ovn import port_forwarding as pf
from neutrino.ovn.rows import (EXT_NETWORK_NAME, EXT_PORT_ID, EXT_SUBNET_ID, PROVNET_PREFIX,
                               ROUTER_PREFIX, SWITCH_PREFIX, DhcpOptions, GatewayChassis,
                               LogicalRouter, LogicalRouterPort, LogicalSwitch,
                               LogicalSwitchPort, Nat, RouterPolicy, StaticRoute)
from neutrino.ovn.dns import EXT_LS_NAME, Dns
from neutrino.ovn.port_dhcp import port_key
from neutrino.ovn.load import Scope
from neutrino.ovn.network_log import Meter, is_owned_meter
from neutrino.ovn import qos as ovn_qos
from neutrino.ovn.security_groups import Acl, PortGroup, is_owned

# The NB tables neutrino owns rows in (a ``plan.Change``'s ``table``).
LS, LSP, DHCP = LogicalSwitch.TABLE, LogicalSwitchPort.TABLE, DhcpOptions.TABLE
LR, LRP, GWC = LogicalRouter.TABLE, LogicalRouterPort.TABLE, GatewayChassis.TABLE
ROUTE, NAT, POLICY = StaticRoute.TABLE, Nat.TABLE, RouterPolicy.TABLE
PG, ACL = PortGroup.TABLE, Acl.TABLE
DNS = Dns.TABLE
AS = AddressSet.TABLE
METER = Meter.TABLE
LB = pf.LoadBalancer.TABLE
QOS = ovn_qos.QoS.TABLE


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
    router_policies: Mapping[str, list[Found]] = field(default_factory=dict)  # by key
    gateway_chassis: Mapping[str, Found] = field(default_factory=dict)
    port_groups: Mapping[str, list[Found]] = field(default_factory=dict)
    acls: Mapping[str, list[Found]] = field(default_factory=dict)  # by ``Acl.key``
    dns: Mapping[str, list[Found]] = field(default_factory=dict)  # by ``ls_name``
    address_sets: Mapping[str, list[Found]] = field(default_factory=dict)  # by name
    # logging meters by name (``ovn.network_log``); ``parent_uuid``: its Meter_Band
    meters: Mapping[str, list[Found]] = field(default_factory=dict)
    load_balancers: Mapping[str, list[Found]] = field(default_factory=dict)  # by name
    qos: Mapping[str, list[Found]] = field(default_factory=dict)  # by ``QoS.key``


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


def in_scope(scope: Scope, match: str) -> bool:
    """A QoS row (by its match) is a scope's: it names one of its ports or router ports."""
    port = ovn_qos.subject_port(match)
    return port in scope.ports or f"lrp-{port}" in scope.router_ports


class _Reader:
    """One consistent read of the IDL (the caller holds the connection lock)."""

    def __init__(self, idl: Any) -> None:
        self.idl = idl
        self.tables = idl.tables
        self._switch_of: dict[uuid.UUID, Any] = {}  # LSP uuid -> LS row
        self._scanned = False
        self._router_of: dict[uuid.UUID, Any] | None = None  # LRP uuid -> LR row, on demand
        self._member_of: dict[uuid.UUID, list[str]] | None = None  # LSP uuid -> owned PGs
        self._owned_groups: list[Any] | None = None  # owned PG rows (a scoped read)
        self._scoped = False
        self._dhcp_owners_read: set[str] = set()  # DHCP rows referenced out of the scope

    def read(self, scope: Scope | None, port_names: Iterable[str],
             router_port_names: Iterable[str] = ()) -> Observed:
        # a scope reads its own DHCP and DNS rows through indexes, not the whole tables
        self._scoped = scope is not None
        dhcp = self._dhcp_options(None if scope is None else scope.subnets | scope.ports)
        self.dhcp_subnet = {found[0].uuid: sid for sid, found in dhcp.items()}
        dns = self._dns(None if scope is None else scope.switches)
        self.dns_key = {f.uuid: name for name, found in dns.items() for f in found}
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
                ls.name, dict(ls.external_ids), dict(ls.other_config),
                tuple(self._dns_ref(d) for d in ls.dns_records))))
        for found in switches.values():  # keep the fullest duplicate
            found.sort(key=lambda f: (-len(members[f.uuid]), str(f.uuid)))
        ports = {r.name: self._lsp(r) for r in lsp_rows.values()}
        return Observed(switches=dict(switches), ports=ports, dhcp_options=dhcp, dns=dns,
                        address_sets=self._address_sets(scope), meters=self._meters(),
                        load_balancers=self._load_balancers(scope), qos=self._qos(scope),
                        **self._routing(scope, router_port_names), **self._port_groups(scope))

    def _address_sets(self, scope: Scope | None) -> dict[str, list[Found]]:
        """Owned address sets (all, or those of the scope) by name."""
        if scope is None:
            rows = self.tables[AS].rows.values()
        else:
            rows = [r for name in sorted(scope.address_sets) for r in self._by_name(AS, name)]
        found: dict[str, list[Found]] = defaultdict(list)
        for r in rows:
            if ag.is_owned(r.name, r.external_ids):
                found[r.name].append(Found(r.uuid, AddressSet(
                    r.name, tuple(r.addresses), dict(r.external_ids))))
        return dict(found)

    def _meters(self) -> dict[str, list[Found]]:
        """Owned logging meters (always all: they follow every log) with their band."""
        found: dict[str, list[Found]] = defaultdict(list)
        for r in self.tables.get(METER, _NO_TABLE).rows.values():
            if is_owned_meter(r.name, r.external_ids) and r.bands:
                band = r.bands[0]
                found[r.name].append(Found(r.uuid, Meter(
                    r.name, band.rate, band.burst_size, r.unit, bool(_first(r.fair)),
                    dict(r.external_ids)), band.uuid))
        return dict(found)

    def _load_balancers(self, scope: Scope | None) -> dict[str, list[Found]]:
        """Port forwarding balancers (``ovn.port_forwarding.is_owned``): all, or
        those of the scope's routers (by ``neutron:router_name`` or by being in
        their ``load_balancer``), each with the owned router and switches holding it."""
        if scope is not None and not scope.routers:
            return {}  # a scope's balancers are its routers'
        held: dict[uuid.UUID, str] = {}
        for lr in self.tables[LR].rows.values():
            if lr.name.startswith(ROUTER_PREFIX):
                held.update((b.uuid, lr.name) for b in lr.load_balancer)
        on_switches: dict[uuid.UUID, list[str]] = defaultdict(list)
        for ls in self.tables[LS].rows.values():
            if ls.name.startswith(SWITCH_PREFIX):
                for b in ls.load_balancer:
                    on_switches[b.uuid].append(ls.name)
        found: dict[str, list[Found]] = defaultdict(list)
        for r in self.tables[LB].rows.values():
            ext = dict(r.external_ids)
            router = held.get(r.uuid, "")
            if not pf.is_owned(ext) or (scope is not None and router not in scope.routers
                                        and ext.get(pf.EXT_ROUTER_NAME) not in scope.routers):
                continue
            found[r.name].append(Found(r.uuid, pf.LoadBalancer(
                r.name, r.protocol[0] if r.protocol else "", dict(r.vips), ext, router,
                tuple(sorted(on_switches.get(r.uuid, ()))))))
        for rows in found.values():
            rows.sort(key=lambda f: str(f.uuid))
        return dict(found)

    def _qos(self, scope: Scope | None) -> dict[str, list[Found]]:
        """Owned QoS rows on ``neutron-`` switches (a scope: those naming its ports or
        router ports, ``ovn.qos.subject_port``) by key."""
        if scope is not None:
            return self._scoped_qos(scope)
        found: dict[str, list[Found]] = defaultdict(list)
        for ls in self.tables[LS].rows.values():
            if not ls.name.startswith(SWITCH_PREFIX):
                continue
            for r in ls.qos_rules:
                ext = dict(r.external_ids)
                if not ovn_qos.is_owned(ext) or (
                        scope is not None and not in_scope(scope, r.match)):
                    continue
                row = ovn_qos.QoS(ls.name, r.direction, r.priority, r.match, dict(r.action),
                                  dict(r.bandwidth), ext)
                found[row.key].append(Found(r.uuid, row, ls.uuid))
        return dict(found)

    def _scoped_qos(self, scope: Scope) -> dict[str, list[Found]]:
        """``_qos`` of a scope: the QoS rows naming its ports (``nb_index.QOS_PORT``),
        each with the owned switch holding it: the scope's switches and the switch of
        the LSP the row names are looked at first, every switch only if needed."""
        subjects = scope.ports | {n[len("lrp-"):] for n in scope.router_ports}
        rows = {r.uuid: r for p in sorted(subjects)
                for r in nb_index.rows(self.idl, nb_index.QOS_PORT, p)}
        if not rows:
            return {}
        candidates = [ls for name in sorted(scope.switches) for ls in self._by_name(LS, name)]
        for r in rows.values():
            for lsp in self._by_name(LSP, ovn_qos.subject_port(r.match)):
                if (ls := self._switch(lsp)) is not None:
                    candidates.append(ls)
        parent: dict[uuid.UUID, Any] = {}
        for ls in candidates:
            parent.update((u, ls) for u in rows if u not in parent
                          and nb_index.holds(ls, "qos_rules", u))
        if len(parent) < len(rows):
            for ls in self.tables[LS].rows.values():
                parent.update((u, ls) for u in rows if u not in parent
                              and nb_index.holds(ls, "qos_rules", u))
        found: dict[str, list[Found]] = defaultdict(list)
        for u, r in sorted(rows.items(), key=lambda item: str(item[0])):
            ls = parent.get(u)
            if ls is None or not ls.name.startswith(SWITCH_PREFIX):
                continue
            ext = dict(r.external_ids)
            if not ovn_qos.is_owned(ext) or not in_scope(scope, r.match):
                continue
            row = ovn_qos.QoS(ls.name, r.direction, r.priority, r.match, dict(r.action),
                              dict(r.bandwidth), ext)
            found[row.key].append(Found(r.uuid, row, ls.uuid))
        return dict(found)

    def _dns(self, names: Iterable[str] | None = None) -> dict[str, list[Found]]:
        """Owned DNS rows by ``ls_name`` (duplicates: the one with most records first):
        all, or those of the switches ``names`` (``nb_index.DNS_SWITCH``)."""
        found: dict[str, list[Found]] = defaultdict(list)
        if names is None:
            rows = self.tables[DNS].rows.values()
        else:
            rows = [r for n in sorted(names)
                    for r in nb_index.rows(self.idl, nb_index.DNS_SWITCH, n)]
        for r in rows:
            name = r.external_ids.get(EXT_LS_NAME, "")
            if name.startswith(SWITCH_PREFIX):
                found[name].append(Found(r.uuid, Dns(name, dict(r.records),
                                                     dict(r.external_ids))))
        for rows in found.values():
            rows.sort(key=lambda f: (-len(f.row.records), str(f.uuid)))
        return dict(found)

    def _port_groups(self, scope: Scope | None) -> dict[str, Any]:
        """Owned port groups (all, or those of the scope) and their ACLs."""
        if scope is None:
            rows = [r for r in self.tables[PG].rows.values() if is_owned(r.name, r.external_ids)]
        else:
            rows = [r for name in sorted(scope.port_groups | scope.member_groups)
                    for r in self._by_name(PG, name) if is_owned(r.name, r.external_ids)]
        groups, acls = {}, defaultdict(list)
        for pg in rows:
            groups[pg.name] = [Found(pg.uuid, PortGroup(pg.name, dict(pg.external_ids)))]
            if scope is not None and pg.name not in scope.port_groups:
                continue  # a member group (``Scope.member_groups``): its ACLs are not read
            for a in pg.acls:
                acl = Acl(pg.name, a.direction, a.priority, a.match, a.action,
                          dict(a.external_ids), bool(a.log), _first(a.name),
                          _first(a.severity), _first(a.meter))
                acls[acl.key].append(Found(a.uuid, acl, pg.uuid))
        for found in acls.values():
            found.sort(key=lambda f: str(f.uuid))
        return {"port_groups": groups, "acls": dict(acls)}

    def _dns_ref(self, row: Any) -> str:
        """How a switch's ``dns_records`` entry reads: the owned DNS row's switch name,
        else ``uuid:<uuid>``."""
        if row.uuid not in self.dns_key and self._scoped:  # a row of a switch out of scope
            name = row.external_ids.get(EXT_LS_NAME, "")
            if name.startswith(SWITCH_PREFIX):
                self.dns_key.update((f.uuid, name) for f in self._dns([name]).get(name, ()))
        return self.dns_key.get(row.uuid, f"uuid:{row.uuid}")

    def _groups_of(self, lsp: Any) -> tuple[str, ...]:
        if self._scoped:  # a few LSPs: ask each owned group, no conversion of its ports
            if self._owned_groups is None:
                self._owned_groups = [pg for pg in self.tables[PG].rows.values()
                                      if is_owned(pg.name, pg.external_ids)]
            return tuple(sorted(pg.name for pg in self._owned_groups
                                if nb_index.holds(pg, "ports", lsp.uuid)))
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
        routers, routes, nats, policies = {}, defaultdict(list), defaultdict(list), defaultdict(list)
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
                route = StaticRoute(name, r.ip_prefix, r.nexthop, dict(r.external_ids),
                                    r.output_port[0] if r.output_port else "", bool(r.bfd))
                routes[route.key].append(Found(r.uuid, route, kept.uuid))
            for r in kept.nat:
                nat = Nat(name, r.type, r.external_ip, r.logical_ip,
                          r.logical_port[0] if r.logical_port else "",
                          r.external_mac[0] if r.external_mac else "", dict(r.external_ids))
                nats[nat.key].append(Found(r.uuid, nat, kept.uuid))
            for r in kept.policies:
                policy = RouterPolicy(name, r.priority, r.match, r.action, tuple(r.nexthops),
                                      dict(r.external_ids))
                policies[policy.key].append(Found(r.uuid, policy, kept.uuid))
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
        for found in (*routes.values(), *nats.values(), *policies.values()):
            found.sort(key=lambda f: str(f.uuid))
        return {"routers": routers, "router_ports": router_ports, "static_routes": dict(routes),
                "nats": dict(nats), "router_policies": dict(policies),
                "gateway_chassis": gateway_chassis}

    def _router(self, lrp: Any) -> Any:
        if self._router_of is None:
            self._router_of = {p.uuid: lr for lr in self.tables[LR].rows.values()
                               for p in lr.ports}
        return self._router_of.get(lrp.uuid)

    def _by_name(self, table: str, name: str) -> list[Any]:
        return list(idlutils.rows_by_value(self.idl, table, "name", name))  # by index

    def _dhcp_options(self, owners: Iterable[str] | None = None) -> dict[str, list[Found]]:
        """Owned DHCP rows by key: all, or those of the subnets and ports ``owners``
        (ids; ``nb_index.DHCP_OWNER``)."""
        found: dict[str, list[Found]] = defaultdict(list)
        if owners is None:
            rows = self.tables[DHCP].rows.values()
        else:
            rows = [r for o in sorted(owners)
                    for r in nb_index.rows(self.idl, nb_index.DHCP_OWNER, o)]
        for r in rows:
            ext = dict(r.external_ids)
            if EXT_SUBNET_ID in ext:
                key = (port_key(ext[EXT_SUBNET_ID], ext[EXT_PORT_ID]) if ext.get(EXT_PORT_ID)
                       else ext[EXT_SUBNET_ID])
                found[key].append(Found(r.uuid, DhcpOptions(
                    ext[EXT_SUBNET_ID], r.cidr, dict(r.options), ext)))
        for rows in found.values():
            rows.sort(key=lambda f: str(f.uuid))
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
            parent_name=r.parent_name[0] if r.parent_name else None,
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
        """How an LSP's DHCP reference reads: the key of the owned row it names when
        that row is the one kept of its key, else ``uuid:<uuid>``."""
        if not rows:
            return None
        row = rows[0]
        if row.uuid not in self.dhcp_subnet and self._scoped:  # a row out of the scope
            ext = row.external_ids
            owner = ext.get(EXT_PORT_ID) or ext.get(EXT_SUBNET_ID)
            if owner and owner not in self._dhcp_owners_read:
                self._dhcp_owners_read.add(owner)
                more = self._dhcp_options([owner])
                self.dhcp_subnet.update((found[0].uuid, key) for key, found in more.items())
        return self.dhcp_subnet.get(row.uuid, f"uuid:{row.uuid}")


class _NoTable:
    rows: dict = {}


_NO_TABLE = _NoTable()


def _first(value: Any) -> Any:
    """An optional (0..1) column's value: "" when empty (``fair``: its bool)."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else ""
    return value

"""Plan stage of the NB sync: the pure diff of desired against observed NB rows.

One job: compute, without any I/O, the changes that make the observed rows
equal the desired ones.

* :func:`plan` takes a ``desired.Desired`` (from ``ovn.load``), an
  ``observe.Observed`` (from ``ovn.observe``) and optionally a ``load.Scope``
  (None: every row, an audit) and returns a deterministic ``list[Change]``:
  per row one ``ADD`` (the desired row), ``SET`` (the desired row, the
  differing ``columns``, the NB row's UUID) or ``DEL`` (the NB row's UUID),
  child rows with their parent's UUID.
* :func:`differing` names the compared columns (``COLUMNS``) in which two
  rows of one table differ.

Sources: its arguments only. Ownership is decided upstream: a row in scope
(or, without a scope, any observed row) that is not desired is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from neutrino.ovn.rows import (EXT_FIP_ID, LRP_PREFIX, PROVNET_PREFIX, ROUTER_PREFIX, Desired,
                               network_id_of)
from neutrino.ovn.load import Scope
from neutrino.ovn.address_groups import EXT_AG_ID
from neutrino.ovn.observe import (ACL, AS, DHCP, DNS, GWC, LB, LR, LRP, LS, LSP, METER, NAT, PG,
                                  POLICY, QOS, ROUTE, Found, Observed, in_scope)
from neutrino.ovn import qos as ovn_qos
from neutrino.ovn.port_forwarding import EXT_FIP_ID as EXT_PF_FIP_ID
from neutrino.ovn.port_dhcp import port_of_key
from neutrino.ovn.security_groups import EXT_SG_RULE_ID, sg_id_of

ADD, SET, DEL = "add", "set", "del"

# Columns compared per table ("switch"/"router"/"port" say where a child row
# lives, they are not columns of it).
COLUMNS = {
    LS: ("external_ids", "other_config", "dns_records"),
    LSP: ("switch", "type", "addresses", "port_security", "enabled", "options", "external_ids",
          "dhcpv4_options", "dhcpv6_options", "tag_request", "parent_name", "port_groups"),
    DHCP: ("cidr", "options", "external_ids"),
    LR: ("enabled", "options", "external_ids"),
    LRP: ("router", "mac", "networks", "external_ids", "ipv6_ra_configs"),
    GWC: ("chassis_name", "priority"),
    ROUTE: ("external_ids", "output_port", "bfd"),
    POLICY: ("action", "nexthops", "external_ids"),
    NAT: ("logical_port", "external_mac", "external_ids"),
    PG: ("external_ids",),
    ACL: ("action", "external_ids", "log", "name", "severity", "meter"),
    DNS: ("records", "external_ids"),
    AS: ("addresses", "external_ids"),
    METER: ("rate", "burst_size", "unit", "fair", "external_ids"),
    LB: ("router", "protocol", "vips", "external_ids", "switches"),
    QOS: ("action", "bandwidth", "external_ids"),
}


@dataclass(frozen=True)
class Change:
    """One row to add, set (the differing ``columns``) or delete."""

    action: str
    table: str
    key: str  # a name, a DHCP key (subnet id, or <subnet id>/<port id>), a route's/NAT's key
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
            port = port_of_key(self.key)
            return f"port {port}" if port else f"subnet {self.key}"
        if self.table == DNS:
            return f"network {network_id_of(self.key)}"
        if self.table == QOS:
            return ovn_qos.owner(row.external_ids)
        if self.table == AS:
            return f"address_group {row.external_ids[EXT_AG_ID]}"
        if self.table == METER:
            return "network logs (all)"
        if self.table == LB:
            return f"floatingip {row.external_ids[EXT_PF_FIP_ID]} (port forwardings)"
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


def plan(desired: Desired, observed: Observed, scope: Scope | None = None) -> list[Change]:
    """The changes that make ``observed`` equal ``desired``.

    With a scope only its rows are considered (see ``Scope``); without one,
    every observed and desired row (an audit). Deterministic order: switches,
    their DNS rows, DHCP rows, ports, then routers, router ports, gateway chassis,
    routes, NATs. A port's own DHCP rows are in a scope with the port.
    """
    changes: list[Change] = []
    everything = scope is None
    switch_names = desired.switches.keys() | observed.switches.keys() if everything \
        else scope.switches
    for name in sorted(switch_names):
        changes += _plan_rows(LS, name, desired.switches.get(name), observed.switches.get(name, []))
    dns_names = desired.dns.keys() | observed.dns.keys() if everything else scope.switches
    for name in sorted(dns_names):
        changes += _plan_rows(DNS, name, desired.dns.get(name), observed.dns.get(name, []))
    subnet_ids = desired.dhcp_options.keys() | observed.dhcp_options.keys() if everything \
        else scope.subnets | {k for k in desired.dhcp_options.keys() | observed.dhcp_options.keys()
                              if port_of_key(k) in scope.ports}
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
        desired, observed, scope) + _plan_address_sets(desired, observed, scope) + \
        _plan_load_balancers(desired, observed, scope) + _plan_qos(desired, observed, scope, keep) + \
        _plan_meters(getattr(desired, "meters", {}), getattr(observed, "meters", {}))


def _plan_meters(desired: Mapping[str, Any], observed: Mapping[str, list[Found]]) -> list[Change]:
    """The logging meters (``ovn.network_log``): always all of them, whatever the scope."""
    return [c for name in sorted(desired.keys() | observed.keys())
            for c in _plan_rows(METER, name, desired.get(name), observed.get(name, []))]


def _plan_load_balancers(desired: Desired, observed: Observed,
                         scope: Scope | None) -> list[Change]:
    """Port forwarding balancers by name: those of the scope's routers (all
    without a scope); a SET naming ``router`` moves the balancer."""
    names = desired.load_balancers.keys() | observed.load_balancers.keys()
    if scope is not None:
        names = {n for n in names if n in observed.load_balancers
                 or desired.load_balancers[n].router in scope.routers}
    changes: list[Change] = []
    for name in sorted(names):
        changes += _plan_rows(LB, name, desired.load_balancers.get(name),
                              observed.load_balancers.get(name, []))
    return changes


def _plan_qos(desired: Desired, observed: Observed, scope: Scope | None,
              keep: Mapping[str, uuid.UUID]) -> list[Change]:
    """QoS rows by key (``ovn.qos``; a scope: those naming its ports or router ports).
    A row on a switch other than the kept one goes, and is added to the kept one."""
    def mine(row: Any) -> bool:
        return scope is None or in_scope(scope, row.match)
    keys = ({k for k, r in desired.qos.items() if mine(r)}
            | {k for k, f in observed.qos.items() if f and mine(f[0].row)})
    changes: list[Change] = []
    for key in sorted(keys):
        have = observed.qos.get(key, [])
        # a switch out of the load's scope (a gateway's external network) is not observed:
        # its rows stay where they are
        found = [f for f in have if f.parent_uuid == keep.get(f.row.switch, f.parent_uuid)]
        changes += _plan_rows(QOS, key, desired.qos.get(key), found)
        changes += [Change(DEL, QOS, key, uuid=f.uuid, parent_uuid=f.parent_uuid)
                    for f in have if f not in found]
    return changes


def _plan_address_sets(desired: Desired, observed: Observed, scope: Scope | None) -> list[Change]:
    """Address groups' address sets, by name (a SET rewrites ``addresses`` in place)."""
    names = desired.address_sets.keys() | observed.address_sets.keys() if scope is None \
        else scope.address_sets
    changes: list[Change] = []
    for name in sorted(names):
        changes += _plan_rows(AS, name, desired.address_sets.get(name),
                              observed.address_sets.get(name, []))
    return changes


def _plan_port_groups(desired: Desired, observed: Observed, scope: Scope | None) -> list[Change]:
    """Port groups and their ACLs (memberships are the LSPs' ``port_groups``); a
    scope's member groups (``Scope.member_groups``) get their ACLs only when missing."""
    if scope is None:
        names = acl_names = desired.port_groups.keys() | observed.port_groups.keys()
    else:
        names = scope.port_groups | scope.member_groups
        acl_names = scope.port_groups | {n for n in scope.member_groups
                                         if not observed.port_groups.get(n)}
    changes: list[Change] = []
    for name in sorted(names):
        changes += _plan_rows(PG, name, desired.port_groups.get(name),
                              observed.port_groups.get(name, []))
    keys = ({k for k, a in desired.acls.items() if a.port_group in acl_names}
            | {k for k, f in observed.acls.items() if f and f[0].row.port_group in acl_names})
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
                                        (NAT, desired.nats, observed.nats),
                                        (POLICY, desired.router_policies,
                                         observed.router_policies)):
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

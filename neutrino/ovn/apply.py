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
``ovn.desired``); any LSP on a ``neutron-`` switch is owned, so a port added
there by hand is extra and removed by a repair.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ovsdbapp.backend.ovs_idl import idlutils
from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import IPAllocation, Network, Port, Subnet
from neutrino.ovn import idl as ovn_idl
from neutrino.ovn.commands import DbReplaceCommand
from neutrino.ovn.desired import (EXT_NETWORK_NAME, EXT_PORT_ID, EXT_SUBNET_ID, SWITCH_PREFIX,
                                  Desired, DhcpOptions, LogicalSwitch, LogicalSwitchPort,
                                  desired_state, network_id_of, switch_name)

LOG = logging.getLogger(__name__)

RESOURCE_TYPES = ("network", "subnet", "port")
ADD, SET, DEL = "add", "set", "del"
_CHUNK = 500  # ids per IN list: far below every database's bound-parameter limit

LS, LSP, DHCP = LogicalSwitch.TABLE, LogicalSwitchPort.TABLE, DhcpOptions.TABLE
# Columns compared per table ("switch" is where an LSP lives, not a column).
COLUMNS = {
    LS: ("external_ids", "other_config"),
    LSP: ("switch", "type", "addresses", "port_security", "enabled", "options", "external_ids",
          "dhcpv4_options", "dhcpv6_options"),
    DHCP: ("cidr", "options", "external_ids"),
}


@dataclass(frozen=True)
class Scope:
    """Rows a load is authoritative for: switch names, LSP names, subnet ids.
    A row in scope that is not desired is deleted."""

    switches: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    subnets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Found:
    """An NB row as read: its UUID, its content, and for an LSP its switch."""

    uuid: uuid.UUID
    row: Any
    switch_uuid: uuid.UUID | None = None


@dataclass(frozen=True)
class Observed:
    """NB rows neutrino may own. Lists hold duplicates, the one to keep first."""

    switches: Mapping[str, list[Found]] = field(default_factory=dict)
    ports: Mapping[str, Found] = field(default_factory=dict)
    dhcp_options: Mapping[str, list[Found]] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One row to add, set (the differing ``columns``) or delete."""

    action: str
    table: str
    key: str  # switch name, LSP name or subnet id
    row: Any = None  # the desired row (add, set)
    columns: tuple[str, ...] = ()
    uuid: uuid.UUID | None = None  # the NB row (set, del)
    switch_uuid: uuid.UUID | None = None  # LSP set/del: the switch holding it

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
        if self.table == LS:
            return f"network {network_id_of(self.key)}"
        return f"{'port' if self.table == LSP else 'subnet'} {self.key}"


# --- database -------------------------------------------------------------------

def load_resources(session: Session, resources: Iterable[tuple[str, str]], *, base_mac: str,
                   lease_time: int) -> tuple[Scope, Desired]:
    """Desired rows for outbox entries ``(resource_type, resource_id)`` and their scope.

    A network brings its switch and its subnets' DHCP rows; a subnet its DHCP
    row and the ports holding addresses in it (their DHCP references change);
    a port its LSP, its switch and its subnets' DHCP rows. Unknown resource
    types are ignored. Absent resources are in scope but not desired: deleted.
    """
    _one_snapshot(session)
    wanted: dict[str, set[str]] = {t: set() for t in RESOURCE_TYPES}
    for rtype, rid in resources:
        if rtype in wanted:
            wanted[rtype].add(rid)
    port_ids = wanted["port"] | set(_in(session, lambda c: select(IPAllocation.port_id).where(
        IPAllocation.subnet_id.in_(c)), wanted["subnet"]))
    ports = _in(session, lambda c: select(Port.__table__).where(Port.id.in_(c)), port_ids)
    net_ids = wanted["network"] | {p.network_id for p in ports} | set(_in(
        session, lambda c: select(Subnet.network_id).where(Subnet.id.in_(c)), wanted["subnet"]))
    networks = _in(session, lambda c: select(Network.__table__).where(Network.id.in_(c)), net_ids)
    subnets = _in(session, lambda c: select(Subnet.__table__).where(Subnet.network_id.in_(c)),
                  net_ids)
    allocations = _in(session, lambda c: select(
        IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address)
        .where(IPAllocation.port_id.in_(c)), [p.id for p in ports])
    scope = Scope(switches=frozenset(map(switch_name, net_ids)), ports=frozenset(port_ids),
                  subnets=frozenset(wanted["subnet"] | {s.id for s in subnets}))
    return scope, desired_state(networks, subnets, ports, allocations, base_mac=base_mac,
                                lease_time=lease_time)


def load_all(session: Session, *, base_mac: str, lease_time: int) -> Desired:
    """Desired rows for the whole database."""
    _one_snapshot(session)
    return desired_state(
        session.execute(select(Network.__table__)).all(),
        session.execute(select(Subnet.__table__)).all(),
        session.execute(select(Port.__table__)).all(),
        session.execute(select(IPAllocation.port_id, IPAllocation.subnet_id,
                               IPAllocation.ip_address)).all(),
        base_mac=base_mac, lease_time=lease_time)


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

def read_nb(api: Any, scope: Scope | None = None, port_names: Iterable[str] = ()) -> Observed:
    """Copy the NB rows neutrino may own out of the IDL.

    ``scope`` None reads every owned row (switches named ``neutron-*``, every
    LSP on them, DHCP rows with ``external_ids:subnet_id``) plus the LSPs named
    in ``port_names`` wherever they are; a scope reads only its rows. Raises
    IdlNotReady unless the IDL is connected with a complete copy.
    """
    with api.ovsdb_connection.lock:
        if not ovn_idl.is_ready(api):
            raise ovn_idl.IdlNotReady("the NB IDL is not connected with a complete copy")
        return _Reader(api.idl).read(scope, port_names)


class _Reader:
    """One consistent read of the IDL (the caller holds the connection lock)."""

    def __init__(self, idl: Any) -> None:
        self.idl = idl
        self.tables = idl.tables
        self._switch_of: dict[uuid.UUID, Any] = {}  # LSP uuid -> LS row
        self._scanned = False

    def read(self, scope: Scope | None, port_names: Iterable[str]) -> Observed:
        dhcp = self._dhcp_options()
        self.dhcp_subnet = {found[0].uuid: sid for sid, found in dhcp.items()}
        if scope is None:
            ls_rows = [r for r in self.tables[LS].rows.values() if r.name.startswith(SWITCH_PREFIX)]
        else:
            ls_rows = [r for name in sorted(scope.switches) for r in self._by_name(LS, name)]
        members = {ls.uuid: ls.ports for ls in ls_rows}
        for ls in ls_rows:
            self._switch_of.update((p.uuid, ls) for p in members[ls.uuid])
        lsp_rows = {p.uuid: p for ls in ls_rows for p in members[ls.uuid]} if scope is None else {}
        for name in set(port_names) | (scope.ports if scope is not None else set()):
            lsp_rows.update((r.uuid, r) for r in self._by_name(LSP, name))
        switches: dict[str, list[Found]] = defaultdict(list)
        for ls in ls_rows:
            switches[ls.name].append(Found(ls.uuid, LogicalSwitch(
                ls.name, dict(ls.external_ids), dict(ls.other_config))))
        for found in switches.values():  # keep the fullest duplicate
            found.sort(key=lambda f: (-len(members[f.uuid]), str(f.uuid)))
        ports = {r.name: self._lsp(r) for r in lsp_rows.values()}
        return Observed(switches=dict(switches), ports=ports, dhcp_options=dhcp)

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
            dhcpv6_options=self._dhcp_ref(r.dhcpv6_options)),
            switch_uuid=ls.uuid if ls is not None else None)

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

    With a scope only its rows are considered; without one, every observed and
    desired row (an audit). Deterministic order: switches, DHCP rows, ports.
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
    port_names = desired.ports.keys() | observed.ports.keys() if everything else scope.ports
    for name in sorted(port_names):
        want, have = desired.ports.get(name), observed.ports.get(name)
        if have is None:
            if want is not None:
                changes.append(Change(ADD, LSP, name, row=want))
        elif want is None:
            changes.append(Change(DEL, LSP, name, uuid=have.uuid, switch_uuid=have.switch_uuid))
        else:
            cols = differing(want, have.row)
            if have.switch_uuid is None or have.switch_uuid != keep.get(want.switch):
                cols = ("switch",) + tuple(c for c in cols if c != "switch")
            if cols:
                changes.append(Change(SET, LSP, name, row=want, columns=cols, uuid=have.uuid,
                                      switch_uuid=have.switch_uuid))
    return changes


def _plan_rows(table: str, key: str, want: Any, have: list[Found]) -> list[Change]:
    changes = []
    if want is not None and not have:
        changes.append(Change(ADD, table, key, row=want))
    elif want is not None:
        cols = differing(want, have[0].row)
        if cols:
            changes.append(Change(SET, table, key, row=want, columns=cols, uuid=have[0].uuid))
    extra = have[1:] if want is not None else have
    return changes + [Change(DEL, table, key, uuid=f.uuid) for f in extra]


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
    DHCP rows and switches first (new ports refer to them), then ports, then
    switch and DHCP deletions. Ports on a deleted switch go with it."""
    switch_ref: dict[str, Any] = {n: f[0].uuid for n, f in observed.switches.items() if f}
    dhcp_ref: dict[str, Any] = {s: f[0].uuid for s, f in observed.dhcp_options.items() if f}
    dropped = {c.uuid for c in changes if c.table == LS and c.action == DEL}
    cmds: list[Any] = []

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
    for c in of(LSP, DEL):
        if c.switch_uuid not in dropped:
            cmds.append(api.lsp_del(c.uuid, switch=c.switch_uuid, if_exists=True))
    for c in of(LSP, SET):
        if "switch" in c.columns:  # moved: a port lives on exactly one switch
            if c.switch_uuid is not None:
                cmds.append(api.lsp_del(c.uuid, switch=c.switch_uuid, if_exists=True))
            cmds.append(_lsp_add(api, c.row, switch_ref, dhcp_ref))
        else:
            cols = {k: _lsp_value(c.row, k, dhcp_ref) for k in c.columns}
            cmds.append(DbReplaceCommand(api, LSP, c.uuid, **cols))
    for c in of(LSP, ADD):
        cmds.append(_lsp_add(api, c.row, switch_ref, dhcp_ref))
    for c in of(LS, DEL):
        cmds.append(api.ls_del(c.uuid, if_exists=True))
    for c in of(DHCP, DEL):
        cmds.append(api.dhcp_options_del(c.uuid))
    return cmds


def _lsp_add(api: Any, lsp: LogicalSwitchPort, switch_ref: Mapping[str, Any],
             dhcp_ref: Mapping[str, Any]) -> Any:
    if lsp.switch not in switch_ref:
        raise LookupError(f"switch {lsp.switch} of port {lsp.name} is neither in NB nor added")
    cols = {k: _lsp_value(lsp, k, dhcp_ref) for k in COLUMNS[LSP] if k != "switch"}
    return api.lsp_add(switch_ref[lsp.switch], lsp.name, may_exist=True, **cols)


def _lsp_value(lsp: LogicalSwitchPort, column: str, dhcp_ref: Mapping[str, Any]) -> Any:
    value = getattr(lsp, column)
    if column in ("dhcpv4_options", "dhcpv6_options"):
        return [dhcp_ref[value]] if value is not None else []
    return _plain({column: value})[column]


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

def apply_resources(env: Any, api: Any, resources: Iterable[tuple[str, str]]) -> list[Change]:
    """Make the NB rows of ``resources`` (outbox entries) match the database,
    in one NB transaction; return the changes made ([] when already in line)."""
    settings = env.settings
    resources = set(resources)
    scope, desired = env.db.run(lambda s: load_resources(
        s, resources, base_mac=settings.base_mac, lease_time=settings.dhcp_lease_time), write=False)
    observed = read_nb(api, scope)
    changes = plan(desired, observed, scope)
    execute(api, nb_commands(api, changes, observed))
    LOG.debug("%d resource(s): %d NB change(s)", len(resources), len(changes))
    return changes

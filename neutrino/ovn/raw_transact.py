"""A large plan of additions as one OVSDB ``transact`` of raw JSON operations.

One job: encode the ``ADD`` changes of a plan (``ovn.plan``) as RFC 7047 operations
and send them in ONE NB transaction, without ovsdbapp's per-row IDL machinery.

Why. A repair from an empty NB writes every row at once. Through ovsdbapp commands
each row is built in the IDL (python-ovs ``Row.__setattr__`` -> ``Datum.from_python``,
its indexes kept up to date on every write), then encoded again by python-ovs's
``Transaction.commit``: at 10,000 ports that was about half of the repair's time (the
rest is python-ovs parsing the update the server sends back, which any path pays, and
ovsdb-server). Here each desired row becomes one ``insert`` (RFC 7047 5.2.1) whose
columns are the very values the ovsdbapp path sets (``ovn.row_commands``), new rows
refer to each other by ``named-uuid`` (5.1), and children go into their parents with
one ``mutate`` ``insert`` per parent and column (5.2.4; ovn-nb(5) names the column:
a switch's ``ports``, a router's ``ports``/``static_routes``/``nat``/``policies``/
``load_balancer``, a router port's ``gateway_chassis``, a port group's ``ports``/
``acls``, a switch's ``qos_rules``/``load_balancer``). The operations go on the IDL's
own session through python-ovs's ``Transaction.add_op`` inside an ovsdbapp
transaction, so the connection (tcp, ssl, unix, a RAFT cluster's leader), the
timeout, error reporting and the server's ordering of the update before the reply
are the same as for every other NB write. Measured (bench/round.py --resync, 10,000
ports, README "Benchmarks"): 60.4 -> 29.7 s at load 6-7, this process's CPU 7.3-8.1 ->
4.3 s; a separate connection would have saved nothing more (the IDL must parse the
rows either way) and needed its own wait for the IDL to catch up.

* :func:`eligible` -- whether a plan goes this way: at least ``MIN_CHANGES``
  changes, all of them ``ADD`` (a repair from an empty NB). Smaller rounds, and any
  plan that sets or deletes rows, keep the ovsdbapp commands of ``ovn.apply``.
* :class:`RawOpsCommand` -- an ovsdbapp command holding such a plan; it encodes
  (:func:`operations`) and adds the operations when its transaction runs, reading
  the IDL replica there as ovsdbapp commands do (BFD rows to share, switches named
  by a balancer or QoS row outside the plan). Raises ``StalePlan`` instead of
  running twice: ovsdbapp re-runs a transaction that came back "try again" (the
  connection dropped, the leader changed), and the plan must then be made anew
  from the new replica (the caller's retry does).

Sources: RFC 7047 section 5 (``transact`` operations), ovn-nb(5) (columns and
which table holds which child), ovsdbapp's NB commands (what the other path writes:
names, ``DHCP_Options.cidr`` and address sets' prefixes normalised with netaddr,
a meter's ``drop`` band).
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import netaddr
from ovsdbapp.backend.ovs_idl import command as cmd
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.ovn_northbound.commands import normalize_prefixes

from neutrino.ovn import bfd, row_commands
from neutrino.ovn.observe import (ACL, AS, DHCP, DNS, GWC, LB, LR, LRP, LS, LSP, METER, NAT, PG,
                                  POLICY, QOS, ROUTE)
from neutrino.ovn.plan import ADD, COLUMNS, Change

#: The fewest changes that go this way; smaller rounds are latency-bound and keep
#: ovsdbapp's commands (a bulk create of 200 ports is about 400 changes).
MIN_CHANGES = 1000


class StalePlan(RuntimeError):
    """The transaction is being retried: its plan was made against another replica."""


@dataclass(frozen=True)
class Named:
    """A row inserted in this transaction: RFC 7047's ``["named-uuid", name]``."""

    name: str


def eligible(changes: Sequence[Change]) -> bool:
    """True for a plan of at least ``MIN_CHANGES`` changes, all ``ADD``."""
    return len(changes) >= MIN_CHANGES and all(c.action == ADD for c in changes)


class RawOpsCommand(cmd.BaseCommand):
    """The changes of an :func:`eligible` plan as raw operations of the running
    transaction. ``refs`` is ``ovn.apply``'s map of the batch's references (``switch``,
    ``dhcp``, ``router``, ``lrp``, ``pg``, ``lsp``, ``dns``: name -> NB UUID of an
    observed row; ``parent(table)``); this command adds the rows it inserts to it.
    ``weight`` (the changes) sizes the transaction's timeout (``apply.execute``).
    Raises LookupError for a row whose parent is neither in the NB nor added, and
    StalePlan when run a second time."""

    def __init__(self, api: Any, changes: Sequence[Change], refs: Any) -> None:
        super().__init__(api)
        self.changes = changes
        self.refs = refs
        self.weight = len(changes)
        self._ran = False

    def run_idl(self, txn: Any) -> None:
        if self._ran:
            raise StalePlan("the NB transaction of a raw plan is retried: plan again")
        self._ran = True
        for op in operations(self.api, self.changes, self.refs):
            txn.add_op(op)


def operations(api: Any, changes: Sequence[Change], refs: Any) -> list[dict[str, Any]]:
    """RFC 7047 operations inserting the rows of ``changes`` (all ``ADD``): every
    insert (tables in the order of ``_ORDER``, changes in plan order), then one
    mutate per parent row adding the children to its columns. Reads the IDL replica of ``api`` (call it where the
    connection lock is held: inside a transaction)."""
    enc = _Encoder(api, refs)
    by_table: dict[str, list[Change]] = defaultdict(list)
    for c in changes:
        by_table[c.table].append(c)
    for table in _ORDER:
        for c in by_table.get(table, ()):
            _ADD[table](enc, c)
    return enc.ops + enc.mutations()


class _Encoder:
    """The operations of one transaction as they are built."""

    def __init__(self, api: Any, refs: Any) -> None:
        self.api = api
        self.refs = refs
        self.ops: list[dict[str, Any]] = []
        self._names = (f"row{i}" for i in itertools.count())
        # (parent table, parent ref) -> column -> child refs, in order
        self._children: dict[tuple[str, Any], dict[str, list[Any]]] = {}
        self._bfd: dict[tuple[str, str], Any] | None = None

    def insert(self, table: str, row: Mapping[str, Any]) -> Named:
        """Insert ``row`` (column -> Python value as ovsdbapp takes it); its name."""
        named = Named(next(self._names))
        self.ops.append({"op": "insert", "table": table, "uuid-name": named.name,
                         "row": {k: _datum(v) for k, v in row.items()}})
        return named

    def add_child(self, parent_table: str, parent: Any, column: str, child: Any) -> None:
        """Put ``child`` into ``column`` of ``parent`` (a UUID or a Named row)."""
        self._children.setdefault((parent_table, parent), {}).setdefault(column, []).append(
            child)

    def mutations(self) -> list[dict[str, Any]]:
        return [{"op": "mutate", "table": table, "where": [["_uuid", "==", _atom(parent)]],
                 "mutations": [[column, "insert", _datum(children)]
                               for column, children in columns.items()]}
                for (table, parent), columns in self._children.items()]

    def bfd_row(self, port: str, hop: str) -> Any:
        """The BFD row of (``port``, ``hop``): the NB's, or one inserted here once
        (``ovn.bfd``: one row per port and next hop, shared by the routes naming it)."""
        if self._bfd is None:
            self._bfd = {(r.logical_port, r.dst_ip): r.uuid
                         for r in self.api.tables[bfd.BFD].rows.values()}
        if (port, hop) not in self._bfd:
            self._bfd[port, hop] = self.insert(bfd.BFD, {"logical_port": port, "dst_ip": hop})
        return self._bfd[port, hop]


def _datum(value: Any) -> Any:
    """A Python column value as RFC 7047 5.1 ``<value>``: a dict a ``<map>``, a list a
    ``<set>``, anything else an ``<atom>`` (also valid for a set column of one)."""
    if isinstance(value, Mapping):
        return ["map", [[_atom(k), _atom(v)] for k, v in value.items()]]
    if isinstance(value, (list, tuple)):
        return ["set", [_atom(v) for v in value]]
    return _atom(value)


def _atom(value: Any) -> Any:
    if isinstance(value, Named):
        return ["named-uuid", value.name]
    if isinstance(value, uuid.UUID):
        return ["uuid", str(value)]
    return value


# --- one table's additions: (encoder, change) -> None ---------------------------

def _add_address_set(enc: _Encoder, c: Change) -> None:
    row = {"name": c.key, "external_ids": dict(c.row.external_ids)}
    addresses = normalize_prefixes(c.row.addresses)
    if addresses:
        row["addresses"] = addresses
    enc.insert(AS, row)


def _add_meter(enc: _Encoder, c: Change) -> None:
    m = c.row
    band = enc.insert("Meter_Band", {"action": "drop", "rate": m.rate,
                                     "burst_size": m.burst_size})
    enc.insert(METER, {"name": m.name, "unit": m.unit, "bands": [band], "fair": m.fair,
                       "external_ids": dict(m.external_ids)})


def _add_port_group(enc: _Encoder, c: Change) -> None:
    enc.refs.pg[c.key] = enc.insert(PG, {"name": c.key,
                                         "external_ids": dict(c.row.external_ids)})


def _add_dhcp(enc: _Encoder, c: Change) -> None:
    enc.refs.dhcp[c.key] = enc.insert(DHCP, {
        "cidr": str(netaddr.IPNetwork(c.row.cidr)), "external_ids": dict(c.row.external_ids),
        "options": dict(c.row.options)})


def _add_dns(enc: _Encoder, c: Change) -> None:
    enc.refs.dns[c.key] = enc.insert(DNS, {"records": dict(c.row.records),
                                           "external_ids": dict(c.row.external_ids)})


def _add_switch(enc: _Encoder, c: Change) -> None:
    enc.refs.switch[c.key] = enc.insert(LS, {
        "name": c.key, "external_ids": dict(c.row.external_ids),
        "other_config": dict(c.row.other_config),
        "dns_records": row_commands.dns_refs(c.row, enc.refs.dns)})


def _add_router(enc: _Encoder, c: Change) -> None:
    enc.refs.router[c.key] = enc.insert(LR, {"name": c.key,
                                             **row_commands.values(c.row, COLUMNS[LR])})


def _add_port(enc: _Encoder, c: Change) -> None:
    switch = row_commands.lsp_switch(c.row, enc.refs.switch)
    lsp = enc.insert(LSP, {"name": c.key, **row_commands.lsp_columns(c.row, enc.refs.dhcp)})
    enc.refs.lsp[c.key] = lsp
    enc.add_child(LS, switch, "ports", lsp)
    for pg in sorted(c.row.port_groups):  # as ``apply._memberships`` for a new port
        if pg not in enc.refs.pg:
            raise LookupError(f"port group {pg} of port {c.key} is neither in NB nor added")
        enc.add_child(PG, enc.refs.pg[pg], "ports", lsp)


def _add_child(enc: _Encoder, c: Change) -> None:
    """A router port, gateway chassis, route, NAT, policy or ACL into its parent."""
    parent_table, column, parent = row_commands.child_parent(c.row, enc.refs.parent(c.table))
    row = row_commands.child_columns(c.row)
    if getattr(c.row, "bfd", False):  # as ``bfd.AddRouteWithBfd``
        row["bfd"] = [enc.bfd_row(row["output_port"][0], row["nexthop"])]
    child = enc.insert(c.table, row)
    if c.table == LRP:
        enc.refs.lrp[c.key] = child
    enc.add_child(parent_table, parent, column, child)


def _add_qos(enc: _Encoder, c: Change) -> None:
    """A QoS row into its switch: one of the plan, or one outside it found by name
    (a router gateway's external network), as ``apply._add_qos``."""
    switch = enc.refs.switch.get(c.row.switch)
    if switch is None:
        found = idlutils.row_by_value(enc.api.idl, LS, "name", c.row.switch, None)
        if found is None:
            raise LookupError(f"switch {c.row.switch} of QoS row {c.key} is not in NB")
        switch = found.uuid
    enc.add_child(LS, switch, "qos_rules",
                  enc.insert(QOS, row_commands.child_columns(c.row)))


def _add_load_balancer(enc: _Encoder, c: Change) -> None:
    """A port forwarding balancer into its router's ``load_balancer`` and onto its
    switches by name (those not in the NB are skipped), as ``apply._add_load_balancer``."""
    if c.row.router not in enc.refs.router:
        raise LookupError(f"router {c.row.router} of load balancer {c.key} is neither in NB "
                          "nor added")
    lb = enc.insert(LB, {"name": c.key, **row_commands.lb_columns(c.row, COLUMNS[LB])})
    enc.add_child(LR, enc.refs.router[c.row.router], "load_balancer", lb)
    for name in sorted(c.row.switches):
        for switch in _switches_named(enc, name):
            enc.add_child(LS, switch, "load_balancer", lb)


def _switches_named(enc: _Encoder, name: str) -> list[Any]:
    """The switches named ``name``: the one this plan adds, else those the NB holds
    (as ``commands.NamedRowsRefCommand`` finds them)."""
    added = enc.refs.switch.get(name)
    if isinstance(added, Named):
        return [added]
    return [r.uuid for r in idlutils.rows_by_value(enc.api.idl, LS, "name", name)]


# Tables in the order ``apply._STEPS`` adds them (a row's references come first).
_ORDER = (AS, METER, PG, ACL, DHCP, DNS, LS, LR, LSP, LRP, GWC, ROUTE, NAT, POLICY, QOS, LB)
_ADD = {AS: _add_address_set, METER: _add_meter, PG: _add_port_group, ACL: _add_child,
        DHCP: _add_dhcp, DNS: _add_dns, LS: _add_switch, LR: _add_router, LSP: _add_port,
        LRP: _add_child, GWC: _add_child, ROUTE: _add_child, NAT: _add_child,
        POLICY: _add_child, QOS: _add_qos, LB: _add_load_balancer}

"""Apply stage of the NB sync: NB commands for planned changes, in ONE transaction.

One job: write a plan to the NB. :func:`apply_resources` also runs the whole
step for outbox entries: load (``ovn.load``), observe (``ovn.observe``),
plan (``ovn.plan``), apply.

* :func:`nb_commands` takes an ovsdbapp NB API, the ``list[Change]`` of
  ``plan.plan`` and the ``observe.Observed`` it was planned against, and
  returns ovsdbapp commands with idempotency flags (``may_exist``,
  ``if_exists``), in an order one transaction accepts; for a large plan that only
  adds rows (a repair from an empty NB), one ``raw_transact.RawOpsCommand`` instead.
* :func:`execute` commits such a list in one NB transaction.
* :func:`apply_resources` takes an environment (``env.db``,
  ``env.settings``), the NB API, outbox entries ``(resource_type,
  resource_id)`` and the SB chassis (name -> physical networks, or None) and
  returns the ``list[Change]`` it made ([] when already in line).

Replaying a batch is harmless: the second time the plan is empty and nothing
is sent. Child rows (LRP, Gateway_Chassis, route, NAT, ACL) are added to and
removed from their parent's column; OVSDB deletes them once unreferenced
(reference D.0). An LSP's membership in owned port groups is changed with
``pg_add_ports`` / ``pg_del_ports``, one port at a time: a rule change
rewrites only that group's ACLs, a port joining a group touches no other
member. An address group's address sets are written before the ACLs that
name them and deleted last; a changed set gets its ``addresses`` replaced in
place, so ACLs referring to it are not touched. A port forwarding balancer is
added into its router's ``load_balancer`` column (and its interfaces' switches')
and deleted as a row (those references are weak).

Sources: the changes and observed rows given; writes the NB through ovsdbapp
and the commands of ``ovn.commands``; one row's commands are built by ``ovn.row_commands``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neutrino.ovn import bfd, raw_transact, row_commands
from neutrino.ovn.commands import ChildAddCommand, DbReplaceCommand, NamedRowsRefCommand
from neutrino.ovn.load import load_resources, warn_unscheduled
from neutrino.ovn.observe import (ACL, AS, DHCP, DNS, GWC, LB, LR, LRP, LS, LSP, METER, NAT, PG,
                                  POLICY, QOS, ROUTE, Observed, read_nb)
from neutrino.ovn.dns import default_dns_servers
from neutrino.ovn.plan import ADD, COLUMNS, DEL, SET, Change, plan

LOG = logging.getLogger(__name__)

def nb_commands(api: Any, changes: Sequence[Change], observed: Observed) -> list[Any]:
    """ovsdbapp commands for ``changes``, in an order one transaction accepts:
    DNS and DHCP rows, switches and routers first (new switches and ports refer to them), then
    switch ports, router ports, gateway chassis, routes and NATs, then router,
    switch and DHCP deletions. Rows on a deleted (or moved) parent go with it:
    child tables are garbage-collected once unreferenced (reference D.0).
    Port groups and their ACLs come first, LSP memberships right after the
    LSPs, port group deletions last. The order is ``_STEPS``. A plan
    ``raw_transact.eligible`` takes is one command of raw operations instead."""
    refs = _Refs.of(changes, observed)
    if raw_transact.eligible(changes):  # a repair from an empty NB: raw operations
        return [raw_transact.RawOpsCommand(api, changes, refs)]
    by_table: dict[str, list[Change]] = defaultdict(list)
    for c in changes:
        by_table[c.table].append(c)
    cmds: list[Any] = []
    for table, handlers in _STEPS:
        for c in by_table.get(table, ()):
            handler = handlers.get(c.action)
            if handler is not None:
                cmds += handler(api, c, refs)
    return cmds


@dataclass
class _Refs:
    """What the commands of one batch refer to. ``switch``, ``dhcp``,
    ``router``, ``lrp``, ``pg`` and ``lsp`` map a row's name (a subnet id for
    DHCP) to its NB UUID or to the command adding it (a handler adding a row
    records it there). ``gone`` holds, per table of rows living in a parent,
    the UUIDs of the parents being deleted (an LRP also when it moves): their
    rows go with them, without a command of their own."""

    observed: Observed
    switch: dict[str, Any]
    dhcp: dict[str, Any]
    router: dict[str, Any]
    lrp: dict[str, Any]
    pg: dict[str, Any]
    lsp: dict[str, Any]
    gone: dict[str, set[Any]]
    dropped_groups: set[str]  # names of the port groups being deleted
    dns: dict[str, Any]  # DNS rows by their switch name (``ovn.dns``)

    @classmethod
    def of(cls, changes: Sequence[Change], observed: Observed) -> _Refs:
        deleted = {t: {c.uuid for c in changes if c.table == t and c.action == DEL}
                   for t in (LS, LR, PG)}
        gone_lrps = {c.uuid for c in changes if c.table == LRP
                     and (c.action == DEL or "router" in c.columns)}
        return cls(
            observed=observed,
            switch={n: f[0].uuid for n, f in observed.switches.items() if f},
            dhcp={s: f[0].uuid for s, f in observed.dhcp_options.items() if f},
            router={n: f[0].uuid for n, f in observed.routers.items() if f},
            lrp={n: f.uuid for n, f in observed.router_ports.items()},
            pg={n: f[0].uuid for n, f in observed.port_groups.items() if f},
            lsp={n: f.uuid for n, f in observed.ports.items()},
            gone={LSP: deleted[LS], LRP: deleted[LR], ROUTE: deleted[LR], NAT: deleted[LR],
                  POLICY: deleted[LR],
                  GWC: gone_lrps, ACL: deleted[PG], QOS: deleted[LS]},
            dropped_groups={c.key for c in changes if c.table == PG and c.action == DEL},
            dns={n: f[0].uuid for n, f in observed.dns.items() if f})

    def parent(self, table: str) -> dict[str, Any]:
        """The map holding the parents of a child table's rows."""
        return {LRP: self.router, ROUTE: self.router, NAT: self.router, POLICY: self.router,
                GWC: self.lrp, ACL: self.pg, QOS: self.switch}[table]


Handler = Callable[[Any, Change, _Refs], list[Any]]


# --- handlers: (api, change, refs) -> commands ----------------------------------

def _replace(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """Write the differing columns of a row."""
    return [DbReplaceCommand(api, c.table, c.uuid, **row_commands.values(c.row, c.columns))]


def _delete(method: str, **flags: Any) -> Handler:
    """A handler deleting a top-level row by UUID with ``api.<method>``."""
    return lambda api, c, refs: [getattr(api, method)(c.uuid, **flags)]


def _add_address_set(api: Any, c: Change, refs: _Refs) -> list[Any]:
    return [api.address_set_add(c.key, addresses=list(c.row.addresses), may_exist=True,
                                external_ids=dict(c.row.external_ids))]


def _add_meter(api: Any, c: Change, refs: _Refs) -> list[Any]:
    m = c.row
    return [api.meter_add(m.name, m.unit, rate=m.rate, fair=m.fair, burst_size=m.burst_size,
                          may_exist=True, external_ids=dict(m.external_ids))]


def _set_meter(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """A meter's own columns, and its band's ``rate``/``burst_size`` in place
    (the observed row's ``parent_uuid`` is its ``Meter_Band``)."""
    band = [k for k in c.columns if k in ("rate", "burst_size")]
    own = [k for k in c.columns if k not in band]
    cmds = [DbReplaceCommand(api, METER, c.uuid, **row_commands.values(c.row, own))] if own else []
    if band:
        cmds.append(DbReplaceCommand(api, "Meter_Band", c.parent_uuid,
                                     **row_commands.values(c.row, band)))
    return cmds


def _add_port_group(api: Any, c: Change, refs: _Refs) -> list[Any]:
    refs.pg[c.key] = api.pg_add(c.key, may_exist=True, external_ids=dict(c.row.external_ids))
    return [refs.pg[c.key]]


def _add_dhcp(api: Any, c: Change, refs: _Refs) -> list[Any]:
    add = api.dhcp_options_add(c.row.cidr, **c.row.external_ids)
    cmds = [add, api.dhcp_options_set_options(add, **c.row.options)]
    refs.dhcp[c.key] = add
    return cmds


def _set_dhcp(api: Any, c: Change, refs: _Refs) -> list[Any]:
    cmds = []
    if "options" in c.columns:
        cmds.append(api.dhcp_options_set_options(c.uuid, **c.row.options))
    cols = {k: getattr(c.row, k) for k in c.columns if k != "options"}
    if cols:
        cmds.append(DbReplaceCommand(api, DHCP, c.uuid, **row_commands.plain(cols)))
    return cmds


def _add_switch(api: Any, c: Change, refs: _Refs) -> list[Any]:
    refs.switch[c.key] = api.ls_add(c.key, may_exist=True, external_ids=dict(c.row.external_ids),
                                    other_config=dict(c.row.other_config),
                                    dns_records=row_commands.dns_refs(c.row, refs.dns))
    return [refs.switch[c.key]]


def _set_switch(api: Any, c: Change, refs: _Refs) -> list[Any]:
    cols = row_commands.values(c.row, [k for k in c.columns if k != "dns_records"])
    if "dns_records" in c.columns:
        cols["dns_records"] = row_commands.dns_refs(c.row, refs.dns)
    return [DbReplaceCommand(api, LS, c.uuid, **cols)]


def _add_dns(api: Any, c: Change, refs: _Refs) -> list[Any]:
    refs.dns[c.key] = api.dns_add(records=dict(c.row.records),
                                  external_ids=dict(c.row.external_ids))
    return [refs.dns[c.key]]


def _add_router(api: Any, c: Change, refs: _Refs) -> list[Any]:
    columns = row_commands.values(c.row, COLUMNS[LR])
    refs.router[c.key] = api.lr_add(c.key, may_exist=True, **columns)
    return [refs.router[c.key]]


def _del_port(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """Delete an LSP, unless its switch goes (and takes it along)."""
    if c.parent_uuid in refs.gone[LSP]:
        return []
    return [api.lsp_del(c.uuid, switch=c.parent_uuid, if_exists=True)]


def _set_port(api: Any, c: Change, refs: _Refs) -> list[Any]:
    if "switch" not in c.columns:
        cols = {k: row_commands.lsp_value(c.row, k, refs.dhcp)
                for k in c.columns if k != "port_groups"}
        if "parent_name" in cols and not cols["parent_name"]:
            cols["tag"] = []  # no longer a child: northd's copy of the tag goes too (ML2/OVN)
        return [DbReplaceCommand(api, LSP, c.uuid, **cols)] if cols else []
    # moved: a port lives on exactly one switch
    cmds = []
    if c.parent_uuid is not None:
        cmds.append(api.lsp_del(c.uuid, switch=c.parent_uuid, if_exists=True))
    return cmds + _add_port(api, c, refs)


def _add_port(api: Any, c: Change, refs: _Refs) -> list[Any]:
    refs.lsp[c.key] = row_commands.lsp_add(api, c.row, refs.switch, refs.dhcp)
    return [refs.lsp[c.key]]


def _memberships(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """An LSP joining and leaving port groups: every group of a new (or moved)
    LSP, the difference for one whose ``port_groups`` differ. A port group
    being deleted loses its members with it; so does a deleted LSP."""
    new = c.action == ADD or "switch" in c.columns
    if not new and "port_groups" not in c.columns:
        return []
    have = set() if new else set(refs.observed.ports[c.key].row.port_groups)
    want = set(c.row.port_groups)
    cmds = []
    for pg in sorted(want - have):
        if pg not in refs.pg:
            raise LookupError(f"port group {pg} of port {c.key} is neither in NB nor added")
        cmds.append(api.pg_add_ports(refs.pg[pg], refs.lsp[c.key]))
    for pg in sorted(have - want - refs.dropped_groups):
        cmds.append(api.pg_del_ports(refs.pg.get(pg, pg), c.uuid, if_exists=True))
    return cmds


def _add_load_balancer(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """A port forwarding balancer, inserted into its router's ``load_balancer``
    (a weak reference: deleting the balancer drops it from the router)."""
    if c.row.router not in refs.router:
        raise LookupError(f"router {c.row.router} of load balancer {c.key} is neither in NB "
                          "nor added")
    add = ChildAddCommand(api, LB, LR, refs.router[c.row.router], "load_balancer",
                          name=c.key, **row_commands.lb_columns(c.row, COLUMNS[LB]))
    return [add] + _lb_switches(api, c, add, c.row.switches, refs)


def _lb_switches(api: Any, c: Change, lb: Any, switches: Iterable[str], refs: _Refs,
                 remove: Iterable[str] = ()) -> list[Any]:
    """Add the balancer ``lb`` (a UUID or the command adding it) to ``switches``
    and drop it from ``remove``, by name: a switch out of the batch's scope is
    found in the NB, one not there yet is skipped (the router's next sync or the
    audit puts it there)."""
    cmds = [NamedRowsRefCommand(api, LS, sorted(switches), "load_balancer", lb)]
    if remove:
        cmds.append(NamedRowsRefCommand(api, LS, sorted(remove), "load_balancer", lb,
                                        remove=True))
    return cmds


def _set_load_balancer(api: Any, c: Change, refs: _Refs) -> list[Any]:
    if "router" in c.columns:  # on another router: delete, then add anew
        return [api.lb_del(c.uuid, if_exists=True)] + _add_load_balancer(api, c, refs)
    cmds = []
    columns = [k for k in c.columns if k != "switches"]
    if columns:
        cmds.append(DbReplaceCommand(api, LB, c.uuid, **row_commands.lb_columns(c.row, columns)))
    if "switches" in c.columns:
        have = set(refs.observed.load_balancers[c.key][0].row.switches)
        cmds += _lb_switches(api, c, c.uuid, set(c.row.switches) - have, refs,
                             remove=have - set(c.row.switches))
    return cmds


def _del_child(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """Drop a child row from its parent, unless the parent goes (or moves)."""
    if c.parent_uuid is None or c.parent_uuid in refs.gone[c.table]:
        return []
    return [row_commands.child_del(api, c.table, c.parent_uuid, c.uuid)]


def _add_child(api: Any, c: Change, refs: _Refs) -> list[Any]:
    add = row_commands.child_add(api, c.row, refs.parent(c.table))
    if c.table == LRP:
        refs.lrp[c.key] = add
    return [add]


def _del_router(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """Delete a router; first the BFD rows of its routes, when it has any (``ovn/bfd.py``)."""
    with_bfd = any(f.parent_uuid == c.uuid and f.row.bfd
                   for found in refs.observed.static_routes.values() for f in found)
    return [bfd.DropRouterBfd(api, c.uuid)] * with_bfd + [api.lr_del(c.uuid, if_exists=True)]


def _del_route(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """Drop a route, and its BFD rows no other route uses (``ovn/bfd.py``)."""
    cmds = _del_child(api, c, refs)
    return [bfd.DropRouteBfd(api, c.uuid), *cmds] if cmds else []


def _set_route(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """A route whose BFD or output port changes is made anew; else its columns set."""
    if {"bfd", "output_port"} & set(c.columns):
        return _del_route(api, c, refs) + _add_child(api, c, refs)
    return _replace(api, c, refs)


def _add_qos(api: Any, c: Change, refs: _Refs) -> list[Any]:
    """A QoS row into its switch: one of the load (UUID or the command adding it), or
    one out of its scope (a router gateway's external network), found by name."""
    parent = refs.switch.get(c.row.switch, c.row.switch)
    return [ChildAddCommand(api, QOS, LS, parent, "qos_rules",
                            **row_commands.child_columns(c.row))]


def _set_router_port(api: Any, c: Change, refs: _Refs) -> list[Any]:
    if "router" in c.columns:  # moved: delete, then add anew
        return _del_child(api, c, refs) + _add_child(api, c, refs)
    return _replace(api, c, refs)


# The order one transaction accepts. A step takes the changes of one table,
# in plan order, and hands each whose action it lists to that action's
# handler: port groups and their ACLs; DHCP rows, switches and routers (new
# ports refer to them); switch ports, then their memberships; router ports,
# gateway chassis, routes, NATs; then router, switch, DHCP and port group
# deletions (their children and members go with them).
_STEPS: tuple[tuple[str, Mapping[str, Handler]], ...] = (
    (AS, {ADD: _add_address_set, SET: _replace}),
    (METER, {ADD: _add_meter, SET: _set_meter}),
    (PG, {ADD: _add_port_group, SET: _replace}),
    (ACL, {DEL: _del_child, SET: _replace, ADD: _add_child}),
    (DHCP, {ADD: _add_dhcp}), (DHCP, {SET: _set_dhcp}),
    (DNS, {ADD: _add_dns, SET: _replace}),
    (LS, {ADD: _add_switch}), (LS, {SET: _set_switch}),
    (LR, {ADD: _add_router}), (LR, {SET: _replace}),
    (LSP, {DEL: _del_port}), (LSP, {SET: _set_port}), (LSP, {ADD: _add_port}),
    (LSP, {ADD: _memberships, SET: _memberships}),
    (LRP, {DEL: _del_child}), (LRP, {SET: _set_router_port}), (LRP, {ADD: _add_child}),
    (GWC, {DEL: _del_child}), (GWC, {SET: _replace}), (GWC, {ADD: _add_child}),
    (ROUTE, {DEL: _del_route}), (ROUTE, {SET: _set_route}), (ROUTE, {ADD: _add_child}),
    (NAT, {DEL: _del_child}), (NAT, {SET: _replace}), (NAT, {ADD: _add_child}),
    (POLICY, {DEL: _del_child}), (POLICY, {SET: _replace}), (POLICY, {ADD: _add_child}),
    (QOS, {DEL: _del_child}), (QOS, {SET: _replace}), (QOS, {ADD: _add_qos}),
    (LB, {DEL: _delete("lb_del", if_exists=True)}), (LB, {SET: _set_load_balancer}),
    (LB, {ADD: _add_load_balancer}),
    (LR, {DEL: _del_router}),
    (LS, {DEL: _delete("ls_del", if_exists=True)}),
    (DHCP, {DEL: _delete("dhcp_options_del")}),
    (DNS, {DEL: _delete("dns_del")}),
    (PG, {DEL: _delete("pg_del", if_exists=True)}),
    (AS, {DEL: _delete("address_set_del", if_exists=True)}),
    (METER, {DEL: _delete("meter_del", if_exists=True)}),
)


# What one NB command may add to a transaction's wait for its result, in seconds.
# ovsdbapp waits the connection's timeout (30 s) whatever the size: a repair from an
# empty NB at 1,000 networks and 10,000 ports (about 20,000 commands, bench/scale.py)
# took longer than that on two busy cores and failed with TimeoutException although
# ovsdb-server went on to commit it.
SECONDS_PER_COMMAND = 0.01


def transaction_timeout(base: float, commands: int) -> float:
    """Seconds to wait for a transaction of ``commands`` commands: ``base`` (the
    connection's timeout) plus ``SECONDS_PER_COMMAND`` each (30 s + 200 s for 20,000)."""
    return base + commands * SECONDS_PER_COMMAND


def execute(api: Any, commands: Sequence[Any]) -> None:
    """Commit ``commands`` in one NB transaction (nothing at all when empty), waiting
    :func:`transaction_timeout` for it (a command with a ``weight`` counts as that many). Raises ovsdbapp's TimeoutException after that,
    its other errors as they come (``check_error``)."""
    if not commands:
        return
    with api.transaction(check_error=True) as txn:
        if getattr(txn, "timeout", None):  # ovsdbapp's Transaction waits this long
            weight = sum(getattr(c, "weight", 1) for c in commands)
            txn.timeout = max(txn.timeout, transaction_timeout(txn.timeout, weight))
        for command in commands:
            txn.add(command)


# --- the whole step -------------------------------------------------------------

def apply_resources(env: Any, api: Any, resources: Iterable[tuple[str, str]],
                    chassis: Mapping[str, Iterable[str]] | None = None) -> list[Change]:
    """Make the NB rows of ``resources`` (outbox entries) match the database,
    in one NB transaction; return the changes made ([] when already in line).
    ``chassis`` (gateway-capable SB chassis name -> physical networks, see
    ``ovn.chassis``) places router gateways; None leaves Gateway_Chassis rows
    alone. ``env.settings.enable_distributed_floating_ip`` shapes the floating
    IP NATs (``desired.desired_floating_ip``)."""
    settings = env.settings
    resources = set(resources)
    servers = default_dns_servers(settings)
    scope, desired = env.db.run(lambda s: load_resources(
        s, resources, base_mac=settings.base_mac, lease_time=settings.dhcp_lease_time,
        chassis=chassis, distributed_floating_ips=settings.enable_distributed_floating_ip,
        dns_domain=settings.dns_domain, dns_servers=servers,
        log_limits=(settings.network_log_rate_limit, settings.network_log_burst_limit)),
        write=False)
    warn_unscheduled(desired)
    observed = read_nb(api, scope)
    changes = plan(desired, observed, scope)
    execute(api, nb_commands(api, changes, observed))
    LOG.debug("%d resource(s): %d NB change(s)", len(resources), len(changes))
    return changes

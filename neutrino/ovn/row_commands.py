"""ovsdbapp commands for one desired NB row (``ovn.rows``): its column values as
ovsdbapp sets them, a logical switch port's add, a child row's add into and removal
from its parent's column (OVSDB deletes an unreferenced child: reference D.0).

Used by the handlers of ``ovn.apply``; ``row`` arguments are desired rows, ``*_ref``
arguments map names to NB UUIDs or to the results of commands earlier in the same
transaction. Raises LookupError when a row's parent is neither in the NB nor added.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from neutrino.ovn import bfd
from neutrino.ovn.commands import ChildAddCommand
from neutrino.ovn.observe import ACL, GWC, LR, LRP, LS, LSP, NAT, PG, POLICY, QOS, ROUTE
from neutrino.ovn.plan import COLUMNS
from neutrino.ovn.rows import LogicalSwitchPort

# Where a child row is referenced from: (parent table, column).
_PARENT = {LRP: (LR, "ports"), ROUTE: (LR, "static_routes"), NAT: (LR, "nat"),
           POLICY: (LR, "policies"),
           GWC: (LRP, "gateway_chassis"), ACL: (PG, "acls"), QOS: (LS, "qos_rules")}
# The field of a child row naming its parent (default: "router").
_PARENT_FIELD = {GWC: "port", ACL: "port_group", QOS: "switch"}
# Optional (0..1) columns: "" / None stand for the empty set.
_OPTIONAL = ("tag_request", "parent_name", "logical_port", "external_mac", "output_port")
_ACL_OPTIONAL = ("name", "severity", "meter")  # an ACL's logging columns (``ovn.network_log``)


def child_add(api: Any, row: Any, parent_ref: Mapping[str, Any]) -> Any:
    """Insert ``row`` (an LRP, gateway chassis, route, NAT, ACL or QoS row) into its parent."""
    parent_table, column, parent = child_parent(row, parent_ref)
    add = bfd.AddRouteWithBfd if getattr(row, "bfd", False) else ChildAddCommand
    return add(api, row.TABLE, parent_table, parent, column, **child_columns(row))


def child_parent(row: Any, parent_ref: Mapping[str, Any]) -> tuple[str, str, Any]:
    """``(parent table, column, parent_ref's entry)`` of a child row (ovn-nb(5): the
    column of the parent that holds it). LookupError when ``parent_ref`` lacks the parent."""
    parent_table, column = _PARENT[row.TABLE]
    parent = getattr(row, _PARENT_FIELD.get(row.TABLE, "router"))
    if parent not in parent_ref:
        raise LookupError(f"{parent_table} {parent} of {row.TABLE} {row_name(row)} is neither in "
                          "NB nor added")
    return parent_table, column, parent_ref[parent]


def child_columns(row: Any) -> dict[str, Any]:
    """The columns a child row is inserted with (:func:`values`); ``bfd`` not among them."""
    cols = [c for c in COLUMNS[row.TABLE] if c not in ("router", "port", "bfd")]
    if row.TABLE == ACL and not row.log:  # an unlogged ACL keeps the columns' defaults
        cols = [c for c in cols if c not in ("log",) + _ACL_OPTIONAL]
    cols += {LRP: ["name"], GWC: ["name"], ROUTE: ["ip_prefix", "nexthop"],
             NAT: ["type", "external_ip", "logical_ip"], POLICY: ["priority", "match"],
             ACL: ["direction", "priority", "match"],
             QOS: ["direction", "priority", "match"]}[row.TABLE]
    return values(row, cols)


def child_del(api: Any, table: str, parent: uuid.UUID, child: uuid.UUID) -> Any:
    """Drop ``child`` from its parent's column; OVSDB deletes the unreferenced row."""
    parent_table, column = _PARENT[table]
    return api.db_remove(parent_table, parent, column, child, if_exists=True)


def row_name(row: Any) -> str:
    """A row's name, or its key when it has none (for messages)."""
    return getattr(row, "name", None) or row.key


def values(row: Any, columns: Iterable[str]) -> dict[str, Any]:
    """Column values of a desired row as ovsdbapp sets them: fresh lists and
    dicts, optional columns as a 0/1-element list."""
    values = plain({c: getattr(row, c) for c in columns})
    for c in _OPTIONAL + (_ACL_OPTIONAL if row.TABLE == ACL else ()):
        if c in values:
            values[c] = [] if values[c] in (None, "") else [values[c]]
    return values


def lsp_add(api: Any, lsp: LogicalSwitchPort, switch_ref: Mapping[str, Any],
             dhcp_ref: Mapping[str, Any]) -> Any:
    """Add ``lsp`` to its switch (``may_exist``); a child port with its parent and tag."""
    switch = lsp_switch(lsp, switch_ref)
    cols = lsp_columns(lsp, dhcp_ref)
    if cols.pop("parent_name"):  # a child port: ovsdbapp takes parent and tag together
        return api.lsp_add(switch, lsp.name, may_exist=True,
                           parent_name=lsp.parent_name, tag=cols.pop("tag_request")[0], **cols)
    return api.lsp_add(switch, lsp.name, may_exist=True, **cols)


def lsp_switch(lsp: LogicalSwitchPort, switch_ref: Mapping[str, Any]) -> Any:
    """``switch_ref``'s entry for the switch of ``lsp``; LookupError when it has none."""
    if lsp.switch not in switch_ref:
        raise LookupError(f"switch {lsp.switch} of port {lsp.name} is neither in NB nor added")
    return switch_ref[lsp.switch]


def lsp_columns(lsp: LogicalSwitchPort, dhcp_ref: Mapping[str, Any]) -> dict[str, Any]:
    """Every column ``lsp`` is written with but ``name`` (:func:`lsp_value` each);
    ``parent_name``/``tag_request`` are ``[]`` or a one-element list."""
    return {k: lsp_value(lsp, k, dhcp_ref) for k in COLUMNS[LSP]
            if k not in ("switch", "port_groups")}


def lsp_value(lsp: LogicalSwitchPort, column: str, dhcp_ref: Mapping[str, Any]) -> Any:
    """One column of ``lsp`` as ovsdbapp sets it (DHCP options by their NB reference)."""
    value = getattr(lsp, column)
    if column in ("dhcpv4_options", "dhcpv6_options"):
        return [dhcp_ref[value]] if value is not None else []
    return values(lsp, [column])[column]


def dns_refs(switch: Any, dns_ref: Mapping[str, Any]) -> list[Any]:
    """A switch's ``dns_records``: ``dns_ref``'s entries for its DNS rows (``ovn.dns``).
    LookupError when one is missing."""
    missing = [k for k in switch.dns_records if k not in dns_ref]
    if missing:
        raise LookupError(f"DNS row(s) {missing} of switch {switch.name} are neither in NB "
                          "nor added")
    return [dns_ref[k] for k in switch.dns_records]


def lb_columns(row: Any, columns: Iterable[str]) -> dict[str, Any]:
    """A port forwarding balancer's ``columns`` as written (``router`` and
    ``switches`` say where it is referenced from: not columns of its own)."""
    values = plain({k: getattr(row, k) for k in columns if k not in ("router", "switches")})
    if "protocol" in values:  # an optional (0..1) column
        values["protocol"] = [values["protocol"]] if values["protocol"] else []
    return values


def plain(columns: Mapping[str, Any]) -> dict[str, Any]:
    """Fresh lists and dicts: ovsdbapp writes command results into them."""
    return {k: list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v
            for k, v in columns.items()}

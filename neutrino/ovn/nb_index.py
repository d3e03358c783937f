"""Indexes on the NB IDL replica: find the few rows a sync round needs without a scan.

One job: keep, inside the IDL, sorted indexes of the NB rows that have no name to look
them up by, and answer lookups on them. python-ovs maintains a table's indexes itself on
every insert, modify and delete it receives (``ovs.db.custom_index``), as it does the
``name`` indexes ovsdbapp creates; these ones key a row by a function of its columns.

* :func:`rows` -- ``rows(idl, INDEX, key)``: the rows of ``INDEX`` whose key is ``key``.
  ``DHCP_OWNER``: ``DHCP_Options`` by ``external_ids:port_id`` when set (a port's own
  row, ``ovn.port_dhcp``), else by ``external_ids:subnet_id`` (a subnet's row);
  ``DNS_SWITCH``: ``DNS`` rows by ``external_ids:ls_name`` (``ovn.dns``); ``QOS_PORT``:
  ``QoS`` rows by the port their match names first (``ovn.qos.subject_port``).
* :func:`holds` -- whether a row's set column holds a given row (a port group's
  ``ports``), answered from the row's datum without converting the whole set.

An index missing from the IDL (an API made without ``ovn.idl``) is created and filled
on first use; the caller holds the connection lock (as ``ovn.observe`` does), so no
update is applied meanwhile. Keys never raise: a row without the keyed value gets "".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ovs.db import custom_index
from ovs.db import data as ovs_data

from neutrino.ovn import qos as ovn_qos
from neutrino.ovn.dns import EXT_LS_NAME
from neutrino.ovn.rows import EXT_PORT_ID, EXT_SUBNET_ID

DHCP_OWNER, DNS_SWITCH, QOS_PORT = "neutrino_dhcp_owner", "neutrino_dns_switch", \
    "neutrino_qos_port"


class _Probe:
    """A lookup value: the key itself (the key functions pass it through)."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


def _keyed(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    def key(entry: Any) -> str:
        if isinstance(entry, _Probe):
            return entry.key
        try:
            return fn(entry) or ""
        except Exception:  # noqa: BLE001 - an odd row must never break the IDL's update
            return ""
    return key


def _dhcp_owner(row: Any) -> str:
    ext = row.external_ids
    return ext.get(EXT_PORT_ID) or ext.get(EXT_SUBNET_ID, "")


# index name -> (table, indexed column, key of an index entry)
_INDEXES = {
    DHCP_OWNER: ("DHCP_Options", "external_ids", _keyed(_dhcp_owner)),
    DNS_SWITCH: ("DNS", "external_ids", _keyed(lambda r: r.external_ids.get(EXT_LS_NAME, ""))),
    QOS_PORT: ("QoS", "match", _keyed(lambda r: ovn_qos.subject_port(r.match))),
}


class _ConfirmedIndex(custom_index.MultiColumnIndex):
    """A python-ovs index keyed on the row as the server last sent it (``Row._data``),
    not as this client's pending writes show it: python-ovs updates an index on a
    local write and not when the transaction ends, which would leave an entry the
    server's next update cannot find. Removal never raises (the IDL's update must go on)."""

    def index_entry_from_row(self, row: Any) -> Any:
        values = {}
        for c in self.columns:
            datum = row._data.get(c.column)
            values[c.column] = datum.to_python(_plain) if datum is not None else None
        return row._table.rows.IndexEntry(uuid=row.uuid, **values)

    def add(self, row: Any) -> None:
        if row._data is None or any(c.column not in row._data for c in self.columns):
            return  # a row this client is inserting: added when the server sends it
        self.values.add(self.index_entry_from_row(row))

    def remove(self, row: Any) -> None:
        if row._data is None:
            return
        try:
            self.values.remove(self.index_entry_from_row(row))
        except ValueError:
            for entry in [e for e in self.values if e.uuid == row.uuid]:
                self.values.remove(entry)


def _plain(atom: Any, base: Any) -> Any:
    return atom  # a non-reference value, as python-ovs passes it


def ensure(idl: Any, name: str) -> Any:
    """The index ``name`` of ``idl``, created (and filled with the rows already
    there) if missing; None when the IDL has no such table."""
    table_name, column, key = _INDEXES[name]
    table = idl.tables.get(table_name)
    if table is None:
        return None
    index = table.rows.indexes.get(name)
    if index is None:
        index = table.rows.indexes[name] = _ConfirmedIndex(name)
        index.add_column(column, key=key)
        for row in list(table.rows.values()):
            index.add(row)
    return index


def create_all(idl: Any) -> None:
    """Create every index on an IDL not loaded yet (``ovn.idl``; filled as rows arrive)."""
    for name in _INDEXES:
        ensure(idl, name)


def rows(idl: Any, name: str, key: str) -> list[Any]:
    """The rows of index ``name`` whose key is ``key`` (see the module docstring)."""
    index = ensure(idl, name)
    if index is None or not key:
        return []
    table = idl.tables[_INDEXES[name][0]]
    probe = _Probe(key)
    found = (table.rows.get(entry.uuid) for entry in index.values.irange(probe, probe))
    return [row for row in found if row is not None]


def holds(row: Any, column: str, member: uuid.UUID) -> bool:
    """True if ``row``'s set-of-references ``column`` holds the row ``member``
    (a UUID): a dictionary lookup in the row's datum when it has no pending
    change, else a scan of the converted column."""
    datum = None
    if not row._changes and not row._mutations and row._data is not None:
        datum = row._data.get(column)
    if datum is None:
        return any(r.uuid == member for r in getattr(row, column))
    atom_type = row._table.columns[column].type.key.type
    return ovs_data.Atom(atom_type, member) in datum.values

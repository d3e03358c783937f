"""NB commands ovsdbapp lacks, in its style: check arguments in ``__init__``,
touch rows only in ``run_idl``."""

from __future__ import annotations

from typing import Any

from ovsdbapp.backend.ovs_idl import command as cmd
from ovsdbapp.backend.ovs_idl import idlutils


class DbReplaceCommand(cmd.BaseCommand):
    """Set columns of one row to exactly the given values.

    Unlike ``db_set``, which merges a map into the existing one, a map here
    replaces the whole column, so a key no longer wanted disappears. Values may
    hold commands of the same transaction (rows inserted earlier in it).
    A missing row is skipped with ``if_exists``, else RowNotFound.
    """

    def __init__(self, api: Any, table: str, record: Any, if_exists: bool = True,
                 **columns: Any) -> None:
        if not columns:
            raise TypeError("DbReplaceCommand needs at least one column")
        super().__init__(api)
        self.table = table
        self.record = record
        self.if_exists = if_exists
        self.columns = columns

    def run_idl(self, txn: Any) -> None:
        try:
            row = self.api.lookup(self.table, self.record)
        except idlutils.RowNotFound:
            if self.if_exists:
                return
            raise
        self.set_columns(row, **self.columns)


class ChildAddCommand(cmd.BaseCommand):
    """Insert a row into a child table and add it to ``column`` of its parent
    row (a Logical_Router's ``ports``/``static_routes``/``nat``, a
    Logical_Router_Port's ``gateway_chassis``): the one way such a row can
    exist (reference D.0). ``parent`` is a UUID, a name the table's lookup
    knows, or a command of the same transaction that inserted it. The result
    is the new row's UUID. RowNotFound when the parent does not exist.
    """

    def __init__(self, api: Any, table: str, parent_table: str, parent: Any, column: str,
                 **columns: Any) -> None:
        if not columns:
            raise TypeError("ChildAddCommand needs at least one column")
        super().__init__(api)
        self.table = table
        self.parent_table = parent_table
        self.parent = parent
        self.column = column
        self.columns = columns

    def run_idl(self, txn: Any) -> None:
        parent = self.api.lookup(self.parent_table, self.parent)
        row = txn.insert(self.api.tables[self.table])
        self.set_columns(row, **self.columns)
        parent.addvalue(self.column, row)
        self.result = row.uuid

    def post_commit(self, txn: Any) -> None:
        self.result = txn.get_insert_uuid(self.result) or self.result


class NamedRowsRefCommand(cmd.BaseCommand):
    """Add ``value`` to (or with ``remove``, drop it from) the set column ``column``
    of each row of ``table`` named in ``names`` that exists; a name without a row is
    skipped. ``value`` may be a UUID or a command of the same transaction that
    inserted the row it refers to (a port forwarding balancer put on switches)."""

    def __init__(self, api: Any, table: str, names: Any, column: str, value: Any,
                 remove: bool = False) -> None:
        super().__init__(api)
        self.table = table
        self.names = list(names)
        self.column = column
        self.value = value
        self.remove = remove

    def run_idl(self, txn: Any) -> None:
        value = idlutils.db_replace_record(self.value)
        for name in self.names:
            for row in idlutils.rows_by_value(self.api.idl, self.table, "name", name):
                (row.delvalue if self.remove else row.addvalue)(self.column, value)

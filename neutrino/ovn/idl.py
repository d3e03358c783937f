"""ovsdbapp connections to the OVN databases: one per schema per process.

``nb_api``/``sb_api`` return only once the IDL holds a complete copy of the
database. ovsdbapp 3.0's ``Connection.start`` waits for the first full update
(``idlutils.wait_for_change`` gates on ``IDL_S_MONITORING``; gating on
``change_seqno`` alone, as older code did, can return an empty cache when a lock
reply arrives first). :func:`wait_ready` waits for that state again explicitly,
so no ovsdbapp version can hand out a half-loaded replica. No
audit or repair may ever run against a replica that is not :func:`is_ready`:
a repair against a half-loaded copy is how Neutron's sync deleted live ports.

A connection may name several remotes (``tcp:a:6641,tcp:b:6641,tcp:c:6641``, as
ovn-nbctl accepts): python-ovs's IDL is ``leader_only``, so against a RAFT cluster it
talks to the leader, and on losing it reconnects to whichever member leads next and
re-reads the database (ovsdb(7), "Clustered database service model"). Transactions
in flight then fail with "try again" and ovsdbapp re-runs them against the new copy.

The IDL runs in ovsdbapp's own thread; code reading rows directly holds
``api.ovsdb_connection.lock`` (``ovn.observe`` does). Row events go to
``api.idl.notify_handler``, an ovsdbapp ``RowEventHandler``: watchers call
``api.idl.notify_handler.watch_event(event)`` with ``RowEvent`` subclasses, whose
``run`` is called on the handler's own thread with a frozen copy of the row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from ovs.db import idl as ovs_idl
from ovsdbapp.backend import ovs_idl as backend
from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import event as row_event
from ovsdbapp.schema.ovn_northbound.impl_idl import OvnNbApiIdlImpl
from ovsdbapp.schema.ovn_southbound.impl_idl import OvnSbApiIdlImpl
from neutrino.ovn import nb_index

NB_SCHEMA = "OVN_Northbound"
SB_SCHEMA = "OVN_Southbound"
# What the SB status watcher and the metadata agent read; Logical_Flow and
# MAC_Binding (the big ones) stay out of this process.
SB_TABLES = ("Chassis", "Chassis_Private", "Encap", "Datapath_Binding", "Port_Binding",
             "SB_Global")
# What the NB sync alone reads from the SB (``ovn.chassis``: gateway chassis, bridge
# mappings): ``neutrino sync`` monitors no more. Port_Binding, one row per port, made
# 13 of the 58 s of a ``neutrino sync`` at 11,400 ports (bench/scale.py).
SB_CHASSIS_TABLES = ("Chassis", "Encap")


RECONNECT_BACKOFF_MS = 1000  # pause between remotes while (re)connecting
YIELD_EVERY = 0.05  # seconds between GIL hand-overs while parsing one NB/SB update

class OvnUnavailable(RuntimeError):
    """An OVN database could not be reached or did not load in time."""


class IdlNotReady(RuntimeError):
    """The IDL is not connected with a complete copy: audit/repair must wait."""


class _Idl(ovs_connection.OvsdbIdl):
    """An OvsdbIdl that hands every row change to its ``notify_handler`` and yields
    the GIL while parsing a large update at most every ``YIELD_EVERY`` seconds."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notify_handler = row_event.RowEventHandler()
        self._last_yield = time.monotonic()

    def cooperative_yield(self) -> None:
        # python-ovs calls this once per row of an update; ovsdbapp's time.sleep(0)
        # then hands the GIL (and on a busy host the CPU) away each time: 20,000 rows
        # of a resync cost seconds of waiting. Threads switch every 5 ms anyway.
        now = time.monotonic()
        if now - self._last_yield >= YIELD_EVERY:
            self._last_yield = now
            time.sleep(0)

    def notify(self, event, row, updates=None) -> None:
        self.notify_handler.notify(event, row, updates)


class _NbApi(OvnNbApiIdlImpl):
    # ovsdbapp keeps the connection on the class; our own slot keeps code that
    # uses OvnNbApiIdlImpl directly (tests, tools) from sharing or stealing it.
    _ovsdb_connection = None


class _SbApi(OvnSbApiIdlImpl):
    _ovsdb_connection = None


_APIS: dict[str, backend.Backend] = {}
_LOCK = threading.Lock()


def nb_api(connection: str, timeout: float = 30) -> OvnNbApiIdlImpl:
    """The process's NB API on ``connection`` (``unix:/path`` or ``tcp:host:port``,
    comma-separated for a cluster), every table monitored.

    Returns only once the IDL holds the whole database. A second call returns
    the same object; a different connection string raises ValueError (call
    :func:`disconnect_all` first). Raises OvnUnavailable after ``timeout``.
    """
    return _api(_NbApi, NB_SCHEMA, connection, timeout, None)


def sb_api(connection: str, timeout: float = 30,
           tables: Iterable[str] | None = SB_TABLES) -> OvnSbApiIdlImpl:
    """The process's SB API, monitoring ``tables`` (None: all). As :func:`nb_api`."""
    return _api(_SbApi, SB_SCHEMA, connection, timeout, tables)


def is_ready(api: backend.Backend) -> bool:
    """True when the IDL is connected and monitoring: its copy is complete and current."""
    idl = api.idl
    session = getattr(idl, "_session", None)
    return (idl.state == ovs_idl.Idl.IDL_S_MONITORING
            and (session is None or session.is_connected()))


def wait_ready(api: backend.Backend, timeout: float) -> None:
    """Wait until :func:`is_ready`; raise IdlNotReady after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with api.ovsdb_connection.lock:
            if is_ready(api):
                return
        if time.monotonic() >= deadline:
            raise IdlNotReady(f"{api.schema} IDL has no complete copy after {timeout:.0f}s")
        time.sleep(0.01)


def disconnect(api: backend.Backend) -> None:
    """Stop ``api``'s connection; the next ``nb_api``/``sb_api`` call connects anew."""
    with _LOCK:
        if _APIS.get(api.schema) is api:
            del _APIS[api.schema]
        _close(api)


def disconnect_all() -> None:
    """Stop every connection this module opened (shutdown, tests)."""
    with _LOCK:
        for api in _APIS.values():
            _close(api)
        _APIS.clear()


def _api(cls: type, schema: str, remote: str, timeout: float,
         tables: Iterable[str] | None) -> backend.Backend:
    with _LOCK:
        api = _APIS.get(schema)
        if api is not None:
            if api.remote != remote:
                raise ValueError(f"{schema} is already connected to {api.remote}, not {remote}")
            return api
        try:
            idl = _Idl.from_server(remote, schema,
                                   helper_tables=list(tables) if tables else None)
        except Exception as exc:  # ovsdbapp raises a bare Exception
            raise OvnUnavailable(f"cannot read the {schema} schema from {remote}: {exc}") from exc
        # After losing a RAFT leader the IDL walks the remotes until it finds the new
        # one; python-ovs doubles its pause per failed remote (1, 2, 4, 8 s), which
        # made a leader change cost 7-16 s. A steady 1 s (its minimum) costs 1-4 s.
        idl._session.reconnect.set_backoff(RECONNECT_BACKOFF_MS, RECONNECT_BACKOFF_MS)
        api = cls(ovs_connection.Connection(idl, timeout), start=False)
        if schema == NB_SCHEMA:
            nb_index.create_all(idl)  # before the rows arrive: filled as they do
        try:
            api.start_connection(api.ovsdb_connection)
            wait_ready(api, timeout)
        except Exception as exc:
            _close(api)
            raise OvnUnavailable(f"{schema} at {remote} did not load: {exc}") from exc
        api.remote = remote
        _APIS[schema] = api
        return api


def _close(api: backend.Backend) -> None:
    conn = api.ovsdb_connection
    type(api)._ovsdb_connection = None
    if conn is not None:
        conn.stop(timeout=5)
        conn.idl.notify_handler.shutdown()


def connection_state(api: backend.Backend | None) -> dict[str, object]:
    """Where an API's IDL is connected now, for health reports:
    ``{"remote": "tcp:10.0.0.2:6641", "connected": bool, "ready": bool}`` (the
    remote is the one of a comma-separated list the IDL follows, RAFT leader for a
    cluster; ``{}`` for None)."""
    if api is None:
        return {}
    session = getattr(api.idl, "_session", None)
    with api.ovsdb_connection.lock:
        return {"remote": session.get_name() if session is not None else "",
                "connected": bool(session is not None and session.is_connected()),
                "ready": is_ready(api)}

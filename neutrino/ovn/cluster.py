"""Ask ovsdb-servers how they see their (RAFT) cluster, without subprocesses.

Every ovsdb-server since OVS 2.9 hosts a read-only ``_Server`` database whose
``Database`` table has one row per served database (ovsdb-server(1); schema in
ovsdb-server(5)): ``model`` (``clustered``, ``standalone`` or ``relay``),
``connected`` (a clustered database is connected while its server is in contact
with a majority of the cluster; a standalone one always is), ``leader`` (always
true for standalone) and, for clustered databases, ``cid``/``sid``/``index``.

:func:`remote_status` reads that row from one server with an RFC 7047
``transact`` ``select`` over python-ovs' ``ovs.stream``/``ovs.jsonrpc``;
:func:`cluster_status` does it for every remote of a comma-separated connection
string at once, so a whole cluster costs at most about one ``timeout``::

    cluster_status("tcp:127.0.0.1:6641,tcp:127.0.0.1:6643", "OVN_Northbound")
    # [RemoteStatus("tcp:127.0.0.1:6641", True, "clustered", True, "leader", ""),
    #  RemoteStatus("tcp:127.0.0.1:6643", False, "", None, "unreachable",
    #               "Connection refused")]
"""

from __future__ import annotations

import errno
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ovs.jsonrpc
import ovs.poller
import ovs.stream

SERVER_DB = "_Server"
_COLUMNS = ["name", "model", "connected", "leader", "schema"]


@dataclass(frozen=True)
class RemoteStatus:
    """One server's view of one database.

    ``remote``: the remote asked (``"unix:/path"`` or ``"tcp:127.0.0.1:6641"``).
    ``connected``: the ``_Server`` ``connected`` column: the server answered and the
    database is connected to its storage (for a clustered database: the server is in
    contact with a majority and has finished joining). False when unreachable.
    ``model``: ``"clustered"``, ``"standalone"``, ``"relay"`` or ``""`` when unknown.
    ``leader``: the ``leader`` column (always True for standalone), None when unknown.
    ``role``: ``"leader"``, ``"follower"`` (clustered, not leader, whether or not
    connected), ``"standalone"``, ``"relay"`` or ``"unreachable"`` (no answer within
    the timeout, connection refused, an error reply, or no such database there).
    ``error``: why it is unreachable (``""`` otherwise).
    """

    remote: str
    connected: bool
    model: str
    leader: bool | None
    role: str
    error: str = ""


def split_remotes(connection: str) -> list[str]:
    """``"tcp:127.0.0.1:1,unix:/a.sock"`` -> ``["tcp:127.0.0.1:1", "unix:/a.sock"]``.

    Whitespace around items is dropped, empty items are skipped (the parsing of
    python-ovs' ``Idl`` and ovsdbapp's ``idlutils.parse_connection``).
    """
    return [r.strip() for r in connection.split(",") if r.strip()]


def remote_status(remote: str, database: str, timeout: float = 2.0) -> RemoteStatus:
    """Ask the ovsdb-server at ``remote`` for its ``_Server`` row of ``database``.

    ``timeout`` (seconds) bounds connecting and the reply together.  Never raises
    for a bad or unreachable remote: that is a ``RemoteStatus`` with role
    ``"unreachable"`` and the reason in ``error``.
    """
    try:
        row = _select_database_row(remote, database, timeout)
    except _Unreachable as exc:
        return RemoteStatus(remote, False, "", None, "unreachable", str(exc))
    except Exception as exc:  # noqa: BLE001 - a status probe reports, never raises
        return RemoteStatus(remote, False, "", None, "unreachable",
                            f"{type(exc).__name__}: {exc}")
    model = row.get("model", "")
    connected = row.get("connected") is True
    leader = row.get("leader") if isinstance(row.get("leader"), bool) else None
    if model == "clustered":
        role = "leader" if leader else "follower"
    elif model in ("standalone", "relay"):
        role = model
    else:
        role = "unreachable"
    return RemoteStatus(remote, connected, model, leader, role, "")


def cluster_status(connection: str, database: str,
                   timeout: float = 2.0) -> list[RemoteStatus]:
    """:func:`remote_status` of every remote in ``connection``, in the same order.

    The remotes are asked concurrently (one thread each), so the call takes about
    ``timeout`` seconds at most whatever their number.
    """
    remotes = split_remotes(connection)
    if not remotes:
        return []
    with ThreadPoolExecutor(max_workers=len(remotes),
                            thread_name_prefix="ovsdb-status") as pool:
        return list(pool.map(lambda r: remote_status(r, database, timeout), remotes))


def leaders(statuses: list[RemoteStatus]) -> list[str]:
    """The remotes among ``statuses`` that report being the cluster leader."""
    return [s.remote for s in statuses if s.role == "leader"]


class _Unreachable(Exception):
    """The remote could not be asked; the message says why."""


def _select_database_row(remote: str, database: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    error, stream = ovs.stream.Stream.open(remote)
    if error:
        if stream is not None:
            stream.close()
        raise _Unreachable(_strerror(error))
    error, stream = ovs.stream.Stream.open_block((0, stream), int(timeout * 1000))
    if error:  # open_block has closed the stream
        raise _Unreachable(_strerror(error))
    rpc = ovs.jsonrpc.Connection(stream)
    try:
        request = ovs.jsonrpc.Message.create_request("transact", [SERVER_DB, {
            "op": "select", "table": "Database",
            "where": [["name", "==", database]], "columns": _COLUMNS}])
        error = rpc.send(request)
        if error:
            raise _Unreachable(_strerror(error))
        reply = _await_reply(rpc, request.id, deadline)
    finally:
        rpc.close()
    if reply.type == ovs.jsonrpc.Message.T_ERROR:
        raise _Unreachable(f"error reply: {reply.error}")
    result = reply.result
    if not isinstance(result, list) or not result or not isinstance(result[0], dict):
        raise _Unreachable(f"unexpected reply: {result!r}")
    if "error" in result[0]:
        raise _Unreachable(f"{result[0].get('error')}: {result[0].get('details', '')}")
    rows = result[0].get("rows") or []
    if not rows:
        raise _Unreachable(f"server does not serve {database}")
    return rows[0]


def _await_reply(rpc: ovs.jsonrpc.Connection, request_id, deadline: float):
    while True:
        rpc.run()
        error, msg = rpc.recv()
        if msg is not None:
            if msg.type in (msg.T_REPLY, msg.T_ERROR) and msg.id == request_id:
                return msg
            if msg.type == msg.T_REQUEST and msg.method == "echo":
                rpc.send(ovs.jsonrpc.Message.create_reply(msg.params, msg.id))
            continue
        if error != errno.EAGAIN:
            raise _Unreachable(_strerror(error))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Unreachable("timed out waiting for the reply")
        poller = ovs.poller.Poller()
        rpc.wait(poller)
        rpc.recv_wait(poller)
        poller.timer_wait(max(1, int(remaining * 1000)))
        poller.block()


def _strerror(error: int) -> str:
    if error == ovs.jsonrpc.EOF:
        return "connection closed by the server"
    return os.strerror(error)

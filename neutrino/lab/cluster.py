"""A private OVN central whose NB and SB are RAFT clusters of ovsdb-servers.

:class:`OvnCluster` runs, in the root namespace, ``size`` ovsdb-servers for the NB,
``size`` for the SB and one ovn-northd, reusing :class:`~neutrino.lab.daemons.Daemon`
and the state-dir conventions of :class:`~neutrino.lab.deployment.Central` (private
``OVS_RUNDIR``/``OVN_RUNDIR``..., pid files checked against ``/proc``, ``started.json``).

RAFT, as ovsdb(7) ("Clustered Database Service Model") and ovsdb-tool(1) describe it:
member 0's database file is made by ``ovsdb-tool create-cluster <db> <schema> <local>``,
the others' by ``ovsdb-tool --cid=<cid> join-cluster <db> <name> <local> <remote>...``,
which does no network access; each joins the first time ovsdb-server serves its file.
Only the leader executes transactions and a commit needs a majority, so a 3-member
cluster survives the loss of one member.  A follower that stops hearing from the leader
starts an election after the election timer (1000 ms by default, randomised up to twice
that). Whether a member is connected or the leader is read from the ``_Server``
database every ovsdb-server hosts (ovsdb-server(1), schema in ovsdb-server(5)) through
:mod:`neutrino.ovn.cluster`.

Files under ``state_dir`` (``<db>`` is ``nb`` or ``sb``, ``<i>`` the member index):
``<db><i>.db`` (clustered database), ``<db><i>.sock`` (client socket),
``ovsdb-server-<db><i>.{pid,log,ctl}``, ``ovn-northd.{pid,log,ctl}``, ``ports.json``
(``{"nb": [{"raft": 20001, "client": 20002}, ...], "sb": [...]}``, chosen at the first
start and reused afterwards) and ``started.json``.  Every member listens for clients on
``punix:<state_dir>/<db><i>.sock`` (reachable by path from other network namespaces) and
``ptcp:<client>:127.0.0.1``; members talk RAFT to each other on ``tcp:127.0.0.1:<raft>``.

Typical use::

    cluster = OvnCluster(Path("/tmp/ntc"), size=3)
    cluster.start()            # ["ovsdb-server-nb0", ..., "ovn-northd"]
    cluster.nb_connection      # "tcp:127.0.0.1:20002,tcp:127.0.0.1:20004,..."
    i = cluster.leader("nb")   # 0
    cluster.kill("nb", i)      # SIGKILL; the other two elect a new leader
    cluster.restart("nb", i)   # starts from nb<i>.db again; it rejoins as a follower
    cluster.stop()
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
from pathlib import Path
from typing import NamedTuple

from neutrino.host.process import pid_alive
from neutrino.lab.daemons import (
    NB_SCHEMA,
    SB_SCHEMA,
    CommandError,
    ComponentStatus,
    Daemon,
    DaemonError,
    program_path,
    run,
    wait_until,
)
from neutrino.lab.components import Components
from neutrino.ovn.cluster import RemoteStatus, cluster_status

DATABASES = {"nb": ("OVN_Northbound", NB_SCHEMA), "sb": ("OVN_Southbound", SB_SCHEMA)}
HOST = "127.0.0.1"
# Listening ports are drawn from below the kernel's ephemeral range, so an outgoing
# connection cannot hold one of them when a killed member restarts.
_PORT_FLOOR = 10000
_STATUS_TIMEOUT = 1.0  # seconds per _Server query


class Member(NamedTuple):
    """One ovsdb-server of a cluster: ``members("nb")[1]``."""

    index: int
    daemon: Daemon
    db_file: Path
    raft_address: str  # "tcp:127.0.0.1:20001", server-to-server only
    tcp_remote: str    # "tcp:127.0.0.1:20002", for clients
    unix_remote: str   # "unix:<state_dir>/nb1.sock", for clients


class OvnCluster(Components):
    """NB and SB as ``size``-member RAFT clusters plus ovn-northd, on loopback.

    ``size`` >= 1 (3 tolerates one failure, 5 two); ``ValueError`` otherwise, or when
    ``ports.json`` in ``state_dir`` was written for another size.  ``election_timer_ms``
    is passed to ``ovsdb-tool create-cluster`` when the databases are first created
    (None: the 1000 ms default).  Errors from starting or waiting are ``DaemonError``
    naming the member (``"ovsdb-server-nb1"``) and its log.
    """

    def __init__(self, state_dir: Path, size: int = 3, election_timer_ms: int | None = None):
        if size < 1:
            raise ValueError(f"a cluster needs at least one member, not {size}")
        self.state_dir = Path(state_dir)
        self.size = size
        self.election_timer_ms = election_timer_ms
        self.started: list[str] = []
        self._ports_file = self.state_dir / "ports.json"
        self._ports = self._load_ports() or _pick_ports(size)
        env = self._env()
        self._members: dict[str, list[Member]] = {}
        for db in DATABASES:
            members = []
            for i, ports in enumerate(self._ports[db]):
                sock = self.state_dir / f"{db}{i}.sock"
                args = [str(self.state_dir / f"{db}{i}.db"), f"--remote=punix:{sock}",
                        f"--remote=ptcp:{ports['client']}:{HOST}"]
                members.append(Member(
                    i, Daemon(f"ovsdb-server-{db}{i}", "ovsdb-server", args, self.state_dir, env),
                    self.state_dir / f"{db}{i}.db", f"tcp:{HOST}:{ports['raft']}",
                    f"tcp:{HOST}:{ports['client']}", f"unix:{sock}"))
            self._members[db] = members
        self.northd = Daemon("ovn-northd", "ovn-northd",
                             [f"--ovnnb-db={self.nb_connection}",
                              f"--ovnsb-db={self.sb_connection}"], self.state_dir, env)
        self.daemons = [m.daemon for db in DATABASES for m in self._members[db]] + [self.northd]

    # -- connection strings -------------------------------------------------------------

    @property
    def nb_connection(self) -> str:
        """``"tcp:127.0.0.1:P0,tcp:127.0.0.1:P1,..."``: every NB member, for ovn-nbctl --db."""
        return ",".join(m.tcp_remote for m in self._members["nb"])

    @property
    def sb_connection(self) -> str:
        """Every SB member as ``tcp:`` remotes, comma-separated."""
        return ",".join(m.tcp_remote for m in self._members["sb"])

    @property
    def nb_unix_connection(self) -> str:
        """``"unix:<state_dir>/nb0.sock,..."``: every NB member by socket path."""
        return ",".join(m.unix_remote for m in self._members["nb"])

    @property
    def sb_unix_connection(self) -> str:
        """Every SB member by socket path (for chassis in other namespaces)."""
        return ",".join(m.unix_remote for m in self._members["sb"])

    def members(self, db: str) -> list[Member]:
        """The members of ``db`` (``"nb"`` or ``"sb"``; ``ValueError`` otherwise)."""
        return list(self._members[_check_db(db)])

    def schema_name(self, db: str) -> str:
        """``"OVN_Northbound"`` for ``"nb"``, ``"OVN_Southbound"`` for ``"sb"``."""
        return DATABASES[_check_db(db)][0]

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, timeout: float = 30) -> list[str]:
        """Create missing database files, start what is not running, wait for readiness.

        Ready means: in each cluster every member answers, is connected to the cluster
        (``_Server`` ``connected``) and exactly one is leader; then ovn-northd reports
        ``active``.  Idempotent: running members are left alone (a killed one is started
        again).  ``timeout`` (seconds) applies to each wait.  Returns the names started
        by this call.  Raises ``DaemonError``; what this call started is stopped again.
        """
        self._prepare_state_dir()
        if not self._ports_file.exists():
            self._ports_file.write_text(json.dumps(self._ports, indent=1) + "\n")
        for db in DATABASES:
            self._ensure_db_files(db)
        started: list[str] = []
        try:
            for db in DATABASES:
                for member in self._members[db]:
                    self._ensure_running(member.daemon, timeout, started)
            for db in DATABASES:
                self.wait_ready(db, timeout)
            self._ensure_running(self.northd, timeout, started)
            self._await_northd(timeout)
        except BaseException:
            for daemon in reversed(self.daemons):
                if daemon.name in started:
                    with contextlib.suppress(DaemonError):
                        daemon.stop()
            self.started = [n for n in self.started if n not in started]
            self._record_started()
            raise
        return started

    def stop(self, started_only: bool = True, timeout: float = 10) -> list[str]:
        """Stop by pid (SIGTERM, SIGKILL after ``timeout`` s): northd, SB, then NB members.

        With ``started_only`` only what this object started (also members it restarted);
        otherwise everything running from this state dir.  Returns the names stopped.
        Database files stay, so a later :meth:`start` brings the same clusters back.
        """
        return self._stop_daemons(started_only, timeout)

    def status(self) -> list[ComponentStatus]:
        """One row per daemon in start order; a running member's detail adds its role,
        e.g. ``ComponentStatus("ovsdb-server-nb0", True, "pid 812, leader")``."""
        roles: dict[str, str] = {}
        for db in DATABASES:
            for member, st in zip(self._members[db], self.cluster_status(db)):
                roles[member.daemon.name] = st.role if st.connected else f"{st.role}, " + (
                    "disconnected" if st.role != "unreachable" else st.error)
        rows = []
        for row in super().status():
            if row.running and row.component in roles:
                row = row._replace(detail=f"{row.detail}, {roles[row.component]}")
            rows.append(row)
        return rows

    # -- RAFT ---------------------------------------------------------------------------

    def cluster_status(self, db: str, timeout: float = _STATUS_TIMEOUT) -> list[RemoteStatus]:
        """Each member's ``_Server`` view of ``db``, asked over its unix socket, by index."""
        return cluster_status(self._unix(db), self.schema_name(db), timeout)

    def leader(self, db: str) -> int:
        """Index of the member of ``db`` that is RAFT leader now.

        Raises ``DaemonError`` when no member (or more than one) says it is leader,
        e.g. during an election.
        """
        statuses = self.cluster_status(db)
        found = [i for i, s in enumerate(statuses) if s.role == "leader"]
        if len(found) != 1:
            raise DaemonError(f"{db} cluster", f"no single leader: {_describe(statuses)}")
        return found[0]

    def wait_leader(self, db: str, timeout: float = 10, exclude: int | None = None) -> int:
        """Wait until :meth:`leader` answers something other than ``exclude``; return it.

        Raises ``DaemonError`` after ``timeout`` seconds.
        """
        def elected() -> tuple[int] | None:
            index = self.leader(db)
            return None if index == exclude else (index,)  # a tuple: index 0 is falsy
        try:
            return wait_until(elected, timeout, f"a {db} leader", interval=0.1)[0]
        except TimeoutError as exc:
            raise DaemonError(f"{db} cluster", str(exc)) from None

    def wait_ready(self, db: str, timeout: float = 30) -> None:
        """Wait until every member of ``db`` is connected and one of them is leader.

        Raises ``DaemonError`` naming a member that exited, or the cluster on timeout.
        """
        def ready() -> bool:
            for member in self._members[db]:
                if member.daemon.pid() is None:
                    raise DaemonError(member.daemon.name, "exited", member.daemon.log_file)
            statuses = self.cluster_status(db)
            return (all(s.connected for s in statuses)
                    and sum(s.role == "leader" for s in statuses) == 1)
        try:
            wait_until(ready, timeout, f"the {db} cluster to form", interval=0.1)
        except TimeoutError:
            logs = ", ".join(str(m.daemon.log_file) for m in self._members[db])
            raise DaemonError(f"{db} cluster", f"not ready within {timeout:.0f}s: "
                              f"{_describe(self.cluster_status(db))}; logs: {logs}") from None

    def kill(self, db: str, index: int) -> int:
        """SIGKILL member ``index`` of ``db`` by its (checked) pid file; return the pid.

        Waits until the process is gone (5 s).  Raises ``DaemonError`` if it is not running.
        """
        daemon = self._member(db, index).daemon
        pid = daemon.pid()
        if pid is None:
            raise DaemonError(daemon.name, "is not running", daemon.log_file)
        os.kill(pid, signal.SIGKILL)
        try:
            wait_until(lambda: not pid_alive(pid), 5, f"pid {pid} to exit")
        except TimeoutError as exc:
            raise DaemonError(daemon.name, str(exc), daemon.log_file) from None
        return pid

    def restart(self, db: str, index: int, timeout: float = 30) -> None:
        """Start member ``index`` again from its database file (stopping it first if it
        runs) and wait until it has rejoined: it answers and is connected.

        Raises ``DaemonError`` if it does not start or reconnect within ``timeout`` s.
        """
        member = self._member(db, index)
        member.daemon.stop()
        self._ensure_running(member.daemon, timeout, [])

        def rejoined() -> bool:
            if member.daemon.pid() is None:
                raise DaemonError(member.daemon.name, "exited", member.daemon.log_file)
            status = cluster_status(member.unix_remote, self.schema_name(db))[0]
            return status.connected
        try:
            wait_until(rejoined, timeout, f"{member.daemon.name} to rejoin", interval=0.1)
        except TimeoutError as exc:
            raise DaemonError(member.daemon.name, str(exc), member.daemon.log_file) from None

    def appctl(self, db: str, index: int, *args: str, timeout: float = 10) -> str:
        """``ovs-appctl -t <ctl> args...`` for a member, e.g.
        ``appctl("nb", 0, "cluster/status", "OVN_Northbound")``; ``CommandError`` on failure."""
        ctl = self._member(db, index).daemon.ctl_file
        return run([program_path("ovs-appctl"), "-t", str(ctl), *args], timeout=timeout)

    # -- internals ----------------------------------------------------------------------

    def _member(self, db: str, index: int) -> Member:
        members = self._members[_check_db(db)]
        if not 0 <= index < len(members):
            raise IndexError(f"{db} has members 0..{len(members) - 1}, not {index}")
        return members[index]

    def _unix(self, db: str) -> str:
        return ",".join(m.unix_remote for m in self._members[_check_db(db)])

    def _ensure_db_files(self, db: str) -> None:
        """create-cluster member 0, join-cluster the others (ovsdb-tool(1)); keep existing."""
        name, schema = DATABASES[db]
        first, *others = self._members[db]
        try:
            if not first.db_file.exists():
                if any(m.db_file.exists() for m in others):
                    raise DaemonError(first.daemon.name, f"{first.db_file} is missing but other "
                                      f"members' files exist; remove {self.state_dir}")
                timer = ([f"--election-timer={self.election_timer_ms}"]
                         if self.election_timer_ms else [])
                run([program_path("ovsdb-tool"), *timer, "create-cluster", str(first.db_file),
                     str(schema), first.raft_address])
            cid = run([program_path("ovsdb-tool"), "db-cid", str(first.db_file)]).strip()
            for member in others:
                if not member.db_file.exists():
                    remotes = [m.raft_address for m in self._members[db] if m is not member]
                    run([program_path("ovsdb-tool"), f"--cid={cid}", "join-cluster",
                         str(member.db_file), name, member.raft_address, *remotes])
        except CommandError as exc:
            raise DaemonError(f"{db} cluster", f"could not create database files: {exc}") from None

    def _await_northd(self, timeout: float) -> None:
        def active() -> bool:
            if self.northd.pid() is None:
                raise DaemonError(self.northd.name, "exited", self.northd.log_file)
            out = run([program_path("ovn-appctl"), "-t", str(self.northd.ctl_file), "status"], timeout=10)
            return "active" in out
        try:
            wait_until(active, timeout, "ovn-northd to report status active", interval=0.1)
        except TimeoutError as exc:
            raise DaemonError(self.northd.name, str(exc), self.northd.log_file) from None

    def _load_ports(self) -> dict[str, list[dict[str, int]]] | None:
        try:
            ports = json.loads(self._ports_file.read_text())
        except FileNotFoundError:
            return None
        if any(len(ports.get(db, [])) != self.size for db in DATABASES):
            raise ValueError(f"{self._ports_file} describes clusters of another size "
                             f"than {self.size}")
        return ports


def _check_db(db: str) -> str:
    if db not in DATABASES:
        raise ValueError(f"db must be 'nb' or 'sb', not {db!r}")
    return db


def _pick_ports(size: int) -> dict[str, list[dict[str, int]]]:
    """Two free loopback TCP ports per member, below the ephemeral port range.

    Each candidate is bound (and released) to prove it is free now; all are held until
    the set is complete so none is handed out twice.
    """
    try:
        ceiling = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ceiling = 32768
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < 2 * 2 * size:
            candidate = random.randrange(_PORT_FLOOR, ceiling)
            if candidate in ports:
                continue
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((HOST, candidate))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            ports.append(candidate)
    finally:
        for sock in held:
            sock.close()
    pairs = iter(ports)
    return {db: [{"raft": next(pairs), "client": next(pairs)} for _ in range(size)]
            for db in DATABASES}


def _describe(statuses: list[RemoteStatus]) -> str:
    return "; ".join(f"{s.remote} {s.role}{'' if s.connected else ' (not connected)'}"
                     + (f" {s.error}" if s.error else "") for s in statuses)

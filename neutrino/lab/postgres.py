"""A private, throwaway PostgreSQL server: the lab's database for ``neutrino lab
cluster`` (several controllers and API servers need a shared database) and the test
suite's.

It starts a PostgreSQL server of its own from the distribution's binaries (Debian:
``/usr/lib/postgresql/<version>/bin``; the highest installed version is used) and
never touches the system cluster, ``pg_ctlcluster`` or the systemd service:

* ``initdb`` runs into a fresh temporary directory (``tempfile.mkdtemp``).
  PostgreSQL refuses to run as root, so when we are root the directory is chowned
  to the ``postgres`` system user and ``initdb`` / ``postgres`` are run as that user
  through ``setpriv`` (which *execs*, so the process we spawn is the postmaster
  itself).  As a non-root user they simply run as that user.
* Local connections use ``trust`` authentication; the server listens on
  ``127.0.0.1`` on a free TCP port, with ``unix_socket_directories`` set to the
  temporary directory, and durability switched off for speed (``fsync``,
  ``synchronous_commit``, ``full_page_writes`` off): its data is not meant to
  outlive it. ``max_connections`` is 200 because several API workers and
  controllers each keep a pool.
* Readiness is detected by polling a psycopg connection; if the server dies or
  does not become ready within the timeout, :class:`PostgresServerError` is raised
  with the tail of the server log, and everything started so far is cleaned up.
* :meth:`PostgresServer.stop` sends SIGQUIT (immediate shutdown) to the postmaster
  pid, waits for it to exit (SIGKILL after a grace period) and removes the
  temporary directory.  Live servers are also stopped at interpreter exit.

Use::

    from neutrino.lab.postgres import PostgresServer, available

    if (reason := available()) is None:
        with PostgresServer() as server:
            url = server.create_database("example")
            # url == "postgresql+psycopg://postgres@127.0.0.1:<port>/example"
            server.drop_database("example")

Environment: ``PGSERVER_BINDIR`` (use the PostgreSQL binaries in this directory
instead of searching: ``lab.postgres_binaries``, which finds them and says whether they
can run here), ``PGSERVER_START_TIMEOUT`` (seconds to wait for the server to
accept connections, default 60).
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from urllib.parse import quote

from neutrino.lab.postgres_binaries import (SERVICE_USER, available, clean_env, find_bindir,
                                            run_as_prefix, runtime_reason)


__all__ = [
    "PostgresServer",
    "PostgresServerError",
    "available",
    "find_bindir",
]

SUPERUSER = "postgres"  # the database superuser created by initdb
HOST = "127.0.0.1"

SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "huge_pages": "off",
    "logging_collector": "off",
    "log_timezone": "UTC",
    "timezone": "UTC",
}

_BIND_FAILURE = re.compile(
    r"could not bind|Address already in use|could not create any TCP/IP sockets"
)


class PostgresServerError(RuntimeError):
    """The private PostgreSQL server could not be set up or started."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# the server


_live_servers: "weakref.WeakSet[PostgresServer]" = weakref.WeakSet()


@atexit.register
def _stop_live_servers() -> None:
    for server in list(_live_servers):
        try:
            server.stop()
        except Exception:  # pragma: no cover - best effort at exit
            pass


class PostgresServer:
    """A throwaway PostgreSQL server in a temporary directory.

    Attributes once started: ``port``, ``host``, ``pid`` (the postmaster),
    ``tmpdir`` (removed by :meth:`stop`), ``datadir``, ``log_path``,
    ``bindir``, ``startup_seconds``.
    """

    def __init__(
        self,
        bindir: str | os.PathLike | None = None,
        *,
        start_timeout: float | None = None,
        stop_timeout: float = 30.0,
        base_tmpdir: str | os.PathLike | None = None,
        extra_listen: tuple[str, ...] = (),
    ) -> None:
        # ``extra_listen``: addresses (each with its /prefix: "10.199.0.1/30") the
        # server also listens on and trusts clients of, for lab hosts in namespaces.
        self.extra_listen = tuple(extra_listen)
        self.bindir = Path(bindir) if bindir else find_bindir()
        if start_timeout is None:
            start_timeout = float(os.environ.get("PGSERVER_START_TIMEOUT", "60"))
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.base_tmpdir = base_tmpdir
        self.host = HOST
        self.port: int | None = None
        self.tmpdir: Path | None = None
        self.datadir: Path | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen | None = None
        self._log_file = None

    # -- public API --------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while the server runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "PostgresServer":
        """initdb a fresh cluster and start it; block until it accepts connections."""
        if self._proc is not None:
            raise PostgresServerError("server already started")
        reason = available() if self.bindir is None else runtime_reason()
        if reason:
            raise PostgresServerError(reason)
        t0 = time.monotonic()
        try:
            self._make_tmpdir()
            self._initdb()
            self._configure()
            for attempt in range(5):
                self.port = _free_port()
                try:
                    self._launch()
                    self._wait_ready(deadline=time.monotonic() + self.start_timeout)
                    break
                except _PortInUse:
                    self._kill()
                    if attempt == 4:
                        raise PostgresServerError(
                            "could not find a free port\n" + self.log_tail()
                        ) from None
        except BaseException:
            self.stop()
            raise
        _live_servers.add(self)
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Immediate shutdown of the postmaster by pid; remove the temp dir.

        Idempotent; safe to call after a failed or partial start.
        """
        try:
            self._kill()
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                if self.tmpdir.exists():  # pragma: no cover
                    raise PostgresServerError(f"could not remove {self.tmpdir}")
                self.tmpdir = None
            _live_servers.discard(self)

    def url(self, name: str = "postgres") -> str:
        """SQLAlchemy URL of database *name* on this server."""
        self._require_running()
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{quote(name, safe='')}"

    def conninfo(self, name: str = "postgres") -> str:
        """libpq/psycopg connection string for database *name*."""
        self._require_running()
        quoted = name.replace("\\", "\\\\").replace("'", "\\'")
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname='{quoted}'"

    def create_database(self, name: str) -> str:
        """CREATE DATABASE *name*; return its SQLAlchemy URL."""
        _check_name(name)
        self._admin_execute("CREATE DATABASE {}", name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS *name* WITH (FORCE) (kills its sessions)."""
        _check_name(name)
        self._admin_execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def log_tail(self, lines: int = 40) -> str:
        """The last *lines* lines of the server log (for error messages)."""
        if self.log_path is None or not self.log_path.exists():
            return "(no server log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- tail of {self.log_path} ---\n" + "\n".join(text[-lines:])

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self.port} pid={self.pid}" if self.running else "stopped"
        return f"<PostgresServer {self.bindir} {state}>"

    # -- internals ---------------------------------------------------------

    def _require_running(self) -> None:
        if not self.running:
            raise PostgresServerError("server is not running")

    def _admin_execute(self, template: str, name: str) -> None:
        import psycopg
        from psycopg import sql

        self._require_running()
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL(template).format(sql.Identifier(name)))

    def _make_tmpdir(self) -> None:
        base = self.base_tmpdir or tempfile.gettempdir()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="pgserver-", dir=base))
        self.datadir = self.tmpdir / "data"
        self.log_path = self.tmpdir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.tmpdir, SERVICE_USER, SERVICE_USER)
            # The service user must be able to reach the directory.
            check = subprocess.run(
                [*run_as_prefix(), "test", "-w", str(self.tmpdir), "-a", "-x", str(self.tmpdir)],
                env=clean_env(),
                capture_output=True,
            )
            if check.returncode != 0:
                raise PostgresServerError(
                    f"user {SERVICE_USER!r} cannot use {self.tmpdir}; an ancestor "
                    "directory is not traversable -- set TMPDIR or base_tmpdir to "
                    "a world-traversable location such as /tmp"
                )

    def _initdb(self) -> None:
        cmd = [
            *run_as_prefix(),
            str(self.bindir / "initdb"),
            "--pgdata", str(self.datadir),
            "--username", SUPERUSER,
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
        ]
        res = subprocess.run(
            cmd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, cwd=self.tmpdir,
        )
        if res.returncode != 0:
            raise PostgresServerError(
                f"initdb failed (exit {res.returncode}): {' '.join(cmd)}\n{res.stdout[-4000:]}"
            )

    def _configure(self) -> None:
        settings = dict(SERVER_SETTINGS, unix_socket_directories=str(self.tmpdir))
        settings["listen_addresses"] = ",".join(
            [settings["listen_addresses"], *(a.split("/")[0] for a in self.extra_listen)])
        conf = "".join(
            f"{k} = '{v}'\n" for k, v in settings.items()
        )
        with open(self.datadir / "postgresql.conf", "a") as f:
            f.write("\n# --- tests/pgserver.py ---\n" + conf)
        # trust auth for local connections only (initdb --auth=trust already
        # does this; write it explicitly so the policy is obvious).
        (self.datadir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host  all all 127.0.0.1/32 trust\n"
            + "".join(f"host  all all {ipaddress.ip_interface(a).network} trust\n"
                      for a in self.extra_listen)
        )

    def _launch(self) -> None:
        assert self.log_path is not None
        if self._log_file is None:
            self._log_file = open(self.log_path, "ab")
        cmd = [
            *run_as_prefix(),
            str(self.bindir / "postgres"),
            "-D", str(self.datadir),
            "-p", str(self.port),
        ]
        self._proc = subprocess.Popen(
            cmd,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self.tmpdir,
            start_new_session=True,  # keep terminal ^C away from the postmaster
        )

    def _wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        probe = _make_probe(self)
        last_error = "no attempt made"
        delay = 0.02
        while True:
            if self._proc.poll() is not None:
                tail = self.log_tail()
                if _BIND_FAILURE.search(tail):
                    raise _PortInUse()
                raise PostgresServerError(
                    f"postgres exited with status {self._proc.returncode} during "
                    f"startup\n{tail}"
                )
            ok, last_error = probe()
            if ok:
                self._check_pidfile()
                return
            if time.monotonic() > deadline:
                raise PostgresServerError(
                    f"postgres did not accept connections on {self.host}:{self.port} "
                    f"within {self.start_timeout:g}s (last error: {last_error})\n"
                    + self.log_tail()
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def _check_pidfile(self) -> None:
        pidfile = self.datadir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split("\n", 1)[0])
        except (OSError, ValueError) as e:
            raise PostgresServerError(f"cannot read {pidfile}: {e}") from e
        if pid != self.pid:
            raise PostgresServerError(
                f"{pidfile} names pid {pid}, expected the spawned postmaster {self.pid}"
            )

    def _kill(self) -> None:
        """SIGQUIT the postmaster (immediate shutdown), wait, SIGKILL if needed."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGQUIT)
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)


class _PortInUse(Exception):
    pass


def _check_name(name: str) -> None:
    if not name or len(name.encode()) > 63 or "\x00" in name:
        raise ValueError(f"invalid database name {name!r} (1-63 bytes)")


def _make_probe(server: PostgresServer):
    """Return a callable () -> (ready, error_text)."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a project dependency
        psycopg = None

    if psycopg is not None:

        def probe() -> tuple[bool, str]:
            try:
                with psycopg.connect(server.conninfo(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return True, ""
            except psycopg.Error as e:
                return False, str(e).strip()

        return probe

    def probe() -> tuple[bool, str]:  # pragma: no cover
        res = subprocess.run(
            [str(server.bindir / "pg_isready"), "-h", server.host, "-p",
             str(server.port), "-U", SUPERUSER, "-d", "postgres", "-t", "2"],
            env=clean_env(), capture_output=True, text=True,
        )
        return res.returncode == 0, (res.stdout + res.stderr).strip()

    return probe

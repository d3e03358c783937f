"""The leader lock: which of several ``neutrino controller`` processes is active.

The lock lives in the database itself, so a controller that loses its database
also loses leadership:

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``, PostgreSQL
  manual 9.27.10 "Advisory Lock Functions") taken on a dedicated connection, outside
  the service's connection pool. The server releases it the moment that session
  ends: the process dies (the kernel closes its socket), or its backend is
  terminated (``pg_terminate_backend``), or — for a host that vanished without
  closing anything — TCP keepalives and ``tcp_user_timeout`` end the session within
  about ``DEAD_PEER_SECONDS`` on both sides. Advisory locks are per database, so
  two neutrino databases on one server elect independently.
* SQLite: ``flock`` on a file beside the database file (``<db>.controller-lock``);
  the kernel releases it when the holder dies. Only processes on the database's own
  host can share a SQLite file anyway.

``held()`` asks the database, not a local flag, so the NB sync calls it before
every NB transaction (a fence): a controller whose session was cut stops writing at
once, even before its heartbeat notices.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import psycopg
from sqlalchemy.engine import make_url

from neutrino.db.session import dedicated_pg_connection

LOG = logging.getLogger(__name__)

#: The advisory lock key (any 64-bit number; this is "neutrino" in ASCII).
LOCK_KEY = 0x6E65757472696E6F
#: Seconds after which either side treats a silent peer as dead.
DEAD_PEER_SECONDS = 5
CONNECT_TIMEOUT = 5  # seconds
#: One query on the lock session: alive, and still holding the lock.
_HELD_SQL = ("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
             "AND locktype = 'advisory' AND granted "
             "AND classid = %s AND objid = %s AND objsubid = 1")


class LeaderLock(Protocol):
    """What the controller needs of a lock. ``try_acquire`` and ``held`` never
    raise for a database that is away: they answer False."""

    description: str

    def try_acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresLeaderLock:
    """``pg_try_advisory_lock(LOCK_KEY)`` on a connection of its own to ``url`` (a
    SQLAlchemy ``postgresql+psycopg://`` URL). ``name`` shows in
    ``pg_stat_activity.application_name`` as ``neutrino-controller:<name>`` so an
    operator can see (or terminate) the session. Thread-safe."""

    def __init__(self, url: str, name: str) -> None:
        sa_url = make_url(url)
        self._url = url
        self.description = (f"advisory lock {LOCK_KEY} on "
                            f"{sa_url.render_as_string(hide_password=True)}")
        self.application_name = f"neutrino-controller:{name}"[:63]
        self._conn: psycopg.Connection | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True if this object holds it now."""
        with self._mutex:
            try:
                if self._conn is None:
                    self._conn = self._connect()
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)",
                                         (LOCK_KEY,)).fetchone()
                return bool(row and row[0])
            except psycopg.Error as exc:
                LOG.debug("leader lock: %s", exc)
                self._drop()
                return False

    def held(self) -> bool:
        """True while the lock session is alive and holds the lock (one round trip);
        False, and the session closed, once it is not."""
        with self._mutex:
            if self._conn is None:
                return False
            try:
                row = self._conn.execute(_HELD_SQL, (LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF)
                                         ).fetchone()
            except psycopg.Error as exc:
                LOG.warning("leader lock session lost: %s", exc)
                self._drop()
                return False
            if not (row and row[0]):
                self._drop()
                return False
            return True

    def release(self) -> None:
        """Give the lock up (ending the session does that too)."""
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
                except psycopg.Error:
                    pass
            self._drop()

    def _connect(self) -> psycopg.Connection:
        # Client-side keepalives notice a dead server; the same settings on the
        # server's side make it notice a dead client host as fast, which is what
        # frees the lock.
        return dedicated_pg_connection(self._url, self.application_name,
                                       dead_peer_seconds=DEAD_PEER_SECONDS,
                                       connect_timeout=CONNECT_TIMEOUT)

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None


class FileLeaderLock:
    """``flock(LOCK_EX | LOCK_NB)`` on ``path``. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"file lock {self.path}"
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True if held now."""
        with self._mutex:
            if self._fd is not None:
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def held(self) -> bool:
        """True while this object holds the lock on the file still at ``path`` (a
        file removed and re-created by someone else would be a second lock)."""
        with self._mutex:
            if self._fd is None:
                return False
            try:
                same = os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
            except OSError:
                same = False
            if not same:
                self._close()
            return same

    def release(self) -> None:
        """Give the lock up (the process ending does that too)."""
        with self._mutex:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None


def leader_lock(database_url: str, state_dir: Path, name: str) -> LeaderLock:
    """The lock for a database: PostgreSQL's advisory lock, or a file lock beside a
    SQLite file (in ``state_dir`` for an in-memory SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLeaderLock(database_url, name)
    path = url.database
    if not path or path == ":memory:":
        return FileLeaderLock(Path(state_dir) / "controller.lock")
    return FileLeaderLock(Path(path + ".controller-lock"))


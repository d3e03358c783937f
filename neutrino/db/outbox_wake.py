"""Waking the NB sync when a transaction that wrote ``ovn_outbox`` rows commits.

The NB sync (``ovn.sync``) sleeps on a ``threading.Event`` with a slow poll as its
timeout (a safety net, never the way changes arrive); this module sets that event
when a change is committed, from whichever process and host committed it:

* writers call :func:`mark` on the session that adds outbox rows
  (``services.common.enqueue_ovn`` does); ``Database.run`` then calls
  :func:`before_commit` inside the transaction and :func:`committed` after it
  committed (never after a rollback; a retried attempt marks its own session);
* in the same process: :func:`committed` sets every event a :class:`Listener` of
  this database registered here (``neutrino up`` runs the API and the controller in
  one process, so this is all it needs);
* PostgreSQL, other processes and hosts (API workers, ``neutrino server`` beside
  the leader controller): :func:`before_commit` issues ``NOTIFY neutrino_outbox`` in
  the transaction, so the server delivers it at commit (and drops it on rollback)
  to every session that ``LISTEN``s (PostgreSQL manual, "NOTIFY"); the listener
  holds a dedicated connection with TCP keepalives on both ends
  (``db.session.dedicated_pg_connection``) and reconnects when it is lost;
* SQLite, other processes on the host (``neutrino server --workers N`` beside
  ``neutrino controller`` on one file): :func:`committed` sends an empty datagram
  to a unix socket in the abstract namespace named after the database file's path,
  which the listener binds; nothing is sent when none is bound (ECONNREFUSED) or
  its queue is full (a wake-up is already pending).

A process whose own listener is registered sends no NOTIFY and no datagram: the
in-process event already woke it, and no other process listens (only the leader's
sync does). Whatever is lost — a notification while the listener reconnects, a
change committed by hand in ``psql`` — the slow poll picks up; after every
(re)connect the listener wakes the sync once, as a notification may have been
missed meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import socket
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

LOG = logging.getLogger(__name__)

#: The PostgreSQL notification channel.
CHANNEL = "neutrino_outbox"
#: Seconds between attempts to (re)connect or bind a listener that failed.
RETRY_INTERVAL = 5.0
_MARK = "neutrino_outbox_written"
# Nothing to read: it waits in the write's pipeline for the COMMIT (db.pg_pipeline).
_NOTIFY = text(f"NOTIFY {CHANNEL}").execution_options(neutrino_deferred=True)

# database url -> the events of this process's listeners on it
_local: dict[str, set[threading.Event]] = {}
_local_mutex = threading.Lock()
_sender: socket.socket | None = None


def mark(session: Session) -> None:
    """Record that ``session``'s transaction wrote outbox rows."""
    session.info[_MARK] = True


def marked(session: Session) -> bool:
    """Whether ``session``'s transaction wrote outbox rows (:func:`mark`)."""
    return bool(session.info.get(_MARK))


def before_commit(session: Session, url: str) -> None:
    """Inside the marked transaction, just before its commit: on PostgreSQL with no
    listener in this process, ``NOTIFY neutrino_outbox``. Raises what the database
    raises (the transaction then rolls back as any failed statement's would)."""
    if url.startswith("postgresql") and not _local.get(url):
        session.execute(_NOTIFY)


def committed(url: str) -> None:
    """After the marked transaction committed: set this process's listeners'
    events; with none, on a SQLite file, send the wake-up datagram. Never raises."""
    events = _local.get(url)
    if events:
        for event in tuple(events):
            event.set()
        return
    address = sqlite_address(url)
    if address is not None:
        _send(address)


def sqlite_address(url: str) -> bytes | None:
    """The abstract unix socket address of a SQLite file's listener
    (``\\0neutrino-outbox-<hash of the file's absolute path>``); None for another
    database or an in-memory SQLite, which only its own process sees."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = os.path.realpath(Path(parsed.database))
    return b"\0neutrino-outbox-" + hashlib.sha256(path.encode()).hexdigest()[:32].encode()


def _send(address: bytes) -> None:
    global _sender
    try:
        if _sender is None:
            sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sender.setblocking(False)
            _sender = sender
        _sender.sendto(b"", address)
    except OSError:  # nobody listens, or a wake-up is already queued
        pass


class Listener:
    """Sets ``wake`` whenever a transaction that wrote outbox rows commits on the
    database ``url`` (see the module docstring), until :meth:`close`.

    ``start`` registers the in-process event and starts a thread holding the
    cross-process source: for PostgreSQL a dedicated connection ``LISTEN``ing on
    :data:`CHANNEL`, for a SQLite file the bound datagram socket; the thread
    blocks in ``select`` (no periodic wake-up), sets ``wake`` once it listens and
    on every notification, and reconnects every :data:`RETRY_INTERVAL` seconds
    after a failure. ``listening`` tells whether the cross-process source is up.
    ``application_name`` names the PostgreSQL session (``pg_stat_activity``).
    """

    def __init__(self, url: str, wake: threading.Event, *,
                 application_name: str = "neutrino-nb-sync") -> None:
        self.url = url
        self.wake = wake
        self.application_name = application_name[:63]
        self.listening = threading.Event()
        self._is_pg = url.startswith("postgresql")
        self._address = None if self._is_pg else sqlite_address(url)
        self._stop_r, self._stop_w = os.pipe()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> "Listener":
        """Register the in-process event and start the thread; returns self."""
        with _local_mutex:
            _local.setdefault(self.url, set()).add(self.wake)
        if self._is_pg or self._address is not None:
            self._thread = threading.Thread(target=self._run, name="outbox-listener",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 10) -> None:
        """Unregister and stop the thread (at once: it is woken through a pipe)."""
        with _local_mutex:
            events = _local.get(self.url)
            if events is not None:
                events.discard(self.wake)
                if not events:
                    del _local[self.url]
        if self._closed:
            return
        self._closed = True
        os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout)
        os.close(self._stop_r)
        os.close(self._stop_w)

    def __enter__(self) -> "Listener":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _run(self) -> None:
        while not self._closed:
            try:
                source = self._open()
            except Exception as exc:  # noqa: BLE001 - the slow poll covers meanwhile
                LOG.warning("outbox listener on %s not listening, retrying in %.0fs: %s",
                            self._describe(), RETRY_INTERVAL, exc)
                if self._stopped(RETRY_INTERVAL):
                    return
                continue
            self.listening.set()
            self.wake.set()  # a change may have committed while nobody listened
            try:
                self._serve(source)
            except Exception as exc:  # noqa: BLE001 - reconnect
                if not self._closed:
                    LOG.warning("outbox listener on %s lost: %s", self._describe(), exc)
            finally:
                self.listening.clear()
                try:
                    source.close()
                except Exception:  # noqa: BLE001
                    pass

    def _open(self):
        if self._is_pg:
            from neutrino.db.session import dedicated_pg_connection
            conn = dedicated_pg_connection(self.url, self.application_name)
            try:
                conn.execute(f"LISTEN {CHANNEL}")
            except BaseException:
                conn.close()
                raise
            return conn
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self._address)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def _serve(self, source) -> None:
        """Block until the source has something or close is asked; drain, wake."""
        while True:
            ready, _, _ = select.select([source.fileno(), self._stop_r], [], [])
            if self._stop_r in ready:
                return
            if self._is_pg:
                # consumes what arrived; raises OperationalError on a dead session
                for _ in source.notifies(timeout=0):
                    pass
            else:
                try:
                    while True:
                        source.recv(16)
                except BlockingIOError:
                    pass
            self.wake.set()

    def _stopped(self, seconds: float) -> bool:
        ready, _, _ = select.select([self._stop_r], [], [], seconds)
        return bool(ready) or self._closed

    def _describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

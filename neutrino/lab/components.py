"""Private OVS/OVN daemons that share one state directory: the bookkeeping that
``lab.deployment``'s ``Central`` and ``Chassis`` and ``lab.cluster``'s ``OvnCluster``
have in common.

A :class:`Components` subclass lists its ``daemons`` (``lab.daemons.Daemon``) in start
order; this module gives it the environment that points every ``OVS_*``/``OVN_*``
directory at the state directory (so the system's run and database directories are never
used), the state directory's length check (unix socket paths stay under sun_path's 108
bytes), ``started.json`` (what ``stop()`` may stop, also after a restart of the caller),
idempotent starts, stops in reverse order and status; and the two steps a start takes
for an ovsdb-server: :func:`ensure_db` (create the database file once) and
:func:`await_daemon` (wait for a condition, failing with ``DaemonError`` naming the
daemon and its log).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from neutrino.lab.daemons import (CommandError, ComponentStatus, Daemon, DaemonError,
                                  program_path, run, wait_until)

# sun_path is 108 bytes; keep a margin for the longest file name used below.
_MAX_STATE_DIR_LEN = 80


class Components:
    """Shared start/stop bookkeeping for :class:`Central` and :class:`Chassis`."""

    state_dir: Path
    daemons: list[Daemon]
    started: list[str]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR",
                    "OVN_RUNDIR", "OVN_LOGDIR", "OVN_DBDIR", "OVN_SYSCONFDIR"):
            env[var] = str(self.state_dir)
        for var in ("OVN_NB_DB", "OVN_SB_DB", "OVS_DB"):
            env.pop(var, None)
        return env

    def _prepare_state_dir(self) -> None:
        if len(str(self.state_dir.resolve())) > _MAX_STATE_DIR_LEN:
            raise ValueError(
                f"state dir {self.state_dir} is longer than {_MAX_STATE_DIR_LEN} characters; "
                "unix socket paths inside it would exceed the 108-byte limit")
        self.state_dir.mkdir(parents=True, exist_ok=True)

    def _record_started(self) -> None:
        (self.state_dir / "started.json").write_text(json.dumps(self.started))

    def _ensure_running(self, daemon: Daemon, timeout: float, started: list[str]) -> None:
        """Start ``daemon`` unless it runs already; record it at once so stop() finds it."""
        if daemon.pid() is not None:
            return
        if daemon.name not in self.started:
            self.started.append(daemon.name)
            self._record_started()
        daemon.start(timeout)
        started.append(daemon.name)

    def _stop_daemons(self, started_only: bool, timeout: float) -> list[str]:
        wanted = set(self.started) if started_only else {d.name for d in self.daemons}
        stopped = []
        for daemon in reversed(self.daemons):
            if daemon.name in wanted and daemon.stop(timeout):
                stopped.append(daemon.name)
        self.started = [n for n in self.started if n not in wanted]
        self._record_started()
        return stopped

    def status(self) -> list[ComponentStatus]:
        """One :class:`ComponentStatus` per daemon, in start order."""
        return [d.status() for d in self.daemons]


def ensure_db(daemon: Daemon, db: Path, schema: Path) -> None:
    """``ovsdb-tool create`` ``db`` from ``schema`` unless it exists (kept across restarts)."""
    if db.exists():
        return
    try:
        run([program_path("ovsdb-tool"), "create", str(db), str(schema)])
    except CommandError as exc:
        raise DaemonError(daemon.name, f"could not create {db}: {exc}") from None


def await_daemon(daemon: Daemon, predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Wait for ``predicate``; on timeout raise ``DaemonError`` for ``daemon``."""
    try:
        wait_until(lambda: daemon.pid() is None or predicate(), timeout, what)
    except TimeoutError:
        raise DaemonError(daemon.name, f"did not {what} within {timeout:.0f}s",
                          daemon.log_file) from None
    if daemon.pid() is None:
        raise DaemonError(daemon.name, f"exited before it could {what}", daemon.log_file)

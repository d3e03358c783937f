"""``neutrino controller``: the NB sync, the SB port-status watcher and Nova's event
sender, active in exactly one process at a time.

Any number of controllers may run against one database and one OVN (NB and SB as
single servers or RAFT clusters). Each keeps its NB and SB IDLs loaded, so a standby
takes over with a warm copy, and loops:

* standby: try the leader lock (``control.leader``) every ``poll_interval`` seconds;
* leader: start a *term* — a fresh :class:`~neutrino.ovn.sync.NorthboundSync` fenced
  by the lock (it first audits and repairs the whole NB, then drains the outbox in
  order), a fresh :class:`~neutrino.ovn.status.PortStatusWatcher` (which re-reads
  every SB binding at start and holds ACTIVE back until the chassis' metadata agent
  reports the port's network in SB ``Chassis_Private``), the agents' mirror
  (``ovn.agents``: liveness probes, the ``agents`` table) and Nova's sender — and
  check the lock every ``heartbeat_interval`` seconds; once the lock is lost (the
  database session cut, or the database gone), end the term: the sync stops before
  its next NB write, the watcher and the sender stop, and the loop goes back to
  standby.

Nothing is held in memory that the next leader needs: the outbox rows a dead leader
did not delete are applied again from the database's current state (a no-op where
they had been applied), port states are re-read from the SB, Nova events wait in
their outbox. Every heartbeat, the controller writes its report (role, NB/SB
connection, RAFT role of every remote, outbox progress, last audit) to the
``controllers`` table, which ``GET /healthz`` and ``neutrino status`` read
(``services.health``), and keeps ``neutrino_controller_is_leader`` (1 while leading)
and ``neutrino_controller_leader_terms_total`` (``metrics.families``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from sqlalchemy import delete, update

from neutrino.config import Settings
from neutrino.control.leader import LeaderLock, leader_lock
from neutrino.db.models import ControllerReport
from neutrino.db.session import Database
from neutrino.metrics import families as metric_families
from neutrino.notifiers import nova as nova_notifier
from neutrino.ovn import cluster, idl
from neutrino.ovn.agents import AgentMirror
from neutrino.ovn.status import PortStatusWatcher
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import common
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)

POLL_INTERVAL = 1.0  # seconds between a standby's attempts at the lock
HEARTBEAT_INTERVAL = 1.0  # seconds between a leader's lock checks and reports
RAFT_INTERVAL = 10.0  # seconds between RAFT role queries of every remote
STALE_REPORT = 600  # seconds after which a silent controller's report is removed
CONNECT_RETRY = 5.0  # seconds between attempts to reach OVN at start-up


class Controller:
    """One controller process's duties (see the module docstring).

    ``env``: the services' Env; ``nb_api``/``sb_api``: loaded APIs from
    ``ovn.idl``; ``lock``: a ``control.leader`` lock (default: the one of the
    database, ``leader.leader_lock``); ``name``: this controller's id in reports
    (default ``<host>:<pid>:<random>``).
    """

    def __init__(self, env: Env, nb_api: Any, sb_api: Any, lock: LeaderLock | None = None, *,
                 name: str | None = None, poll_interval: float = POLL_INTERVAL,
                 heartbeat_interval: float = HEARTBEAT_INTERVAL) -> None:
        self.env = env
        self.nb = nb_api
        self.sb = sb_api
        self.host = socket.gethostname()
        self.name = name or f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lock = lock or leader_lock(env.settings.database_url, env.settings.state_dir,
                                        self.name)
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.started_at = common.now()
        self.leader_since: str | None = None
        self.terms = 0
        self._term: _Term | None = None
        self._raft: dict[str, list[dict]] = {}
        self._raft_at = 0.0

    @property
    def is_leader(self) -> bool:
        """True while a term runs: this controller holds the lock and its duties run."""
        return self._term is not None

    def run(self, stop: threading.Event) -> None:
        """Stand by or lead until ``stop`` is set, then end any term, release the
        lock and remove this controller's report. Never dies of a database or OVN
        error: those are logged and retried."""
        LOG.info("controller %s standing by for the %s", self.name, self.lock.description)
        metric_families.controller().is_leader.set(0)
        standby_since = time.monotonic()
        try:
            while not stop.is_set():
                if self._term is None:
                    if self.lock.try_acquire():
                        LOG.warning("controller %s is the leader (after %.1fs standing by)",
                                    self.name, time.monotonic() - standby_since)
                        try:
                            self._begin_term()
                        except Exception:  # noqa: BLE001 - another controller may do better
                            LOG.exception("controller %s could not start its duties; "
                                          "giving the lead up", self.name)
                            self.lock.release()
                elif not self.lock.held():
                    LOG.warning("controller %s lost the leader lock: stepping down", self.name)
                    self._end_term()
                    standby_since = time.monotonic()
                self._report()
                stop.wait(self.heartbeat_interval if self._term else self.poll_interval)
        finally:
            self._end_term()
            self.lock.release()
            self._remove_report()

    def _begin_term(self) -> None:
        self.terms += 1
        self.leader_since = common.now()
        self._term = _Term(self)
        measured = metric_families.controller()
        measured.terms.inc()
        measured.is_leader.set(1)

    def _end_term(self) -> None:
        term, self._term = self._term, None
        self.leader_since = None
        metric_families.controller().is_leader.set(0)
        if term is not None:
            term.end()

    # -- reports --

    def report(self) -> dict[str, Any]:
        """This controller's report: ``{"nb": {...}, "sb": {...}, "raft": {"nb":
        [...], "sb": [...]}, "sync": {...}, "terms": n}`` (see ``ovn.idl.connection_state``
        and ``ovn.cluster.RemoteStatus``)."""
        now = time.monotonic()
        if now - self._raft_at >= RAFT_INTERVAL:
            self._raft_at = now
            self._raft = {
                "nb": [vars(s) for s in cluster.cluster_status(self.nb.remote, idl.NB_SCHEMA)],
                "sb": [vars(s) for s in cluster.cluster_status(self.sb.remote, idl.SB_SCHEMA)]}
        term = self._term
        sync = term.sync.stats if term is not None else None
        return {"nb": idl.connection_state(self.nb), "sb": idl.connection_state(self.sb),
                "raft": self._raft, "terms": self.terms,
                "sync": {} if sync is None else {
                    "outbox_rows": sync.outbox_rows, "nb_transactions": sync.nb_transactions,
                    "last_error": sync.last_error, "last_audit": sync.last_audit}}

    def _report(self) -> None:
        row = {"host": self.host, "pid": os.getpid(),
               "role": "leader" if self._term else "standby", "started_at": self.started_at,
               "leader_since": self.leader_since, "heartbeat_at": common.now(),
               "report": self.report()}

        def run(session) -> None:
            done = session.execute(update(ControllerReport).where(
                ControllerReport.id == self.name).values(**row)).rowcount
            if not done:
                session.add(ControllerReport(id=self.name, **row))
            if self._term is not None:  # the leader sweeps the reports of dead controllers
                cutoff = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                       time.gmtime(time.time() - STALE_REPORT))
                session.execute(delete(ControllerReport).where(
                    ControllerReport.heartbeat_at < cutoff))
        try:
            self.env.db.run(run)
        except Exception as exc:  # noqa: BLE001 - the database may be away; next beat
            LOG.debug("controller report not written: %s", exc)

    def _remove_report(self) -> None:
        try:
            self.env.db.run(lambda s: s.execute(
                delete(ControllerReport).where(ControllerReport.id == self.name)))
        except Exception as exc:  # noqa: BLE001 - stopping goes on
            LOG.debug("controller report not removed: %s", exc)


class _Term:
    """What a leader runs, started at once; :meth:`end` stops it all."""

    def __init__(self, controller: Controller) -> None:
        self.stop = threading.Event()
        env = controller.env
        self.sync = NorthboundSync(env, controller.nb, sb_api=controller.sb,
                                   fence=controller.lock.held)
        self.watcher = PortStatusWatcher(env, controller.sb)
        try:
            self.watcher.start()  # first: it may fail reading the SB, before any thread runs
        except BaseException:
            self.watcher.stop()
            self.sync.close()
            raise
        mirror = AgentMirror(env, controller.nb, controller.sb,
                             interval=env.settings.agent_down_time / 3)
        self.threads = [threading.Thread(target=self.sync.run_forever, args=(self.stop,),
                                         name="nb-sync", daemon=True),
                        threading.Thread(target=mirror.run_forever, args=(self.stop,),
                                         name="agents", daemon=True),
                        *nova_notifier.sender_threads(env, self.stop)]
        for thread in self.threads:
            thread.start()

    def end(self, timeout: float = 30) -> None:
        self.stop.set()
        self.sync.wake.set()  # out of its idle wait at once
        self.watcher.stop()
        for thread in self.threads:
            thread.join(timeout)
        self.sync.close()


def serve(settings: Settings, stop: threading.Event) -> None:
    """``neutrino controller``: connect to the database and to OVN (retrying until
    both answer or ``stop`` is set), then :meth:`Controller.run` until ``stop``.
    Raises ValueError when the NB or SB connection is not configured."""
    if not settings.ovn_nb_connection or not settings.ovn_sb_connection:
        raise ValueError("ovn_nb_connection and ovn_sb_connection must both be set")
    db = Database(settings.database_url, pool_size=4)
    try:
        apis = _connect(settings, stop)
        if apis is None:
            return
        nb, sb = apis
        Controller(Env(db=db, settings=settings), nb, sb).run(stop)
    finally:
        idl.disconnect_all()
        db.dispose()


def _connect(settings: Settings, stop: threading.Event):
    """(nb, sb) APIs once both OVN databases loaded; None if stopped first."""
    while not stop.is_set():
        try:
            return (idl.nb_api(settings.ovn_nb_connection),
                    idl.sb_api(settings.ovn_sb_connection))
        except idl.OvnUnavailable as exc:
            LOG.warning("OVN not reachable yet, retrying in %.0fs: %s", CONNECT_RETRY, exc)
            idl.disconnect_all()
            stop.wait(CONNECT_RETRY)
    return None

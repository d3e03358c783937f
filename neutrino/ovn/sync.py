"""The northbound sync: outbox consumer, periodic audit and repair.

One process (the leader) runs :meth:`NorthboundSync.run_forever` in its own
thread, asleep until a commit that wrote outbox rows wakes it (``db.outbox_wake``:
in-process event, PostgreSQL ``LISTEN``/``NOTIFY``, a datagram between processes
on one SQLite file) or the ``SAFETY_POLL`` passes. Each round reads the oldest outbox rows, recomputes the NB rows of
their resources from the database and applies the difference in ONE NB
transaction, then deletes exactly the outbox rows it read. A crash between
the NB commit and the delete only means the batch is applied again, which
changes nothing (desired-state diff, not blind commands). Rows are read in id
order, but order does not matter for correctness: every apply recomputes the
resource's current state, so a row committed late with a smaller id (possible
on PostgreSQL) is picked up by a later round and never deleted unread.

The audit compares the whole database against every row neutrino owns in the
NB (see ``ovn.desired``) and, with ``repair``, fixes the drift in one
transaction. It refuses to run on an IDL without a complete copy
(``IdlNotReady``). An audit run from another process (``neutrino sync
--repair``) while the leader applies a change may act on a snapshot a moment
old; the leader's next periodic audit puts that right.

Router gateways are placed on the gateway-capable chassis the SB lists
(``ovn.chassis``: ``ovn-cms-options`` holding ``enable-chassis-as-gw``).
Given an SB API, the sync watches its Chassis table: when the gateway-capable
chassis or their bridge mappings change (a chassis marked or unmarked as a
gateway included), every router with a gateway gets a "router" outbox row,
so its Gateway_Chassis rows are recomputed like any change.
Without an SB API (or while the SB copy is incomplete) Gateway_Chassis rows
are left as they are. The same watch keeps the database's host -> physical
network table (``services.segments.record_host_physnets``) in line with the
chassis' hostnames and bridge mappings: routed networks give a port addresses
from the segments its host reaches.

Several controllers may run against one database and one NB; only the one holding
the leader lock (``control.leader``) runs this sync. Its ``fence`` (the lock's
``held``) is asked before every NB transaction: once it answers False the sync
raises :class:`NotLeader` and writes nothing more, so a controller that lost its
database session cannot race the new leader. Outbox rows a dead leader applied but
did not delete are applied again by the next one, which changes nothing.

Metrics (``metrics.families.sync``): each batch's duration and rows, failed rounds,
and per periodic audit its result and the drift found and repaired.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.orm import Session
from tenacity import (RetryCallState, Retrying, retry_if_exception_type,
                      retry_if_not_exception_type, wait_exponential)

from neutrino.db import outbox_wake
from neutrino.db.models import OvnOutbox, Router
from neutrino.metrics import families as metric_families
from neutrino.ovn import apply, chassis, dns, load, observe
from neutrino.ovn.plan import ADD, DEL, SET, Change, plan
from neutrino.services import common, segments

LOG = logging.getLogger(__name__)

#: Seconds between reads of an empty outbox when nothing woke the sync: a safety
#: net only; a commit that writes outbox rows wakes it (``db.outbox_wake``).
SAFETY_POLL = 1.0
MAX_RETRY_SLEEP = 5.0
AUDIT_RETRY = 30.0  # seconds before a failed audit runs again


class NotLeader(RuntimeError):
    """The fence said this process no longer holds the leader lock: no NB write."""


class _Stopped(Exception):
    """``stop`` was set during a pause between retries."""


@dataclass(frozen=True)
class DriftReport:
    """What an audit found: one ``Change`` per row that is missing, extra or
    different (``Change.columns`` names the differing columns); ``checked``
    counts the rows the database wants per NB table."""

    changes: tuple[Change, ...] = ()
    repaired: bool = False
    checked: Mapping[str, int] = field(default_factory=dict)

    @property
    def has_drift(self) -> bool:
        return bool(self.changes)

    @property
    def missing(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action == ADD)

    @property
    def extra(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action == DEL)

    @property
    def different(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action == SET)


@dataclass
class SyncStats:
    """Counters since start, for logs and tests."""

    outbox_rows: int = 0
    changes: int = 0
    nb_transactions: int = 0
    audits: int = 0
    last_error: str = ""
    #: The last periodic audit: ``{"at": ISO time, "ok": bool, "missing": n,
    #: "different": n, "extra": n}`` or ``{"at", "ok": False, "error"}``; {} before any.
    last_audit: dict = field(default_factory=dict)


class NorthboundSync:
    """Applies the outbox to the NB and audits DB against NB.

    ``env`` is the services' ``Env`` (database and settings); ``nb_api`` an
    NB API from ``ovn.idl.nb_api``, already holding a complete copy;
    ``sb_api`` (optional) an SB API from ``ovn.idl.sb_api``, whose
    gateway-capable Chassis rows place router gateways. With an SB API, call
    :meth:`close` when done.
    ``fence`` (optional) is asked before every NB transaction; False raises
    :class:`NotLeader` (see the module docstring).
    """

    def __init__(self, env: Any, nb_api: Any, *, sb_api: Any = None,
                 batch_size: int | None = None, audit_interval: float | None = None,
                 fence: Callable[[], bool] | None = None) -> None:
        self.env = env
        self.nb = nb_api
        self.sb = sb_api
        self.fence = fence
        self.batch_size = batch_size or env.settings.ovn_sync_batch
        self.audit_interval = (env.settings.ovn_audit_interval if audit_interval is None
                               else audit_interval)
        self.stats = SyncStats()
        #: Set to have :meth:`run_forever` look at the outbox now (commits, SB
        #: chassis changes, ``stop``).
        self.wake = threading.Event()
        self._chassis_flag = threading.Event()
        self._chassis_event = None
        if sb_api is not None:  # watch first, then read: no change falls in between
            self._chassis_event = chassis.ChassisChanged(self._chassis_flag, self.wake)
            sb_api.idl.notify_handler.watch_event(self._chassis_event)
        self._chassis_seen = chassis.chassis_physnets(sb_api)
        self._hosts_seen: dict[str, frozenset[str]] | None = None
        if sb_api is not None:
            self._chassis_flag.set()  # record the hosts' physical networks on the first round

    def close(self) -> None:
        """Stop watching the SB Chassis table."""
        if self._chassis_event is not None:
            self.sb.idl.notify_handler.unwatch_event(self._chassis_event)
            self._chassis_event = None

    def chassis(self) -> dict[str, frozenset[str]] | None:
        """The gateway-capable SB chassis and the physical networks each
        bridges (``ovn.chassis.chassis_physnets``); None when unknown."""
        return chassis.chassis_physnets(self.sb)

    def record_hosts(self) -> bool:
        """Write the SB chassis' hostnames and physical networks to the database if
        they changed since last written; True if written. Raises on DB errors."""
        hosts = chassis.host_physnets(self.sb)
        if hosts is None:
            self._chassis_flag.set()  # SB copy incomplete: try again next round
            return False
        if hosts == self._hosts_seen:
            return False
        segments.record_host_physnets(self.env, hosts)
        self._hosts_seen = hosts
        LOG.info("hosts and their physical networks: %s",
                 ", ".join(f"{h} {sorted(p)}" for h, p in sorted(hosts.items())) or "none")
        return True

    def requeue_gateways(self) -> int:
        """After an SB Chassis change, record the hosts' physical networks
        (:meth:`record_hosts`) and, if the gateway-capable chassis or their
        physical networks differ from those last seen, put every router with a
        gateway in the outbox; returns how many routers (0: nothing changed)."""
        if not self._chassis_flag.is_set():
            return 0
        self._chassis_flag.clear()
        try:
            self.record_hosts()
        except Exception:
            self._chassis_flag.set()  # try again next round
            raise
        now = self.chassis()
        if now is None or now == self._chassis_seen:
            return 0
        stamp = common.now()

        def run(session: Session) -> int:
            rows = select(literal("router"), Router.id, literal(stamp)).where(
                Router.gw_port_id.is_not(None))
            return session.execute(insert(OvnOutbox).from_select(
                ["resource_type", "resource_id", "created_at"], rows)).rowcount
        try:
            count = self.env.db.run(run)
        except Exception:
            self._chassis_flag.set()  # try again next round
            raise
        self._chassis_seen = now
        LOG.info("SB chassis changed: %d router gateway(s) to place again", count)
        return count

    def run_once(self, max_rows: int | None = None) -> int:
        """Apply the oldest ``max_rows`` outbox rows (default: the batch size) in
        one NB transaction, then delete them. Returns how many were consumed
        (0: the outbox was empty). Raises on NB or DB errors; nothing is lost."""
        self.requeue_gateways()
        limit = max_rows or self.batch_size
        started = time.perf_counter()
        rows = self.env.db.run(lambda s: s.execute(
            select(OvnOutbox.id, OvnOutbox.resource_type, OvnOutbox.resource_id)
            .order_by(OvnOutbox.id).limit(limit)).all(), write=False)
        if not rows:
            return 0
        unknown = {r.resource_type for r in rows} - set(load.RESOURCE_TYPES)
        if unknown:
            LOG.warning("outbox rows of unknown type(s) %s consumed without NB change",
                        ", ".join(sorted(unknown)))
        self._check_fence()
        changes = apply.apply_resources(self.env, self.nb, {(r.resource_type, r.resource_id)
                                                            for r in rows}, self.chassis())
        self._delete_outbox([r.id for r in rows])
        measured = metric_families.sync()
        measured.batch_duration.observe(time.perf_counter() - started)
        measured.outbox_rows.inc(len(rows))
        self.stats.outbox_rows += len(rows)
        self.stats.changes += len(changes)
        self.stats.nb_transactions += bool(changes)
        return len(rows)

    def _check_fence(self) -> None:
        if self.fence is not None and not self.fence():
            raise NotLeader("the leader lock is no longer held: NB writes stop")

    def _delete_outbox(self, ids: list[int]) -> None:
        def run(session: Session) -> None:
            for i in range(0, len(ids), 500):
                session.execute(delete(OvnOutbox).where(OvnOutbox.id.in_(ids[i:i + 500])))
        self.env.db.run(run)

    def audit(self, repair: bool = False) -> DriftReport:
        """Compare the whole database with every NB row neutrino owns; with
        ``repair``, fix every difference in one NB transaction.

        Rows not owned (see ``ovn.desired``) are neither reported nor touched.
        Raises IdlNotReady when the IDL has no complete, connected copy.
        """
        settings = self.env.settings
        known = self.chassis()
        servers = dns.default_dns_servers(settings)
        desired = self.env.db.run(lambda s: load.load_all(
            s, base_mac=settings.base_mac, lease_time=settings.dhcp_lease_time, chassis=known,
            distributed_floating_ips=settings.enable_distributed_floating_ip,
            dns_domain=settings.dns_domain, dns_servers=servers,
            log_limits=(settings.network_log_rate_limit, settings.network_log_burst_limit)),
            write=False)
        load.warn_unscheduled(desired)
        observed = observe.read_nb(self.nb, None, desired.ports.keys(),
                                   desired.router_ports.keys())
        changes = plan(desired, observed)
        if repair and changes:
            self._check_fence()
            apply.execute(self.nb, apply.nb_commands(self.nb, changes, observed))
            self.stats.nb_transactions += 1
            self.stats.changes += len(changes)
        self.stats.audits += 1
        checked = {observe.LS: len(desired.switches), observe.LSP: len(desired.ports),
                   observe.DHCP: len(desired.dhcp_options), observe.LR: len(desired.routers),
                   observe.LRP: len(desired.router_ports),
                   observe.ROUTE: len(desired.static_routes), observe.NAT: len(desired.nats),
                   observe.POLICY: len(desired.router_policies),
                   observe.PG: len(desired.port_groups), observe.ACL: len(desired.acls),
                   observe.DNS: len(desired.dns)}
        if desired.gateway_chassis is not None:
            checked[observe.GWC] = len(desired.gateway_chassis)
        return DriftReport(tuple(changes), repaired=repair and bool(changes), checked=checked)

    def run_forever(self, stop: threading.Event) -> None:
        """Drain the outbox until ``stop`` is set: no pause while there is work,
        then sleep until :attr:`wake` is set — by the commit of a transaction that
        wrote outbox rows, in this process or any other (``db.outbox_wake``'s
        listener runs meanwhile), or by an SB chassis change — or ``SAFETY_POLL``
        seconds passed. Set :attr:`wake` after ``stop`` to end at once (else
        within ``SAFETY_POLL``). A full audit with repair runs first and then
        every ``audit_interval`` seconds (0: never); a failed audit is retried
        after ``AUDIT_RETRY`` seconds without holding up the outbox. Errors are
        logged and retried with a growing pause; the loop never dies of them,
        only of :class:`NotLeader` (it returns)."""
        next_audit = time.monotonic()

        def turn() -> int:  # the audit when it is due, then one batch
            nonlocal next_audit
            if self.audit_interval and time.monotonic() >= next_audit:
                ok = self._audit_and_log()
                next_audit = time.monotonic() + (
                    self.audit_interval if ok else min(self.audit_interval, AUDIT_RETRY))
            return self.run_once()

        def pause(seconds: float) -> None:  # between failed turns, cut short by ``stop``
            if stop.wait(seconds):
                raise _Stopped

        # the n-th failure in a row waits min(MAX_RETRY_SLEEP, 0.1 * 2**n) s
        turn_until_done = Retrying(
            retry=retry_if_exception_type(Exception) & retry_if_not_exception_type(NotLeader),
            wait=wait_exponential(multiplier=0.2, max=MAX_RETRY_SLEEP), sleep=pause,
            before_sleep=self._log_failure)
        listener = outbox_wake.Listener(self.env.db.url, self.wake).start()
        try:
            while not stop.is_set():
                self.wake.clear()  # before reading: a commit from now on wakes the wait
                if not turn_until_done(turn) and not stop.is_set():
                    self.wake.wait(self._idle_wait(next_audit))
        except NotLeader:
            LOG.warning("NB sync stops: this controller is no longer the leader")
        except _Stopped:
            pass
        finally:
            listener.close()

    def _idle_wait(self, next_audit: float) -> float:
        """Seconds to sleep on an empty outbox: ``SAFETY_POLL``, less if the
        periodic audit is due sooner."""
        if not self.audit_interval:
            return SAFETY_POLL
        return max(0.0, min(SAFETY_POLL, next_audit - time.monotonic()))

    def _log_failure(self, state: RetryCallState) -> None:
        """Record and log a failed turn of :meth:`run_forever`, the first in a row
        with its traceback (tenacity's ``before_sleep``)."""
        exc = state.outcome.exception()
        metric_families.sync().failures.inc()
        self.stats.last_error = f"{type(exc).__name__}: {exc}"
        if state.attempt_number == 1:
            LOG.error("NB sync failed; retrying", exc_info=exc)
        else:
            LOG.warning("NB sync still failing (attempt %d): %s", state.attempt_number, exc)

    def _audit_and_log(self) -> bool:
        at = common.now()
        try:
            report = self.audit(repair=True)
        except NotLeader:
            return False  # run_once says so next
        except Exception as exc:  # noqa: BLE001 - logged, retried
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            self.stats.last_audit = {"at": at, "ok": False, "error": self.stats.last_error}
            metric_families.sync().audits.labels("failed").inc()
            LOG.warning("NB audit failed, retrying in %.0fs: %s", AUDIT_RETRY, exc)
            return False
        self.stats.last_audit = {"at": at, "ok": True, "missing": len(report.missing),
                                 "different": len(report.different),
                                 "extra": len(report.extra)}
        measured = metric_families.sync()
        measured.audits.labels("ok").inc()
        for kind in ("missing", "different", "extra"):
            measured.drift.labels(kind).inc(self.stats.last_audit[kind])
        if report.repaired:
            measured.repaired.inc(len(report.changes))
        if report.has_drift:
            LOG.warning("NB audit repaired %d missing, %d different and %d extra row(s)",
                        len(report.missing), len(report.different), len(report.extra))
        return True

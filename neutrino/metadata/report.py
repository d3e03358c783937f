"""The metadata agent's report in its chassis' SB ``Chassis_Private`` row: which
networks it serves there, read by the port-status watcher (``ovn.status``) before a
port bound to that chassis may turn ACTIVE.

The row is the one ovn-controller makes when it registers the chassis
(``Chassis_Private.name`` = ``Chassis.name``); the agent waits for it. Two of its
``external_ids`` keys (``neutrino.constants``) are the agent's:

* ``neutrino:metadata-agent`` = the agent's id, ``<hostname>:<pid>``. Written as soon
  as the row exists and never removed, so the chassis stays gated after the agent
  stopped: a chassis with a stopped agent serves no metadata;
* ``neutrino:metadata-networks`` = the ids of the networks whose metadata namespace is
  plumbed and listening on the chassis, sorted and space-separated; ``""`` before the
  first namespace listens and after a graceful stop;
* ``neutrino:metadata-sb-cfg`` = the SB_Global ``nb_cfg`` the agent last saw: the
  controller bumps ``nb_cfg`` as a liveness probe and counts the agent alive while it
  answers (``ovn.agents``; ML2/OVN's agent does the same with its own key).

Nothing else in the row is touched: the keys are written with ovsdbapp's ``db_set``
of a map, which verifies the column and re-runs the transaction when another writer
(ovn-controller, Neutron's agent reporting liveness in the same row) changed it
meanwhile. A killed agent leaves its last report behind.

:class:`ChassisReporter` is one thread: the agent hands it the served set whenever
that changes; it compares the wanted keys with the IDL's copy of the row and writes
the difference — at once, again every ``RETRY_INTERVAL`` seconds while the row is
missing or a write failed, on every change of the row (a row ovn-controller made
again, keys someone removed), and every ``RECHECK_INTERVAL`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ovsdbapp.backend.ovs_idl import event as row_event

from neutrino.constants import (
    CHASSIS_METADATA_AGENT,
    CHASSIS_METADATA_NETWORKS,
    CHASSIS_METADATA_SB_CFG,
)

LOG = logging.getLogger(__name__)

TABLE = "Chassis_Private"
RETRY_INTERVAL = 1.0  # seconds between attempts while the row is missing or writes fail
RECHECK_INTERVAL = 10.0  # seconds between checks of a report written


def default_agent_id() -> str:
    """``<hostname>:<pid>`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def encode_networks(networks: Iterable[str]) -> str:
    """The ``neutrino:metadata-networks`` value: ids sorted, space-separated."""
    return " ".join(sorted(set(networks)))


def report_keys(agent_id: str, networks: Iterable[str],
                sb_cfg: int | None = None) -> dict[str, str]:
    """The ``external_ids`` entries of an agent serving ``networks`` that saw SB_Global
    ``nb_cfg`` = ``sb_cfg`` (None: no SB_Global yet, no liveness answer)."""
    keys = {CHASSIS_METADATA_AGENT: agent_id, CHASSIS_METADATA_NETWORKS: encode_networks(networks)}
    if sb_cfg is not None:
        keys[CHASSIS_METADATA_SB_CFG] = str(sb_cfg)
    return keys


def changed_keys(current: Mapping[str, str], wanted: Mapping[str, str]) -> dict[str, str]:
    """The entries of ``wanted`` that ``current`` lacks or holds with another value."""
    return {key: value for key, value in wanted.items() if current.get(key) != value}


class _RowChanged(row_event.RowEvent):
    """This chassis' Chassis_Private row made or changed, or SB_Global's ``nb_cfg``
    (a liveness probe): check the report."""

    def __init__(self, reporter: ChassisReporter, table: str = TABLE) -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE), table, None)
        self.event_name = f"NeutrinoMetadataReportEvent{table}"
        self.reporter = reporter

    def match_fn(self, event, row, old=None) -> bool:
        if self.table == "SB_Global":
            return event == self.ROW_CREATE or hasattr(old, "nb_cfg")
        return row.name == self.reporter.chassis

    def run(self, event, row, old) -> None:
        self.reporter._wake.set()


class ChassisReporter:
    """Keeps the report of agent ``agent_id`` in the ``Chassis_Private`` row named
    ``chassis`` current (see the module docstring). ``sb_api``: an ``ovn.idl.sb_api``
    monitoring Chassis_Private. Thread-safe; errors are logged and retried, never
    raised.

    ::

        reporter = ChassisReporter(sb, "vm", "vm:4242")
        reporter.start()                    # registers "vm:4242", networks ""
        reporter.update({"<network id>"})   # whenever the served set changes
        reporter.stop()                     # networks "", the registration stays
    """

    def __init__(self, sb_api: Any, chassis: str, agent_id: str, *,
                 retry_interval: float = RETRY_INTERVAL,
                 recheck_interval: float = RECHECK_INTERVAL) -> None:
        self.sb = sb_api
        self.chassis = chassis
        self.agent_id = agent_id
        self.retry_interval = retry_interval
        self.recheck_interval = recheck_interval
        self._networks: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._deadline: float | None = None  # set by stop: the last write's
        self._thread: threading.Thread | None = None
        self._events = (_RowChanged(self), _RowChanged(self, "SB_Global"))
        self._waiting = False

    def start(self) -> None:
        """Watch the row and start the thread (it writes as soon as the row exists)."""
        self.sb.idl.notify_handler.watch_events(self._events)
        self._thread = threading.Thread(target=self._run, name="metadata-report", daemon=True)
        self._thread.start()

    def update(self, networks: Iterable[str]) -> None:
        """Report ``networks`` (ids) as served from now on; returns at once."""
        networks = frozenset(networks)
        with self._lock:
            if networks == self._networks or self._deadline is not None:
                return
            self._networks = networks
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Report no network (keeping the registration), waiting up to ``timeout``
        seconds for that write, and end the thread. Idempotent."""
        with self._lock:
            self._networks = frozenset()
            if self._deadline is None:
                self._deadline = time.monotonic() + timeout
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout + 1)
        with contextlib.suppress(Exception):  # the connection may be closed already
            self.sb.idl.notify_handler.unwatch_events(self._events)

    def _run(self) -> None:
        interval = 0.0
        while True:
            self._wake.wait(interval)
            self._wake.clear()
            with self._lock:
                networks, deadline = self._networks, self._deadline
            try:
                done = self._sync(networks)
            except Exception as exc:  # noqa: BLE001 - the SB may be away; retried
                LOG.warning("metadata report of chassis %s not written: %s", self.chassis, exc)
                done = None
            if deadline is not None and (done is not None or time.monotonic() >= deadline):
                return  # written, or no row to write in, or out of time
            interval = self.recheck_interval if done else self.retry_interval

    def _sync(self, networks: frozenset[str]) -> bool:
        """Write what differs from the wanted report; False while the row is missing."""
        with self.sb.ovsdb_connection.lock:
            rows = self.sb.tables[TABLE].rows.values()
            current = next((dict(r.external_ids) for r in rows if r.name == self.chassis), None)
            sb_global = self.sb.tables.get("SB_Global")
            sb_cfg = next((g.nb_cfg for g in sb_global.rows.values()), None) if sb_global else None
        if current is None:
            if not self._waiting:
                LOG.info("metadata agent waiting for SB Chassis_Private %s "
                         "(ovn-controller makes it)", self.chassis)
            self._waiting = True
            return False
        self._waiting = False
        changes = changed_keys(current, report_keys(self.agent_id, networks, sb_cfg))
        if changes:
            self.sb.db_set(TABLE, self.chassis, ("external_ids", changes),
                           if_exists=True).execute(check_error=True, log_errors=False)
            LOG.info("chassis %s: metadata agent %s reports %d network(s) served",
                     self.chassis, self.agent_id, len(networks))
        return True


__all__ = ["ChassisReporter", "changed_keys", "default_agent_id", "encode_networks",
           "report_keys"]

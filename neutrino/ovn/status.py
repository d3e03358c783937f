"""Port status from the SB: ACTIVE with ``binding:host_id`` once a chassis claims
the port, DOWN when it lets go (reference D.3 "Status").

A port is up when its SB ``Port_Binding`` has a ``chassis`` and, where the
chassis reports it, ``up`` is true (ovn-controller sets it once the port's
flows are installed). Events arrive on the IDL thread; they only record the
port's new state, and a worker thread writes the newest state of each port to
the DB, so a slow database never stalls the IDL.

ACTIVE also means "instance metadata can be served": Debian 12's cloud-init asks
169.254.169.254 once, with a 10 s timeout, and never retries an error. Given a
``metadata_ready`` hook, the worker asks it, for the ports of a batch going up,
which of them have their metadata path ready, and holds back the others: they are
retried every ``RETRY_DELAY`` seconds until ready (or until a newer state
supersedes them). The hook is ``metadata.agent.MetadataAgent.ready`` of the agent
running in this process (``neutrino up``): it plumbs the port's network on this
chassis if needed and returns once it listens, and lets ports bound to other
chassis through. For agents on other chassis the hook would read their report in
SB ``Chassis_Private`` (see the ``metadata.agent`` module docstring).

Nova's ``network-vif-plugged`` / ``-unplugged`` events are recorded by
``ports.set_port_binding_state`` in the transaction that changes the status
(``notifiers.nova``), so Nova hears of a port only once it is ACTIVE, gate included.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Sequence

from ovsdbapp.backend.ovs_idl import event as row_event

from neutrino.services import ports
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)
READY_TIMEOUT = 20.0  # seconds a batch waits for the metadata path of its ports
RETRY_DELAY = 1.0  # seconds before ports whose metadata path is not ready are retried
#: ``hook(port_ids, timeout) -> the ready ones``; see the module docstring.
MetadataReady = Callable[[Sequence[str], float], set[str]]


class _PortBindingEvent(row_event.RowEvent):
    """Any change of a VIF Port_Binding whose logical port is a neutrino port."""

    def __init__(self, watcher: "PortStatusWatcher") -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE), "Port_Binding", None)
        self.event_name = "NeutrinoPortBindingEvent"
        self.watcher = watcher

    def match_fn(self, event, row, old=None) -> bool:
        return row.type == "" and _is_uuid(row.logical_port)

    def run(self, event, row, old) -> None:
        state = (False, None) if event == self.ROW_DELETE else binding_state(row)
        self.watcher.changed(row.logical_port, state)


class PortStatusWatcher:
    """Mirror SB port bindings into port status. ``sb_api`` is an ovsdbapp
    ``OvnSbApiIdlImpl`` holding a complete copy of the SB; ``metadata_ready``
    (optional) gates ACTIVE on the metadata path, waiting up to ``ready_timeout``
    seconds per batch (see the module docstring)."""

    def __init__(self, env: Env, sb_api, metadata_ready: MetadataReady | None = None,
                 ready_timeout: float = READY_TIMEOUT) -> None:
        self.env = env
        self.sb = sb_api
        self.metadata_ready = metadata_ready
        self.ready_timeout = ready_timeout
        self._pending: dict[str, tuple[bool, str | None]] = {}
        self._lock = threading.Lock()
        self._wake: queue.Queue[None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="port-status", daemon=True)
        self._event = _PortBindingEvent(self)

    def start(self) -> None:
        """Watch for changes, then record every current binding once (a resync)."""
        self.sb.idl.notify_handler.watch_event(self._event)
        self._thread.start()
        for row in list(self.sb.tables["Port_Binding"].rows.values()):
            if row.type == "" and _is_uuid(row.logical_port):
                self.changed(row.logical_port, binding_state(row))

    def stop(self) -> None:
        """Stop watching and end the worker (also after a failed :meth:`start`)."""
        self.sb.idl.notify_handler.unwatch_event(self._event)
        self._stop.set()
        self._wake.put(None)
        if self._thread.ident is not None:
            self._thread.join(timeout=5)

    def changed(self, port_id: str, state: tuple[bool, str | None]) -> None:
        with self._lock:
            self._pending[port_id] = state
        self._wake.put(None)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.get()
            with self._lock:
                batch, self._pending = self._pending, {}
            held = self._not_ready([p for p, (up, _) in batch.items() if up])
            for port_id, (up, host) in batch.items():
                if port_id in held:
                    continue
                try:
                    ports.set_port_binding_state(self.env, port_id, up=up, chassis_host=host)
                except Exception:  # keep watching; the next event or resync retries
                    LOG.exception("could not record the binding state of port %s", port_id)
            if held:
                LOG.warning("metadata path not ready for %d port(s) (%s): ACTIVE held back",
                            len(held), ", ".join(sorted(held)[:5]))
                self._stop.wait(RETRY_DELAY)
                with self._lock:
                    for port_id in held:  # unless a newer state came meanwhile
                        self._pending.setdefault(port_id, batch[port_id])
                self._wake.put(None)

    def _not_ready(self, going_up: list[str]) -> set[str]:
        """The ports of ``going_up`` whose metadata path is not ready (all of them
        when the hook fails)."""
        if not going_up or self.metadata_ready is None:
            return set()
        try:
            return set(going_up) - set(self.metadata_ready(going_up, self.ready_timeout))
        except Exception:  # noqa: BLE001 - logged; retried
            LOG.exception("the metadata readiness hook failed")
            return set(going_up)


def binding_state(row) -> tuple[bool, str | None]:
    """(up, chassis hostname) of an SB Port_Binding row."""
    if not row.chassis or list(getattr(row, "up", [])) == [False]:
        return False, None
    chassis = row.chassis[0]
    return True, chassis.hostname or chassis.name


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

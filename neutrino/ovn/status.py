"""Port status from the SB: ACTIVE with ``binding:host_id`` once a chassis claims
the port, DOWN when it lets go (reference D.3 "Status").

A port is up when its SB ``Port_Binding`` has a ``chassis`` and, where the
chassis reports it, ``up`` is true (ovn-controller sets it once the port's
flows are installed). A deleted ``Chassis`` takes its ports with it: the
binding's weak reference is cleared, so the port turns DOWN. Events arrive on
the IDL's notify thread; they only record the port's new state, and a worker
thread writes the newest state of each port to the DB, so a slow database never
stalls the IDL.

ACTIVE also means "instance metadata can be served": Debian 12's cloud-init asks
169.254.169.254 once, with a 10 s timeout, and never retries an error. Each
chassis' metadata agent (``neutrino metadata-agent``, any process, any host)
reports in its SB ``Chassis_Private`` row (``metadata.report``):
``external_ids:neutrino:metadata-agent`` (its id) and
``external_ids:neutrino:metadata-networks`` (the networks it serves there). A port
going up, bound to chassis ``C``, on network ``N`` (the binding's
``neutron:network_name``, else its datapath's ``name``: ``neutron-<N>``) is *held*
— not recorded ACTIVE — while all of these hold (:func:`held_for_metadata`):

* ``N`` has a metadata port: a ``localport`` binding of ``N`` owned by
  ``network:distributed`` with an address in ``neutron:cidrs`` (what the agent
  plumbs: an IPv4 one for 169.254.169.254, an IPv6 one only on an IPv6-only
  network, served on ``fe80::a9fe:a9fe``);
* ``C``'s ``Chassis_Private`` has ``neutrino:metadata-agent`` (a chassis without a
  registered agent, e.g. a deployment without neutrino's agent, is not gated);
* ``N`` is not in its ``neutrino:metadata-networks``.

Held ports are checked again whenever a ``Chassis_Private`` row or a metadata port
changes (so a port is released as soon as its agent reports), and every
``RETRY_DELAY`` seconds, until released or superseded by a newer state of the port.

Nova's ``network-vif-plugged`` / ``-unplugged`` events are recorded by
``ports.set_port_binding_state`` in the transaction that changes the status
(``notifiers.nova``), so Nova hears of a port only once it is ACTIVE, gate included.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

from ovsdbapp.backend.ovs_idl import event as row_event

from neutrino.constants import (
    CHASSIS_METADATA_AGENT,
    CHASSIS_METADATA_NETWORKS,
    DEVICE_OWNER_DISTRIBUTED,
)
from neutrino.services import ports
from neutrino.services.common import is_uuid
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)
RETRY_DELAY = 1.0  # seconds between checks of held ports when nothing else happens
SWITCH_PREFIX = "neutron-"  # Logical_Switch / Datapath_Binding name: neutron-<network id>


class PortState(NamedTuple):
    """What the watcher records of a VIF binding: ``up``; ``host``, the
    ``binding:host_id`` (the chassis' hostname, else its name); ``chassis``, the SB
    ``Chassis.name``; ``network``, the port's network id (None when unknown)."""

    up: bool
    host: str | None
    chassis: str | None = None
    network: str | None = None


DOWN = PortState(False, None)


class _BindingEvent(row_event.RowEvent):
    """Any change of a VIF Port_Binding of a neutrino port, or of a localport one."""

    def __init__(self, watcher: PortStatusWatcher) -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE), "Port_Binding", None)
        self.event_name = "NeutrinoPortBindingEvent"
        self.watcher = watcher

    def match_fn(self, event, row, old=None) -> bool:
        return row.type == "localport" or (row.type in ("", "patch")
                                           and is_uuid(row.logical_port))

    def run(self, event, row, old) -> None:
        if row.type == "localport":
            network = None if event == self.ROW_DELETE else metadata_network(row)
            self.watcher.metadata_port_changed(row.logical_port, network)
        else:
            self.watcher.changed(row.logical_port,
                                 DOWN if event == self.ROW_DELETE else binding_state(row))


class _ChassisPrivateEvent(row_event.RowEvent):
    """A Chassis_Private row made, changed or deleted: held ports are checked again."""

    def __init__(self, watcher: PortStatusWatcher) -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE),
                         "Chassis_Private", None)
        self.event_name = "NeutrinoChassisPrivateEvent"
        self.watcher = watcher

    def match_fn(self, event, row, old=None) -> bool:
        # an update matters only when external_ids changed (not nb_cfg bumps)
        return event != self.ROW_UPDATE or hasattr(old, "external_ids")

    def run(self, event, row, old) -> None:
        self.watcher.recheck()


class PortStatusWatcher:
    """Mirror SB port bindings into port status, ACTIVE gated on the metadata
    agents' reports (see the module docstring). ``sb_api`` is an ovsdbapp
    ``OvnSbApiIdlImpl`` holding a complete copy of the SB (Port_Binding,
    Chassis, Chassis_Private and Datapath_Binding monitored)."""

    def __init__(self, env: Env, sb_api: Any) -> None:
        self.env = env
        self.sb = sb_api
        self._pending: dict[str, PortState] = {}
        self._metadata_ports: dict[str, str] = {}  # metadata port id -> its network
        self._lock = threading.Lock()
        self._wake: queue.Queue[None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="port-status", daemon=True)
        self._events = (_BindingEvent(self), _ChassisPrivateEvent(self))

    def start(self) -> None:
        """Watch for changes, then record every current binding once (a resync)."""
        self.sb.idl.notify_handler.watch_events(self._events)
        self._thread.start()
        with self.sb.ovsdb_connection.lock:
            rows = list(self.sb.tables["Port_Binding"].rows.values())
            meta = [(r.logical_port, metadata_network(r)) for r in rows if r.type == "localport"]
            vifs = [(r.logical_port, binding_state(r)) for r in rows
                    if r.type in ("", "patch") and is_uuid(r.logical_port)]
        for port_id, network in meta:
            self.metadata_port_changed(port_id, network)
        for port_id, state in vifs:
            self.changed(port_id, state)

    def stop(self) -> None:
        """Stop watching and end the worker (also after a failed :meth:`start`)."""
        self.sb.idl.notify_handler.unwatch_events(self._events)
        self._stop.set()
        self._wake.put(None)
        if self._thread.ident is not None:
            self._thread.join(timeout=5)

    def changed(self, port_id: str, state: tuple) -> None:
        """Record ``state`` (a :class:`PortState` or ``(up, host)``) as the newest of
        ``port_id``; the worker writes it."""
        with self._lock:
            self._pending[port_id] = PortState(*state)
        self._wake.put(None)

    def metadata_port_changed(self, port_id: str, network: str | None) -> None:
        """Record that localport ``port_id`` is the metadata port of ``network`` (None:
        of no network, or deleted); held ports are checked again."""
        with self._lock:
            if network is None:
                self._metadata_ports.pop(port_id, None)
            else:
                self._metadata_ports[port_id] = network
        self._wake.put(None)

    def recheck(self) -> None:
        """Have the worker check the held ports again (a report may have changed)."""
        self._wake.put(None)

    def _work(self) -> None:
        held: dict[str, PortState] = {}
        while not self._stop.is_set():
            try:
                self._wake.get(timeout=RETRY_DELAY if held else None)
            except queue.Empty:
                pass
            while not self._wake.empty():  # one pass serves every wake-up so far
                self._wake.get_nowait()
            if self._stop.is_set():
                return
            with self._lock:
                batch, self._pending = self._pending, {}
            for port_id, state in held.items():
                batch.setdefault(port_id, state)  # unless a newer state came meanwhile
            before, held = held, {p: batch[p] for p in self._held(batch)}
            for port_id, state in batch.items():
                if port_id in held:
                    continue
                try:
                    ports.set_port_binding_state(self.env, port_id, up=state.up,
                                                 chassis_host=state.host)
                except Exception:  # keep watching; the next event or resync retries
                    LOG.exception("could not record the binding state of port %s", port_id)
            new = sorted(held.keys() - before.keys())
            if new:
                LOG.warning("metadata not served yet on their chassis for %d port(s) (%s): "
                            "ACTIVE held back", len(new), ", ".join(new[:5]))
            released = before.keys() - held.keys()
            if released:
                LOG.info("%d held port(s) released", len(released))

    def _held(self, batch: Mapping[str, PortState]) -> set[str]:
        """The ports of ``batch`` to hold back (see :func:`held_for_metadata`); all
        that might be when the SB copy cannot be read."""
        with self._lock:
            with_metadata = set(self._metadata_ports.values())
        candidates = {p: s for p, s in batch.items()
                      if s.up and s.chassis and s.network in with_metadata}
        if not candidates:
            return set()
        try:
            reports = self._reports()
        except Exception:  # logged; checked again
            LOG.exception("could not read the metadata agents' reports")
            return set(candidates)
        return {p for p, s in candidates.items()
                if held_for_metadata(s, with_metadata, reports)}

    def _reports(self) -> dict[str, dict[str, str]]:
        """``{chassis name: Chassis_Private.external_ids}`` of chassis with an agent."""
        table = self.sb.tables.get("Chassis_Private")
        if table is None:  # an SB schema without it (OVN < 20.09): nobody reports
            return {}
        with self.sb.ovsdb_connection.lock:
            return {r.name: dict(r.external_ids) for r in table.rows.values()
                    if CHASSIS_METADATA_AGENT in r.external_ids}


def held_for_metadata(state: PortState, metadata_networks: set[str] | frozenset[str],
                      reports: Mapping[str, Mapping[str, str]]) -> bool:
    """True when port ``state`` must not be ACTIVE yet: up, on a network among
    ``metadata_networks`` (those with a metadata port), bound to a chassis whose
    report (``reports``: chassis name -> its Chassis_Private ``external_ids``)
    registers an agent that does not list the network."""
    if not state.up or state.chassis is None or state.network not in metadata_networks:
        return False
    served = served_networks(reports.get(state.chassis))
    return served is not None and state.network not in served


def served_networks(external_ids: Mapping[str, str] | None) -> frozenset[str] | None:
    """The networks a chassis' agent reports served (from its Chassis_Private
    ``external_ids``), or None when no agent is registered (an empty agent id
    counts as none)."""
    if not external_ids or not external_ids.get(CHASSIS_METADATA_AGENT):
        return None
    return frozenset(external_ids.get(CHASSIS_METADATA_NETWORKS, "").split())


def binding_state(row: Any) -> PortState:
    """The :class:`PortState` of an SB Port_Binding row (live or frozen). A ``patch``
    binding (the switch side of a router interface or gateway port: an LSP of type
    ``router``) is up as soon as ovn-northd has made it, on no chassis (its ``up``
    column stays false: no ovn-controller claims a patch port), as ML2/OVN reports a
    router port ACTIVE once it is realised in OVN."""
    network = network_of(row)
    if row.type == "patch":
        return PortState(True, None, None, network)
    if not row.chassis or list(getattr(row, "up", [])) == [False]:
        return PortState(False, None, None, network)
    chassis = row.chassis[0]
    return PortState(True, chassis.hostname or chassis.name, chassis.name, network)


def metadata_network(row: Any) -> str | None:
    """The network of a metadata port binding (``localport``, owner
    ``network:distributed``, an address in ``neutron:cidrs``: IPv4, or IPv6 on an
    IPv6-only network), else None."""
    ids = row.external_ids
    if (row.type != "localport" or ids.get("neutron:device_owner") != DEVICE_OWNER_DISTRIBUTED
            or not ids.get("neutron:cidrs", "").split()):
        return None
    return network_of(row)


def network_of(row: Any) -> str | None:
    """A Port_Binding's network id: from ``external_ids:neutron:network_name``
    (``neutron-<id>``, copied from the LSP by ovn-northd), else from its datapath's
    ``external_ids:name``; None when neither names a neutron network."""
    name = row.external_ids.get("neutron:network_name", "")
    if not name.startswith(SWITCH_PREFIX):
        try:
            datapath = row.datapath[0] if isinstance(row.datapath, list) else row.datapath
            name = datapath.external_ids.get("name", "")
        except (AttributeError, IndexError, TypeError):
            return None
    return name[len(SWITCH_PREFIX):] or None if name.startswith(SWITCH_PREFIX) else None

"""The metadata agent: one per chassis, serving 169.254.169.254 on every network
that has a port bound to the chassis (reference E.1-E.3, ARCHITECTURE "Metadata path").

Per such network ``N``:

* a namespace ``ovnmeta-<N>`` (``<netns_prefix><N>``: several chassis on one machine,
  as in the lab, give their agents different prefixes) holding the inner end
  (``tap<first 10 of N>1``) of a veth whose outer end (``tap<first 10 of N>0``) is
  plugged into the integration bridge with ``external_ids:iface-id`` = the network's
  metadata port, a ``localport`` LSP (D.7) that ovn-controller binds on every
  chassis; the inner end carries the port's MAC, its IPv4 addresses with their
  prefixes (SB ``Port_Binding.external_ids:neutron:cidrs``), ``169.254.169.254/32``
  and ``fe80::a9fe:a9fe/64``; a network whose metadata port has no IPv4 address
  (an IPv6-only network) is served on ``fe80::a9fe:a9fe`` alone (``ipv6`` on);
* listening sockets on ``169.254.169.254:80`` and ``[fe80::a9fe:a9fe%<if>]:80``,
  created inside that namespace (``host.netns.listen_tcp``) but served by the
  agent's one asyncio event loop, through one aiohttp low-level server per network.
  (IPv6 reaches it only from ports with an IPv6 address: OVN port security drops
  the IPv6 traffic of an IPv4-only port, and with port security a port may send
  only from the link-local address derived from its MAC, ovn-nb(5)
  ``port_security``);
* a netlink socket opened inside that namespace (``neighbours.NeighbourTable``):
  the proxy reads each caller's MAC from the namespace's neighbour entry for its
  source address.

What the agent knows is ``index.PortIndex``, built from the SB ``Port_Binding`` rows
and kept fresh by IDL events; how a request is resolved and forwarded is
``proxy.MetadataProxy``.

Namespaces of networks without a local port are removed. Every namespace the agent
makes is recorded in ``<state_dir>/metadata-agent/<chassis>/netns/`` (a file named as
the namespace, holding the network id), so a restarted agent adopts (re-plumbs, with
new sockets) or removes exactly its own, and :func:`remove_recorded` cleans up after
an agent of a chassis that was killed.

Readiness (Debian 12's cloud-init asks once, 10 s timeout, never retries an error):
the agent reports in its chassis' SB ``Chassis_Private`` row (``metadata.report``),
as Neutron's agent reports liveness there: ``external_ids:neutrino:metadata-agent``
(its id, ``<hostname>:<pid>``, registered once the row exists and kept after it
stops) and ``external_ids:neutrino:metadata-networks`` (the ids of the networks
plumbed and listening, updated whenever that set changes; empty after a graceful
stop). ``ovn.status.PortStatusWatcher``, in whatever process, holds a port bound to
a chassis with a registered agent back from ACTIVE until its network is listed there.

Threads: the event loop (``metadata-agent``), one plumbing thread (namespace, veth,
OVS port, sockets: blocking calls, serialised), the reporter's thread
(``metadata-report``) and the SB IDL's notify thread, which only parses rows and
posts them to the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovsdbapp.backend.ovs_idl import event as row_event

from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.metadata.index import Binding, PortIndex, binding_from_row
from neutrino.metadata.loop import freeze_heap, new_event_loop
from neutrino.metadata.namespaces import (NETNS_PREFIX, check_netns_prefix, listdir, netns_name,
                                          record_dir, recorded_network, veth_names)
from neutrino.metadata.neighbours import NeighbourTable
from neutrino.metadata.proxy import Listener, MetadataProxy
from neutrino.metadata.report import ChassisReporter, default_agent_id
from neutrino.metrics import families as metric_families

LOG = logging.getLogger(__name__)

METADATA_IPV4 = "169.254.169.254"
METADATA_IPV6 = "fe80::a9fe:a9fe"
METADATA_PORT = 80
@dataclass
class _Served:
    """A network's namespace as plumbed: ``config`` is what was applied
    ((port id, MAC, IPv4 cidrs); None: adopted, not checked yet); ``neighbours``
    its neighbour table, opened with the listening sockets."""

    network_id: str
    config: tuple | None = None
    listeners: list[Listener] = field(default_factory=list)
    neighbours: NeighbourTable | None = None

    def close_neighbours(self) -> None:
        if self.neighbours is not None:
            self.neighbours.close()
            self.neighbours = None


class _BindingEvent(row_event.RowEvent):
    """Every change of a VIF or localport Port_Binding, handed to the agent's loop."""

    def __init__(self, agent: "MetadataAgent") -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE), "Port_Binding", None)
        self.event_name = "NeutrinoMetadataAgentEvent"
        self.agent = agent

    def match_fn(self, event, row, old=None) -> bool:
        return row.type in ("", "localport")

    def run(self, event, row, old) -> None:
        binding = None if event == self.ROW_DELETE else binding_from_row(row)
        self.agent._post(row.logical_port, binding)


class MetadataAgent:
    """The agent of one chassis.

    ``sb_api``: an ``ovn.idl.sb_api`` (Port_Binding and Chassis_Private monitored);
    ``chassis``: this chassis' SB ``Chassis.name``; ``ovs_connection``: its
    Open_vSwitch database; ``chassis_netns``: where ovs-vswitchd and the bridge live
    (None: here); ``forward_url`` and ``secret``: the metadata service and the shared
    secret; ``state_dir``: where the namespaces made are recorded (per chassis).
    ``ipv6``: also listen on ``fe80::a9fe:a9fe``. ``netns_prefix``: namespaces are
    ``<netns_prefix><network id>`` (another chassis' agent on the same machine needs
    another prefix, e.g. ``ovnmeta2-``). ``agent_id``: reported in Chassis_Private
    (default ``<hostname>:<pid>``). Raises ValueError for a bad prefix or chassis name.

    ::

        agent = MetadataAgent(sb, chassis="vm", ovs_connection="unix:/…/db.sock",
                              chassis_netns="ntc-1a2b3c4d", forward_url=auth.forward_url(s),
                              secret=auth.ensure_shared_secret(s), state_dir=s.state_dir)
        agent.start()                      # loaded, reconciled, serving, reporting
        agent.served_networks()            # {"<network id>", …} as reported
        agent.stop(cleanup=True)           # reports none; cleanup: removes its namespaces
    """

    def __init__(self, sb_api: Any, *, chassis: str, ovs_connection: str, forward_url: str,
                 secret: str, state_dir: Path, chassis_netns: str | None = None,
                 integration_bridge: str = "br-int", ipv6: bool = True,
                 netns_prefix: str = NETNS_PREFIX, agent_id: str | None = None) -> None:
        self.sb = sb_api
        self.chassis = chassis
        self.ovs_connection = ovs_connection
        self.chassis_netns = chassis_netns
        self.bridge = integration_bridge
        self.netns_prefix = check_netns_prefix(netns_prefix)
        self.record_dir = record_dir(state_dir, chassis)
        self.ipv6 = ipv6
        self.agent_id = agent_id or default_agent_id()
        self.reporter = ChassisReporter(sb_api, chassis, self.agent_id)
        self.index = PortIndex(chassis)
        self.proxy = MetadataProxy(self.index, forward_url, secret)
        self._served: dict[str, _Served] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._plumber = concurrent.futures.ThreadPoolExecutor(1, "metadata-plumbing")
        self._event = _BindingEvent(self)
        self._dirty = False
        self._reconciling: asyncio.Task | None = None

    # -- lifecycle (any thread) --

    def start(self, timeout: float = 60) -> None:
        """Start the loop, load every binding, adopt recorded namespaces and plumb
        what this chassis needs; return when that is done. Raises what failed."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            self._loop = loop
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="metadata-agent", daemon=True)
        self._thread.start()
        started.wait()
        # The IDL matches events while holding this lock: every change notified after
        # the copy below is newer than it, and is applied after it (callbacks are FIFO).
        with self.sb.ovsdb_connection.lock:
            self.sb.idl.notify_handler.watch_event(self._event)
            rows = [b for r in self.sb.tables["Port_Binding"].rows.values()
                    if r.type in ("", "localport") and (b := binding_from_row(r)) is not None]
            self._loop.call_soon_threadsafe(self._load, rows)
        self.reporter.start()  # registered, serving nothing until the first namespace listens
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout)
        except BaseException as exc:
            failure.append(exc)
        if failure:
            self.stop()
            raise failure[0]
        LOG.info("metadata agent %s of chassis %s serving %d network(s), forwarding to %s",
                 self.agent_id, self.chassis, len(self._served), self.proxy.forward_url)

    def stop(self, *, cleanup: bool = False, timeout: float = 60) -> None:
        """Report no network served (first: the watcher stops counting on this
        chassis before it stops listening), then stop serving; with ``cleanup`` also
        remove every namespace (and OVS port) it made, as when the chassis itself
        goes away. Idempotent."""
        with contextlib.suppress(Exception):
            self.sb.idl.notify_handler.unwatch_event(self._event)
        self.reporter.stop(min(timeout, 10.0))
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(cleanup), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        self._plumber.shutdown(wait=True)
        self._loop = None

    def served_networks(self) -> set[str]:
        """Networks whose namespace is plumbed and listening now."""
        return {n for n, s in list(self._served.items()) if s.listeners}

    def run_until(self, stop: threading.Event) -> None:
        """``start``, serve until ``stop`` is set, then ``stop`` (``neutrino metadata-agent``).
        What start-up made is exempted from the garbage collector (``loop.freeze_heap``)."""
        self.start()
        freeze_heap()
        try:
            stop.wait()
        finally:
            self.stop()

    # -- the loop --

    def _post(self, port_id: str, binding: Binding | None) -> None:
        """From the IDL's notify thread: apply a change on the loop."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # closed: stopping
                loop.call_soon_threadsafe(self._apply, port_id, binding)

    def _apply(self, port_id: str, binding: Binding | None) -> None:
        if binding is None:
            self.index.remove(port_id)
        else:
            self.index.update(binding)
        self._schedule_reconcile()

    def _report(self) -> None:
        """Hand the served set to the reporter (it writes only a change) and to the
        ``neutrino_metadata_networks_served`` gauge."""
        served = self.served_networks()
        self.reporter.update(served)
        metric_families.metadata().networks.labels(self.chassis).set(len(served))

    def _load(self, bindings: list[Binding]) -> None:
        for binding in bindings:
            self.index.update(binding)

    async def _start(self) -> None:
        for net in self._existing_namespaces():
            self._served.setdefault(net, _Served(net))
        self._dirty = True
        await self._reconcile()

    def _existing_namespaces(self) -> set[str]:
        """Networks of the namespaces this chassis' agent recorded, and of
        ``<netns_prefix><id>`` namespaces of networks it knows (made by an agent of
        this chassis: other chassis on this machine use other prefixes)."""
        prefix = self.netns_prefix
        nets = {n for p in listdir(self.record_dir) if (n := recorded_network(p, prefix))}
        known = self.index.networks()
        nets |= {p.name[len(prefix):] for p in listdir(host_netns.NETNS_RUN)
                 if p.name.startswith(prefix) and p.name[len(prefix):] in known}
        return nets

    def _schedule_reconcile(self) -> None:
        self._dirty = True
        if self._reconciling is None or self._reconciling.done():
            self._reconciling = asyncio.get_running_loop().create_task(self._reconcile())

    async def _reconcile(self) -> None:
        """Plumb every network with a local port, remove the others; again while
        changes keep coming. Errors are logged; the next change retries."""
        while self._dirty:
            self._dirty = False
            wanted = {n for n in self.index.local_networks()
                      if (m := self.index.metadata_port(n)) is not None and self._servable(m)}
            for net in sorted(set(self._served) - wanted):
                await self._guarded(self._teardown(net), net)
            for net in sorted(wanted):
                await self._guarded(self._ensure(net), net)

    def _servable(self, meta: Binding) -> bool:
        """A metadata port the agent can serve: one with an IPv4 address, or any
        (an IPv6-only network's) when it listens on ``fe80::a9fe:a9fe``."""
        return bool(meta.ipv4_cidrs) or self.ipv6

    @staticmethod
    async def _guarded(step: Any, network_id: str) -> None:
        try:
            await step
        except Exception:  # noqa: BLE001 - one network's trouble stops no other
            LOG.exception("metadata agent: network %s", network_id)

    async def _ensure(self, network_id: str) -> bool:
        """Plumb ``network_id`` to match its metadata port; True once it listens."""
        async with self._locks[network_id]:
            meta = self.index.metadata_port(network_id)
            if meta is None or not self._servable(meta):
                return False
            served = self._served.get(network_id)
            config = (meta.port_id, meta.mac, meta.ipv4_cidrs)
            if served is not None and served.config == config and served.listeners:
                return True
            loop = asyncio.get_running_loop()
            want_sockets = served is None or not served.listeners
            try:
                socks, neighbours = await loop.run_in_executor(
                    self._plumber, self._plumb, network_id, meta, want_sockets)
            except Exception as exc:  # noqa: BLE001 - logged; the next change retries
                LOG.error("metadata path of network %s could not be plumbed: %s",
                          network_id, exc)
                self._served.setdefault(network_id, _Served(network_id))  # to undo later
                return False
            served = self._served.setdefault(network_id, _Served(network_id))
            served.config = config
            if neighbours is not None:
                served.close_neighbours()
                served.neighbours = neighbours
            for sock in socks:
                served.listeners.append(
                    await self.proxy.listen(network_id, sock, served.neighbours))
            self._report()
            return True

    async def _teardown(self, network_id: str) -> None:
        async with self._locks[network_id]:
            served = self._served.pop(network_id, None)
            if served is None:
                return
            self._report()  # before it stops listening
            for listener in served.listeners:
                await listener.close()
            served.close_neighbours()
            try:
                await asyncio.get_running_loop().run_in_executor(
                    self._plumber, self._unplumb, network_id)
            except Exception as exc:  # noqa: BLE001 - logged; a restart retries
                LOG.error("namespace of network %s could not be removed: %s", network_id, exc)

    async def _shutdown(self, cleanup: bool) -> None:
        if self._reconciling is not None and not self._reconciling.done():
            self._reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconciling
        for served in list(self._served.values()):
            for listener in served.listeners:
                await listener.close()
            served.listeners = []
            served.close_neighbours()
        await self.proxy.close()
        if cleanup:
            for net in sorted(self._served):
                with contextlib.suppress(Exception):
                    await asyncio.get_running_loop().run_in_executor(
                        self._plumber, self._unplumb, net)
            self._served.clear()

    # -- plumbing (the plumbing thread: blocking calls) --

    def _plumb(self, network_id: str, meta: Binding,
               want_sockets: bool) -> tuple[list[Any], NeighbourTable | None]:
        """Namespace, veth, addresses, OVS port, and (``want_sockets``) the listening
        sockets and neighbour table of ``network_id``; may_exist all along."""
        ns = netns_name(network_id, self.netns_prefix)
        outer, inner = veth_names(network_id)
        self.record_dir.mkdir(parents=True, exist_ok=True)
        (self.record_dir / ns).write_text(network_id)  # first: a crash leaves nothing unrecorded
        host_netns.ensure_netns(ns)
        host_netns.ensure_veth(outer, self.chassis_netns, inner, ns, meta.mac)
        addresses = [*meta.ipv4_cidrs, f"{METADATA_IPV4}/32"]
        if self.ipv6:
            addresses.append(f"{METADATA_IPV6}/64")
        host_netns.set_addresses(ns, inner, addresses)
        host_ovs.plug_into_bridge(self.ovs_connection, self.bridge, outer, meta.port_id, meta.mac)
        socks: list[Any] = []
        neighbours = None
        if want_sockets:
            neighbours = NeighbourTable(ns, inner)
            try:
                socks.append(host_netns.listen_tcp(ns, METADATA_IPV4, METADATA_PORT))
            except BaseException:
                neighbours.close()
                raise
            if self.ipv6:
                try:
                    socks.append(host_netns.listen_tcp(ns, METADATA_IPV6, METADATA_PORT,
                                                       ifname=inner))
                except OSError as exc:
                    LOG.warning("network %s: no IPv6 metadata listener: %s", network_id, exc)
        LOG.info("metadata path of network %s plumbed (%s, %s)", network_id, ns,
                 " ".join(addresses))
        return socks, neighbours

    def _unplumb(self, network_id: str) -> None:
        ns = netns_name(network_id, self.netns_prefix)
        outer, _ = veth_names(network_id)
        try:
            host_ovs.unplug(self.ovs_connection, self.bridge, outer)
        except Exception as exc:  # noqa: BLE001 - OVS may be gone already
            LOG.warning("could not unplug %s from %s: %s", outer, self.bridge, exc)
        host_netns.remove_link(outer, self.chassis_netns)
        host_netns.remove_netns(ns)
        (self.record_dir / ns).unlink(missing_ok=True)
        LOG.info("metadata namespace %s removed", ns)


__all__ = ["MetadataAgent"]

"""The all-in-one service behind ``neutrino up``, ``down`` and ``status``.

``up`` runs in the foreground: it starts whatever is not already running —
the private OVS/OVN daemons of ``lab/daemons.py`` for one or several chassis
(``lab/fleet.py``; several meet on ``lab/underlay.py``), unless
``ovn_nb_connection`` points at an existing OVN, the database migrations, the
metadata service, one ``neutrino metadata-agent`` process per chassis (with
neutrino's own OVN only) and the same ``control.controller.Controller`` that
``neutrino controller`` runs (NB sync, SB port-status watcher reporting a port
ACTIVE once its chassis' agent reports its network served, Nova's port-event
sender), in a thread — then serves the API until Ctrl-C or ``neutrino down``, and
stops exactly what it started. The API, the controller and the agents record their
metrics into one directory (``metrics.exposition``), so the API's ``/metrics`` (or
``metrics_listen``) shows them all. ``<state_dir>/runtime.json`` tells the other
commands (``down``, ``status``, ``lab ...``) where everything is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import uvicorn

from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.host.process import pid_alive
from neutrino.lab import daemons, fleet, persisted, underlay
from neutrino.lab.deployment import OvnDeployment
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)
RUNTIME_FILE = "runtime.json"


class MissingPrerequisites(Exception):
    """Programs neutrino needs are not installed; ``packages`` says which Debian packages."""

    def __init__(self, packages: list[str]) -> None:
        super().__init__("missing Debian packages: " + " ".join(packages)
                         + f" (install them with: apt-get install {' '.join(packages)})")
        self.packages = packages


@dataclass
class RuntimeInfo:
    """What a running ``neutrino up`` publishes in ``<state_dir>/runtime.json``."""

    pid: int
    api_url: str
    chassis_name: str
    chassis_netns: str
    nb_connection: str
    sb_connection: str
    ovs_connection: str
    integration_bridge: str = "br-int"
    #: The chassis' ``{physnet: bridge}`` (empty when OVN is not neutrino's own).
    bridge_mappings: dict[str, str] = field(default_factory=dict)
    #: The metadata service the agents forward to (``http://127.0.0.1:8775``).
    metadata_url: str = ""
    #: Every lab chassis (``fleet.LabChassis`` fields), the first one first; the
    #: ``chassis_*``/``ovs_connection`` fields above are the first one's.
    chassis: list[dict] = field(default_factory=list)

    def fleet(self) -> list[fleet.LabChassis]:
        """The lab chassis ([] when OVN is not neutrino's own)."""
        return [fleet.LabChassis(**c) for c in self.chassis]

    def chassis_of(self, name: str | None = None, netns: str | None = None) -> "fleet.LabChassis":
        """The lab chassis called ``name`` or running in ``netns`` (``ValueError`` if none)."""
        for chassis in self.fleet():
            if chassis.name == name or chassis.netns == netns:
                return chassis
        raise ValueError(f"no lab chassis {name or netns!r}")

    def save(self, state_dir: Path) -> None:
        path = state_dir / RUNTIME_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, state_dir: Path) -> "RuntimeInfo | None":
        """The running all-in-one's info, or None when none is running there."""
        try:
            info = cls(**json.loads((state_dir / RUNTIME_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return info if pid_alive(info.pid) else None


def chassis_netns(state_dir: Path) -> str:
    """The chassis namespace of a state dir: unique per state dir, so two
    all-in-ones (or a test run) never share kernel devices."""
    return "ntc-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:8]


def lab_fleet(settings: Settings, count: int | None = None, gateways: int | None = None, *,
              new: bool = False) -> list[fleet.LabChassis]:
    """The lab chassis of this state dir as the last ``up`` recorded them (their bridge
    mappings included: what ``up`` ran with, whatever the caller's settings say). With
    ``new`` (``up`` itself), a new plan from these settings: ``count`` chassis with
    ``gateways`` gateways, by default as many as recorded, else one."""
    ovn_dir = settings.state_dir / "ovn"
    saved = fleet.load(ovn_dir)
    if saved and not new:
        return saved
    if count is None and saved:
        count, gateways = len(saved), sum(c.gateway for c in saved)
    return fleet.plan(ovn_dir, settings.chassis_name or socket.gethostname(),
                      chassis_netns(settings.state_dir), count or 1, gateways,
                      bridge_mappings=settings.physnet_bridges())


def deployment(settings: Settings,
               chassis: list[fleet.LabChassis] | None = None) -> OvnDeployment:
    """The private OVN deployment of this state dir (not started): the central and
    every chassis of ``chassis`` (default :func:`lab_fleet`), each with its bridge
    mappings (``ovn-bridge-mappings``, bridges created in the chassis namespace),
    gateway chassis marked as such."""
    chassis = chassis or lab_fleet(settings)
    first = chassis[0]
    ovn = OvnDeployment(settings.state_dir / "ovn", first.name, netns=first.netns,
                        bridge_mappings=first.bridge_mappings,
                        encap_ip=first.encap_ip, external_ids=first.external_ids)
    for other in chassis[1:]:
        ovn.add_chassis(other.name, other.netns, other.bridge_mappings,
                        encap_ip=other.encap_ip, start=False, external_ids=other.external_ids)
    return ovn


def start_chassis(ovn: OvnDeployment, chassis: list[fleet.LabChassis],
                  only: str | None = None) -> None:
    """Start every chassis daemon not running (of chassis ``only``, when given) and join
    each to the underlay (with several chassis); after a chassis was killed, this
    brings it back."""
    for lab, daemon_set in zip(chassis, ovn.chassis):
        if only in (None, lab.name):
            daemon_set.start()
            if len(chassis) > 1:
                underlay.attach(daemon_set, lab.index, chassis[0].netns)
    if len(chassis) > 1:
        underlay.warm([(c.netns, c.index) for c in chassis])


def kill_chassis(settings: Settings, name: str) -> list[int]:
    """SIGKILL the ovs-vswitchd and ovn-controller of lab chassis ``name`` (a host dying
    without a word: its tunnels and BFD sessions go silent); returns the pids killed.
    :func:`revive_chassis` brings it back. ``ValueError`` for an unknown chassis."""
    lab = lab_fleet(settings)
    if name not in {c.name for c in lab}:
        raise ValueError(f"no lab chassis {name!r}")
    killed = []
    for daemon_set in deployment(settings, lab).chassis:
        if daemon_set.name == name:
            for daemon in (daemon_set.vswitchd, daemon_set.controller):
                pid = daemon.pid()
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
    return killed


def revive_chassis(settings: Settings, name: str) -> None:
    """Start again what is not running of lab chassis ``name`` and rejoin it to the
    underlay. ``ValueError`` for an unknown chassis; ``daemons.DaemonError``."""
    lab = lab_fleet(settings)
    if name not in {c.name for c in lab}:
        raise ValueError(f"no lab chassis {name!r}")
    start_chassis(deployment(settings, lab), lab, only=name)


def up(settings: Settings, progress: Callable[[str], None] = lambda step: None, *,
       chassis_count: int | None = None, gateways: int | None = None) -> None:
    """Bring everything up, serve until interrupted, then stop what was started.
    ``chassis_count`` lab chassis (default: as last time, else 1), ``gateways`` of
    them gateway capable (see ``lab.fleet``).

    Raises MissingPrerequisites, daemons.DaemonError, ValueError (a bad chassis
    plan), or RuntimeError when an all-in-one already runs on this state dir or a
    metadata agent does not come up.
    """
    state_dir = settings.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    running = RuntimeInfo.load(state_dir)
    if running is not None:
        raise RuntimeError(f"neutrino up is already running on {state_dir} (pid {running.pid})")
    # The API, the controller thread and the agents' processes record into one
    # directory: the API's /metrics shows them all.
    from neutrino.metrics import exposition
    metrics_dir = exposition.enable_multiprocess(exposition.run_directory(state_dir, "up"))

    ovn, lab = None, []
    if settings.ovn_nb_connection:
        nb_conn, sb_conn, ovs_conn, netns = (settings.ovn_nb_connection,
                                             settings.ovn_sb_connection, "", "")
        chassis = settings.chassis_name or socket.gethostname()
    else:
        missing = daemons.check_prerequisites()
        if missing:
            raise MissingPrerequisites(daemons.missing_packages(missing))
        lab = lab_fleet(settings, chassis_count, gateways, new=True)
        ovn = deployment(settings, lab)
        fleet.save(settings.state_dir / "ovn", lab)
        progress(f"starting OVS and OVN daemons ({len(lab)} chassis)")
        try:
            ovn.central.start()
            start_chassis(ovn, lab)
        except BaseException:
            ovn.stop()
            underlay.remove(lab[0].netns)
            raise
        nb_conn, sb_conn, ovs_conn = ovn.nb_connection, ovn.sb_connection, ovn.ovs_connection
        netns, chassis = lab[0].netns, lab[0].name

    stop = threading.Event()
    controller_thread = None
    db = Database(settings.database_url)
    metadata = metrics_listener = None
    try:
        progress("migrating the database")
        db.upgrade()
        env = Env(db=db, settings=settings)
        if settings.metrics_address() is not None:
            from neutrino.metrics.database import DatabaseCollector
            metrics_listener = exposition.listen(settings.metrics_address(),
                                                 exposition.registry(DatabaseCollector(env)))

        from neutrino.control.controller import Controller
        from neutrino.ovn.idl import nb_api, sb_api
        progress("connecting to the OVN northbound and southbound databases")
        nb, sb = nb_api(nb_conn), sb_api(sb_conn)
        metadata = _start_metadata(db, settings, progress)
        _start_agents(settings, lab, sb_conn, progress)
        # The same controller as 'neutrino controller' (leader-elected: another one
        # on this database stands by).
        controller = Controller(env, nb, sb)
        progress("starting the controller (northbound sync, port status, Nova events)")
        controller_thread = threading.Thread(target=controller.run, args=(stop,),
                                             name="controller", daemon=True)
        controller_thread.start()

        if ovn is not None:
            persisted.restore_instances(state_dir, lab, progress)
            persisted.restore_upstreams(state_dir, lab, settings.physnet_bridges(), progress)
            persisted.restore_vlans(state_dir, netns, ovs_conn, settings.physnet_bridges(), progress)

        api_url = f"http://{settings.host}:{settings.port}"
        server = uvicorn.Server(uvicorn.Config(
            # the API reads the SB for POST /v2.0/ports/{id}/explain (ovn-trace)
            create_app(Env(db=db, settings=settings.model_copy(
                update={"ovn_sb_connection": sb_conn}))), host=settings.host, port=settings.port, log_level="warning",
            access_log=False, timeout_keep_alive=30))
        info = RuntimeInfo(os.getpid(), api_url, chassis, netns, nb_conn, sb_conn, ovs_conn,
                           bridge_mappings=settings.physnet_bridges() if ovn is not None else {},
                           metadata_url=metadata.url, chassis=[asdict(c) for c in lab])

        def publish() -> None:  # runtime.json means "the API answers": clients go at once
            while not server.started:
                if server.should_exit or stop.is_set():
                    return
                time.sleep(0.01)
            from neutrino.metadata.loop import freeze_heap
            freeze_heap()  # started: spare the metadata service and API full GC passes
            info.save(state_dir)
            progress(f"serving the API on {api_url}")
        threading.Thread(target=publish, name="publish-runtime", daemon=True).start()
        # uvicorn stops gracefully on SIGINT/SIGTERM, then re-raises the signal
        # with the handler it found: make that one unwind into the cleanup below.
        global _UP_PID
        _UP_PID = os.getpid()
        signal.signal(signal.SIGTERM, _stop_requested)
        signal.signal(signal.SIGINT, _stop_requested)
        try:
            server.run()
        except _StopRequested:
            pass
    finally:
        stop.set()
        if controller_thread is not None:
            controller_thread.join(timeout=30)
        _stop_agents(state_dir, lab)  # their namespaces go with the chassis
        if metadata is not None:
            metadata.stop()
        (state_dir / RUNTIME_FILE).unlink(missing_ok=True)
        if metrics_listener is not None:
            metrics_listener.shutdown()
        db.dispose()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        if ovn is not None:
            persisted.remove_upstreams(state_dir, ovs_conn)
            persisted.remove_vlans(state_dir, ovs_conn)
            ovn.stop(started_only=False)
            underlay.remove(lab[0].netns)


def _start_metadata(db: Database, settings: Settings, progress: Callable[[str], None]):
    """The metadata service (``metadata_host``:``metadata_port``), started.
    Raises RuntimeError when it cannot listen."""
    from neutrino.config import ConfigError
    from neutrino.metadata.service import MetadataServer

    progress("starting the metadata service")
    try:
        metadata = MetadataServer(db, settings)
        metadata.start()
    except (OSError, ConfigError, TimeoutError) as exc:
        raise RuntimeError(f"metadata service on {settings.metadata_host}:"
                           f"{settings.metadata_port}: {exc}") from exc
    return metadata


def agent_env(settings: Settings) -> dict[str, str]:
    """The settings a lab chassis' ``neutrino metadata-agent`` needs beyond the config
    file (``NEUTRINO_CONFIG`` is inherited): where the service and the secret are."""
    return {"NEUTRINO_STATE_DIR": str(settings.state_dir.absolute()),
            "NEUTRINO_METADATA_HOST": settings.metadata_host,
            "NEUTRINO_METADATA_PORT": str(settings.metadata_port),
            "NEUTRINO_LOG_LEVEL": settings.log_level,
            # their metrics go to up's directory (PROMETHEUS_MULTIPROC_DIR, inherited)
            "NEUTRINO_METRICS_LISTEN": ""}


def _start_agents(settings: Settings, lab: list[fleet.LabChassis], sb_conn: str,
                  progress: Callable[[str], None]) -> None:
    """One metadata agent process per lab chassis, started together; returns once each
    has registered in its ``Chassis_Private`` (RuntimeError naming the log if not)."""
    if not lab:
        return
    progress(f"starting {len(lab)} metadata agent(s), one per chassis")
    env = agent_env(settings)
    for chassis in lab:
        fleet.start_agent(chassis, sb_conn, env)
    for chassis in lab:
        fleet.wait_agent(chassis, sb_conn)


def _stop_agents(state_dir: Path, lab: list[fleet.LabChassis]) -> bool:
    """Stop every lab chassis' agent and remove the namespaces it made; True if any ran."""
    from neutrino.metadata.namespaces import remove_recorded

    stopped = False
    for chassis in lab:
        try:
            stopped |= fleet.stop_agent(chassis)
        except TimeoutError as exc:
            LOG.warning("metadata agent of %s: %s", chassis.name, exc)
        stopped |= bool(remove_recorded(state_dir, chassis=chassis.name,
                                        ovs_connection=chassis.ovs_connection))
    return stopped


class _StopRequested(Exception):
    pass


_UP_PID = 0


def _stop_requested(signum, frame) -> None:
    if os.getpid() != _UP_PID:
        # a forked child of this process (none forks today: host.netns enters
        # namespaces on threads) must die, never unwind into up()'s cleanup
        os._exit(128 + signum)
    raise _StopRequested()


def down(settings: Settings, timeout: float = 60) -> bool:
    """Stop the all-in-one of this state dir; True if something was stopped.

    Asks the ``up`` process to stop (SIGTERM) and waits; if it is gone but
    left daemons behind (it was killed), stops those by their pid files.
    """
    info = RuntimeInfo.load(settings.state_dir)
    stopped = False
    if info is not None:
        os.kill(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        stopped = True
    if not settings.ovn_nb_connection and (settings.state_dir / "ovn").exists():
        lab = lab_fleet(settings)
        ovn = deployment(settings, lab)
        persisted.remove_upstreams(settings.state_dir, ovn.ovs_connection)
        persisted.remove_vlans(settings.state_dir, ovn.ovs_connection)
        stopped = _stop_agents(settings.state_dir, lab) or stopped
        stopped = bool(ovn.stop(started_only=False)) or stopped
        stopped = underlay.remove(lab[0].netns) or stopped
    (settings.state_dir / RUNTIME_FILE).unlink(missing_ok=True)
    return stopped


def status(settings: Settings) -> list[daemons.ComponentStatus]:
    """Health of the lab's own components: daemons, ``neutrino up``, upstream
    namespaces, API and metadata service. Empty when OVN is not the lab's own and no
    ``neutrino up`` runs here (a deployment of several hosts: ``services.health``
    tells the control plane's state)."""
    result = []
    info = RuntimeInfo.load(settings.state_dir)
    if not settings.ovn_nb_connection:
        lab = lab_fleet(settings)
        result += deployment(settings, lab).status()
        for chassis in lab:
            pid = fleet.agent_pid(chassis)
            result.append(daemons.ComponentStatus(
                f"{chassis.name}/metadata-agent", pid is not None,
                f"pid {pid}" if pid else "not running"))
    elif info is None:
        return result
    if info is None:
        result.append(daemons.ComponentStatus("neutrino up", False, "not running"))
        return result
    result.append(daemons.ComponentStatus("neutrino up", True, f"pid {info.pid}"))
    from neutrino.lab import external
    for up in external.list_upstreams(settings.state_dir):
        result.append(daemons.ComponentStatus(
            f"external/{up.physnet}", external.is_plumbed(up),
            f"{up.netns}: {up.gateway}, outside {', '.join(up.outside_ips)}"))
    from neutrino.lab import vlans
    for gw in vlans.list_vlans(settings.state_dir):
        result.append(daemons.ComponentStatus(
            f"vlan/{gw.physnet}/{gw.vlan}", vlans.is_plumbed(gw), f"{gw.netns}: {gw.gateway}"))
    try:
        import httpx
        ok = httpx.get(info.api_url + "/", timeout=2).status_code == 200
        result.append(daemons.ComponentStatus("api", ok, info.api_url))
    except Exception as exc:
        result.append(daemons.ComponentStatus("api", False, str(exc)))
    if info.metadata_url:
        try:  # it refuses an unsigned request: that answer is the sign of life
            ok = httpx.get(info.metadata_url + "/", timeout=2).status_code == 403
            result.append(daemons.ComponentStatus("metadata", ok, info.metadata_url))
        except Exception as exc:
            result.append(daemons.ComponentStatus("metadata", False, str(exc)))
    return result

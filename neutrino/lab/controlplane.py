"""``neutrino lab cluster``: the control plane of several hosts, on one machine.

It brings up what README's "Several hosts" section deploys on three control-plane
hosts, with the same commands and the same config file:

* the OVN central as RAFT clusters: ``size`` NB and ``size`` SB ovsdb-servers and
  ovn-northd on loopback (``lab.cluster.OvnCluster``);
* a PostgreSQL server of its own (``lab.postgres``; throwaway: its data goes with it);
* ``neutrino db upgrade``, then ``controllers`` × ``neutrino controller`` and
  ``servers`` × ``neutrino server --workers 2`` (ports ``port``, ``port + 1``, ...),
  each a process of its own reading ``<state_dir>/cluster/neutrino.conf``, logging to
  ``<state_dir>/cluster/<name>.log``.

:meth:`LabCluster.run` serves until SIGTERM or Ctrl-C, then stops exactly what it
started, by pid. ``neutrino status --config <state_dir>/cluster/neutrino.conf`` shows
the control plane's health meanwhile, as on a real deployment.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from neutrino.lab.cluster import OvnCluster
from neutrino.lab.postgres import PostgresServer

LOG = logging.getLogger(__name__)
START_TIMEOUT = 60.0  # seconds for a server to answer or a controller to lead
STOP_TIMEOUT = 10.0


def config_text(database_url: str, nb_connection: str, sb_connection: str,
                **settings: object) -> str:
    """A control-plane host's ``neutrino.conf`` (README, "Several hosts")."""
    lines = ["[DEFAULT]", f"database_url = {database_url}",
             f"ovn_nb_connection = {nb_connection}", f"ovn_sb_connection = {sb_connection}",
             *(f"{key} = {value}" for key, value in settings.items())]
    return "\n".join(lines) + "\n"


class LabCluster:
    """The lab's several-hosts control plane under ``state_dir/cluster`` (see the
    module docstring). Raises ``lab.daemons.DaemonError``,
    ``lab.postgres.PostgresServerError`` or RuntimeError (a process that does not
    come up; its log is named) from :meth:`start`, after stopping what it started."""

    def __init__(self, state_dir: Path, *, size: int = 3, controllers: int = 2,
                 servers: int = 2, port: int = 9696, host: str = "127.0.0.1",
                 ovn: Any = None) -> None:
        self.dir = Path(state_dir) / "cluster"
        # ``ovn``: another central with nb_connection/sb_connection/start/stop (a single
        # ``lab.deployment.Central``, for comparisons); default the RAFT clusters.
        self.ovn = ovn if ovn is not None else OvnCluster(self.dir / "ovn", size=size)
        self.controllers = controllers
        self.servers = servers
        self.port = port
        self.host = host
        self.config = self.dir / "neutrino.conf"
        self.postgres: PostgresServer | None = None
        self.procs: dict[str, subprocess.Popen] = {}
        self._argv: dict[str, tuple[str, ...]] = {}

    @property
    def api_urls(self) -> list[str]:
        """The API servers' base URLs, ``["http://127.0.0.1:9696", ...]``."""
        return [f"http://{self.host}:{self.port + i}" for i in range(self.servers)]

    def start(self, progress: Callable[[str], None] = lambda step: None) -> None:
        """Bring everything up and return once every API server answers and a
        controller leads."""
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            progress("starting OVN NB and SB" + (f" as {self.ovn.size}-member RAFT clusters"
                                                 if isinstance(self.ovn, OvnCluster) else ""))
            self.ovn.start()
            progress("starting PostgreSQL")
            self.postgres = PostgresServer().start()
            url = self.postgres.create_database("neutrino")
            self.config.write_text(config_text(url, self.ovn.nb_connection,
                                               self.ovn.sb_connection,
                                               state_dir=self.dir / "state"))
            progress("migrating the database")
            self._neutrino("db", "upgrade", "--config", str(self.config))
            for i in range(self.controllers):
                self._spawn(f"controller-{i + 1}", "controller")
            for i, api in enumerate(self.api_urls):
                self._spawn(f"server-{i + 1}", "server", "--host", self.host,
                            "--port", str(self.port + i), "--workers", "2")
            progress(f"starting {self.controllers} controller(s) and "
                     f"{self.servers} API server(s)")
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def run(self, progress: Callable[[str], None] = lambda step: None) -> None:
        """:meth:`start`, serve until SIGTERM/SIGINT, then :meth:`stop`."""
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start(progress)
            progress("ready: " + ", ".join(self.api_urls) + f"; config {self.config}")
            while not stop.wait(1):
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        LOG.warning("%s exited with %s (log: %s)", name, proc.returncode,
                                    self.log_path(name))
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Stop the processes (SIGTERM, then SIGKILL), PostgreSQL and the OVN cluster."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        self.procs.clear()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
        self.ovn.stop()

    def log_path(self, name: str) -> Path:
        """Where process ``name`` (``controller-1``, ``server-2``...) logs."""
        return self.dir / f"{name}.log"

    def _neutrino(self, *args: str) -> None:
        res = subprocess.run([sys.executable, "-m", "neutrino.cli", *args],
                             capture_output=True, text=True, timeout=120)
        if res.returncode:
            raise RuntimeError(f"neutrino {' '.join(args)}: {res.stdout}{res.stderr}")

    def respawn(self, name: str) -> None:
        """Start process ``name`` (``controller-1``, ``server-2``...) again, as systemd
        restarts a service; kill the old one first if it still runs."""
        old = self.procs.pop(name)
        if old.poll() is None:
            old.kill()
        old.wait(STOP_TIMEOUT)
        self._spawn(name, *self._argv[name])

    def _spawn(self, name: str, *args: str) -> None:
        self._argv[name] = args
        with open(self.log_path(name), "ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "neutrino.cli", *args, "--config", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        pending = set(self.api_urls)
        while pending or not self._leader():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode} "
                                       f"(log: {self.log_path(name)})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {START_TIMEOUT:.0f}s: "
                                   + (", ".join(sorted(pending)) or "no controller leads"))
            for api in list(pending):
                try:
                    if httpx.get(api + "/", timeout=2).status_code == 200:
                        pending.discard(api)
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)

    def _leader(self) -> str | None:
        try:
            return httpx.get(self.api_urls[0] + "/healthz", timeout=2).json().get("leader")
        except (httpx.HTTPError, ValueError):
            return None

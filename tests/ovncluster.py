"""The several-hosts control plane on one machine, for tests: a RAFT-clustered OVN
central (``neutrino.lab.cluster.OvnCluster``) and ``neutrino controller``
processes that can be SIGKILLed.

``ovn_cluster`` (module-scoped fixture) is a 3+3 member NB/SB cluster with
ovn-northd on loopback, stopped by pid at the end. :class:`ControllerProcess`
runs one ``neutrino controller`` with its own log file.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neutrino_server import NEUTRINO, _server_env, stop_session_leader

from neutrino.lab.cluster import OvnCluster
from neutrino.lab.controlplane import config_text
from neutrino.lab.daemons import check_prerequisites, missing_packages, netns_argv
from neutrino.ovn import idl

SIZE = 3
# What a central needs; no chassis programs, no namespaces, no root.
_NEEDED = {"ovsdb-server", "ovsdb-tool", "ovs-appctl", "ovn-northd", "ovn-appctl",
           "ovn-sbctl", "/usr/share/ovn/ovn-nb.ovsschema", "/usr/share/ovn/ovn-sb.ovsschema"}
LEADER_LINE = "is the leader"  # what control.controller logs when it takes the lock


@pytest.fixture(scope="module")
def ovn_cluster(run_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvnCluster]:
    """A 3+3 member cluster with northd under the run's tmp dir, stopped by pid at the end."""
    missing = [m for m in check_prerequisites() if m.what in _NEEDED]
    if missing:
        pytest.skip("OVN cluster needs " + ", ".join(m.what for m in missing)
                    + "; apt-get install " + " ".join(missing_packages(missing)))
    state_dir = tmp_path_factory.mktemp("ovncluster")
    if len(str(state_dir.resolve())) > 60:  # unix socket paths must stay under 108 bytes
        state_dir = Path(tempfile.mkdtemp(prefix=f"{run_prefix}-cluster-"))
    lab = OvnCluster(state_dir, size=SIZE)
    atexit.register(lab.stop)  # interpreter exit without teardown
    try:
        lab.start(timeout=30)
        yield lab
    finally:
        try:
            idl.disconnect_all()
        finally:
            try:
                lab.stop()
            finally:
                atexit.unregister(lab.stop)


class ControllerProcess:
    """``neutrino controller --config <config>`` as a subprocess leading its own
    session (inside ``netns`` if given), logging to ``<log_dir>/controller-<name>.log``."""

    def __init__(self, name: str, config: Path, log_dir: Path, netns: str | None = None) -> None:
        self.name = name
        self.config = config
        self.netns = netns  # run inside this namespace: a host of its own
        self.log_path = Path(log_dir) / f"controller-{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "ControllerProcess":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                netns_argv(self.netns, [str(NEUTRINO), "controller", "--config",
                                        str(self.config)]),
                env=_server_env(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def leader_terms(self) -> int:
        """How many times this controller logged that it took the lead."""
        return self.log().count(LEADER_LINE)

    def wait_leader(self, terms: int = 1, timeout: float = 30) -> float:
        """Wait until it has logged ``terms`` terms; the seconds waited."""
        started = time.monotonic()
        while self.leader_terms() < terms:
            if self.proc is None or self.proc.poll() is not None:
                raise AssertionError(f"controller {self.name} exited:\n{self.log()[-4000:]}")
            if time.monotonic() - started > timeout:
                raise AssertionError(f"controller {self.name} not the leader after "
                                     f"{timeout}s:\n{self.log()[-4000:]}")
            time.sleep(0.02)
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL, as a host dying takes it."""
        if self.pid is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_session_leader(proc)


def controller_config(path: Path, database_url: str, cluster: OvnCluster, state_dir: Path,
                      *, unix: bool = False, **settings: str) -> Path:
    """Write a controller's config file as the README's "Several hosts" section
    shows it (database, clustered NB/SB remotes; their unix sockets with ``unix``,
    for a controller in a namespace of its own) and return its path."""
    nb, sb = ((cluster.nb_unix_connection, cluster.sb_unix_connection) if unix
              else (cluster.nb_connection, cluster.sb_connection))
    path.write_text(config_text(database_url, nb, sb, state_dir=state_dir, **settings))
    return path

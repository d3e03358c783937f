"""``neutrino lab cluster`` follows README's "Several hosts" section on one machine:
OVN NB/SB as RAFT clusters, PostgreSQL, two controllers and two API servers, each a
process reading one config file; ``neutrino status --config`` shows the control
plane; SIGTERM to a controller hands the lead over; SIGTERM to the lab stops it all."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neutrino_server import NEUTRINO, _server_env, free_port, stop_session_leader

from neutrino.host.process import pid_alive
from neutrino.lab.daemons import run, wait_until
from neutrino.lab.postgres import available

pytestmark = [pytest.mark.postgres, pytest.mark.ovn]


class Lab:
    def __init__(self, state_dir: Path, port: int, proc: subprocess.Popen, log: Path) -> None:
        self.state_dir, self.port, self.proc, self.log = state_dir, port, proc, log
        self.config = state_dir / "cluster" / "neutrino.conf"

    def api(self, i: int) -> str:
        return f"http://127.0.0.1:{self.port + i}"

    def health(self) -> dict:
        return httpx.get(self.api(0) + "/healthz", timeout=10).json()


@pytest.fixture
def lab(run_prefix: str) -> Iterator[Lab]:
    if (reason := available()) is not None:
        pytest.skip(reason)
    state_dir = Path(tempfile.mkdtemp(prefix=f"{run_prefix}-lc-"))  # short: unix sockets
    port = free_port()
    while free_port() == port + 1:  # two consecutive free ports, most likely
        port = free_port()
    log = state_dir / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(NEUTRINO), "lab", "cluster", "--state-dir", str(state_dir),
                                 "--port", str(port)], env=_server_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(state_dir, port, proc, log)
    try:
        wait_until(lambda: "ready:" in log.read_text() or proc.poll() is not None, 120,
                   "neutrino lab cluster to be ready")
        assert proc.poll() is None, log.read_text()
        yield lab
    finally:
        stop_session_leader(proc)
        shutil.rmtree(state_dir, ignore_errors=True)


def test_lab_cluster_is_the_several_hosts_deployment(lab: Lab):
    status = subprocess.run([str(NEUTRINO), "status", "--config", str(lab.config)],
                            env=_server_env(), capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count("follower") == 4 and "standby" in status.stdout, status.stdout

    net = httpx.post(lab.api(0) + "/v2.0/networks", json={"network": {"name": "lc"}},
                     timeout=30).json()["network"]
    assert httpx.get(lab.api(1) + f"/v2.0/networks/{net['id']}", timeout=30).status_code == 200
    config = configparser.ConfigParser()
    config.read(lab.config)  # (load_settings would leave NEUTRINO_CONFIG set in this process)
    nb = config["DEFAULT"]["ovn_nb_connection"]
    assert nb.count(",") == 2  # the config names every RAFT member
    wait_until(lambda: f"neutron-{net['id']}" in run(["ovn-nbctl", f"--db={nb}", "ls-list"]),
               20, "the network's logical switch")

    health = lab.health()
    leader = next(c for c in health["controllers"] if c["id"] == health["leader"])
    pids = [c["pid"] for c in health["controllers"]]
    os.kill(leader["pid"], signal.SIGTERM)  # a clean stop releases the lock at once
    wait_until(lambda: lab.health()["leader"] not in (None, leader["id"]), 10,
               "the standby to lead")
    wait_until(lambda: not pid_alive(leader["pid"]), 30, "the old leader to exit")

    lab.proc.send_signal(signal.SIGTERM)
    assert lab.proc.wait(timeout=60) == 0, lab.log.read_text()
    assert "stopped" in lab.log.read_text()
    time.sleep(0.5)
    assert not [p for p in pids if pid_alive(p)]
    ovsdb = [p for p in (lab.state_dir / "cluster" / "ovn").glob("*.pid")]
    assert not [p for p in ovsdb if pid_alive(int(p.read_text().strip() or 0))]

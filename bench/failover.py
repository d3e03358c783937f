"""What a controller failover costs, and how fast the NB absorbs a backlog, on the
lab's several-hosts control plane (``neutrino lab cluster``'s ``LabCluster``).

    python bench/failover.py [--kills 10] [--ports 1000] [--state-dir /tmp/nt-failover]

It brings up, twice, PostgreSQL, one API server (2 workers) and two ``neutrino
controller`` processes: once on OVN NB/SB as 3-member RAFT clusters, once on a
single NB and SB ovsdb-server. Figures, one JSON document on stdout (progress on
stderr):

1. ``failover`` (clustered only): ``--kills`` times, the leading controller is
   SIGKILLed and a network is created through the API at once; the time from the
   kill until that network's logical switch is in the NB, i.e. until the standby
   took the lock and applied the first outbox row (p50, max, every sample). The
   killed controller is started again as the next standby after each round.
2. ``nb_absorb``: the leader is paused (SIGSTOP; it keeps its lock), ``--ports``
   ports are created through the API by 8 clients (the outbox fills), the leader
   is resumed (SIGCONT); the time until the NB holds a logical switch port for
   every one of them — for the clustered and the single NB, and their ratio.

Everything runs under ``--state-dir`` and is stopped at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from cloud import free_port, log  # bench/cloud.py

from neutrino.lab.controlplane import LabCluster
from neutrino.lab.daemons import wait_until
from neutrino.lab.deployment import Central
from neutrino.ovn import idl

CLIENTS = 8


def leader_pid(lab: LabCluster, timeout: float = 30) -> tuple[str, int]:
    """(id, pid) of the leading controller among the lab's running processes (a
    killed leader's report stays "alive" for a few seconds)."""
    def leading() -> tuple[str, int] | None:
        running = {p.pid for p in lab.procs.values() if p.poll() is None}
        health = httpx.get(lab.api_urls[0] + "/healthz", timeout=5).json()
        return next(((c["id"], c["pid"]) for c in health["controllers"]
                     if c["alive"] and c["role"] == "leader" and c["pid"] in running), None)
    return wait_until(leading, timeout, "a leading controller")


def process_name(lab: LabCluster, pid: int) -> str:
    return next(name for name, proc in lab.procs.items() if proc.pid == pid)


def wait_standby(lab: LabCluster, name: str, timeout: float = 60) -> None:
    """Until the respawned process ``name`` reports as a standby."""
    def standby() -> bool:
        pid = lab.procs[name].pid
        return any(c["alive"] and c["pid"] == pid and c["role"] == "standby"
                   for c in httpx.get(lab.api_urls[0] + "/healthz", timeout=5).json()["controllers"])
    wait_until(standby, timeout, f"the restarted controller {name} to report", interval=0.1)


def switch_names(nb) -> set[str]:
    with nb.ovsdb_connection.lock:
        return {r.name for r in nb.tables["Logical_Switch"].rows.values()}


def port_names(nb) -> set[str]:
    with nb.ovsdb_connection.lock:
        return {r.name for r in nb.tables["Logical_Switch_Port"].rows.values()}


def wait_for(predicate, timeout: float, what: str) -> float:
    """Seconds until ``predicate`` holds, polled every 5 ms (``lab.daemons.wait_until``);
    TimeoutError after ``timeout``."""
    started = time.monotonic()
    wait_until(predicate, timeout, what, interval=0.005)
    return time.monotonic() - started


def failovers(lab: LabCluster, nb, kills: int) -> list[float]:
    api = lab.api_urls[0]
    samples = []
    with httpx.Client(base_url=api, timeout=30) as client:
        for i in range(kills):
            _, pid = leader_pid(lab)
            proc = process_name(lab, pid)
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            net = client.post("/v2.0/networks", json={"network": {"name": f"fo{i}"}}).json()
            switch = f"neutron-{net['network']['id']}"
            wait_for(lambda: switch in switch_names(nb), 60, "the standby to apply")
            samples.append(time.monotonic() - killed)
            log(f"  kill {i + 1}/{kills}: {samples[-1]:.2f}s")
            lab.respawn(proc)
            wait_standby(lab, proc)
    return samples


def create_ports(api: str, total: int) -> list[str]:
    with httpx.Client(base_url=api, timeout=30) as client:
        client.put("/v2.0/quotas/admin", json={"quota": {"port": -1}})
        nets = []
        for i in range(CLIENTS):
            net = client.post("/v2.0/networks", json={"network": {"name": f"ab{i}"}}).json()
            client.post("/v2.0/subnets", json={"subnet": {
                "network_id": net["network"]["id"], "ip_version": 4,
                "cidr": f"10.{90 + i}.0.0/22"}})
            nets.append(net["network"]["id"])
    created: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        with httpx.Client(base_url=api, timeout=30) as client:
            for _ in range(total // CLIENTS):
                resp = client.post("/v2.0/ports", json={"port": {"network_id": nets[i]}})
                resp.raise_for_status()
                with lock:
                    created.append(resp.json()["port"]["id"])
    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return created


def absorb(lab: LabCluster, nb, ports: int) -> float:
    api = lab.api_urls[0]
    _, pid = leader_pid(lab)
    os.kill(pid, signal.SIGSTOP)
    try:
        created = create_ports(api, ports)
        log(f"  {len(created)} ports in the outbox")
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed = time.monotonic()
    wanted = set(created)
    wait_for(lambda: wanted <= port_names(nb), 120, "the NB to absorb the ports")
    return time.monotonic() - resumed


def run(mode: str, state_dir: Path, kills: int, ports: int) -> dict:
    ovn = Central(state_dir / "cluster" / "ovn") if mode == "single" else None
    lab = LabCluster(state_dir, controllers=2, servers=1, port=free_port(), ovn=ovn)
    try:
        lab.start(lambda step: log(f"[{mode}] {step}"))
        nb = idl.nb_api(lab.ovn.nb_connection)
        result = {}
        if kills:
            samples = failovers(lab, nb, kills)
            result["failover"] = {"p50_s": round(statistics.median(samples), 3),
                                  "max_s": round(max(samples), 3),
                                  "samples_s": [round(s, 3) for s in samples]}
        result["nb_absorb_s"] = round(absorb(lab, nb, ports), 3)
        log(f"[{mode}] {result}")
        return result
    finally:
        idl.disconnect_all()
        lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--state-dir", type=Path, default=None)
    args = parser.parse_args()
    base = args.state_dir or Path(tempfile.mkdtemp(prefix="nt-failover-"))
    clustered = run("clustered", base / "clustered", args.kills, args.ports)
    single = run("single", base / "single", 0, args.ports)
    print(json.dumps({
        "failover": clustered["failover"],
        "nb_absorb": {"ports": args.ports, "clustered_s": clustered["nb_absorb_s"],
                      "single_s": single["nb_absorb_s"],
                      "clustered_over_single": round(
                          clustered["nb_absorb_s"] / single["nb_absorb_s"], 2)},
    }, indent=2))


if __name__ == "__main__":
    main()

"""The control plane of several hosts, on one machine: ``neutrino server`` and
``neutrino controller`` processes on one PostgreSQL and a 3+3 member RAFT-clustered
OVN, with real SIGKILLs, a killed NB leader and a terminated database session.

What must hold: exactly one controller writes to the NB at a time; a standby takes
over within 10 s of the leader's death and continues from the outbox; afterwards the
NB holds exactly the database's state (``neutrino sync`` finds no drift) with every
port realised once; and the data plane does not depend on the control plane.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from neutrino_server import NEUTRINO, NeutrinoServer, _server_env
from ovncluster import ControllerProcess, controller_config
from ovnlab import ensure_netns, remove_netns, skip_reason

from neutrino.control.leader import LOCK_KEY
from neutrino.host import ovs as host_ovs
from neutrino.lab import instances
from neutrino.lab.cluster import OvnCluster
from neutrino.lab.daemons import run, wait_until
from neutrino.lab.deployment import Chassis
from neutrino.lab.postgres import PostgresServer
from neutrino.ovn import idl

pytestmark = [pytest.mark.postgres, pytest.mark.ovn]

TAKEOVER_LIMIT = 10.0  # seconds from the leader's death to the standby leading
CLIENTS = 8


class Plane:
    """One test's control plane: an API server, controllers, their config."""

    def __init__(self, tmp_path: Path, database_url: str, cluster: OvnCluster) -> None:
        self.tmp = tmp_path
        self.database_url = database_url
        self.cluster = cluster
        self.server = NeutrinoServer(tmp_path, database_url=database_url, workers=2)
        self.config = controller_config(tmp_path / "neutrino.conf", database_url, cluster,
                                        tmp_path / "controller-state")
        self.controllers: list[ControllerProcess] = []

    def controller(self) -> ControllerProcess:
        proc = ControllerProcess(f"c{len(self.controllers) + 1}", self.config, self.tmp)
        self.controllers.append(proc.start())
        return proc

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, timeout=60)

    def health(self) -> dict:
        return httpx.get(self.server.url + "/healthz", timeout=10).json()

    def wait_realised(self, timeout: float = 60) -> None:
        """Until the outbox is empty and a live leader reports a ready NB copy."""
        def done() -> bool:
            h = self.health()
            return h["outbox"]["depth"] == 0 and h["leader"] is not None
        wait_until(done, timeout, "the outbox to drain", interval=0.2)

    def sync(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(NEUTRINO), "sync", "--config", str(self.config), *args],
                              env=_server_env(), capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        for proc in self.controllers:
            proc.stop()
        self.server.stop()


@pytest.fixture
def plane(pg_url: str, tmp_path: Path, ovn_cluster: OvnCluster) -> Iterator[Plane]:
    p = Plane(tmp_path, pg_url, ovn_cluster)
    p.server.start()
    try:
        yield p
    finally:
        p.stop()
        idl.disconnect_all()
    p.server.assert_no_tracebacks()


def networks(client: httpx.Client, count: int, prefix: str = "10.77") -> list[str]:
    resp = client.put("/v2.0/quotas/admin", json={"quota": {"port": -1}})  # noauth's admin
    assert resp.status_code == 200, resp.text
    ids = []
    for i in range(count):
        net = client.post("/v2.0/networks", json={"network": {"name": f"cp{i}"}}).json()
        resp = client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["network"]["id"], "ip_version": 4,
            "cidr": f"{prefix}.{i * 4}.0/22"}})
        assert resp.status_code == 201, resp.text
        ids.append(net["network"]["id"])
    return ids


def create_ports(url: str, network_ids: list[str], total: int,
                 created: list[str], errors: list[str]) -> None:
    """``total`` ports over the networks by CLIENTS threads; ids into ``created``."""
    per_client = total // CLIENTS
    lock = threading.Lock()

    def work(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for n in range(per_client):
                body = {"port": {"network_id": network_ids[(i + n) % len(network_ids)]}}
                resp = client.post("/v2.0/ports", json=body)
                with lock:
                    if resp.status_code == 201:
                        created.append(resp.json()["port"]["id"])
                    else:
                        errors.append(f"{resp.status_code} {resp.text[:200]}")
    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def nb_state(cluster: OvnCluster) -> tuple[set[str], list[str]]:
    """(names of the NB's logical switch ports, names of its logical switches)."""
    api = idl.nb_api(cluster.nb_connection)
    idl.wait_ready(api, 30)
    with api.ovsdb_connection.lock:
        ports = {r.name for r in api.tables["Logical_Switch_Port"].rows.values()}
        switches = [r.name for r in api.tables["Logical_Switch"].rows.values()]
    idl.disconnect(api)
    return ports, switches


def assert_nb_matches_db(plane: Plane) -> None:
    """No drift by the audit, every port an LSP, no logical switch twice."""
    audit = plane.sync()
    assert audit.returncode == 0 and "no drift" in audit.stdout, audit.stdout + audit.stderr
    with plane.client() as client:
        port_ids = {p["id"] for p in client.get("/v2.0/ports?fields=id").json()["ports"]}
    lsps, switches = nb_state(plane.cluster)
    assert port_ids <= lsps, f"{len(port_ids - lsps)} port(s) not realised"
    assert len(switches) == len(set(switches)), "a logical switch exists twice"


def test_standby_takes_over_twice_under_load_and_nothing_is_lost(plane: Plane):
    first = plane.controller()
    first.wait_leader()
    standby = plane.controller()
    wait_until(lambda: "standing by" in standby.log(), 30, "the standby to connect")
    with plane.client() as client:
        nets = networks(client, CLIENTS)
    created: list[str] = []
    errors: list[str] = []
    load = threading.Thread(target=create_ports,
                            args=(plane.server.url, nets, 1000, created, errors))
    load.start()
    takeovers = []
    leader = first
    for low, high in ((100, 400), (550, 850)):  # two random moments of the load
        moment = random.randint(low, high)
        wait_until(lambda m=moment: len(created) >= m or not load.is_alive(), 120,
                   f"{moment} ports created")
        leader.kill()
        takeovers.append(standby.wait_leader(timeout=30))
        leader, standby = standby, plane.controller()  # the killed host comes back
        wait_until(lambda s=standby: "standing by" in s.log(), 30, "the new standby")
    load.join()
    assert not errors, errors[:5]
    assert len(created) == 1000
    assert all(t < TAKEOVER_LIMIT for t in takeovers), takeovers
    plane.wait_realised()
    assert_nb_matches_db(plane)
    health = plane.health()
    assert health["status"] == "ok", health
    roles = {c["id"]: c["role"] for c in health["controllers"] if c["alive"]}
    assert sorted(roles.values()) == ["leader", "standby"], health["controllers"]
    print(f"takeover after SIGKILL: {', '.join(f'{t:.2f}s' for t in takeovers)}")


def test_nb_raft_leader_killed_while_ports_are_created(plane: Plane):
    active = plane.controller()
    active.wait_leader()
    with plane.client() as client:
        nets = networks(client, 4, prefix="10.78")
    created: list[str] = []
    errors: list[str] = []
    load = threading.Thread(target=create_ports,
                            args=(plane.server.url, nets, 400, created, errors))
    load.start()
    wait_until(lambda: len(created) >= 120, 120, "120 ports created")
    killed = plane.cluster.leader("nb")
    plane.cluster.kill("nb", killed)
    load.join()
    assert not errors, errors[:5]
    try:
        plane.wait_realised(timeout=90)

        def nb_of_leader() -> dict:  # its report, written every second
            health = plane.health()
            return next(c for c in health["controllers"] if c["id"] == health["leader"])["nb"]
        nb = wait_until(lambda: (n := nb_of_leader())["ready"] and n, 10,
                        "the leader's NB connection ready in its report")
        assert nb["remote"] in plane.cluster.nb_connection.split(",")
    finally:
        plane.cluster.restart("nb", killed)
    assert_nb_matches_db(plane)
    assert active.leader_terms() == 1  # the database lock never moved


def test_a_controller_whose_database_session_is_cut_stops_writing(plane: Plane):
    active = plane.controller()
    active.wait_leader()
    with plane.client() as client:
        networks(client, 1, prefix="10.79")
        plane.wait_realised()
        # Cut the controller's lock session and take the lock ourselves before it can.
        holder = psycopg.connect(_conninfo(plane), autocommit=True)
        try:
            cut = holder.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name LIKE 'neutrino-controller:%'").fetchall()
            assert cut == [(True,)]
            holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            wait_until(lambda: "lost the leader lock" in active.log(), 10, "the step-down")
            net = client.post("/v2.0/networks", json={"network": {"name": "late"}}).json()
            late = f"neutron-{net['network']['id']}"
            time.sleep(3)  # several heartbeats: it must not write meanwhile
            assert late not in nb_state(plane.cluster)[1]
            me = next(c for c in plane.health()["controllers"] if c["pid"] == active.pid)
            assert me["role"] == "standby"
        finally:
            holder.close()  # the lock is free again
        active.wait_leader(terms=2, timeout=10)
        wait_until(lambda: late in nb_state(plane.cluster)[1], 20, "the late network in NB")


def _conninfo(plane: Plane) -> str:
    from sqlalchemy.engine import make_url
    return make_url(plane.database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def test_instances_keep_lease_and_traffic_through_a_failover(plane: Plane, run_prefix: str):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    chassis = Chassis(plane.tmp / "ch", f"{run_prefix}-cp1", plane.cluster.sb_unix_connection,
                      f"{run_prefix}-cp1")
    state = plane.tmp / "lab"
    names = [f"{run_prefix}cpa", f"{run_prefix}cpb"]
    try:
        chassis.start()
        assert host_ovs.system_id(chassis.ovs_connection) == chassis.name  # the agent's default
        first = plane.controller()
        first.wait_leader()
        standby = plane.controller()
        wait_until(lambda: "standing by" in standby.log(), 30, "the standby to connect")
        with plane.client() as client:
            net = networks(client, 1, prefix="10.80")[0]
            ports = [client.post("/v2.0/ports", json={"port": {
                "network_id": net, "device_owner": "compute:nova"}}).json()["port"]
                for _ in names]
            plane.wait_realised()
            booted = [instances.boot_instance(state, name, port, chassis.netns,
                                              chassis.ovs_connection, dhcp_timeout=30)
                      for name, port in zip(names, ports)]
            target = booted[1].lease.address.split("/")[0]
            ping = subprocess.Popen(
                ["ip", "netns", "exec", booted[0].netns, "ping", "-i", "0.2", "-c", "40", target],
                stdout=subprocess.PIPE, text=True)
            time.sleep(1)
            first.kill()
            renewed = instances.renew_lease(state, names[0])  # while nobody leads
            assert renewed.lease.address == booted[0].lease.address
            standby.wait_leader(timeout=TAKEOVER_LIMIT)
            out, _ = ping.communicate(timeout=30)
            assert " 0% packet loss" in out, out
            wait_until(lambda: all(
                client.get(f"/v2.0/ports/{p['id']}").json()["port"]["status"] == "ACTIVE"
                for p in ports), 20, "both ports ACTIVE under the new leader")
    finally:
        for name in names:
            instances.delete_instance(state, name, chassis.ovs_connection)
        chassis.stop()


def test_a_vanished_controller_host_loses_the_lead(run_prefix: str, tmp_path: Path,
                                                   ovn_cluster: OvnCluster):
    """The leader's host drops off the network without closing anything: PostgreSQL's
    keepalives end its lock session and the standby leads within 10 s."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    ns, outer = f"{run_prefix}-cph", f"{run_prefix}h0"
    server_side, host_side = "10.199.77.1/30", "10.199.77.2/30"
    ensure_netns(ns)
    pg = server = None
    procs: list[ControllerProcess] = []
    try:
        run(["ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns])
        run(["ip", "addr", "add", server_side, "dev", outer])
        run(["ip", "link", "set", outer, "up"])
        run(["ip", "-n", ns, "addr", "add", host_side, "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        pg = PostgresServer(extra_listen=(server_side,)).start()
        local_url = pg.create_database("hostgone")
        remote_url = local_url.replace("@127.0.0.1:", f"@{server_side.split('/')[0]}:")
        server = NeutrinoServer(tmp_path, database_url=local_url).start()
        gone = ControllerProcess("gone", controller_config(
            tmp_path / "gone.conf", remote_url, ovn_cluster, tmp_path / "gone", unix=True),
            tmp_path, netns=ns).start()
        procs.append(gone)
        gone.wait_leader()
        standby = ControllerProcess("standby", controller_config(
            tmp_path / "standby.conf", local_url, ovn_cluster, tmp_path / "standby"), tmp_path)
        procs.append(standby.start())
        wait_until(lambda: "standing by" in standby.log(), 30, "the standby to connect")

        run(["ip", "link", "set", outer, "down"])  # the host is gone, its sockets open
        takeover = standby.wait_leader(timeout=TAKEOVER_LIMIT)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            net = client.post("/v2.0/networks", json={"network": {"name": "after"}}).json()
        wait_until(lambda: f"neutron-{net['network']['id']}" in nb_state(ovn_cluster)[1],
                   20, "the new leader to apply")
        # and the cut-off controller knows it is no longer the leader
        wait_until(lambda: "lost the leader lock" in gone.log(), 20, "the step-down")
        assert gone.leader_terms() == 1
        print(f"takeover after the leader's host vanished: {takeover:.2f}s")
    finally:
        for proc in procs:
            proc.kill()
        if server is not None:
            server.stop()
        if pg is not None:
            pg.stop()
        remove_netns(ns)
        idl.disconnect_all()

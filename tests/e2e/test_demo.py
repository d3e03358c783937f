"""``neutrino demo`` as a newcomer runs it (issue 10): the CLI, as a subprocess.

The demo gets a private state dir (so its chassis namespace ``ntc-<hash>``, the
upstream and VLAN namespaces derived from it, and its daemons are its own), free
API and metadata ports and the run's prefix for its lab instances
(``lab-<prefix>a1`` ...). It starts ``neutrino up`` itself. The module runs it
three times: plain (every check passes; the instances are removed at the end),
again with ``--keep`` (idempotent: same resources, no duplicates, instances left
running), then ``--clean``: no namespace, veth, daemon or service of it remains.
Teardown cleans up whatever a failure left.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from allinone import host_state, neutrino
from neutrino_server import NEUTRINO, free_port
from ovnlab import skip_reason

from neutrino.host.process import pid_alive
from neutrino.lab import external, instances, vlans
from neutrino.lab.daemons import wait_until
from neutrino.lab.demo.scenario import METADATA_URL
from neutrino.lab.runtime import chassis_netns

pytestmark = pytest.mark.ovn

ROWS = {"service up", "seed 001: shared VLAN networks", "seed 000: same address in two projects",
        "seed 001: metadata port at the first pool address", "OVN northbound matches the database",
        "metadata on every chassis", "gateway failover (active gateway chassis killed)"}
PER_GUEST = {"a1": ["DHCP lease = port's fixed IP", "metadata is its own",
                    "outside host through SNAT", "floating IP from outside",
                    "security group from outside"],
             "v100": ["DHCP lease = port's fixed IP", "metadata is its own", "VLAN 100 gateway",
                      "security group from gateway 10.10.100.1"],
             "c1": ["DHCP lease = port's fixed IP", "scheduler picked a network",
                    "metadata is its own", "VLAN 101 gateway",
                    "security group from gateway 10.10.101.1"]}
PER_GUEST["b1"] = PER_GUEST["a1"]
PER_GUEST["a2"] = ["DHCP lease = port's fixed IP", "metadata is its own",
                   "reaches a1 on another chassis (geneve)"]
for vlan in (200, 201):  # seed 004's network: an instance on each of its VLAN segments
    PER_GUEST[f"v{vlan}"] = ["DHCP lease = port's fixed IP", "metadata is its own",
                             f"VLAN {vlan} gateway (seed 004: segment of pub2xx)",
                             f"security group from gateway 10.10.{vlan}.1"]


class Demo:
    def __init__(self, state_dir: Path, prefix: str) -> None:
        self.state_dir, self.prefix = state_dir, prefix
        self.port, self.metadata_port = free_port(), free_port()
        self.chassis_netns = chassis_netns(state_dir)

    def run(self, *args: str, timeout: float = 150) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUTRINO_", "OS_"))}
        return subprocess.run(
            [str(NEUTRINO), "demo", "--state-dir", str(self.state_dir), "--port", str(self.port),
             "--metadata-port", str(self.metadata_port), "--prefix", self.prefix, *args],
            capture_output=True, text=True, timeout=timeout, env={**env, "COLUMNS": "200"},
            check=False)

    def checks(self) -> dict[str, dict]:
        result = json.loads((self.state_dir / "demo-result.json").read_text())
        return {c["name"]: c for c in result["checks"]}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}/v2.0", timeout=30)

    def namespaces(self) -> set[str]:
        """The namespaces of this demo: its chassis' and the ones named after it
        (upstream, VLAN gateways) and its lab instances'."""
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        names = {line.split()[0] for line in out.splitlines() if line.strip()}
        return {n for n in names if n.startswith((self.chassis_netns, "lab-" + self.prefix))}


@pytest.fixture(scope="module")
def demo(run_prefix: str, tmp_path_factory) -> Iterator[Demo]:
    if reason := skip_reason():
        pytest.skip(reason)
    d = Demo(tmp_path_factory.mktemp("demo"), f"{run_prefix}d-")
    with host_state():
        try:
            yield d
        finally:
            if (d.state_dir / "demo.json").exists():  # a failed test left it
                d.run("--clean")
            runtime = d.state_dir / "runtime.json"
            info = json.loads(runtime.read_text()) if runtime.exists() else {}
            ovs = {c["netns"]: f"unix:{c['dir']}/db.sock" for c in info.get("chassis", [])}
            for inst in instances.list_instances(d.state_dir):
                with contextlib.suppress(instances.InstanceError):
                    instances.delete_instance(d.state_dir, inst.name, ovs.get(
                        inst.chassis_netns, info.get("ovs_connection", "unix:/nonexistent")))
            neutrino("down", "--state-dir", str(d.state_dir), check=False)


def assert_all_passed(demo: Demo, res: subprocess.CompletedProcess) -> dict[str, dict]:
    checks = demo.checks()
    failed = {n: c for n, c in checks.items() if not c["ok"]}
    assert res.returncode == 0 and not failed, f"{failed}\n{res.stdout}\n{res.stderr}"
    wanted = ROWS | {f"{demo.prefix}{g}: {row}" for g, rows in PER_GUEST.items() for row in rows}
    assert wanted <= set(checks), sorted(wanted - set(checks))
    assert "all" in res.stdout and "checks passed" in res.stdout
    return checks


def test_demo_starts_the_service_and_every_check_passes(demo: Demo):
    res = demo.run()
    checks = assert_all_passed(demo, res)
    assert checks["service up"]["figure"].startswith("started")
    assert "3 chassis (2 gateway)" in checks["service up"]["figure"]
    # a1 on the first chassis, a2 and b1 on the second: a2 reached a1 through geneve,
    # metadata came from each chassis' own agent, b1's floating IP survived its gateway
    assert " -> " in checks[f"{demo.prefix}a2: reaches a1 on another chassis (geneve)"]["figure"]
    assert checks["metadata on every chassis"]["figure"].count("/") == 2
    pid = json.loads((demo.state_dir / "demo.json").read_text())["service_pid"]
    assert pid_alive(pid)
    assert checks[f"{demo.prefix}c1: scheduler picked a network"]["figure"].startswith("pub101")
    assert checks["seed 000: same address in two projects"]["figure"].count("10.0.0.5") == 2
    for vlan in (200, 201):  # seed 004's network: each segment's instance reached its gateway
        row = checks[f"{demo.prefix}v{vlan}: VLAN {vlan} gateway (seed 004: segment of pub2xx)"]
        assert row["figure"].startswith(f"ping 10.10.{vlan}.1 ")
        assert checks[f"{demo.prefix}v{vlan}: DHCP lease = port's fixed IP"]["figure"].startswith(
            f"10.10.{vlan}.")
    # without --keep: the instances are gone, the topology stays to explore
    assert not [n for n in demo.namespaces() if n.startswith("lab-")]
    assert instances.list_instances(demo.state_dir) == []
    assert "openstack network list" in res.stdout and "neutrino demo --clean" in res.stdout
    with demo.client() as admin:
        assert {n["name"] for n in admin.get("/networks").json()["networks"]} >= \
            {"public", "pub100", "pub101", "pub2xx", "private"}


def test_demo_again_is_idempotent_and_keep_leaves_instances(demo: Demo):
    with demo.client() as admin:
        before = {(n["name"], n["project_id"], n["id"])
                  for n in admin.get("/networks").json()["networks"]}
    res = demo.run("--keep")
    checks = assert_all_passed(demo, res)
    assert checks["service up"]["figure"].startswith("running")
    with demo.client() as admin:
        after = {(n["name"], n["project_id"], n["id"])
                 for n in admin.get("/networks").json()["networks"]}
        routers = admin.get("/routers").json()["routers"]
        fips = admin.get("/floatingips").json()["floatingips"]
        groups = admin.get("/security-groups", params={"name": "demo-web"}).json()[
            "security_groups"]
    assert after == before  # the same networks, reused
    assert sorted(r["project_id"] for r in routers) == ["demo-a", "demo-b"]
    assert sorted(f["project_id"] for f in fips) == ["demo-a", "demo-b"]
    assert all(f["port_id"] for f in fips)
    assert sorted(g["project_id"] for g in groups) == ["demo-a", "demo-b", "demo-c"]
    assert {i.name for i in instances.list_instances(demo.state_dir)} == \
        {demo.prefix + g for g in PER_GUEST}
    assert {"lab-" + demo.prefix + g for g in PER_GUEST} <= demo.namespaces()
    assert f"neutrino lab exec {demo.prefix}a1" in res.stdout

    # what the demo claims, observed by the test itself on the instances it left
    with demo.client() as admin:
        ports = {g: admin.get("/ports", params={"name": demo.prefix + g}).json()["ports"][0]
                 for g in PER_GUEST}
    assert {ports[g]["fixed_ips"][0]["ip_address"] for g in ("a1", "b1")} == {"10.0.0.5"}
    assert ports["a1"]["binding:host_id"] != ports["a2"]["binding:host_id"]
    for g, port in ports.items():
        assert port["status"] == "ACTIVE", (g, port["status"])
        got = instances.exec_in_instance(demo.state_dir, demo.prefix + g, [
            "busybox", "wget", "-q", "-O", "-", METADATA_URL], timeout=15)
        assert json.loads(got.stdout)["uuid"] == port["device_id"], (g, got.stderr)
    for fip in fips:  # a few seconds' grace: a loaded machine may flap BFD (200 ms x 3)
        wait_until(lambda: external.exec_in_upstream(demo.state_dir, "physnet1", [
            "ping", "-c1", "-W2", fip["floating_ip_address"]]).returncode == 0, 15,
            f"the outside to reach {fip['floating_ip_address']}")


def test_clean_leaves_no_namespace_veth_or_daemon(demo: Demo):
    state = demo.state_dir
    pids = [json.loads((state / "demo.json").read_text())["service_pid"]]
    pids += [int(p.read_text()) for p in state.glob("ovn/**/*.pid")]
    pids += [i.dhcp_pid for i in instances.list_instances(state) if i.dhcp_pid]
    assert len(pids) > 5 and all(pid_alive(p) for p in pids)
    links = {i.host_if for i in instances.list_instances(state)}
    links |= {u.host_if for u in external.list_upstreams(state)}
    links |= {g.host_if for g in vlans.list_vlans(state)}
    with demo.client() as admin:
        net_ids = [n["id"] for n in admin.get("/networks").json()["networks"]]
    assert demo.namespaces()

    res = demo.run("--clean")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "removed:" in res.stdout
    assert demo.namespaces() == set()
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not [n for n in net_ids if f"-{n}" in out]  # ovnmeta-<net>, ovnmeta2-<net>
    root_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert not [link for link in links if f" {link}@" in root_links or f" {link}:" in root_links]
    assert [p for p in pids if pid_alive(p)] == []
    assert not (state / "runtime.json").exists() and not (state / "demo.json").exists()
    assert instances.list_instances(state) == []
    assert external.list_upstreams(state) == [] and vlans.list_vlans(state) == []
    assert demo.run("--clean").stdout.strip() == "nothing to clean"

"""The all-in-one service end to end: ``neutrino up`` with its own OVN, lab
instances booted with ``neutrino lab boot``, real DHCP leases and real pings.

The module starts one ``neutrino up`` in a state dir of its own (so its chassis
namespace and daemons are its own) and stops it with ``neutrino down``.
"""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from allinone import NEUTRINO, host_state, neutrino, running_allinone

from prometheus_client.parser import text_string_to_metric_families

from neutrino.lab.daemons import wait_until

pytestmark = pytest.mark.ovn


@pytest.fixture(scope="module")
def allinone(run_prefix, tmp_path_factory):
    with host_state(), running_allinone(tmp_path_factory.mktemp("up"), run_prefix) as aio:
        yield aio


def netns_list() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


def test_instances_lease_the_api_addresses_ping_and_turn_active(allinone):
    net = allinone.network("p1", "10.0.0.0/24")
    a, b = allinone.boot("a", net["id"], "p1"), allinone.boot("b", net["id"], "p1")
    ports = {n: allinone.port_of(n) for n in (a, b)}
    for name, port in ports.items():
        assert allinone.leased(name) == port["fixed_ips"][0]["ip_address"]
    assert allinone.exec(a, "ping", "-c1", "-W2", ports[b]["fixed_ips"][0]["ip_address"]).returncode == 0

    def active():
        got = [allinone.port_of(n) for n in (a, b)]
        return all(p["status"] == "ACTIVE" for p in got) and got
    for port in wait_until(active, 10, "both ports ACTIVE"):
        assert port["binding:host_id"] == allinone.runtime["chassis_name"]
    listed = allinone.lab("list").stdout
    assert a in listed and b in listed


def test_metrics_of_the_controller_and_the_agents_show_at_the_api(allinone):
    """Under ``neutrino up`` the controller thread and the chassis' metadata agent (a
    process of its own) record into the run's metrics directory: the API's /metrics
    shows them with its own."""
    net = allinone.network("pm", "10.0.9.0/24")
    vm = allinone.boot("m", net["id"], "pm")
    assert allinone.leased(vm)
    chassis = allinone.runtime["chassis_name"]
    metrics_url = allinone.url.removesuffix("/v2.0") + "/metrics"

    def scraped():
        text = httpx.get(metrics_url, timeout=30).text
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for f in text_string_to_metric_families(text) for s in f.samples}
        return samples if samples.get(("neutrino_metadata_networks_served",
                                       (("chassis", chassis),)), 0) >= 1 else None
    samples = wait_until(scraped, 20, "the agent's networks at the API's /metrics")
    assert samples[("neutrino_controller_is_leader", ())] == 1
    assert samples[("neutrino_controller_leaders", ())] == 1
    assert samples[("neutrino_nb_sync_outbox_rows_total", ())] >= 1
    assert samples[("neutrino_chassis_alive", ())] >= 1
    assert samples[("neutrino_api_requests_total", (("method", "POST"), ("resource", "networks"),
                                                    ("status", "201")))] >= 1


def test_overlapping_projects_each_reach_only_their_own_network(allinone):
    # the metadata port takes the first pool address (.4), the instance the other (.5)
    net_a = allinone.network("pa", "10.0.0.0/24", pool=("10.0.0.4", "10.0.0.5"))
    net_b = allinone.network("pb", "10.0.0.0/24", pool=("10.0.0.4", "10.0.0.5"))
    a1, b1 = allinone.boot("a1", net_a["id"], "pa"), allinone.boot("b1", net_b["id"], "pb")
    assert allinone.leased(a1) == allinone.leased(b1) == "10.0.0.5"
    with allinone.client("pa") as c:
        subnet_id = c.get(f"/networks/{net_a['id']}").json()["network"]["subnets"][0]
        c.put(f"/subnets/{subnet_id}", json={"subnet": {"allocation_pools": [
            {"start": "10.0.0.6", "end": "10.0.0.6"}]}})
    a2 = allinone.boot("a2", net_a["id"], "pa")
    assert allinone.leased(a2) == "10.0.0.6"
    # a2 reaches 10.0.0.5 in its own network: a1's MAC answers, never b1's
    assert allinone.exec(a2, "ping", "-c1", "-W2", "10.0.0.5").returncode == 0
    neigh = allinone.exec(a2, "ip", "neigh", "show", "10.0.0.5").stdout
    assert allinone.port_of(a1)["mac_address"] in neigh
    assert allinone.port_of(b1)["mac_address"] not in neigh
    # b1 has nobody at 10.0.0.6
    assert allinone.exec(b1, "ping", "-c1", "-W1", "10.0.0.6").returncode != 0


def test_sync_reports_and_repairs_drift_made_by_hand(allinone):
    net = allinone.network("pd", "10.1.0.0/24")
    # an unbound port: a bound one would go DOWN when its LSP vanishes, and the
    # running sync would put the LSP back before the audit sees it missing
    with allinone.client("pd") as c:
        port = c.post("/ports", json={"port": {"network_id": net["id"]}}).json()["port"]
    nb = ["ovn-nbctl", f"--db={allinone.runtime['nb_connection']}"]
    wait_until(lambda: port["id"] in subprocess.run(nb + ["lsp-list", f"neutron-{net['id']}"],
                                                    capture_output=True, text=True).stdout,
               10, "the LSP in the NB")
    # our transaction must be over: one still in flight that sees its new LSP deleted
    # fails after committing, and its retry puts the LSP back before the audit runs
    allinone.wait_synced()
    subprocess.run(nb + ["lsp-del", port["id"]], check=True)
    subprocess.run(nb + ["lsp-add", f"neutron-{net['id']}", f"{allinone.prefix}-stray"], check=True)
    drift = neutrino("sync", "--state-dir", str(allinone.state_dir), check=False)
    assert drift.returncode == 1, drift.stdout
    assert port["id"][:8] in drift.stdout and "stray" in drift.stdout
    neutrino("sync", "--repair", "--state-dir", str(allinone.state_dir))
    listed = subprocess.run(nb + ["lsp-list", f"neutron-{net['id']}"], capture_output=True, text=True).stdout
    assert port["id"] in listed and "stray" not in listed
    assert neutrino("sync", "--state-dir", str(allinone.state_dir)).returncode == 0


def test_lab_delete_removes_namespace_and_port(allinone):
    net = allinone.network("pe", "10.2.0.0/24")
    name = allinone.boot("e", net["id"], "pe")
    port = allinone.port_of(name)
    allinone.lab("delete", name)
    assert f"lab-{name}" not in netns_list()
    with allinone.client() as c:
        assert c.get(f"/ports/{port['id']}").status_code == 404
    assert allinone.lab("delete", name, check=False).returncode != 0


def test_lab_instances_survive_a_restart_of_up(allinone):
    """Last in the module: restarts the all-in-one on the same state dir."""
    net = allinone.network("pr", "10.3.0.0/24")
    a, b = allinone.boot("ra", net["id"], "pr"), allinone.boot("rb", net["id"], "pr")
    address_b = allinone.leased(b)
    allinone.external("create")
    upstream = json.loads((allinone.state_dir / "lab/external/physnet1.json").read_text())["netns"]
    neutrino("down", "--state-dir", str(allinone.state_dir))
    assert allinone.exec(a, "ping", "-c1", "-W1", address_b).returncode != 0  # chassis gone
    assert upstream not in netns_list()
    port = allinone.url.split(":")[2].split("/")[0]
    metadata_port = allinone.runtime["metadata_url"].rsplit(":", 1)[1]
    log = open(allinone.state_dir / "up2.log", "w")
    proc = subprocess.Popen([str(NEUTRINO), "up", "--state-dir", str(allinone.state_dir),
                             "--port", port, "--metadata-port", metadata_port],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: proc.poll() is not None or (allinone.state_dir / "runtime.json").exists(),
                   60, "neutrino up to come back")
        assert proc.poll() is None, (allinone.state_dir / "up2.log").read_text()
        assert allinone.leased(b) == address_b
        assert allinone.exec(a, "ping", "-c1", "-W2", address_b).returncode == 0
        # the upstream namespace is plumbed again; delete removes it and its network
        addrs = allinone.external("exec", "--", "ip", "-4", "-o", "addr", "show", "eth0")
        assert "172.24.4.1/24" in addrs.stdout
        allinone.external("delete")
        assert upstream not in netns_list()
        with allinone.client() as c:
            assert c.get("/networks", params={"name": "public"}).json()["networks"] == []
    finally:
        for name in (a, b):
            allinone.lab("delete", name, check=False)
        allinone.external("delete", check=False)
        neutrino("down", "--state-dir", str(allinone.state_dir), check=False)
        proc.wait(timeout=30)
        log.close()

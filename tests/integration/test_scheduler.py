"""The network scheduler against real ``neutrino server`` processes (issue 8).

* openstacksdk's ``get_auto_allocated_topology`` / ``validate_auto_allocated_topology``
  (what Nova's ``--nic auto`` calls) on a SQLite server.
* 40 concurrent ``POST /v2.0/scheduled-ports`` over 4 networks holding exactly 40
  free addresses, from 4 API workers, on SQLite and on PostgreSQL: every call
  succeeds (a call whose network filled up moves to the next), no network gets
  more ports than it had free addresses, no address is handed out twice, and
  the 41st call is a 409 that says the networks are full.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import openstack
import pytest
from openstack import exceptions

from neutrino_server import NeutrinoServer, neutrino_sqlite, post_at_once  # noqa: F401  (fixture)

PROJECT = "race"
MEMBER = {"X-Project-Id": PROJECT, "X-Roles": "member"}
FREE = {"net-1": 7, "net-2": 13, "net-3": 9, "net-4": 11}  # 40 in all
CALLS = sum(FREE.values())


def test_sdk_get_auto_allocated_topology(neutrino_sqlite: NeutrinoServer):
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, auth_type="none",
                             network_endpoint_override=neutrino_sqlite.url)
    try:
        with pytest.raises(exceptions.ConflictException, match="Deployment error: No network"):
            conn.network.get_auto_allocated_topology("sdk-project")
        net = conn.network.create_network(name="sdk-auto", project_id="sdk-project")
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.9.0.0/24",
                                   project_id="sdk-project")
        topo = conn.network.get_auto_allocated_topology("sdk-project")
        assert (topo.id, topo.project_id) == (net.id, "sdk-project")
        checked = conn.network.validate_auto_allocated_topology("sdk-project")
        assert checked.id == "dry-run=pass"
        conn.network.delete_auto_allocated_topology("sdk-project")  # nothing built: 204
        assert conn.network.get_auto_allocated_topology("sdk-project").id == net.id
        aliases = {e.alias for e in conn.network.extensions()}
        assert {"auto-allocated-topology", "network-scheduler"} <= aliases
    finally:
        conn.close()


def make_networks(client: httpx.Client) -> dict[str, dict]:
    """FREE's networks for PROJECT (distinct CIDRs), each filled to its free count."""
    nets = {}
    for i, (name, free) in enumerate(FREE.items()):
        net = client.post("/v2.0/networks", json={"network": {
            "name": name, "project_id": PROJECT}}).json()["network"]
        resp = client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": f"10.{40 + i}.0.0/24",
            "project_id": PROJECT,
            "allocation_pools": [{"start": f"10.{40 + i}.0.10", "end": f"10.{40 + i}.0.40"}]}})
        assert resp.status_code == 201, resp.text
        while free_ips(client, net) > free:
            resp = client.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                             "project_id": PROJECT}})
            assert resp.status_code == 201, resp.text
        assert free_ips(client, net) == free
        nets[net["id"]] = net
    return nets


def free_ips(client: httpx.Client, net: dict) -> int:
    avail = client.get(f"/v2.0/network-ip-availabilities/{net['id']}").json()
    details = avail["network_ip_availability"]["ip_availability_details"]  # pool addresses
    return details["total_ips_in_allocation_pool"] - details["used_ips_in_allocation_pool"]


def schedule_concurrently(url: str, calls: int) -> list[httpx.Response]:
    """``calls`` threads, each with its own connection, post one scheduled port at once."""
    return [rs[0] for rs in post_at_once(url, MEMBER, [
        [("/v2.0/scheduled-ports", {"port": {"name": f"vm-{n}"}})] for n in range(calls)])]


def check_race(server: NeutrinoServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as admin:
        nets = make_networks(admin)
        responses = schedule_concurrently(server.url, CALLS)
        assert [r.status_code for r in responses] == [201] * CALLS, [
            r.text for r in responses if r.status_code != 201][:5]
        placed = [r.json()["port"] for r in responses]
        per_network = Counter(nets[p["network_id"]]["name"] for p in placed)
        assert per_network == FREE  # every network exactly filled, none beyond
        addresses = [(p["network_id"], p["fixed_ips"][0]["ip_address"]) for p in placed]
        assert len(set(addresses)) == CALLS
        for net in nets.values():
            assert free_ips(admin, net) == 0
        full = admin.post("/v2.0/scheduled-ports", json={"port": {}}, headers=MEMBER)
        assert full.status_code == 409, full.text
        error = full.json()["NeutronError"]
        assert error["type"] == "AutoAllocationFailure"
        assert "are full" in error["message"] and "net-4 has 0 of" in error["message"]
    server.assert_no_tracebacks()


def test_40_concurrent_boots_over_4_networks_on_sqlite(tmp_path: Path):
    with NeutrinoServer(tmp_path, workers=4) as server:
        check_race(server)


@pytest.fixture
def pg_server_4_workers(pg_url: str, tmp_path: Path) -> Iterator[NeutrinoServer]:
    with NeutrinoServer(tmp_path, database_url=pg_url, workers=4) as server:
        yield server


@pytest.mark.postgres
def test_40_concurrent_boots_over_4_networks_on_postgres(pg_server_4_workers):
    check_race(pg_server_4_workers)

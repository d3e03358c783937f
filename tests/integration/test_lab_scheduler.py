"""``neutrino lab boot NAME`` without ``--network`` on the all-in-one (issue 8, seed 004).

Two networks with tiny allocation pools: boots that name no network fill the
first by name (policy ``pack``), each instance leasing its port's address by
DHCP, then land on the next; once both are full the boot fails with the
scheduler's reason and leaves no port behind.
"""

from __future__ import annotations

import pytest
from allinone import host_state, running_allinone

pytestmark = pytest.mark.ovn

PROJECT = "sched"


@pytest.fixture(scope="module")
def allinone(run_prefix, tmp_path_factory):
    with host_state(), running_allinone(tmp_path_factory.mktemp("up"), run_prefix) as aio:
        yield aio


def make_network(aio, name: str, third: int, pool_size: int) -> dict:
    with aio.client(PROJECT) as c:
        net = c.post("/networks", json={"network": {"name": name}}).json()["network"]
        resp = c.post("/subnets", json={"subnet": {
            "network_id": net["id"], "cidr": f"10.{third}.0.0/24", "ip_version": 4,
            "allocation_pools": [{"start": f"10.{third}.0.10",
                                  "end": f"10.{third}.0.{9 + pool_size}"}]}})
        assert resp.status_code == 201, resp.text
    return net


def test_boots_without_network_fill_one_network_then_the_next(allinone):
    first = make_network(allinone, f"{allinone.prefix}-a", 60, 3)
    second = make_network(allinone, f"{allinone.prefix}-b", 61, 2)
    with allinone.client(PROJECT) as c:
        ranked = c.get("/network-candidates").json()["network_candidates"]
    free = {c["network_id"]: c["free_ips"] for c in ranked}
    assert [c["network_id"] for c in ranked] == [first["id"], second["id"]]
    assert free[first["id"]] >= 1 and free[second["id"]] >= 1

    expected = [first] * free[first["id"]] + [second] * free[second["id"]]
    for i, net in enumerate(expected):
        name = f"{allinone.prefix}s{i}"
        out = allinone.lab("boot", name, "--project", PROJECT).stdout
        assert f"scheduled on network {net['name']} ({net['id']})" in out, out
        port = allinone.port_of(name)
        assert port["network_id"] == net["id"]
        assert allinone.leased(name) == port["fixed_ips"][0]["ip_address"]

    refused = allinone.lab("boot", f"{allinone.prefix}sx", "--project", PROJECT, check=False)
    assert refused.returncode == 1
    assert "AutoAllocationFailure" in refused.stderr and "are full" in refused.stderr, refused.stderr
    with allinone.client(PROJECT) as c:
        assert len(c.get("/ports", params={"device_owner": "compute:lab"}).json()["ports"]) == \
            len(expected)

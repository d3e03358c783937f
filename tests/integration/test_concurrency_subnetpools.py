"""Concurrent subnet allocation from one subnet pool: a real ``neutrino server`` with 4
workers, on PostgreSQL and on SQLite.

16 client threads, each with its own keep-alive ``httpx.Client``, wait on a barrier
and then create /28 subnets from one pool with no pause, so requests served by
different workers race for the same free prefix. Every subnet must get a prefix of
its own inside the pool (never two overlapping ones), and once the pool is full the
answer is 409 SubnetAllocationError, never 500. The pool's generation key
(``prefix_generations``) makes the losers of a race retry, without a lock.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neutrino_server import NeutrinoServer, post_at_once

PROJECT = "race"
MEMBER = {"X-Project-Id": PROJECT, "X-Roles": "member"}
CLIENTS = 16
POOL = ipaddress.ip_network("10.99.0.0/24")  # 16 /28s


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path: Path) -> Iterator[NeutrinoServer]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    with NeutrinoServer(tmp_path, database_url=url, workers=4) as srv:
        yield srv
    srv.assert_no_tracebacks()


def create(client: httpx.Client, resource: str, body: dict, plural: str | None = None) -> dict:
    resp = client.post(f"/v2.0/{plural or resource + 's'}", json={resource: body}, headers=MEMBER)
    assert resp.status_code == 201, resp.text
    return resp.json()[resource]


def race(url: str, pool_id: str, networks: list[str], per_client: int) -> list[httpx.Response]:
    """CLIENTS threads create ``per_client`` subnets each from the pool, at once."""
    return [r for rs in post_at_once(url, MEMBER, [
        [("/v2.0/subnets", {"subnet": {"network_id": networks[n * per_client + i],
                                       "ip_version": 4, "subnetpool_id": pool_id,
                                       "prefixlen": 28, "enable_dhcp": False}})
         for i in range(per_client)] for n in range(CLIENTS)]) for r in rs]


def test_16_clients_get_distinct_prefixes_until_the_pool_is_full_then_409(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        pool = create(client, "subnetpool", {"name": "race", "prefixes": [str(POOL)]})
        networks = [create(client, "network", {"name": f"n{i}"})["id"]
                    for i in range(CLIENTS * 2)]

        responses = race(server.url, pool["id"], networks, per_client=2)

        created = [r.json()["subnet"] for r in responses if r.status_code == 201]
        refused = [r for r in responses if r.status_code == 409]
        assert len(created) + len(refused) == CLIENTS * 2, [
            (r.status_code, r.text) for r in responses if r.status_code not in (201, 409)]
        cidrs = sorted(ipaddress.ip_network(s["cidr"]) for s in created)
        assert cidrs == list(POOL.subnets(new_prefix=28))  # all 16, each once: no overlap
        assert all(s["subnetpool_id"] == pool["id"] for s in created)
        for r in refused:
            error = r.json()["NeutronError"]
            assert error["type"] == "SubnetAllocationError", r.text
            assert "Insufficient prefix space to allocate subnet size /28" in error["message"]
        listed = client.get("/v2.0/subnets", params={"subnetpool_id": pool["id"]},
                            headers=MEMBER).json()["subnets"]
        assert sorted(s["id"] for s in listed) == sorted(s["id"] for s in created)

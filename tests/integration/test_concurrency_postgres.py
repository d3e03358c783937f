"""Concurrent port creation on one subnet: neutrino with 4 workers on PostgreSQL.

Each test starts its own server (``--workers 4``) on a fresh database from
``pg_url``. Client threads each own an ``httpx.Client`` (keep-alive) and wait
on a barrier, then create ports with no pause, so requests from different
workers race for the same addresses. Allocation must hand out every address at
most once, and a full subnet must answer 409 IpAddressGenerationFailure, never
500.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neutrino_server import NeutrinoServer, post_at_once

pytestmark = pytest.mark.postgres

PROJECT = "race"
MEMBER = {"X-Project-Id": PROJECT, "X-Roles": "member"}
THREADS = 8


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[NeutrinoServer]:
    with NeutrinoServer(tmp_path, database_url=pg_url, workers=4) as srv:
        yield srv
    srv.assert_no_tracebacks()


@pytest.fixture
def admin(server: NeutrinoServer) -> Iterator[httpx.Client]:
    """Admin client (noauth: no X-Project-Id)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def create(client: httpx.Client, resource: str, body: dict) -> dict:
    """Create a resource as a member of PROJECT."""
    resp = client.post(f"/v2.0/{resource}s", json={resource: body}, headers=MEMBER)
    assert resp.status_code == 201, resp.text
    return resp.json()[resource]


def network_with_subnet(admin: httpx.Client, cidr: str) -> tuple[dict, dict]:
    net = create(admin, "network", {"name": f"net-{cidr}"})
    # DHCP off: no metadata port, so the tests own every address and port of the subnet
    subnet = create(admin, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                      "enable_dhcp": False})
    return net, subnet


def create_ports_concurrently(url: str, network_id: str, per_thread: int) -> list[httpx.Response]:
    """THREADS threads, each with its own keep-alive client, create ports at once."""
    return [r for rs in post_at_once(url, MEMBER, [
        [("/v2.0/ports", {"port": {"network_id": network_id, "name": f"p-{n}-{i}"}})
         for i in range(per_thread)] for n in range(THREADS)]) for r in rs]


def pool_addresses(subnet: dict) -> set[ipaddress.IPv4Address]:
    return {ipaddress.ip_address(a)
            for p in subnet["allocation_pools"]
            for a in range(int(ipaddress.ip_address(p["start"])),
                           int(ipaddress.ip_address(p["end"])) + 1)}


def test_400_concurrent_port_creates_get_distinct_addresses(server, admin):
    net, subnet = network_with_subnet(admin, "10.20.0.0/22")
    resp = admin.put(f"/v2.0/quotas/{PROJECT}", json={"quota": {"port": 1000}})
    assert resp.status_code == 200, resp.text

    responses = create_ports_concurrently(server.url, net["id"], per_thread=50)

    statuses = [r.status_code for r in responses]
    assert statuses == [201] * 400, [r.text for r in responses if r.status_code != 201][:5]
    pool = pool_addresses(subnet)
    addresses = []
    for r in responses:
        [fixed_ip] = r.json()["port"]["fixed_ips"]
        assert fixed_ip["subnet_id"] == subnet["id"]
        addresses.append(ipaddress.ip_address(fixed_ip["ip_address"]))
    assert set(addresses) <= pool
    assert len(set(addresses)) == 400

    availability = admin.get(f"/v2.0/network-ip-availabilities/{net['id']}")
    assert availability.status_code == 200, availability.text
    assert availability.json()["network_ip_availability"]["used_ips"] == 400
    listed = admin.get("/v2.0/ports", params={"network_id": net["id"]})
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["ports"]) == 400
    assert {p["id"] for p in listed.json()["ports"]} == {
        r.json()["port"]["id"] for r in responses}


def test_race_for_last_addresses_gives_409_not_500(server, admin):
    net, subnet = network_with_subnet(admin, "10.30.0.0/29")
    pool = pool_addresses(subnet)
    assert len(pool) == 5, subnet["allocation_pools"]

    responses = create_ports_concurrently(server.url, net["id"], per_thread=2)

    created = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 409]
    assert len(created) + len(refused) == 16, [
        (r.status_code, r.text) for r in responses if r.status_code not in (201, 409)]
    assert len(created) == 5
    addresses = {r.json()["port"]["fixed_ips"][0]["ip_address"] for r in created}
    assert {ipaddress.ip_address(a) for a in addresses} == pool
    for r in refused:
        assert r.json()["NeutronError"]["type"] == "IpAddressGenerationFailure", r.text

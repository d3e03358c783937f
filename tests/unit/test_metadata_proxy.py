"""The metadata agent's request path without namespaces (``neutrino/metadata/proxy.py``).

The proxy serves plain loopback sockets, one per "network", in front of the real
metadata service (its aiohttp app over the test database) or of a recording stub, with
a port index fed by hand. The caller is the connection's source address: 127.0.0.1
belongs to a port, 127.0.0.2 (also loopback) to none.
"""

from __future__ import annotations

from dataclasses import replace

import asyncio
import base64
import json
import socket
import uuid
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
import yarl
from aiohttp import web
from test_metadata_index import CHASSIS, NET_A, NET_B, vif

from neutrino.config import Settings
from neutrino.metadata import auth
from neutrino.metadata.index import PortIndex
from neutrino.metadata.proxy import MetadataProxy, forward_headers, response_headers
from neutrino.metadata.service import create_app

SECRET = "agent-secret"


# --- headers -------------------------------------------------------------------------

def test_guest_copies_of_proxy_headers_are_dropped_and_ours_are_signed():
    guest = [("Host", "169.254.169.254"), ("User-Agent", "Cloud-Init/22.4.2"),
             ("X-Instance-ID", "someone-else"), ("x-instance-id", "again"),
             ("X-Tenant-ID", "their-project"), ("X-Forwarded-For", "10.0.0.9"),
             ("X-Instance-ID-Signature", "forged"), ("X-Metadata-Provider", "lb"),
             ("Connection", "keep-alive"), ("Transfer-Encoding", "chunked"),
             ("X-aws-ec2-metadata-token", "tok")]
    binding = vif("pa", NET_A, "fa:16:3e:00:00:0a", "10.0.0.5", device="vm-a", project="proj-a")
    out = forward_headers(guest, SECRET, binding, "10.0.0.5")
    assert out.getall("X-Instance-ID") == ["vm-a"]
    assert out.getall("X-Tenant-ID") == ["proj-a"]
    assert out.getall("X-Forwarded-For") == ["10.0.0.5"]
    assert auth.signature_ok(SECRET, "vm-a", out["X-Instance-ID-Signature"])
    for gone in ("Host", "X-Metadata-Provider", "Connection", "Transfer-Encoding"):
        assert gone not in out
    assert out["User-Agent"] == "Cloud-Init/22.4.2"
    assert out["X-aws-ec2-metadata-token"] == "tok"


def test_response_headers_keep_what_clients_read():
    out = response_headers([("Content-Type", "application/json"), ("Content-Length", "12"),
                            ("Server", "Python"), ("Date", "x"), ("Retry-After", "1"),
                            ("X-aws-ec2-metadata-token-ttl-seconds", "60")])
    assert dict(out) == {"Content-Type": "application/json", "Retry-After": "1",
                         "X-aws-ec2-metadata-token-ttl-seconds": "60"}


# --- the proxy, serving sockets -----------------------------------------------------------

def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    return sock


async def fetch(sock: socket.socket, path: str, *, method: str = "GET", source: str = "127.0.0.1",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    port = sock.getsockname()[1]
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        url = yarl.URL(f"http://127.0.0.1:{port}{path}", encoded=True)
        async with session.request(method, url, headers=headers or {}) as resp:
            return resp.status, dict(resp.headers), await resp.read()


async def start_backend(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
def two_instances(api) -> dict[str, dict[str, Any]]:
    """Instances vm-a (project pa) and vm-b (project pb), registered through the API."""
    made = {}
    for name, project in (("vm-a", "pa"), ("vm-b", "pb")):
        body = {"instance": {"project_id": project, "name": name,
                             "public_keys": [{"name": f"key-{name}", "key": f"ssh-ed25519 {name}"}],
                             "user_data": base64.b64encode(f"#!/bin/sh\necho {name}\n".encode()).decode()}}
        resp = api.put(f"/v2.0/instances/{uuid.uuid4()}", body, admin=True)
        assert resp.status_code in (200, 201), resp.text
        made[name] = resp.json()["instance"]
    return made


class Neighbours(dict):
    """A namespace's neighbour table as the proxy reads it: address -> MAC."""

    def mac_of(self, address: str) -> str | None:
        return self.get(address)


def index_for(instances: dict[str, dict[str, Any]]) -> PortIndex:
    """127.0.0.1 is vm-a on network A and vm-b on network B: overlapping addresses."""
    index = PortIndex(CHASSIS)
    for name, net, mac in (("vm-a", NET_A, "fa:16:3e:00:00:0a"), ("vm-b", NET_B, "fa:16:3e:00:00:0b")):
        inst = instances[name]
        index.update(vif(f"port-{name}", net, mac, "127.0.0.1", device=inst["id"],
                         project=inst["project_id"]))
    return index


def test_each_network_socket_serves_its_own_instance_at_the_same_address(api, two_instances):
    settings = Settings(state_dir=api.env.settings.state_dir, database_url=api.env.settings.database_url)

    async def scenario() -> dict[str, Any]:
        runner, url = await start_backend(create_app(api.env.db, settings, SECRET))
        proxy = MetadataProxy(index_for(two_instances), url, SECRET)
        sock_a, sock_b = listening_socket(), listening_socket()
        listeners = [
            await proxy.listen(NET_A, sock_a, Neighbours({"127.0.0.1": "fa:16:3e:00:00:0a"})),
            await proxy.listen(NET_B, sock_b, Neighbours({"127.0.0.1": "fa:16:3e:00:00:0b"}))]
        try:
            got = {}
            for name, sock in (("vm-a", sock_a), ("vm-b", sock_b)):
                status, headers, body = await fetch(sock, "/openstack/latest/meta_data.json")
                assert status == 200 and headers["Content-Type"].startswith("application/json")
                got[name] = json.loads(body)
                _, _, got[name + "-user-data"] = await fetch(sock, "/openstack/latest/user_data")
            # the guest claims to be the other instance: it still gets its own data
            spoof = {"X-Instance-ID": two_instances["vm-b"]["id"], "X-Tenant-ID": "pb",
                     "X-Forwarded-For": "10.9.9.9",
                     "X-Instance-ID-Signature": auth.sign_instance_id("guess", "x")}
            status, _, body = await fetch(sock_a, "/openstack/latest/meta_data.json",
                                          headers=spoof)
            got["spoofed"] = (status, json.loads(body)["uuid"])
            # an address that belongs to no port, on the same socket
            got["unknown"] = (await fetch(sock_a, "/openstack", source="127.0.0.2"))[0]
            # a token PUT with X-Forwarded-For is refused; without, it works
            ttl = {"X-aws-ec2-metadata-token-ttl-seconds": "60"}
            got["xff_put"] = (await fetch(sock_a, "/latest/api/token", method="PUT",
                                          headers={**ttl, "X-Forwarded-For": "1.2.3.4"}))[0]
            status, headers, token = await fetch(sock_a, "/latest/api/token", method="PUT",
                                                 headers=ttl)
            got["token"] = (status, headers.get("X-aws-ec2-metadata-token-ttl-seconds"))
            got["with_token"] = await fetch(sock_a, "/latest/meta-data/instance-id",
                                            headers={"X-aws-ec2-metadata-token": token.decode()})
            got["other_token"] = (await fetch(sock_b, "/latest/meta-data/instance-id",
                                              headers={"X-aws-ec2-metadata-token": token.decode()}))[0]
            return got
        finally:
            for listener in listeners:
                await listener.close()
            await proxy.close()
            await runner.cleanup()

    results = ("ok", "client_error", "unknown_port", "refused")
    before = {r: REGISTRY.get_sample_value("neutrino_metadata_requests_total",
                                           {"result": r}) or 0 for r in results}
    got = asyncio.run(scenario())
    counted = {r: REGISTRY.get_sample_value("neutrino_metadata_requests_total",
                                            {"result": r}) - before[r] for r in results}
    assert counted == {"ok": 7, "client_error": 1, "unknown_port": 1, "refused": 1}
    for name in ("vm-a", "vm-b"):
        inst = two_instances[name]
        assert got[name]["uuid"] == inst["id"] and got[name]["hostname"] == name
        assert got[name]["public_keys"] == {f"key-{name}": f"ssh-ed25519 {name}"}
        assert got[name + "-user-data"] == f"#!/bin/sh\necho {name}\n".encode()
    assert got["spoofed"] == (200, two_instances["vm-a"]["id"])
    assert got["unknown"] == 404
    assert got["xff_put"] == 403
    assert got["token"] == (200, "60")
    assert got["with_token"][0] == 200 and got["with_token"][2].decode() == two_instances["vm-a"]["id"]
    assert got["other_token"] == 401  # the token is vm-a's, not vm-b's


NEIGHBOURS = Neighbours({"127.0.0.1": "fa:16:3e:00:00:0a", "127.0.0.2": "fa:16:3e:00:00:0b"})


def test_the_callers_mac_must_be_the_ports(caplog):
    """(network, address) finds the port; the neighbour entry's MAC must be its own
    or an address pair's, else 404 and a log line naming what was seen and expected."""
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text=request.headers["X-Instance-ID"])

    async def scenario() -> list:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", ok)
        runner, url = await start_backend(app)
        index = PortIndex(CHASSIS)
        index.update(replace(vif("p", NET_A, "fa:16:3e:00:00:0a", "127.0.0.1", device="vm-9"),
                             pair_macs=("fa:16:3e:00:00:99",)))
        proxy = MetadataProxy(index, url, SECRET)
        neighbours = Neighbours()
        sock = listening_socket()
        listener = await proxy.listen(NET_A, sock, neighbours)
        got = []
        try:
            for mac in ("fa:16:3e:00:00:0a", "FA:16:3E:00:00:99", "fa:16:3e:00:00:0c", None):
                neighbours.clear()
                if mac:
                    neighbours["127.0.0.1"] = mac
                status, _, body = await fetch(sock, "/")
                got.append((status, body if status == 200 else b""))
        finally:
            await listener.close()
            await proxy.close()
            await runner.cleanup()
        return got

    with caplog.at_level("INFO", "neutrino.metadata.proxy"):
        got = asyncio.run(scenario())
    assert got == [(200, b"vm-9"), (200, b"vm-9"), (404, b""), (404, b"")]
    assert any("127.0.0.1 seen from MAC fa:16:3e:00:00:0c, expected fa:16:3e:00:00:0a or "
               "fa:16:3e:00:00:99" in r.getMessage() and NET_A in r.getMessage()
               for r in caplog.records)
    assert any("MAC None" in r.getMessage() for r in caplog.records)


def test_what_reaches_the_service_and_what_comes_back():
    seen: list[dict[str, Any]] = []

    async def stub(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "raw_path": request.raw_path,
                     "headers": list(request.headers.items()), "body": await request.read()})
        return web.Response(status=418, text="teapot", headers={"Retry-After": "7"})

    async def scenario() -> tuple:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", stub)
        runner, url = await start_backend(app)
        index = PortIndex(CHASSIS)
        index.update(vif("p", NET_A, "fa:16:3e:00:00:0a", "127.0.0.1", device="vm-9", project="p9"))
        index.update(vif("q", NET_A, "fa:16:3e:00:00:0b", "127.0.0.2"))  # no device_id
        proxy = MetadataProxy(index, url, SECRET)
        sock = listening_socket()
        listener = await proxy.listen(NET_A, sock, NEIGHBOURS)
        try:
            first = await fetch(sock, "/latest/meta-data/a%20b?x=1&y=%2F",
                                headers={"X-Forwarded-For": "6.6.6.6", "x-tenant-id": "p1"})
            no_device = await fetch(sock, "/", source="127.0.0.2")
        finally:
            await listener.close()
            await proxy.close()
            await runner.cleanup()
        # the service is gone now: 503 with Retry-After, never a hang
        proxy = MetadataProxy(index, url, SECRET, timeout=2)
        sock = listening_socket()
        listener = await proxy.listen(NET_A, sock, NEIGHBOURS)
        try:
            down = await fetch(sock, "/openstack")
        finally:
            await listener.close()
            await proxy.close()
        return first, no_device, down, proxy.errors

    first, no_device, down, errors = asyncio.run(scenario())
    assert first[0] == 418 and first[2] == b"teapot" and first[1]["Retry-After"] == "7"
    [request] = seen
    assert request["raw_path"] == "/latest/meta-data/a%20b?x=1&y=%2F"  # passed as sent
    headers = {}
    for key, value in request["headers"]:
        headers.setdefault(key.lower(), []).append(value)
    assert headers["x-forwarded-for"] == ["127.0.0.1"]
    assert headers["x-tenant-id"] == ["p9"] and headers["x-instance-id"] == ["vm-9"]
    assert auth.signature_ok(SECRET, "vm-9", headers["x-instance-id-signature"][0])
    assert no_device[0] == 404
    assert down[0] == 503 and down[1]["Retry-After"] == "1" and errors == 1

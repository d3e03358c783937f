"""Nova port events end to end (issue 9, reference A.6): ``neutrino up`` with
``nova_auth_type=none`` and ``nova_endpoint_override`` pointing at a local HTTP
recorder standing in for Nova's API (aiohttp on 127.0.0.1: it records method, path,
headers and body and answers 200 with per-event code 200, as Nova does; it decides
nothing), and lab instances booted with ``neutrino lab boot``. The last test uses
``nova_auth_type=password`` against a real Keystone (tests/keystone.py) whose catalog
lists the recorder as the compute service.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Self

import httpx
import pytest
from aiohttp import web
from allinone import host_state, running_allinone
from keystone import REGION, Keystone

from neutrino.lab.daemons import wait_until

pytestmark = pytest.mark.ovn


class NovaRecorder:
    """An HTTP server on 127.0.0.1 recording every request as a dict with
    ``method``, ``path``, ``headers``, ``body`` (JSON) and ``at`` (time.monotonic()
    on arrival). Answers like Nova's os-server-external-events: 200, every event
    echoed with ``code`` 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.requests.append({"method": request.method, "path": request.path,
                              "headers": dict(request.headers), "body": body,
                              "at": time.monotonic()})
        events = body.get("events", []) if isinstance(body, dict) else []
        return web.json_response({"events": [
            {**e, "status": e.get("status", "completed"), "code": 200} for e in events]})

    def start(self) -> None:
        async def setup() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]
        threading.Thread(target=self._loop.run_forever, name="nova-recorder", daemon=True).start()
        asyncio.run_coroutine_threadsafe(setup(), self._loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def events(self, tag: str | None = None, name: str | None = None) -> list[dict]:
        """Every event posted (each with the arrival time ``at``), optionally only
        those of port ``tag`` and/or named ``name``."""
        return [{**e, "at": r["at"]} for r in list(self.requests)
                for e in (r["body"] or {}).get("events", [])
                if (tag is None or e.get("tag") == tag) and (name is None or e.get("name") == name)]


@pytest.fixture(scope="module")
def nova() -> Iterator[NovaRecorder]:
    recorder = NovaRecorder()
    recorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def allinone(nova, run_prefix, tmp_path_factory):
    settings = {"nova_auth_type": "none",
                "nova_endpoint_override": f"http://127.0.0.1:{nova.port}/v2.1"}
    with host_state(), running_allinone(tmp_path_factory.mktemp("nova"), run_prefix,
                                        settings=settings) as aio:
        yield aio


class StatusPoller:
    """Reads the status of the port named ``name`` over and over from another
    thread: ``seen`` holds (request start, status or None while there is no port)."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.seen: list[tuple[float, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                start = time.monotonic()
                found = client.get("/ports", params={"name": self.name}).json()["ports"]
                self.seen.append((start, found[0]["status"] if found else None))
                self._stop.wait(0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def test_boot_sends_one_vif_plugged_after_active_and_delete_vif_deleted(allinone, nova):
    net = allinone.network("nv", "10.0.0.0/24")
    name = allinone.prefix + "nova1"
    with StatusPoller(allinone.url, name) as poller:
        allinone.boot("nova1", net["id"], "nv")
        port = allinone.port_of(name)
        [plugged] = wait_until(lambda: nova.events(port["id"], "network-vif-plugged"), 20,
                               "network-vif-plugged at the Nova recorder")
        time.sleep(0.5)  # a poll or two after the event's arrival
    assert {k: plugged[k] for k in ("name", "server_uuid", "tag", "status")} == {
        "name": "network-vif-plugged", "server_uuid": port["device_id"], "tag": port["id"],
        "status": "completed"}
    # neutrino had made the port ACTIVE before it told Nova: every read begun after
    # the event arrived says ACTIVE
    after = [status for start, status in poller.seen if start > plugged["at"]]
    assert after and set(after) == {"ACTIVE"}, poller.seen
    [request] = [r for r in nova.requests if any(e.get("tag") == port["id"]
                                                 for e in (r["body"] or {}).get("events", []))]
    assert (request["method"], request["path"]) == ("POST", "/v2.1/os-server-external-events")
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["headers"]["X-OpenStack-Nova-API-Version"] == "2.1"
    assert "X-Auth-Token" not in request["headers"]  # nova_auth_type none

    allinone.lab("delete", name)
    [deleted] = wait_until(lambda: nova.events(port["id"], "network-vif-deleted"), 20,
                           "network-vif-deleted at the Nova recorder")
    assert deleted["server_uuid"] == port["device_id"] and "status" not in deleted
    assert len(nova.events(port["id"], "network-vif-plugged")) == 1
    # everything Nova was told about this port, in order
    names = [e["name"] for e in nova.events(port["id"])]
    assert names[0] == "network-vif-plugged" and names[-1] == "network-vif-deleted"
    assert set(names[1:-1]) <= {"network-vif-unplugged"}


def test_ports_of_other_owners_tell_nova_nothing(allinone, nova):
    net = allinone.network("nw", "10.1.0.0/24")
    with allinone.client("nw") as c:
        port = c.post("/ports", json={"port": {"network_id": net["id"],
                                               "device_owner": "compute:nova",
                                               "device_id": "not-a-server-uuid"}}).json()["port"]
        assert c.put(f"/ports/{port['id']}", json={"port": {"fixed_ips": [
            {"ip_address": "10.1.0.77"}]}}).status_code == 200
        assert c.delete(f"/ports/{port['id']}").status_code == 204
        # positive control: a server's port changed after it is heard of, so the
        # sender ran over the other port's events and dropped none of them
        control = c.post("/ports", json={"port": {"network_id": net["id"],
                                                  "device_owner": "compute:nova",
                                                  "device_id": str(uuid.uuid4())}}).json()["port"]
        assert c.delete(f"/ports/{control['id']}").status_code == 204
    wait_until(lambda: nova.events(control["id"], "network-vif-deleted"), 20,
               "the control port's network-vif-deleted")
    assert nova.events(port["id"]) == []


def test_password_auth_sends_a_token_keystone_validates(nova, run_prefix, tmp_path):
    """The compute endpoint from Keystone's catalog, a token for the [nova] user."""
    with Keystone(tmp_path) as keystone:
        service = keystone.find("projects", "service") or {"id": keystone.project("service")}
        nova_user = keystone.user("nova", "nova-pw", service["id"], "service")
        keystone.register_service("compute", "nova", f"http://127.0.0.1:{nova.port}/v2.1")
        settings = {"nova_auth_type": "password", "nova_auth_url": keystone.url,
                    "nova_username": "nova", "nova_password": "nova-pw",
                    "nova_project_name": "service", "nova_region_name": REGION}
        (tmp_path / "up").mkdir()
        with host_state(), running_allinone(tmp_path / "up", run_prefix, settings=settings) as aio:
            net = aio.network("nk", "10.2.0.0/24")
            with aio.client("nk") as c:
                port = c.post("/ports", json={"port": {
                    "network_id": net["id"], "device_owner": "compute:nova",
                    "device_id": str(uuid.uuid4())}}).json()["port"]
                assert c.delete(f"/ports/{port['id']}").status_code == 204
            wait_until(lambda: nova.events(port["id"], "network-vif-deleted"), 20,
                       "network-vif-deleted at the Nova recorder")
        [request] = [r for r in nova.requests if any(e.get("tag") == port["id"]
                                                     for e in (r["body"] or {}).get("events", []))]
        assert request["path"] == "/v2.1/os-server-external-events"
        token = request["headers"]["X-Auth-Token"]
        checked = keystone.request("GET", "/auth/tokens",
                                   headers={"X-Subject-Token": token}).json()["token"]
        assert checked["user"]["id"] == nova_user
        assert checked["project"]["id"] == service["id"]

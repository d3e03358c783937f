"""Nova port events (neutrino.notifiers.nova, reference A.6): which changes record
which events in the ``nova_events`` outbox, and how the sender batches, handles
Nova's answers (200, 207, 404, 4xx, 5xx) and retries."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import Api
from fastapi.testclient import TestClient
from keystoneauth1 import exceptions as ks_exc
from sqlalchemy import select

from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.models import NovaEvent
from neutrino.db.session import Database
from neutrino.notifiers import nova
from neutrino.services import ports
from neutrino.services.env import Env

SERVER = "f3612f3f-eccc-4376-b4b9-eaf32e9a26e1"  # fixed: test ids must not change between runs
NOVA = {"nova_auth_type": "none", "nova_endpoint_override": "http://127.0.0.1:9/v2.1"}


# --- which transitions give which events -----------------------------------------

def _port(status: str, owner: str = "compute:nova", device_id: str = SERVER):
    return SimpleNamespace(id="p", device_owner=owner, device_id=device_id, status=status)


@pytest.mark.parametrize("previous,current,name,status", [
    (None, "ACTIVE", nova.VIF_PLUGGED, "completed"),
    ("DOWN", "ACTIVE", nova.VIF_PLUGGED, "completed"),
    ("BUILD", "ACTIVE", nova.VIF_PLUGGED, "completed"),
    ("DOWN", "ERROR", nova.VIF_PLUGGED, "failed"),
    ("ACTIVE", "DOWN", nova.VIF_UNPLUGGED, "completed"),
    ("ACTIVE", "ACTIVE", None, None),
    ("DOWN", "DOWN", None, None),
    ("ACTIVE", "ERROR", None, None),
    ("ERROR", "ACTIVE", None, None),
])
def test_status_transitions(previous, current, name, status):
    event = nova.status_event(_port(current), previous)
    if name is None:
        assert event is None
    else:
        assert event == {"name": name, "server_uuid": SERVER, "tag": "p", "status": status}


@pytest.mark.parametrize("owner,device_id", [
    ("network:router_interface", SERVER), ("", SERVER), ("compute:nova", ""),
    ("compute:nova", "not-a-uuid"), ("computer", SERVER)])
def test_only_compute_ports_count(owner, device_id):
    assert nova.status_event(_port("ACTIVE", owner, device_id), "DOWN") is None


# --- recording through the services --------------------------------------------

@pytest.fixture
def env_factory(database_url) -> Iterator:
    dbs = []

    def make(**settings) -> Api:
        db = Database(database_url)
        dbs.append(db)
        env = Env(db=db, settings=Settings(state_dir=Path("/nonexistent"),
                                           database_url=database_url, **settings))
        client = TestClient(create_app(env))
        return Api(client, env)
    yield make
    for db in dbs:
        db.dispose()


@pytest.fixture
def api(env_factory) -> Api:
    """The API with a Nova configured (nothing listens: only the outbox is looked at)."""
    return env_factory(**NOVA)


def events(api: Api) -> list[tuple]:
    return api.env.db.run(lambda s: [(e.name, e.server_uuid, e.tag, e.status) for e in s.scalars(
        select(NovaEvent).order_by(NovaEvent.id))], write=False)


def compute_port(api: Api, **attrs) -> dict:
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/24")
    return api.port(net["id"], device_owner="compute:nova", device_id=SERVER, **attrs)


def test_port_lifecycle_records_events_in_order(api):
    port = compute_port(api)
    assert events(api) == []  # created DOWN: nothing yet
    ports.set_port_binding_state(api.env, port["id"], up=False, chassis_host=None)
    assert events(api) == []
    ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="h1")
    ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="h1")  # no change
    assert events(api) == [(nova.VIF_PLUGGED, SERVER, port["id"], "completed")]
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"name": "renamed"}}, expect=200)
    assert len(events(api)) == 1  # not address relevant
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"fixed_ips": [{"ip_address": "10.0.0.50"}]}},
            expect=200)
    ports.set_port_binding_state(api.env, port["id"], up=False, chassis_host=None)
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    assert events(api)[1:] == [(nova.NETWORK_CHANGED, SERVER, port["id"], None),
                               (nova.VIF_UNPLUGGED, SERVER, port["id"], "completed"),
                               (nova.VIF_DELETED, SERVER, port["id"], None)]


def test_other_ports_record_nothing(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/24")
    plain = api.port(net["id"])
    named = api.port(net["id"], device_owner="compute:nova", device_id="not-a-uuid")
    for port in (plain, named):
        ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="h1")
        api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    assert events(api) == []


def test_nothing_is_recorded_without_nova(env_factory):
    api = env_factory()
    port = compute_port(api)
    ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="h1")
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    assert events(api) == []


def test_neutron_switches_select_the_events(env_factory):
    api = env_factory(**NOVA, notify_nova_on_port_status_changes=False)
    port = compute_port(api)
    ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="h1")
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    assert [e[0] for e in events(api)] == [nova.VIF_DELETED]


def test_floating_ip_changes_tell_the_ports_involved(api):
    ext = api.network(name="public", **{"router:external": True, "provider:network_type": "flat",
                                        "provider:physical_network": "physnet1"})
    api.subnet(ext["id"], "172.24.4.0/24", gateway_ip="172.24.4.1", enable_dhcp=False)
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    router = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": ext["id"]}}}, expect=201).json()["router"]
    api.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    other = str(uuid.uuid4())
    a = api.port(net["id"], device_owner="compute:nova", device_id=SERVER)
    b = api.port(net["id"], device_owner="compute:nova", device_id=other)
    fip = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": ext["id"],
                                                        "port_id": a["id"]}},
                   expect=201).json()["floatingip"]
    assert events(api) == [(nova.NETWORK_CHANGED, SERVER, a["id"], None)]
    api.put(f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": b["id"]}}, expect=200)
    assert events(api)[1:] == [(nova.NETWORK_CHANGED, SERVER, a["id"], None),
                               (nova.NETWORK_CHANGED, other, b["id"], None)]
    api.delete(f"/v2.0/floatingips/{fip['id']}", expect=204)
    assert events(api)[3:] == [(nova.NETWORK_CHANGED, other, b["id"], None)]


# --- the sender -------------------------------------------------------------------

class FakeNova:
    """Answers posts with the queued (status, body) pairs or raises queued exceptions;
    records the bodies."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.posted: list[tuple[str, dict]] = []

    def post(self, url, json=None, raise_exc=True):
        self.posted.append((url, json))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        code, body = answer if isinstance(answer, tuple) else (answer, None)
        if body is None and code in (200, 207):
            body = {"events": [{**e, "code": 200} for e in json["events"]]}
        return SimpleNamespace(status_code=code, json=lambda: body, text=str(body))


def add_events(api: Api, n: int) -> list[str]:
    tags = [str(uuid.uuid4()) for _ in range(n)]
    api.env.db.run(lambda s: s.add_all([NovaEvent(name=nova.VIF_PLUGGED, server_uuid=SERVER, tag=t,
                                                  status="completed", created_at="x")
                                        for t in tags]))
    return tags


def test_a_batch_is_posted_in_order_and_deleted(api):
    tags = add_events(api, 3)
    fake = FakeNova()
    sender = nova.NovaNotifier(api.env, fake)
    assert sender.send_once() == 3 and sender.send_once() == 0
    [(url, body)] = fake.posted
    assert url == "/os-server-external-events"
    assert body == {"events": [{"name": nova.VIF_PLUGGED, "server_uuid": SERVER, "tag": t,
                                "status": "completed"} for t in tags]}
    assert events(api) == []


def test_events_without_status_are_sent_without_it(api):
    port = compute_port(api)
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    fake = FakeNova()
    nova.NovaNotifier(api.env, fake).send_once()
    assert fake.posted[0][1]["events"] == [{"name": nova.VIF_DELETED, "server_uuid": SERVER,
                                            "tag": port["id"]}]


def test_batches_are_at_most_batch_size(api):
    add_events(api, 5)
    fake = FakeNova()
    sender = nova.NovaNotifier(api.env, fake, batch_size=2)
    assert [sender.send_once() for _ in range(4)] == [2, 2, 1, 0]
    assert [len(b["events"]) for _, b in fake.posted] == [2, 2, 1]


def test_207_drops_the_events_nova_does_not_know(api):
    tags = add_events(api, 2)
    body = {"events": [{"name": nova.VIF_PLUGGED, "server_uuid": SERVER, "tag": tags[0],
                        "status": "completed", "code": 200},
                       {"name": nova.VIF_PLUGGED, "server_uuid": SERVER, "tag": tags[1],
                        "status": "failed", "code": 404}]}
    sender = nova.NovaNotifier(api.env, FakeNova((207, body)))
    assert sender.send_once() == 2
    assert events(api) == []


@pytest.mark.parametrize("code", [404, 400, 422])
def test_refused_batches_are_dropped(api, code):
    add_events(api, 2)
    assert nova.NovaNotifier(api.env, FakeNova(code)).send_once() == 2
    assert events(api) == []


@pytest.mark.parametrize("failure", [503, 500, 429, ks_exc.ConnectFailure("refused"),
                                     ks_exc.EndpointNotFound()])
def test_failures_keep_the_batch(api, failure):
    add_events(api, 2)
    fake = FakeNova(failure)
    sender = nova.NovaNotifier(api.env, fake)
    with pytest.raises((nova.RetryLater, ks_exc.ClientException)):
        sender.send_once()
    assert len(events(api)) == 2
    assert sender.send_once() == 2  # the next attempt sends the same events
    assert fake.posted[0] == fake.posted[1] and events(api) == []


def test_run_forever_retries_with_backoff_until_sent(api):
    add_events(api, 1)
    fake = FakeNova(ks_exc.ConnectFailure("refused"), 502)
    sender = nova.NovaNotifier(api.env, fake, interval=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=sender.run_forever, args=(stop,))
    thread.start()
    try:
        for _ in range(200):
            if sender.sent:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        thread.join(5)
    assert sender.sent == 1 and len(fake.posted) == 3 and events(api) == []


def test_no_sender_without_nova(env_factory):
    assert nova.sender_threads(env_factory().env, threading.Event()) == []


def test_settings_need_an_endpoint_or_credentials():
    with pytest.raises(ValueError, match="nova_endpoint_override"):
        Settings(nova_auth_type="none")
    with pytest.raises(ValueError, match="nova_auth_url"):
        Settings(nova_auth_type="password")
    assert Settings(nova_endpoint_type="internal").nova_interface == "internal"  # Neutron's name


def test_adapter_without_auth_posts_to_the_override_with_microversion():
    """keystoneauth1 for real, against a local HTTP server: no token, the compute
    microversion headers, the path under the override."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, dict(self.headers), body))
            out = json.dumps({"events": [{**e, "code": 200} for e in body["events"]]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(nova_auth_type="none",
                            nova_endpoint_override=f"http://127.0.0.1:{server.server_port}/v2.1")
        resp = nova.make_adapter(settings).post(nova.PATH, json={"events": [
            {"name": nova.VIF_PLUGGED, "server_uuid": SERVER, "tag": "p"}]}, raise_exc=False)
    finally:
        server.shutdown()
        server.server_close()
    assert resp.status_code == 200
    [(path, headers, body)] = seen
    assert path == "/v2.1/os-server-external-events"
    assert "X-Auth-Token" not in headers
    assert headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert headers["OpenStack-API-Version"] == "compute 2.1"
    assert body["events"][0]["tag"] == "p"

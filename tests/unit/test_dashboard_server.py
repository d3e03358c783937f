"""The web dashboard's server side (neutrino/dashboard/): the page and its assets at
``/dashboard``, its configuration, and the Keystone login endpoint against a small
fake Keystone (``POST /v3/auth/tokens`` with the password method, as keystoneauth1
sends it). The real Keystone's login is in tests/integration/test_keystone.py, the
page in a real browser in tests/e2e/test_dashboard.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from fake_http import FakeServer, JsonHandler
from neutrino_server import free_port

from neutrino.dashboard import login, routes

USERS = {("alice", "Default"): ("wonderland", "proj-a", ["member", "Reader"])}


class FakeKeystone(FakeServer):
    """Issues project-scoped tokens for USERS with the right password, 401 otherwise;
    records each request body (to check what keystoneauth1 sent)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                user = body["auth"]["identity"]["password"]["user"]
                project = body["auth"]["scope"]["project"]
                known = USERS.get((user["name"], user["domain"]["name"]))
                if (self.path != "/v3/auth/tokens" or not known or known[0] != user["password"]
                        or known[1] != project["name"]):
                    return self.send_json(401, {"error": {"code": 401, "title": "Unauthorized"}})
                expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                token = {"expires_at": expires, "issued_at": expires, "methods": ["password"],
                         "user": {"id": "u-alice", "name": user["name"],
                                  "domain": {"id": "default"}},
                         "project": {"id": "pid-" + known[1], "name": known[1],
                                     "domain": {"id": "default", "name": "Default"}},
                         "roles": [{"id": r, "name": r} for r in known[2]], "catalog": []}
                self.send_json(201, {"token": token}, {"X-Subject-Token": "tok-" + user["name"]})

        super().__init__(Handler, "/v3")


@pytest.fixture
def fake_keystone():
    fake = FakeKeystone()
    yield fake
    fake.close()


@pytest.fixture
def client(make_sqlite_client) -> TestClient:
    """noauth (the default)."""
    return make_sqlite_client()  # the dashboard touches no database: one backend is enough


def test_page_redirect_and_security_headers(client):
    resp = client.get("/dashboard", follow_redirects=False)
    assert resp.status_code == 307 and resp.headers["location"] == "/dashboard/"
    page = client.get("/dashboard/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="static/js/main.js">' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script: the CSP would block it


def test_every_module_the_page_imports_is_served_as_javascript(client):
    """Follow the imports from main.js: each module is served with a JavaScript type
    (browsers refuse modules otherwise) and the security headers."""
    seen, todo = set(), ["js/main.js"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = client.get(f"/dashboard/static/{path}")
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith("text/javascript"), path
        assert resp.headers["x-content-type-options"] == "nosniff"
        base = path.rsplit("/", 1)[0]
        for target in re.findall(r'^import .* from "\./([^"]+)";$', resp.text, re.M):
            todo.append(f"{base}/{target}")
        for target in re.findall(r'^import .* from "\.\./([^"]+)";$', resp.text, re.M):
            todo.append(target)
    assert {"js/main.js", "js/topology.js", "vendor/cytoscape.esm.min.js"} <= seen
    assert client.get("/dashboard/static/dashboard.css").status_code == 200
    assert client.get("/dashboard/static/../routes.py").status_code == 404


def test_vendored_versions_are_recorded():
    """vendor/README.md names the version the file is."""
    vendor = routes.STATIC / "vendor"
    version = re.search(r'\.version="([\d.]+)"', (vendor / "cytoscape.esm.min.js").read_text())
    assert version and f"| {version.group(1)} | MIT" in (vendor / "README.md").read_text()
    assert "MIT" in (vendor / "cytoscape.LICENSE").read_text() or \
        "Permission is hereby granted" in (vendor / "cytoscape.LICENSE").read_text()


def test_config_and_no_login_in_noauth(client):
    assert client.get("/dashboard/config.json").json() == {
        "auth_strategy": "noauth", "noauth_project": "admin",
        "poll_seconds": routes.POLL_SECONDS}
    resp = client.post("/dashboard/login", json={"username": "a", "password": "b",
                                                     "project": "c"})
    assert resp.status_code == 400
    assert resp.json()["NeutronError"]["type"] == "HTTPBadRequest"


def test_keystone_login_gives_the_users_own_token(fake_keystone, make_keystone_client, caplog):
    client = make_keystone_client(fake_keystone.url)
    assert client.get("/dashboard/config.json").json()["auth_strategy"] == "keystone"
    assert client.get("/dashboard/").status_code == 200            # no token needed
    assert client.get("/v2.0/networks").status_code == 401         # the API still does
    with caplog.at_level("DEBUG"):
        resp = client.post("/dashboard/login", json={
            "username": "alice", "password": "wonderland", "project": "proj-a"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token"] == "tok-alice"
    assert body["project"] == {"id": "pid-proj-a", "name": "proj-a"}
    assert body["user"] == {"id": "u-alice", "name": "alice"}
    assert body["roles"] == ["member", "reader"]
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)
    sent = fake_keystone.requests[-1]["auth"]
    assert sent["identity"]["methods"] == ["password"]
    assert sent["scope"]["project"]["domain"] == {"name": "Default"}
    assert "wonderland" not in caplog.text and "tok-alice" not in caplog.text


@pytest.mark.parametrize("creds", [
    {"username": "alice", "password": "wrong", "project": "proj-a"},
    {"username": "alice", "password": "wonderland", "project": "proj-b"},
    {"username": "alice", "password": "wonderland", "project": "proj-a", "domain": "Other"},
    {"username": "bob", "password": "wonderland", "project": "proj-a"},
])
def test_keystone_login_refused(fake_keystone, make_keystone_client, creds):
    resp = make_keystone_client(fake_keystone.url).post("/dashboard/login", json=creds)
    assert resp.status_code == 401
    assert resp.json()["NeutronError"]["type"] == "HTTPUnauthorized"


@pytest.mark.parametrize("body", [
    None, [], {"username": "alice", "password": "x"}, {"username": "a", "password": "b",
                                                       "project": "c", "extra": 1},
    {"username": "a", "password": 5, "project": "c"}, {"username": "a" * 256, "password": "b",
                                                        "project": "c"}])
def test_keystone_login_bad_body(fake_keystone, make_keystone_client, body):
    client = make_keystone_client(fake_keystone.url)
    resp = client.post("/dashboard/login", content=json.dumps(body) if body is not None else b"")
    assert resp.status_code == 400 and resp.json()["NeutronError"]["type"] == "HTTPBadRequest"
    assert not fake_keystone.requests
    resp = client.post("/dashboard/login", content=b"{not json")
    assert resp.status_code == 400


def test_keystone_unreachable_gives_503(make_keystone_client):
    client = make_keystone_client(f"http://127.0.0.1:{free_port()}/v3")
    resp = client.post("/dashboard/login", json={"username": "alice", "password": "w",
                                                 "project": "proj-a"})
    assert resp.status_code == 503
    assert resp.json()["NeutronError"]["type"] == "ServiceUnavailable"


def test_parse_credentials_defaults_the_domain():
    assert login.parse_credentials({"username": " alice ", "password": " pw ",
                                    "project": "p", "domain": None}) == {
        "username": "alice", "password": " pw ", "project": "p", "domain": "Default"}

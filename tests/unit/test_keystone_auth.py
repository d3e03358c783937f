"""``auth_strategy = keystone`` (neutrino/api/keystone.py) against a fake Keystone: a
small HTTP server in a thread that issues the service token and answers
``GET /v3/auth/tokens`` from a table, counting the validations."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_http import FakeServer, JsonHandler
from neutrino_server import free_port

from neutrino.api import keystone
from neutrino.config import ConfigError, Settings, load_settings

SERVICE_TOKEN = "service-token"


def iso(seconds_from_now: float) -> str:
    when = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token_body(project: str | None, roles: list[str], expires_in: float = 3600) -> dict:
    token = {"expires_at": iso(expires_in), "user": {"id": "u-" + (project or "x")},
             "roles": [{"id": r, "name": r} for r in roles], "methods": ["password"]}
    if project:
        token["project"] = {"id": project, "name": project, "domain": {"id": "default"}}
    return {"token": token}


class FakeKeystone(FakeServer):
    def __init__(self) -> None:
        self.tokens: dict[str, dict] = {}
        self.validations = 0
        self.service_logins = 0
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                fake.service_logins += 1
                self.send_json(201, token_body("service", ["service"]),
                               {"X-Subject-Token": SERVICE_TOKEN})

            def do_GET(self):
                if self.path != "/v3/auth/tokens":
                    return self.send_json(404, {})
                if self.headers.get("X-Auth-Token") != SERVICE_TOKEN:
                    return self.send_json(401, {})
                fake.validations += 1
                body = fake.tokens.get(self.headers.get("X-Subject-Token", ""))
                if body == "boom":
                    return self.send_json(500, {})
                self.send_json(200, body) if body else self.send_json(404, {"error": {"code": 404}})

        super().__init__(Handler, "/v3")


@pytest.fixture
def fake_keystone():
    fake = FakeKeystone()
    yield fake
    fake.close()


def test_token_becomes_the_context(fake_keystone, make_keystone_client):
    fake_keystone.tokens["t-member"] = token_body("p1", ["Member", "reader"])
    fake_keystone.tokens["t-reader"] = token_body("p1", ["reader"])
    client = make_keystone_client(fake_keystone.url)
    resp = client.post("/v2.0/networks", json={"network": {"name": "n"}},
                       headers={"X-Auth-Token": "t-member", "X-Project-Id": "spoofed"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["network"]["project_id"] == "p1"  # noauth headers are ignored
    resp = client.post("/v2.0/networks", json={"network": {"name": "n"}},
                       headers={"X-Auth-Token": "t-reader"})
    assert resp.status_code == 403
    resp = client.get("/v2.0/networks", headers={"X-Auth-Token": "t-reader"})
    assert [n["name"] for n in resp.json()["networks"]] == ["n"]


def test_missing_and_invalid_tokens_get_401(fake_keystone, make_keystone_client):
    fake_keystone.tokens["t-domain"] = token_body(None, ["admin"])
    client = make_keystone_client(fake_keystone.url,
                         keystone_authtoken_www_authenticate_uri="https://keystone.example:5000")
    assert client.get("/").status_code == 200
    health = client.get("/healthz")  # for load balancers: no token, no secrets
    assert health.status_code == 200 and health.json()["leader"] is None
    for headers in ({}, {"X-Auth-Token": "unknown"}, {"X-Auth-Token": "t-domain"}):
        resp = client.get("/v2.0/networks", headers=headers)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"] == 'Keystone uri="https://keystone.example:5000"'
        assert resp.json() == {"error": {"code": 401, "title": "Unauthorized", "message":
                                         "The request you have made requires authentication."}}
    assert client.get("/v2.0/extensions").status_code == 401


def test_validated_tokens_are_cached_until_shortly_before_expiry(fake_keystone,
                                                                 make_keystone_client):
    fake_keystone.tokens["t-long"] = token_body("p1", ["member", "reader"])
    fake_keystone.tokens["t-short"] = token_body("p1", ["member", "reader"], expires_in=3)
    client = make_keystone_client(fake_keystone.url)
    for _ in range(3):
        assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t-long"}).status_code == 200
    assert fake_keystone.validations == 1 and fake_keystone.service_logins == 1
    # expiring within the margin: asked every time
    for _ in range(2):
        assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t-short"}).status_code == 200
    assert fake_keystone.validations == 3
    # once Keystone forgets it (expired, revoked) and the cache is over: 401
    del fake_keystone.tokens["t-short"]
    assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t-short"}).status_code == 401


def test_cache_time_bounds_revocation(fake_keystone, make_keystone_client):
    fake_keystone.tokens["t"] = token_body("p1", ["member", "reader"])
    client = make_keystone_client(fake_keystone.url, keystone_authtoken_token_cache_time=1)
    assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t"}).status_code == 200
    del fake_keystone.tokens["t"]  # revoked
    assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t"}).status_code == 200
    time.sleep(1.1)
    assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t"}).status_code == 401


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(keystone, "CACHE_SIZE", 3)
    settings = Settings(state_dir=Path("/nonexistent"), auth_strategy="keystone",
                        keystone_authtoken_auth_url="http://127.0.0.1:1/v3",
                        keystone_authtoken_username="n")
    auth = keystone.KeystoneAuth(settings)
    calls = []

    def validate(token):
        calls.append(token)
        ctx, _ = keystone.context_from_token(token_body("p1", ["reader"]))
        return ctx, time.time() + 3600
    auth.validate = validate

    async def run():
        for t in ("a", "b", "c", "d", "a"):
            await auth.context(t)
    asyncio.run(run())
    assert len(auth._cache) == 3 and calls == ["a", "b", "c", "d", "a"]


def test_keystone_unreachable_or_failing_gives_503(fake_keystone, make_keystone_client):
    down = make_keystone_client(f"http://127.0.0.1:{free_port()}/v3")
    resp = down.get("/v2.0/networks", headers={"X-Auth-Token": "t"})
    assert resp.status_code == 503
    assert resp.json()["NeutronError"]["type"] == "ServiceUnavailable"
    fake_keystone.tokens["t-boom"] = "boom"
    client = make_keystone_client(fake_keystone.url)
    assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t-boom"}).status_code == 503


def test_unexpected_errors_are_503_not_open(fake_keystone, make_keystone_client, monkeypatch):
    def broken(self, token):
        raise RuntimeError("bug")
    monkeypatch.setattr(keystone.KeystoneAuth, "validate", broken)
    client = make_keystone_client(fake_keystone.url)
    assert client.get("/v2.0/networks", headers={"X-Auth-Token": "t"}).status_code == 503


def test_context_from_token():
    ctx, expires = keystone.context_from_token(token_body("p1", ["Admin", "reader"], 60))
    assert (ctx.project_id, ctx.roles, ctx.user_id, ctx.is_admin) == (
        "p1", frozenset({"admin", "reader"}), "u-p1", True)
    assert 50 < expires - time.time() <= 60
    with pytest.raises(keystone.TokenInvalid):
        keystone.context_from_token(token_body("p1", ["reader"], expires_in=-1))
    with pytest.raises(keystone.TokenInvalid):
        keystone.context_from_token(token_body(None, ["reader"]))


def test_keystone_settings_from_the_config_file(tmp_path, monkeypatch, caplog):
    for key in [k for k in os.environ if k.startswith("NEUTRINO_")]:
        monkeypatch.delenv(key)
    conf = tmp_path / "neutrino.conf"
    conf.write_text("[DEFAULT]\nauth_strategy = keystone\nstate_dir = /tmp/x\n"
                    "[keystone_authtoken]\nauth_url = http://ks:5000/v3\nusername = neutron\n"
                    "password = pw\nproject_name = service\nregion_name = RegionTwo\n")
    monkeypatch.setenv("NEUTRINO_CONFIG", str(conf))  # load_settings sets it: undone after
    monkeypatch.setenv("NEUTRINO_KEYSTONE_AUTHTOKEN_PASSWORD", "from-env")
    s = load_settings(str(conf))
    assert (s.auth_strategy, s.keystone_authtoken_auth_url, s.keystone_authtoken_username,
            s.keystone_authtoken_password, s.keystone_authtoken_region_name,
            s.keystone_authtoken_project_name) == (
        "keystone", "http://ks:5000/v3", "neutron", "from-env", "RegionTwo", "service")
    conf.write_text("[DEFAULT]\nauth_strategy = keystone\n")
    with pytest.raises(ConfigError, match="keystone_authtoken"):
        load_settings(str(conf))
    # a section copied from neutron.conf keeps keystonemiddleware's other keys: ignored
    conf.write_text("[keystone_authtoken]\nauth_url = http://ks:5000/v3\n"
                    "memcached_servers = 127.0.0.1:11211\n")
    with caplog.at_level(logging.WARNING, logger="neutrino.config"):
        assert load_settings(str(conf)).keystone_authtoken_auth_url == "http://ks:5000/v3"
    assert "[keystone_authtoken] memcached_servers is not used" in caplog.text
    # in neutrino's own sections an unknown key is still an error
    conf.write_text("[DEFAULT]\nno_such_option = 1\n")
    with pytest.raises(ConfigError, match="no_such_option"):
        load_settings(str(conf))

"""API tests run the app in-process on SQLite and on PostgreSQL.

Each test gets a fresh, migrated database: SQLite copies a migrated template
file; PostgreSQL clones a migrated template database. ``api`` is a client
whose helpers speak noauth (project and roles headers) and check statuses.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services.env import Env


class Api:
    """A noauth client. ``project``/``admin`` pick the caller of each call."""

    def __init__(self, client: TestClient, env: Env) -> None:
        self.client = client
        self.env = env

    def request(self, method: str, path: str, *, project: str | None = "p1", admin: bool = False,
                expect: int | None = None, headers: dict[str, str] | None = None, **kw: Any):
        hdrs = dict(headers or {})
        if project is not None:
            hdrs["X-Project-Id"] = project
            hdrs["X-Roles"] = "admin,member" if admin else "member,reader"
        resp = self.client.request(method, path, headers=hdrs, **kw)
        if expect is not None:
            assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, json=body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, json=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # factories ----------------------------------------------------------------
    def network(self, project: str = "p1", **attrs) -> dict:
        admin = bool(attrs.get("shared")) or any(":" in key for key in attrs)  # provider:*, router:*
        return self.post("/v2.0/networks", {"network": {"name": "net", **attrs}}, project=project,
                         admin=admin, expect=201).json()["network"]

    def subnet(self, network_id: str, cidr: str = "10.0.0.0/24", project: str = "p1", **attrs) -> dict:
        version = 6 if ":" in cidr else 4
        body = {"subnet": {"network_id": network_id, "cidr": cidr, "ip_version": version, **attrs}}
        return self.post("/v2.0/subnets", body, project=project, expect=201).json()["subnet"]

    def port(self, network_id: str, project: str = "p1", **attrs) -> dict:
        return self.post("/v2.0/ports", {"port": {"network_id": network_id, **attrs}},
                         project=project, expect=201).json()["port"]

    def share(self, object_type: str, object_id: str, target: str, expect: int = 201, **kw):
        """``POST /v2.0/rbac-policies`` sharing ``object_id`` (``access_as_shared``) with
        project ``target``: the policy on 201, else the response."""
        body = {"rbac_policy": {"object_type": object_type, "object_id": object_id,
                                "action": "access_as_shared", "target_tenant": target}}
        resp = self.post("/v2.0/rbac-policies", body, expect=expect, **kw)
        return resp.json()["rbac_policy"] if expect == 201 else resp


def error_type(resp) -> str:
    """The NeutronError type of an error response (asserting the envelope)."""
    body = resp.json()["NeutronError"]
    assert set(body) == {"type", "message", "detail"} and body["detail"] == ""
    return body["type"]


@pytest.fixture
def api(database_url) -> Iterator[Api]:
    settings = Settings(state_dir=Path("/nonexistent"), database_url=database_url,
                        quota_port=50)
    db = Database(database_url)
    env = Env(db=db, settings=settings)
    with TestClient(create_app(env)) as client:
        yield Api(client, env)
    db.dispose()


@pytest.fixture
def make_sqlite_client(tmp_path, sqlite_template):
    """``make(**settings)``: a TestClient of the API app (no lifespan) on its own copy of
    the migrated SQLite template, for tests of what needs no second backend (auth, the
    dashboard); closed with its database at the end of the test."""
    made = []

    def make(**settings) -> TestClient:
        path = tmp_path / f"c{len(made)}.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        client = TestClient(create_app(Env(db=db, settings=Settings(
            state_dir=Path("/nonexistent"), database_url=f"sqlite:///{path}", **settings))))
        made.append((client, db))
        return client
    yield make
    for client, db in made:
        client.close()
        db.dispose()


@pytest.fixture
def make_keystone_client(make_sqlite_client):
    """``make(auth_url, **settings)``: a :func:`make_sqlite_client` client of an app with
    ``auth_strategy = keystone`` against the Keystone at ``auth_url`` (service user
    ``neutrino``/``pw``, 2 s connect timeout), for the tests' fake Keystones."""
    def make(auth_url: str, **settings) -> TestClient:
        return make_sqlite_client(
            auth_strategy="keystone", keystone_authtoken_auth_url=auth_url,
            keystone_authtoken_username="neutrino", keystone_authtoken_password="pw",
            keystone_authtoken_http_connect_timeout=2, **settings)
    return make


@pytest.fixture
def make_api(database_url):
    """``make_api(**settings)``: an Api on this test's database with those settings."""
    opened = []

    def make(**settings) -> Api:
        env = Env(db=Database(database_url),
                  settings=Settings(state_dir=Path("/nonexistent"), database_url=database_url,
                                    **settings))
        client = TestClient(create_app(env))
        client.__enter__()
        opened.append((client, env.db))
        return Api(client, env)
    yield make
    for client, db in opened:
        client.__exit__(None, None, None)
        db.dispose()

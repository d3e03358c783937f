"""Neutron's default rules through the API (noauth headers pick the caller), policy file
overrides, and the route -> rule mapping (neutrino/policy.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import Api, error_type
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from neutrino import policy
from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services.context import Context
from neutrino.services.env import Env


@pytest.fixture
def make_api(tmp_path, sqlite_template):
    """``make_api(**settings)`` -> an Api on a fresh SQLite database."""
    made = []

    def make(**settings) -> Api:
        path = tmp_path / f"neutrino{len(made)}.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        env = Env(db=db, settings=Settings(state_dir=Path("/nonexistent"),
                                           database_url=f"sqlite:///{path}", **settings))
        client = TestClient(create_app(env))
        made.append((client, db))
        return Api(client, env)

    yield make
    for client, db in made:
        client.close()
        db.dispose()
    policy.init()  # later tests get the defaults back


def as_roles(api: Api, method: str, path: str, roles: str, project: str = "p1", **kw):
    return api.client.request(method, path, headers={"X-Project-Id": project, "X-Roles": roles},
                              **kw)


def test_reader_reads_member_writes(make_api):
    api = make_api()
    body = {"network": {"name": "n"}}
    resp = as_roles(api, "POST", "/v2.0/networks", "reader", json=body)
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    assert resp.json()["NeutronError"]["message"] == "(create_network) is disallowed by policy"
    net = as_roles(api, "POST", "/v2.0/networks", "member", json=body).json()["network"]
    assert as_roles(api, "GET", f"/v2.0/networks/{net['id']}", "reader").status_code == 200
    assert as_roles(api, "GET", "/v2.0/networks", "reader").json()["networks"][0]["id"] == net["id"]
    for method, path, payload in [("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "x"}}),
                                  ("DELETE", f"/v2.0/networks/{net['id']}", None),
                                  ("POST", "/v2.0/routers", {"router": {"name": "r"}})]:
        resp = as_roles(api, method, path, "reader", json=payload)
        assert resp.status_code == 403, (method, path, resp.text)
    # a role Neutron does not know grants nothing
    assert as_roles(api, "GET", "/v2.0/networks", "observer").status_code == 403
    # other projects' resources stay invisible to a member
    assert as_roles(api, "GET", f"/v2.0/networks/{net['id']}", "member", "p2").status_code == 404
    assert as_roles(api, "DELETE", f"/v2.0/networks/{net['id']}", "member").status_code == 204


def test_admin_only_attributes(make_api):
    api = make_api()
    shared = {"network": {"name": "s", "shared": True}}
    resp = as_roles(api, "POST", "/v2.0/networks", "member,reader", json=shared)
    assert resp.status_code == 403
    assert resp.json()["NeutronError"]["message"] == "(create_network:shared) is disallowed by policy"
    assert as_roles(api, "POST", "/v2.0/networks", "admin", json=shared).status_code == 201
    assert as_roles(api, "PUT", "/v2.0/quotas/p1", "member",
                    json={"quota": {"network": 5}}).status_code == 403
    assert as_roles(api, "GET", "/v2.0/quotas", "reader").status_code == 403
    assert as_roles(api, "GET", "/v2.0/quotas/p1", "reader").status_code == 200


def test_service_role_binds_any_projects_port(make_api):
    """Nova's service user (role ``service``, its own project) reads and sets the
    binding attributes of a port another project created; the owner may not."""
    api = make_api()
    net = as_roles(api, "POST", "/v2.0/networks", "member", json={"network": {"name": "n"}})
    port = as_roles(api, "POST", "/v2.0/ports", "member",
                    json={"port": {"network_id": net.json()["network"]["id"]}}).json()["port"]
    assert "binding:host_id" not in port
    bind = {"port": {"binding:host_id": "compute-1"}}
    resp = as_roles(api, "PUT", f"/v2.0/ports/{port['id']}", "member", json=bind)
    assert resp.status_code == 403
    assert resp.json()["NeutronError"]["message"] == "(update_port:binding:host_id) is disallowed by policy"
    resp = as_roles(api, "PUT", f"/v2.0/ports/{port['id']}", "service", "service", json=bind)
    assert resp.status_code == 200 and resp.json()["port"]["binding:host_id"] == "compute-1"
    shown = as_roles(api, "GET", f"/v2.0/ports?device_id={port['device_id']}", "service", "service")
    assert [p["binding:host_id"] for p in shown.json()["ports"]] == ["compute-1"]
    # the service role is not admin: it cannot make networks shared
    resp = as_roles(api, "POST", "/v2.0/networks", "service", "service",
                    json={"network": {"name": "s", "shared": True}})
    assert resp.status_code == 403


def test_policy_file_overrides_rules(make_api, tmp_path):
    rules = tmp_path / "policy.yaml"
    rules.write_text('"create_network": "role:admin"\n'
                     '"create_router:ha": "role:admin"\n'
                     '"create_network:shared": "role:netadmin"\n'
                     '"context_is_admin": "role:cloudadmin"\n')
    api = make_api(policy_file=str(rules))
    body = {"network": {"name": "n"}}
    assert as_roles(api, "POST", "/v2.0/networks", "member", json=body).status_code == 403
    # "admin" is not admin any more, "cloudadmin" is
    assert not Context("p1", frozenset({"admin"})).is_admin
    assert Context("p1", frozenset({"cloudadmin"})).is_admin
    shared = {"network": {"name": "s", "shared": True}}
    assert as_roles(api, "POST", "/v2.0/networks", "admin,netadmin", json=shared).status_code == 201
    assert as_roles(api, "POST", "/v2.0/networks", "admin", json=shared).status_code == 403
    # rules the file does not name keep Neutron's defaults
    assert as_roles(api, "POST", "/v2.0/routers", "member",
                    json={"router": {"name": "r"}}).status_code == 201
    # neutrino's own callers stay admin whatever the file says
    assert Context.admin("ops").is_admin


def test_json_policy_file_and_bad_files(tmp_path):
    rules = tmp_path / "policy.json"
    rules.write_text('{"get_network": "role:auditor"}')
    enforcer = policy.init(str(rules))
    assert enforcer.check("get_network", frozenset({"auditor"}), "p1", None, True)
    assert not enforcer.check("get_network", frozenset({"reader"}), "p1", None, True)
    with pytest.raises(ValueError, match="no such file"):
        policy.init(str(tmp_path / "missing.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text('"get_network": [\n')
    with pytest.raises(ValueError):
        policy.init(str(broken))
    policy.init()


def test_context_is_admin_follows_the_rule():
    policy.init()
    assert Context("p1", frozenset({"admin"})).is_admin
    assert not Context("p1", frozenset({"member", "reader"})).is_admin
    assert Context("p1", frozenset({"member"}), is_admin=True).is_admin


@pytest.mark.parametrize("method,path,param,action", [
    ("POST", "/v2.0/networks", None, "create_network"),
    ("GET", "/v2.0/networks.json", None, "get_network"),
    ("GET", "/v2.0/networks/{item_id}", None, "get_network"),
    ("PUT", "/v2.0/security-group-rules/{item_id}", None, "update_security_group_rule"),
    ("DELETE", "/v2.0/rbac-policies/{item_id}.json", None, "delete_rbac_policy"),
    ("PUT", "/v2.0/routers/{router_id}/add_router_interface", None, "add_router_interface"),
    ("GET", "/v2.0/network-ip-availabilities", None, "get_network_ip_availability"),
    ("GET", "/v2.0/quotas/{project_id}/default", None, "get_quota"),
    ("DELETE", "/v2.0/auto-allocated-topology/{project_id}", None,
     "delete_auto_allocated_topology"),
    ("PUT", "/v2.0/{collection}/{resource_id}/tags/{tag}", "security-groups",
     "update_security_group"),
    ("GET", "/v2.0/{collection}/{resource_id}/tags", "ports", "get_port"),
    ("POST", "/v2.0/ports/{port_id}/explain", None, "explain_port"),
    ("GET", "/", None, None),
    ("GET", "/v2.0/", None, None),
    ("GET", "/v2.0/extensions/{alias}", None, None),
])
def test_action_for_routes(method, path, param, action):
    assert policy.action_for(method, path, param) == action


def test_every_route_has_a_registered_rule(make_api):
    """A new collection must register its rules (or it falls back to ``default``)."""
    api = make_api()
    enforcer = policy.get_enforcer()
    missing = []
    for route in api.client.app.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods:
            action = policy.action_for(method, route.path_format, "networks")
            if action is not None and not enforcer.registered(action):
                missing.append((method, route.path_format, action))
    assert missing == []


def test_decisions_are_cached_cheaply():
    enforcer = policy.init()
    ctx = Context("p1", frozenset({"member", "reader"}))
    policy.enforce(ctx, "create_port")
    before = enforcer.check.cache_info().hits
    for _ in range(100):
        policy.enforce(ctx, "create_port")
    assert enforcer.check.cache_info().hits == before + 100

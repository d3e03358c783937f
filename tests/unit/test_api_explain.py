"""``POST /v2.0/ports/{id}/explain`` without OVN: the extension, body validation (400),
ports the caller may not explain (404), policy (403) and the SB being unavailable
(409). Real traces: tests/e2e/test_explain.py and tests/unit/test_explain_render.py."""

from __future__ import annotations

import pytest

from tests.unit.conftest import error_type


@pytest.fixture
def port(api):
    net = api.network()
    api.subnet(net["id"])
    return api.port(net["id"])


def explain(api, port_id, body, *, expect, **kw):
    return api.post(f"/v2.0/ports/{port_id}/explain", body, expect=expect, **kw)


def test_extension_is_listed(api):
    ext = api.get("/v2.0/extensions/explain", expect=200).json()["extension"]
    assert ext["alias"] == "explain" and ext["name"] and ext["description"]
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert "explain" in aliases


@pytest.mark.parametrize("inner", [
    {"destination": "10.0.0.300"},
    {"destination": "not-an-address"},
    {"destination": "10.0.0.5", "protocol": "sctp"},
    {"destination": "10.0.0.5", "protocol": "tcp"},  # tcp needs a port
    {"destination": "10.0.0.5", "protocol": "tcp", "port": 0},
    {"destination": "10.0.0.5", "protocol": "udp", "port": 70000},
    {"destination": "10.0.0.5", "protocol": "tcp", "port": "22"},
    {"destination": "10.0.0.5", "port": 22},  # icmp takes none
    {"destination": "10.0.0.5", "raw": "yes"},
    {"destination": "10.0.0.5", "colour": "red"},
    {},
])
def test_bad_bodies_are_400(api, port, inner):
    resp = explain(api, port["id"], {"explain": inner}, expect=400)
    assert error_type(resp) in ("InvalidInput", "HTTPBadRequest")


def test_missing_envelope_is_400(api, port):
    resp = explain(api, port["id"], {"destination": "10.0.0.5"}, expect=400)
    assert error_type(resp) == "HTTPBadRequest"


def test_unknown_and_other_projects_ports_are_404(api, port):
    body = {"explain": {"destination": "10.0.0.5"}}
    missing = "6a1d0d4c-8f0e-4a36-9d57-8a7d0d0b1f11"
    assert error_type(explain(api, missing, body, expect=404)) == "PortNotFound"
    assert error_type(explain(api, port["id"], body, expect=404, project="p2")) == \
        "PortNotFound"
    resp = explain(api, port["id"], {"explain": {"destination": missing}}, expect=404)
    assert error_type(resp) == "PortNotFound"


def test_readers_may_not_explain(api, port):
    resp = api.request("POST", f"/v2.0/ports/{port['id']}/explain",
                       json={"explain": {"destination": "10.0.0.5"}}, project=None,
                       headers={"X-Project-Id": "p1", "X-Roles": "reader"}, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"


def test_without_an_sb_connection_it_is_409_and_says_so(api, port):
    resp = explain(api, port["id"], {"explain": {"destination": "10.0.0.5"}}, expect=409)
    assert error_type(resp) == "OvnSouthboundUnavailable"
    assert "ovn_sb_connection" in resp.json()["NeutronError"]["message"]


def test_an_unreachable_sb_is_409(make_api, tmp_path):
    api = make_api(ovn_sb_connection=f"unix:{tmp_path}/no-sb.sock")
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"])
    resp = explain(api, port["id"], {"explain": {"destination": "10.0.0.5"}}, expect=409)
    assert error_type(resp) == "OvnSouthboundUnavailable"
    assert "unreachable" in resp.json()["NeutronError"]["message"]

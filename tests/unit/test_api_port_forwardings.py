"""Floating IP port forwardings through the API (extension floating-ip-port-forwarding and
its -description, -port-ranges, expose-port-forwarding-in-fip companions): Neutron's
pf_plugin rules and errors."""

from __future__ import annotations

import types

import pytest
from conftest import error_type
from test_api_routers import add_interface, ext, outbox, private, router  # noqa: F401


@pytest.fixture
def world(api, ext):  # noqa: F811
    """p1's router (gateway on ``public``) with an interface on 10.0.0.0/24, a port
    there and a floating IP."""
    net, _ = ext
    priv, sub = private(api)
    r = router(api, external_gateway_info={"network_id": net["id"]})
    add_interface(api, r["id"], subnet_id=sub["id"])
    port = api.port(priv["id"])
    fip = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": net["id"]}},
                   expect=201).json()["floatingip"]
    return types.SimpleNamespace(router=r, port=port, fip=fip, net=net, priv=priv, sub=sub)


def pf_path(fip_id, pf_id=None):
    base = f"/v2.0/floatingips/{fip_id}/port_forwardings"
    return f"{base}/{pf_id}" if pf_id else base


def create(api, w, expect=201, **attrs):
    body = {"protocol": "tcp", "internal_port_id": w.port["id"],
            "internal_ip_address": w.port["fixed_ips"][0]["ip_address"],
            "internal_port": 22, "external_port": 2222, **attrs}
    return api.post(pf_path(w.fip["id"]), {"port_forwarding": body}, expect=expect)


def test_crud_and_floating_ip_body(api, world):
    w = world
    pf = create(api, w, description="ssh").json()["port_forwarding"]
    assert (pf["protocol"], pf["external_port"], pf["internal_port"], pf["description"],
            pf["external_port_range"], pf["internal_port_range"]) == (
        "tcp", 2222, 22, "ssh", "2222:2222", "22:22")
    fip = api.get(f"/v2.0/floatingips/{w.fip['id']}").json()["floatingip"]
    assert fip["router_id"] == w.router["id"] and fip["port_id"] is None
    assert fip["status"] == "ACTIVE"
    assert fip["port_forwardings"] == [{
        "id": pf["id"], "protocol": "tcp", "internal_port": 22, "external_port": 2222,
        "internal_port_id": w.port["id"], "internal_ip_address": pf["internal_ip_address"]}]
    assert w.router["id"] in outbox(api, "router")
    listed = api.get(pf_path(w.fip["id"]) + "?protocol=tcp").json()["port_forwardings"]
    assert [p["id"] for p in listed] == [pf["id"]]
    assert api.get(pf_path(w.fip["id"]) + "?protocol=udp").json()["port_forwardings"] == []
    moved = api.put(pf_path(w.fip["id"], pf["id"]), {"port_forwarding": {
        "external_port": 2022}}, expect=200).json()["port_forwarding"]
    assert moved["external_port"] == 2022 and moved["internal_port"] == 22
    api.delete(pf_path(w.fip["id"], pf["id"]), expect=204)
    resp = api.get(pf_path(w.fip["id"], pf["id"]), expect=404)
    assert error_type(resp) == "PortForwardingNotFound"
    fip = api.get(f"/v2.0/floatingips/{w.fip['id']}").json()["floatingip"]
    assert fip["router_id"] is None and fip["port_forwardings"] == []
    assert fip["status"] == "DOWN"


def test_port_and_forwardings_exclude_each_other(api, world):
    w = world
    create(api, w)
    # a floating IP with forwardings cannot be associated nor deleted
    resp = api.put(f"/v2.0/floatingips/{w.fip['id']}", {"floatingip": {
        "port_id": w.port["id"]}}, expect=409)
    assert error_type(resp) == "FipInUseByPortForwarding"
    resp = api.delete(f"/v2.0/floatingips/{w.fip['id']}", expect=409)
    assert error_type(resp) == "FipInUseByPortForwarding"
    # a floating IP associated with a port takes no forwardings
    other = api.post("/v2.0/floatingips", {"floatingip": {
        "floating_network_id": w.net["id"], "port_id": api.port(w.priv["id"])["id"]}},
        expect=201).json()["floatingip"]
    w2 = types.SimpleNamespace(**{**vars(w), "fip": other})
    resp = create(api, w2, expect=409)
    assert error_type(resp) == "FloatingIPPortAlreadyAssociated"
    # a port with a floating IP of its own gets no forwarding
    w3 = types.SimpleNamespace(**{**vars(w), "port": api.get(
        f"/v2.0/ports/{other['port_id']}").json()["port"]})
    resp = create(api, w3, expect=409)
    assert error_type(resp) == "PortHasBindingFloatingIP"


def test_validation_errors(api, world):
    w = world
    create(api, w)
    resp = create(api, w, expect=400, internal_port=23)  # same external port and protocol
    assert resp.status_code == 400 and "collision" in resp.json()["NeutronError"]["message"]
    create(api, w, protocol="udp")  # another protocol is another balancer
    resp = create(api, w, expect=400, internal_ip_address="10.0.0.250", external_port=80)
    assert "is not suitable" in resp.json()["NeutronError"]["message"]
    resp = create(api, w, expect=400, protocol="icmp")
    assert error_type(resp) == "InvalidInput"
    resp = create(api, w, expect=400, external_port=70000)
    assert error_type(resp) == "InvalidInput"
    resp = create(api, w, expect=400, external_port=None, internal_port=None,
                  external_port_range="3000:3009", internal_port_range="4000:4004")
    assert "N-N or 1-N" in resp.json()["NeutronError"]["message"]
    resp = create(api, w, expect=404, internal_port_id="6c3e1a4e-37d4-4c1b-b4a5-0a6f1b0a0a0a")
    assert error_type(resp) == "PortNotFound"
    # a subnet no router joins to the floating IP's network
    lone, lone_sub = private(api, cidr="10.9.0.0/24")
    lone_port = api.port(lone["id"])
    w4 = types.SimpleNamespace(**{**vars(w), "port": lone_port})
    resp = create(api, w4, expect=400, external_port=8080)
    assert "is not reachable" in resp.json()["NeutronError"]["message"]
    resp = api.get(pf_path("6c3e1a4e-37d4-4c1b-b4a5-0a6f1b0a0a0b"), expect=404)
    assert error_type(resp) == "FloatingIPNotFound"
    # another project sees neither the floating IP nor its forwardings
    resp = api.get(pf_path(w.fip["id"]), project="p2", expect=404)
    assert error_type(resp) == "FloatingIPNotFound"


def test_ranges_and_port_deletion(api, world):
    w = world
    pf = create(api, w, external_port=None, internal_port=None, external_port_range="3000:3002",
                internal_port_range="4000:4002").json()["port_forwarding"]
    assert pf["external_port"] is None and pf["external_port_range"] == "3000:3002"
    n1 = create(api, w, external_port=None, internal_port=None, external_port_range="5000:5001",
                internal_port_range="80").json()["port_forwarding"]
    assert n1["internal_port"] == 80 and n1["internal_port_range"] == "80:80"
    api.delete(f"/v2.0/ports/{w.port['id']}", expect=204)  # its forwardings go with it
    fip = api.get(f"/v2.0/floatingips/{w.fip['id']}").json()["floatingip"]
    assert fip["port_forwardings"] == [] and fip["router_id"] is None


def test_policy_rule_names_are_neutron_s():
    from neutrino.policy import action_for
    base = "/v2.0/floatingips/{floatingip_id}/port_forwardings"
    assert [action_for(m, p) for m, p in (("POST", base), ("GET", base),
                                          ("GET", base + "/{pf_id}"), ("PUT", base + "/{pf_id}"),
                                          ("DELETE", base + "/{pf_id}"))] == [
        "create_floatingip_port_forwarding", "get_floatingip_port_forwarding",
        "get_floatingip_port_forwarding", "update_floatingip_port_forwarding",
        "delete_floatingip_port_forwarding"]


def test_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"floating-ip-port-forwarding", "floating-ip-port-forwarding-description",
            "floating-ip-port-forwarding-port-ranges", "floating-ip-port-forwarding-detail",
            "expose-port-forwarding-in-fip"} <= aliases

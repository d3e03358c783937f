"""Several gateways per router through the API (extension ``external-gateway-multihoming``,
services/router_gateways.py), as neutron-tempest-plugin's ``ExternalGWMultihomingRoutersTest``
and Neutron's ``l3_extra_gws_db`` behave. SQLite only: nothing here depends on the database."""

from __future__ import annotations

import shutil

import pytest
from conftest import error_type
from test_api_routers import EXTERNAL, router



@pytest.fixture
def database_url(tmp_path, sqlite_template):
    path = tmp_path / "neutrino.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def nets(api):
    """Two external networks: flat 172.24.4.0/24 and geneve 198.51.100.0/24."""
    made = []
    for name, cidr, gw, attrs in (("public", "172.24.4.0/24", "172.24.4.1", EXTERNAL),
                                  ("public2", "198.51.100.0/24", "198.51.100.1",
                                   {"router:external": True})):
        net = api.network(name=name, **attrs)
        sub = api.subnet(net["id"], cidr, gateway_ip=gw, enable_dhcp=False)
        made.append((net, sub))
    return made


def act(api, router_id, action, gateways, expect=200, admin=True, project="p1"):
    resp = api.put(f"/v2.0/routers/{router_id}/{action}_external_gateways",
                   {"router": {"external_gateways": gateways}}, admin=admin, project=project,
                   expect=expect)
    return resp.json()["router"] if expect == 200 else resp


def gateway_ports(api, router_id):
    return api.get(f"/v2.0/ports?device_id={router_id}&device_owner=network:router_gateway",
                   admin=True, expect=200).json()["ports"]


def test_the_extension_is_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert "external-gateway-multihoming" in aliases


def test_add_update_and_remove_gateways_keep_external_gateway_info_first(api, nets):
    (pub, pub_sub), (pub2, _) = nets
    r = router(api)
    assert r["external_gateways"] == [] and r["external_gateway_info"] is None
    r = act(api, r["id"], "add", [{"network_id": pub["id"]}, {"network_id": pub2["id"]},
                                  {"network_id": pub["id"]}])
    gws = r["external_gateways"]
    assert len(gws) == 3 and set(gws[0]) == {"network_id", "external_fixed_ips"}
    assert gws[0]["network_id"] == pub["id"]
    assert r["external_gateway_info"]["network_id"] == pub["id"]
    assert r["external_gateway_info"]["external_fixed_ips"] == gws[0]["external_fixed_ips"]
    assert sorted(g["network_id"] for g in gws[1:]) == sorted([pub["id"], pub2["id"]])
    assert len({g["external_fixed_ips"][0]["ip_address"] for g in gws}) == 3
    ports = gateway_ports(api, r["id"])
    assert len(ports) == 3 and {p["project_id"] for p in ports} == {""}
    # the owner reads them too, and a GET shows what the action returned
    shown = api.get(f"/v2.0/routers/{r['id']}", expect=200).json()["router"]
    assert shown["external_gateways"] == gws
    # remove the second gateway on public by its address
    extra_pub = next(g for g in gws[1:] if g["network_id"] == pub["id"])
    r = act(api, r["id"], "remove", [extra_pub], admin=False)
    assert extra_pub not in r["external_gateways"] and len(r["external_gateways"]) == 2
    # update: [public2's, public's] makes public2's gateway the first, keeps both ports
    ids_before = {p["id"] for p in gateway_ports(api, r["id"])}
    first, second = r["external_gateways"]
    r = act(api, r["id"], "update", [second, first])
    assert r["external_gateways"] == [second, first]
    assert r["external_gateway_info"]["network_id"] == pub2["id"]
    assert {p["id"] for p in gateway_ports(api, r["id"])} == ids_before
    # external_gateway_info {} removes the first gateway and promotes the next one
    r = api.put(f"/v2.0/routers/{r['id']}", {"router": {"external_gateway_info": {}}},
                expect=200).json()["router"]
    assert r["external_gateways"] == [first]
    assert r["external_gateway_info"]["network_id"] == pub["id"]
    # update with [] removes every gateway
    r = act(api, r["id"], "update", [])
    assert r["external_gateways"] == [] and r["external_gateway_info"] is None
    assert gateway_ports(api, r["id"]) == []
    # remove by network alone: the one gateway port there (tempest's compat case)
    r = router(api, external_gateway_info={"network_id": pub["id"]})
    r = act(api, r["id"], "remove", [{"network_id": pub["id"]}])
    assert r["external_gateways"] == [] and gateway_ports(api, r["id"]) == []


def test_update_replaces_unmatched_gateways_and_readdresses_matched_ones(api, nets):
    (pub, pub_sub), (pub2, pub2_sub) = nets
    r = router(api, external_gateway_info={"network_id": pub["id"]})
    assert len(r["external_gateways"]) == 1  # the compatibility gateway
    r = act(api, r["id"], "add", [{"network_id": pub["id"]}])
    first, extra = r["external_gateways"]
    wanted = {"network_id": pub2["id"], "external_fixed_ips": [
        {"subnet_id": pub2_sub["id"], "ip_address": "198.51.100.50"}]}
    r = act(api, r["id"], "update", [first, wanted])
    assert r["external_gateways"] == [first, wanted]  # public's extra one removed
    moved = {"network_id": pub2["id"], "external_fixed_ips": [
        {"subnet_id": pub2_sub["id"], "ip_address": "198.51.100.51"}]}
    port_id = next(p["id"] for p in gateway_ports(api, r["id"]) if p["network_id"] == pub2["id"])
    # a partial match (same port, other address) is re-addressed, not replaced
    r = act(api, r["id"], "update", [first, {**moved, "external_fixed_ips": [
        *moved["external_fixed_ips"], *wanted["external_fixed_ips"]]}])
    r = act(api, r["id"], "update", [first, moved])
    assert r["external_gateways"] == [first, moved]
    assert port_id in {p["id"] for p in gateway_ports(api, r["id"])}


def test_errors_are_neutrons_and_change_nothing(api, nets):
    (pub, pub_sub), (pub2, _) = nets
    private = api.network()
    api.subnet(private["id"], "172.24.4.0/25")
    r = router(api)
    missing = "00000000-0000-4000-8000-000000000000"
    resp = act(api, r["id"], "add", [{"network_id": pub["id"]}, {"network_id": missing}],
               expect=404)
    assert error_type(resp) == "NetworkNotFound"
    resp = act(api, r["id"], "add", [{"network_id": pub["id"]}, {"network_id": private["id"]}],
               expect=400)
    assert error_type(resp) == "BadRequest" and "not an external network" in resp.text
    resp = act(api, r["id"], "add", [{"network_id": pub["id"], "external_fixed_ips": [
        {"subnet_id": pub_sub["id"], "ip_address": "172.24.4.1"}]}], expect=400)
    assert "same as the gateway IP" in resp.text
    assert gateway_ports(api, r["id"]) == []  # the first entry's port was rolled back
    resp = act(api, r["id"], "remove", [{"network_id": pub["id"]}], expect=409)
    assert error_type(resp) == "UnableToRemoveGateways"
    r = act(api, r["id"], "add", [{"network_id": pub["id"]}, {"network_id": pub["id"]}])
    resp = act(api, r["id"], "remove", [{"network_id": pub["id"]}], expect=409)
    assert error_type(resp) == "UnableToMatchGateways"  # two ports there: which one?
    resp = act(api, r["id"], "remove", [{"network_id": pub2["id"]}], expect=409)
    assert error_type(resp) == "UnableToMatchGateways"
    # an interface overlapping a gateway network is refused as Neutron refuses it
    tenant = api.network()
    sub = api.subnet(tenant["id"], "198.51.100.0/24")
    api.put(f"/v2.0/routers/{r['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    resp = act(api, r["id"], "add", [{"network_id": pub2["id"]}], expect=400)
    assert "overlaps" in resp.text
    assert len(gateway_ports(api, r["id"])) == 2
    # unknown keys, bad shapes
    resp = act(api, r["id"], "add", [{"network_id": pub["id"], "bogus": 1}], expect=400)
    assert "Unrecognized attribute" in resp.text
    act(api, r["id"], "add", {"network_id": pub["id"]}, expect=400)
    # no external_gateways: the router unchanged
    same = api.put(f"/v2.0/routers/{r['id']}/add_external_gateways", {"router": {}},
                   expect=200).json()["router"]
    assert len(same["external_gateways"]) == 2


def test_policy_owner_may_act_but_only_admins_choose_addresses(api, nets):
    (pub, pub_sub), _ = nets
    r = router(api)
    resp = act(api, r["id"], "add", [{"network_id": pub["id"], "external_fixed_ips": [
        {"subnet_id": pub_sub["id"]}]}], admin=False, expect=403)
    assert "add_external_gateways:external_gateways:external_fixed_ips" in resp.text
    act(api, r["id"], "add", [{"network_id": pub["id"], "enable_snat": False}], admin=False,
        expect=403)
    r = act(api, r["id"], "add", [{"network_id": pub["id"]}, {"network_id": pub["id"]}],
            admin=False)
    assert len(r["external_gateways"]) == 2
    # another project's router is not found
    act(api, r["id"], "add", [{"network_id": pub["id"]}], admin=False, project="p2", expect=404)


def test_floating_ips_hold_their_network_until_another_gateway_is_there(api, nets):
    (pub, pub_sub), (pub2, _) = nets
    tenant = api.network()
    sub = api.subnet(tenant["id"], "10.0.0.0/24")
    r = router(api)
    r = act(api, r["id"], "add", [{"network_id": pub2["id"]}, {"network_id": pub["id"]}])
    api.put(f"/v2.0/routers/{r['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    vm = api.port(tenant["id"])
    # a floating IP on the extra gateway's network finds the router
    fip = api.post("/v2.0/floatingips", {"floatingip": {
        "floating_network_id": pub["id"], "port_id": vm["id"]}}, expect=201).json()["floatingip"]
    assert fip["router_id"] == r["id"]
    pub_gw = next(g for g in r["external_gateways"] if g["network_id"] == pub["id"])
    resp = act(api, r["id"], "remove", [pub_gw], expect=409)
    assert error_type(resp) == "RouterExternalGatewayInUseByFloatingIp"
    r = act(api, r["id"], "add", [{"network_id": pub["id"]}])
    r = act(api, r["id"], "remove", [pub_gw])
    assert len(r["external_gateways"]) == 2
    # deleting the router (interfaces gone) deletes every gateway port
    api.put(f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}, expect=200)
    api.put(f"/v2.0/routers/{r['id']}/remove_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    api.delete(f"/v2.0/routers/{r['id']}", expect=204)
    assert gateway_ports(api, r["id"]) == []


def test_posting_external_gateways_is_refused(api, nets):
    (pub, _), _ = nets
    resp = api.post("/v2.0/routers", {"router": {"external_gateways": [
        {"network_id": pub["id"]}]}}, expect=400)
    assert "not allowed in POST" in resp.text

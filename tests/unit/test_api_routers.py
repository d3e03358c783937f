"""Routers and floating IPs through the API (reference B.4, B.5)."""

from __future__ import annotations

import pytest
from conftest import error_type
from sqlalchemy import select

from neutrino.db.models import OvnOutbox

EXTERNAL = {"router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "physnet1"}


@pytest.fixture
def ext(api):
    """An external flat network with 172.24.4.0/24 (gateway .1), made by an admin."""
    net = api.network(name="public", **EXTERNAL)
    sub = api.subnet(net["id"], "172.24.4.0/24", gateway_ip="172.24.4.1", enable_dhcp=False,
                     allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.20"}])
    return net, sub


def private(api, project="p1", cidr="10.0.0.0/24"):
    net = api.network(project=project)
    return net, api.subnet(net["id"], cidr, project=project)


def router(api, project="p1", **attrs):
    return api.post("/v2.0/routers", {"router": {"name": "r", **attrs}}, project=project,
                    expect=201).json()["router"]


def add_interface(api, router_id, project="p1", expect=200, **body):
    return api.put(f"/v2.0/routers/{router_id}/add_router_interface", body, project=project,
                   expect=expect)


def remove_interface(api, router_id, project="p1", expect=200, **body):
    return api.put(f"/v2.0/routers/{router_id}/remove_router_interface", body, project=project,
                   expect=expect)


def outbox(api, kind):
    return api.env.db.run(lambda s: list(s.scalars(
        select(OvnOutbox.resource_id).where(OvnOutbox.resource_type == kind))), write=False)


def test_router_with_gateway_gets_an_external_address(api, ext):
    net, sub = ext
    r = router(api, external_gateway_info={"network_id": net["id"]})
    info = r["external_gateway_info"]
    assert info["network_id"] == net["id"] and info["enable_snat"] is True
    assert [f["subnet_id"] for f in info["external_fixed_ips"]] == [sub["id"]]
    assert 10 <= int(info["external_fixed_ips"][0]["ip_address"].rsplit(".", 1)[1]) <= 20
    assert r["routes"] == [] and r["status"] == "ACTIVE" and r["project_id"] == "p1"
    gw = api.get(f"/v2.0/ports?device_id={r['id']}", admin=True).json()["ports"]
    assert [(p["device_owner"], p["project_id"]) for p in gw] == [("network:router_gateway", "")]
    assert r["id"] in outbox(api, "router")
    # the gateway port is the router's: the port API may not delete it
    resp = api.delete(f"/v2.0/ports/{gw[0]['id']}", admin=True, expect=409)
    assert error_type(resp) == "ServicePortInUse"


def test_gateway_rules(api, ext):
    net, _ = ext
    plain, _ = private(api)
    resp = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": net["id"], "enable_snat": False}}}, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    resp = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": plain["id"]}}}, expect=400)
    assert "is not an external network" in resp.json()["NeutronError"]["message"]
    assert api.get("/v2.0/routers").json()["routers"] == []
    r = router(api)
    snatless = api.put(f"/v2.0/routers/{r['id']}", {"router": {"external_gateway_info": {
        "network_id": net["id"], "enable_snat": False,
        "external_fixed_ips": [{"ip_address": "172.24.4.15"}]}}}, admin=True, expect=200)
    info = snatless.json()["router"]["external_gateway_info"]
    assert info["enable_snat"] is False
    assert info["external_fixed_ips"][0]["ip_address"] == "172.24.4.15"
    cleared = api.put(f"/v2.0/routers/{r['id']}", {"router": {"external_gateway_info": {}}},
                      expect=200).json()["router"]
    assert cleared["external_gateway_info"] is None
    assert api.get(f"/v2.0/ports?device_id={r['id']}", admin=True).json()["ports"] == []


def test_interfaces_by_subnet_and_by_port(api, ext):
    _, sub = private(api)
    r = router(api)
    info = add_interface(api, r["id"], subnet_id=sub["id"]).json()
    assert info["id"] == r["id"] and info["subnet_ids"] == [sub["id"]]
    assert info["subnet_id"] == sub["id"] and info["network_id"] == sub["network_id"]
    # Neutron's interface info (l3_db._make_router_interface_info), and its tags
    assert set(info) == {"id", "subnet_id", "subnet_ids", "port_id", "network_id",
                         "project_id", "tenant_id", "tags"}
    assert info["tenant_id"] == info["project_id"] == r["project_id"] and info["tags"] == []
    port = api.get(f"/v2.0/ports/{info['port_id']}").json()["port"]
    assert port["device_owner"] == "network:router_interface" and port["device_id"] == r["id"]
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.1"}]
    resp = add_interface(api, r["id"], subnet_id=sub["id"], expect=400)
    assert "already has a port on subnet" in resp.json()["NeutronError"]["message"]
    # the interface holds the gateway: it can neither move nor go (GatewayIpInUse)
    for gateway in ("10.0.0.2", None):
        resp = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"gateway_ip": gateway}},
                       expect=409)
        assert error_type(resp) == "GatewayIpInUse"
    assert api.get(f"/v2.0/subnets/{sub['id']}").json()["subnet"]["gateway_ip"] == "10.0.0.1"
    # an overlapping subnet of another network
    _, same = private(api)
    resp = add_interface(api, r["id"], subnet_id=same["id"], expect=400)
    assert "overlaps with cidr" in resp.json()["NeutronError"]["message"]
    # by port
    net2, sub2 = private(api, cidr="10.1.0.0/24")
    p = api.port(net2["id"], fixed_ips=[{"subnet_id": sub2["id"], "ip_address": "10.1.0.254"}])
    info2 = add_interface(api, r["id"], port_id=p["id"]).json()
    assert info2["port_id"] == p["id"] and info2["subnet_ids"] == [sub2["id"]]
    assert api.get(f"/v2.0/ports/{p['id']}").json()["port"]["device_owner"] == \
        "network:router_interface"
    other = router(api)
    resp = add_interface(api, other["id"], port_id=p["id"], expect=409)
    assert error_type(resp) == "PortInUse"
    for body in ({}, {"subnet_id": sub["id"], "port_id": p["id"]}, {"port_id": "port-1"}):
        assert error_type(add_interface(api, r["id"], expect=400, **body)) == "BadRequest"
    nogw_net = api.network()
    nogw = api.subnet(nogw_net["id"], "10.9.0.0/24", gateway_ip=None)
    resp = add_interface(api, r["id"], subnet_id=nogw["id"], expect=400)
    assert "must have a gateway IP" in resp.json()["NeutronError"]["message"]
    resp = api.delete(f"/v2.0/ports/{p['id']}", expect=409)
    assert error_type(resp) == "ServicePortInUse"
    # another project cannot see the router at all
    assert error_type(add_interface(api, r["id"], project="p2", expect=404,
                                    subnet_id=sub["id"])) == "RouterNotFound"


def test_adding_and_removing_an_interface_moves_the_router_revision(api, ext):
    _, sub = private(api)
    r = router(api)
    add_interface(api, r["id"], subnet_id=sub["id"])
    added = api.get(f"/v2.0/routers/{r['id']}").json()["router"]["revision_number"]
    assert added > r["revision_number"]
    remove_interface(api, r["id"], subnet_id=sub["id"])
    assert api.get(f"/v2.0/routers/{r['id']}").json()["router"]["revision_number"] > added


def test_router_in_use_and_interface_removal(api, ext):
    net, sub = private(api)
    r = router(api)
    info = add_interface(api, r["id"], subnet_id=sub["id"]).json()
    revision = api.get(f"/v2.0/routers/{r['id']}").json()["router"]["revision_number"]
    assert revision == r["revision_number"] + 1  # a new interface revises the router
    resp = api.delete(f"/v2.0/routers/{r['id']}", expect=409)
    assert error_type(resp) == "RouterInUse"
    assert api.get(f"/v2.0/routers/{r['id']}").json()["router"]["revision_number"] == revision
    # the subnet and network cannot go while the interface holds an address there
    assert error_type(api.delete(f"/v2.0/subnets/{sub['id']}", expect=409)) == "SubnetInUse"
    assert error_type(api.delete(f"/v2.0/networks/{net['id']}", expect=409)) == "NetworkInUse"
    _, sub2 = private(api, cidr="10.5.0.0/24")
    assert error_type(remove_interface(api, r["id"], subnet_id=sub2["id"], expect=404)) == \
        "RouterInterfaceNotFoundForSubnet"
    assert error_type(remove_interface(api, r["id"], port_id=sub2["id"], expect=404)) == \
        "RouterInterfaceNotFound"
    removed = remove_interface(api, r["id"], subnet_id=sub["id"]).json()
    assert removed["port_id"] == info["port_id"] and removed["subnet_ids"] == [sub["id"]]
    api.get(f"/v2.0/ports/{info['port_id']}", expect=404)
    assert api.get(f"/v2.0/routers/{r['id']}").json()["router"]["revision_number"] == \
        revision + 1  # so does removing one
    api.delete(f"/v2.0/routers/{r['id']}", expect=204)
    api.delete(f"/v2.0/networks/{net['id']}", expect=204)


def test_extra_routes(api, ext):
    _, sub = private(api)
    r = router(api)
    add_interface(api, r["id"], subnet_id=sub["id"])
    bad = api.put(f"/v2.0/routers/{r['id']}", {"router": {"routes": [
        {"destination": "192.168.0.0/16", "nexthop": "10.7.0.5"}]}}, expect=400)
    assert error_type(bad) == "InvalidRoutes"
    own = api.put(f"/v2.0/routers/{r['id']}", {"router": {"routes": [
        {"destination": "192.168.0.0/16", "nexthop": "10.0.0.1"}]}}, expect=400)
    assert error_type(own) == "InvalidRoutes"
    routes = api.put(f"/v2.0/routers/{r['id']}", {"router": {"routes": [
        {"destination": "192.168.1.7/16", "nexthop": "10.0.0.5"}]}}, expect=200).json()["router"]
    assert routes["routes"] == [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.5"}]
    more = api.put(f"/v2.0/routers/{r['id']}/add_extraroutes", {"router": {"routes": [
        {"destination": "192.168.0.0/16", "nexthop": "10.0.0.5"},
        {"destination": "172.16.0.0/12", "nexthop": "10.0.0.6"}]}}, expect=200).json()["router"]
    assert len(more["routes"]) == 2
    resp = remove_interface(api, r["id"], subnet_id=sub["id"], expect=409)
    assert error_type(resp) == "RouterInterfaceInUseByRoute"
    fewer = api.put(f"/v2.0/routers/{r['id']}/remove_extraroutes", {"router": {"routes": [
        {"destination": "192.168.0.0/16", "nexthop": "10.0.0.5"}]}}, expect=200).json()["router"]
    assert fewer["routes"] == [{"destination": "172.16.0.0/12", "nexthop": "10.0.0.6"}]
    # "routes": null clears them, as Neutron converts None to [] (tempest's clean-ups do it)
    cleared = api.put(f"/v2.0/routers/{r['id']}", {"router": {"routes": None}},
                      expect=200).json()["router"]
    assert cleared["routes"] == []
    remove_interface(api, r["id"], subnet_id=sub["id"], expect=200)


def wired(api, ext, project="p1", ip=None):
    """A project network behind a router with a gateway on ``ext``; returns (router, port)."""
    net, sub = private(api, project=project)
    r = router(api, project=project, external_gateway_info={"network_id": ext[0]["id"]})
    add_interface(api, r["id"], project=project, subnet_id=sub["id"])
    fixed = {"fixed_ips": [{"ip_address": ip}]} if ip else {}
    return r, api.port(net["id"], project=project, **fixed)


def fip(api, network_id, project="p1", expect=201, admin=False, **attrs):
    resp = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": network_id,
                                                         **attrs}},
                    project=project, admin=admin, expect=expect)
    return resp.json()["floatingip"] if expect == 201 else resp


def test_floating_ip_lifecycle(api, ext):
    net, _ = ext
    r, port = wired(api, ext)
    free = fip(api, net["id"])
    assert free["status"] == "DOWN" and free["port_id"] is None and free["router_id"] is None
    assert free["floating_ip_address"].startswith("172.24.4.")
    assert free["port_details"] is None and "name" not in free
    bound = api.put(f"/v2.0/floatingips/{free['id']}", {"floatingip": {"port_id": port["id"]}},
                    expect=200).json()["floatingip"]
    assert bound["router_id"] == r["id"] and bound["status"] == "ACTIVE"
    assert bound["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert bound["port_details"]["network_id"] == port["network_id"]
    assert outbox(api, "router").count(r["id"]) >= 2
    # one floating IP per fixed IP and external network
    second = fip(api, net["id"], expect=409, port_id=port["id"])
    assert error_type(second) == "FloatingIPPortAlreadyAssociated"
    assert len(api.get("/v2.0/floatingips").json()["floatingips"]) == 1
    # the interface and the gateway it needs are protected
    sub_id = port["fixed_ips"][0]["subnet_id"]
    assert error_type(remove_interface(api, r["id"], subnet_id=sub_id, expect=409)) == \
        "RouterInterfaceInUseByFloatingIP"
    assert error_type(api.put(f"/v2.0/routers/{r['id']}", {"router": {
        "external_gateway_info": None}}, expect=409)) == "RouterExternalGatewayInUseByFloatingIp"
    # the external network cannot go while the floating IP's port is on it
    assert error_type(api.delete(f"/v2.0/networks/{net['id']}", admin=True,
                                 expect=409)) == "NetworkInUse"
    listed = api.get(f"/v2.0/floatingips?port_id={port['id']}").json()["floatingips"]
    assert [f["id"] for f in listed] == [free["id"]]
    loose = api.put(f"/v2.0/floatingips/{free['id']}", {"floatingip": {"port_id": None}},
                    expect=200).json()["floatingip"]
    assert (loose["status"], loose["router_id"], loose["fixed_ip_address"]) == ("DOWN", None, None)
    api.delete(f"/v2.0/floatingips/{free['id']}", expect=204)
    assert api.get(f"/v2.0/ports?network_id={net['id']}&device_owner=network:floatingip",
                   admin=True).json()["ports"] == []


def test_floating_ip_needs_a_router_and_a_clear_fixed_ip(api, ext):
    net, _ = ext
    lonely_net, lonely_sub = private(api)
    lonely = api.port(lonely_net["id"])
    resp = fip(api, net["id"], expect=404, port_id=lonely["id"])
    assert error_type(resp) == "ExternalGatewayForFloatingIPNotFound"
    _, port = wired(api, ext, project="p2")
    two = api.put(f"/v2.0/ports/{port['id']}", {"port": {"fixed_ips": [
        {"subnet_id": port["fixed_ips"][0]["subnet_id"]},
        {"subnet_id": port["fixed_ips"][0]["subnet_id"], "ip_address": "10.0.0.99"}]}},
        project="p2", expect=200).json()["port"]
    assert len(two["fixed_ips"]) == 2
    resp = fip(api, net["id"], project="p2", expect=400, port_id=port["id"])
    assert "multiple fixed IPv4 addresses" in resp.json()["NeutronError"]["message"]
    chosen = fip(api, net["id"], project="p2", port_id=port["id"], fixed_ip_address="10.0.0.99")
    assert chosen["fixed_ip_address"] == "10.0.0.99"
    # another project's port is invisible
    assert error_type(fip(api, net["id"], project="p1", expect=404, port_id=port["id"])) == \
        "PortNotFound"
    # an address of choice is admin-only; a taken one is 409
    assert error_type(fip(api, net["id"], expect=403, floating_ip_address="172.24.4.100")) == \
        "PolicyNotAuthorized"
    fip(api, net["id"], admin=True, floating_ip_address="172.24.4.100")
    assert error_type(fip(api, net["id"], admin=True, expect=409,
                          floating_ip_address="172.24.4.100")) == "IpAddressAlreadyAllocated"
    assert error_type(fip(api, lonely_net["id"], expect=400)) == "BadRequest"


def test_deleting_a_port_disassociates_its_floating_ip(api, ext):
    net, _ = ext
    _, port = wired(api, ext)
    f = fip(api, net["id"], port_id=port["id"])
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    after = api.get(f"/v2.0/floatingips/{f['id']}").json()["floatingip"]
    assert (after["port_id"], after["status"], after["router_id"]) == (None, "DOWN", None)


def test_external_pool_exhaustion(api, ext):
    net, _ = ext
    api.put("/v2.0/quotas/p1", {"quota": {"floatingip": 50}}, admin=True, expect=200)
    for _ in range(11):  # .10 - .20
        fip(api, net["id"])
    assert error_type(fip(api, net["id"], expect=400)) == "ExternalIpAddressExhausted"


def test_overlapping_projects_each_route_their_own_10_0_0_0(api, ext):
    net, _ = ext
    seen = set()
    for project in ("p1", "p2"):
        r, port = wired(api, ext, project=project, ip="10.0.0.5")
        f = fip(api, net["id"], project=project, port_id=port["id"])
        assert f["router_id"] == r["id"] and f["fixed_ip_address"] == "10.0.0.5"
        seen.add(f["floating_ip_address"])
    assert len(seen) == 2
    assert len(api.get("/v2.0/routers", project="p1").json()["routers"]) == 1


def test_router_quota(api):
    api.put("/v2.0/quotas/p1", {"quota": {"router": 1}}, admin=True, expect=200)
    router(api)
    resp = api.post("/v2.0/routers", {"router": {}}, expect=409)
    assert error_type(resp) == "OverQuota"


def test_floating_ip_update_without_port_id_keeps_and_empty_body_clears(api, ext):
    net, _ = ext
    _, port = wired(api, ext)
    f = fip(api, net["id"], port_id=port["id"])
    path = f"/v2.0/floatingips/{f['id']}"
    kept = api.put(path, {"floatingip": {"description": "d2"}}, expect=200).json()["floatingip"]
    assert kept["port_id"] == port["id"] and kept["description"] == "d2"
    cleared = api.put(path, {"floatingip": {}}, expect=200).json()["floatingip"]
    assert (cleared["port_id"], cleared["status"], cleared["router_id"]) == (None, "DOWN", None)
    assert cleared["description"] == "d2"
    # the fixed IP is free for another floating IP now
    fip(api, net["id"], port_id=port["id"])


def test_floating_ip_and_a_port_of_another_project(api, ext):
    net, _ = ext
    r, mine = wired(api, ext)
    theirs = api.post("/v2.0/ports", {"port": {"network_id": mine["network_id"],
                                               "project_id": "p2"}},
                      admin=True, expect=201).json()["port"]
    f = fip(api, net["id"])
    # the network's owner sees the port, but may not bind its floating IP to it
    resp = api.put(f"/v2.0/floatingips/{f['id']}", {"floatingip": {"port_id": theirs["id"]}},
                   expect=400)
    assert error_type(resp) == "BadRequest" and "different tenant" in resp.text
    assert api.get(f"/v2.0/floatingips/{f['id']}").json()["floatingip"]["port_id"] is None
    # an admin may (Neutron: "and not context.is_admin")
    bound = api.put(f"/v2.0/floatingips/{f['id']}", {"floatingip": {"port_id": theirs["id"]}},
                    admin=True, expect=200).json()["floatingip"]
    assert bound["port_id"] == theirs["id"] and bound["router_id"] == r["id"]


def test_deleting_an_external_network_deletes_its_loose_floating_ips(api, ext):
    net, sub = ext
    loose = fip(api, net["id"], admin=True)
    api.delete(f"/v2.0/networks/{net['id']}", admin=True, expect=204)
    api.get(f"/v2.0/floatingips/{loose['id']}", admin=True, expect=404)
    api.get(f"/v2.0/subnets/{sub['id']}", admin=True, expect=404)
    assert api.get("/v2.0/ports", admin=True).json()["ports"] == []


def test_extraroutes_body_whose_router_is_not_an_object(api):
    """``{"router": [1]}`` to add_extraroutes/remove_extraroutes answered 500 (the
    handler called ``.get`` on the list); it is the 400 of a body without routes."""
    r = router(api)
    for action in ("add_extraroutes", "remove_extraroutes"):
        for body in ({"router": [1]}, {"router": "x"}, [1]):
            resp = api.put(f"/v2.0/routers/{r['id']}/{action}", body, expect=400)
            assert error_type(resp) == "HTTPBadRequest"
            assert "routes" in resp.json()["NeutronError"]["message"]

"""Address scopes on OVN without daemons: a router SNATs only the interface subnets
outside its gateway subnet's scope (ovn.desired_routers.desired_snat, ovn.load), and pool or
scope changes put the affected routers in the outbox."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select

from neutrino.db.models import OvnOutbox
from neutrino.ovn import load
from neutrino.ovn.desired_routers import desired_snat

EXTERNAL = {"router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "physnet1"}
ROUTER = SimpleNamespace(id="r1", enable_snat=True)


def sub(cidr: str, pool: str | None = None, version: int = 4) -> SimpleNamespace:
    return SimpleNamespace(id=cidr, cidr=cidr, ip_version=version, subnetpool_id=pool)


def snat_cidrs(*args, **kw) -> list[str]:
    return [n.logical_ip for n in desired_snat(*args, **kw)]


def test_same_scope_subnets_are_routed_not_natted():
    gw = [(sub("172.24.4.0/24", "ext-pool"), "172.24.4.10")]
    inside = [sub("10.1.0.0/24", "in-pool"), sub("10.2.0.0/24", "in-pool2"),
              sub("10.3.0.0/24"), sub("10.4.0.0/24", "other-pool")]
    scopes = {"ext-pool": "s1", "in-pool": "s1", "in-pool2": "s1", "other-pool": "s2"}
    assert snat_cidrs(ROUTER, gw, inside, scopes) == ["10.3.0.0/24", "10.4.0.0/24"]
    nat = desired_snat(ROUTER, gw, inside, scopes)[0]
    assert (nat.type, nat.external_ip) == ("snat", "172.24.4.10")
    # without scopes, or a gateway outside any scope, everything is NATed as before
    assert len(snat_cidrs(ROUTER, gw, inside)) == 4
    assert len(snat_cidrs(ROUTER, [(sub("172.24.4.0/24"), "172.24.4.10")], inside, scopes)) == 4
    assert snat_cidrs(SimpleNamespace(id="r1", enable_snat=False), gw, inside, scopes) == []


@pytest.fixture
def scoped_router(api) -> dict:
    """A router whose gateway subnet is onboarded into a pool of scope S, with one
    interface subnet from a pool of S and one without a pool; the outbox emptied."""
    ext = api.network(name="public", **EXTERNAL)
    api.subnet(ext["id"], "172.24.4.0/24", gateway_ip="172.24.4.1", enable_dhcp=False)
    scope = api.post("/v2.0/address-scopes", {"address_scope": {
        "name": "s", "ip_version": 4}}, admin=True, expect=201).json()["address_scope"]
    ext_pool = api.post("/v2.0/subnetpools", {"subnetpool": {
        "name": "ext", "prefixes": ["172.24.4.0/24"], "address_scope_id": scope["id"]}},
        admin=True, expect=201).json()["subnetpool"]
    project_pool = api.post("/v2.0/subnetpools", {"subnetpool": {
        "name": "inside", "prefixes": ["10.50.0.0/16"], "default_prefixlen": 24,
        "shared": True}}, admin=True, expect=201).json()["subnetpool"]
    router = api.post("/v2.0/routers", {"router": {
        "name": "r", "external_gateway_info": {"network_id": ext["id"]}}},
        admin=True, expect=201).json()["router"]
    net1, net2 = api.network(name="scoped"), api.network(name="plain")
    scoped = api.post("/v2.0/subnets", {"subnet": {
        "network_id": net1["id"], "ip_version": 4, "subnetpool_id": project_pool["id"]}},
        expect=201).json()["subnet"]
    plain = api.subnet(net2["id"], "10.60.0.0/24")
    for s in (scoped, plain):
        api.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": s["id"]},
                admin=True, expect=200)
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    return {"router": router["id"], "scope": scope["id"], "ext": ext, "ext_pool": ext_pool,
            "pool": project_pool, "scoped": scoped, "plain": plain}


def loaded_snat(api, router_id: str) -> set[str]:
    run = api.env.db.run
    whole = run(lambda s: load.load_all(s, base_mac=api.env.settings.base_mac, lease_time=60),
                write=False)
    _, one = run(lambda s: load.load_resources(
        s, [("router", router_id)], base_mac=api.env.settings.base_mac, lease_time=60),
        write=False)
    whole_snat = {n.logical_ip for n in whole.nats.values() if n.type == "snat"}
    one_snat = {n.logical_ip for n in one.nats.values() if n.type == "snat"}
    assert whole_snat == one_snat
    return one_snat


def requeued(api) -> list[tuple[str, str]]:
    rows = api.env.db.run(lambda s: [tuple(r) for r in s.execute(
        select(OvnOutbox.resource_type, OvnOutbox.resource_id).where(
            OvnOutbox.resource_type == "router"))], write=False)
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    return rows


def test_a_scope_change_re_realises_the_router_and_drops_its_snat(api, scoped_router):
    r = scoped_router
    both = {r["scoped"]["cidr"], r["plain"]["cidr"]}
    assert loaded_snat(api, r["router"]) == both  # the gateway subnet has no pool yet
    # the external network's subnet joins the scope: the router is re-realised
    api.put(f"/v2.0/subnetpools/{r['ext_pool']['id']}/onboard_network_subnets",
            {"network_id": r["ext"]["id"]}, admin=True, expect=200)
    assert requeued(api) == [("router", r["router"])]
    ext = api.get(f"/v2.0/networks/{r['ext']['id']}", admin=True).json()["network"]
    assert ext["ipv4_address_scope"] == r["scope"]
    assert loaded_snat(api, r["router"]) == both  # the project pool is not in the scope yet
    # the project pool joins the scope: its subnet is routed, the other still NATed
    api.put(f"/v2.0/subnetpools/{r['pool']['id']}", {"subnetpool": {
        "address_scope_id": r["scope"]}}, admin=True, expect=200)
    assert requeued(api) == [("router", r["router"])]
    assert loaded_snat(api, r["router"]) == {r["plain"]["cidr"]}
    # and leaves it again
    api.put(f"/v2.0/subnetpools/{r['pool']['id']}", {"subnetpool": {"address_scope_id": None}},
            admin=True, expect=200)
    assert requeued(api) == [("router", r["router"])]
    assert loaded_snat(api, r["router"]) == both
    # a change that keeps the scope does not touch the router
    api.put(f"/v2.0/subnetpools/{r['pool']['id']}", {"subnetpool": {"name": "renamed"}},
            admin=True, expect=200)
    assert requeued(api) == []

"""Subnet pools through the API (extensions subnet_allocation, default-subnetpools,
subnetpool-prefix-ops, subnet_onboard): pools, subnets allocated from them, prefix
operations, onboarding, and Neutron's errors for bad input (which change nothing).

Projects: p1 and p2 are members; ``admin=True`` is an admin of the caller's project.
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor

import pytest
import wire
from conftest import error_type

from neutrino import errors
from neutrino.services.context import Context

POOLS = "/v2.0/subnetpools"


def pool(api, prefixes=("10.10.0.0/24",), project="p1", admin=False, expect=201, **attrs):
    body = {"subnetpool": {"name": "pool", "prefixes": list(prefixes), **attrs}}
    resp = api.post(POOLS, body, project=project, admin=admin, expect=expect)
    return resp.json()["subnetpool"] if expect == 201 else resp


def pool_subnet(api, network_id, pool_id, project="p1", expect=201, **attrs):
    body = {"subnet": {"network_id": network_id, "ip_version": 4, "subnetpool_id": pool_id,
                       "enable_dhcp": False, **attrs}}
    resp = api.post("/v2.0/subnets", body, project=project, expect=expect)
    return resp.json()["subnet"] if expect == 201 else resp


def show(api, pool_id, **kw):
    return api.get(f"{POOLS}/{pool_id}", **kw).json()["subnetpool"]


def test_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"subnet_allocation", "default-subnetpools", "subnetpool-prefix-ops",
            "subnet_onboard", "address-scope", "rbac-address-scope"} <= aliases
    ext = api.get("/v2.0/extensions/subnetpool-prefix-ops").json()["extension"]
    assert ext["name"] == "Subnet Pool Prefix Operations"


def test_create_show_list_update_delete(api):
    p = pool(api, prefixes=["10.10.0.0/25", "10.10.0.128/25", "10.10.0.7/26", "10.20.0.0/16"],
             description="d", tags=["red"])
    assert set(p) == {"id", "name", "description", "project_id", "tenant_id", "prefixes",
                      "ip_version", "default_prefixlen", "min_prefixlen", "max_prefixlen",
                      "default_quota", "is_default", "shared", "address_scope_id", "tags",
                      "created_at", "updated_at", "revision_number"}
    # compacted, IP version derived, Neutron's defaults, prefix lengths as text
    assert p["prefixes"] == ["10.10.0.0/24", "10.20.0.0/16"] and p["ip_version"] == 4
    assert (p["min_prefixlen"], p["default_prefixlen"], p["max_prefixlen"]) == ("8", "8", "32")
    assert p["shared"] is False and p["is_default"] is False and p["default_quota"] is None
    assert p["project_id"] == p["tenant_id"] == "p1" and p["tags"] == ["red"]
    assert show(api, p["id"]) == p
    six = pool(api, prefixes=["2001:db8::/48"], min_prefixlen="56")
    assert (six["ip_version"], six["min_prefixlen"], six["default_prefixlen"],
            six["max_prefixlen"]) == (6, "56", "56", "128")
    listed = api.get(f"{POOLS}?ip_version=6").json()["subnetpools"]
    assert [x["id"] for x in listed] == [six["id"]]
    assert api.get(f"{POOLS}?fields=name&fields=ip_version&sort_key=ip_version&sort_dir=desc"
                   ).json()["subnetpools"] == [{"name": "pool", "ip_version": 6},
                                               {"name": "pool", "ip_version": 4}]
    assert api.get(f"{POOLS}?tags=red").json()["subnetpools"][0]["id"] == p["id"]
    upd = api.put(f"{POOLS}/{p['id']}", {"subnetpool": {
        "name": "new", "min_prefixlen": 16, "default_prefixlen": "24", "max_prefixlen": 28,
        "prefixes": ["10.10.0.0/23", "10.20.0.0/16"]}}, expect=200).json()["subnetpool"]
    assert (upd["name"], upd["min_prefixlen"], upd["default_prefixlen"], upd["max_prefixlen"],
            upd["prefixes"], upd["revision_number"]) == (
        "new", "16", "24", "28", ["10.10.0.0/23", "10.20.0.0/16"], 2)
    assert show(api, p["id"]) == upd
    api.put(f"{POOLS}/{p['id']}/tags/blue", None, expect=201)
    assert show(api, p["id"])["tags"] == ["blue", "red"]
    api.delete(f"{POOLS}/{p['id']}", expect=204)
    assert error_type(api.get(f"{POOLS}/{p['id']}", expect=404)) == "SubnetPoolNotFound"


@pytest.mark.parametrize("attrs, kind", [
    ({"prefixes": []}, "EmptySubnetPoolPrefixList"),
    ({"prefixes": ["10.0.0.0/8", "2001:db8::/32"]}, "PrefixVersionMismatch"),
    ({"min_prefixlen": 24, "max_prefixlen": 20}, "IllegalSubnetPoolPrefixBounds"),
    ({"max_prefixlen": 33}, "IllegalSubnetPoolPrefixBounds"),
    ({"min_prefixlen": 24, "default_prefixlen": 16}, "IllegalSubnetPoolPrefixBounds"),
    ({"min_prefixlen": -1}, "InvalidInput"),
    ({"prefixes": ["10.0.0.0"]}, "InvalidInput"),
    ({"address_scope_id": "not-a-uuid"}, "InvalidInput"),
    ({"ip_version": 4}, "HTTPBadRequest"),
])
def test_bad_pools_are_400_and_create_nothing(api, attrs, kind):
    resp = pool(api, expect=400, **attrs)
    assert error_type(resp) == kind
    assert api.get(POOLS).json()["subnetpools"] == []


def test_shared_and_default_pools_are_admin_only(api):
    for attrs in ({"shared": True}, {"is_default": True}):
        resp = pool(api, expect=403, **attrs)
        assert error_type(resp) == "PolicyNotAuthorized"
    assert pool(api, shared=False)["shared"] is False  # the default value is fine
    p = pool(api)
    api.put(f"{POOLS}/{p['id']}", {"subnetpool": {"is_default": True}}, expect=403)
    resp = api.put(f"{POOLS}/{p['id']}", {"subnetpool": {"shared": True}}, admin=True,
                   expect=400)
    assert "read-only" in resp.json()["NeutronError"]["message"]
    api.put(f"{POOLS}/{p['id']}", {"subnetpool": {"project_id": "p2"}}, admin=True, expect=400)
    # a shared pool is seen by everyone, changed by its project only; others' are hidden
    shared = pool(api, project="p2", admin=True, shared=True)
    assert show(api, shared["id"], project="p1")["shared"] is True
    api.put(f"{POOLS}/{shared['id']}", {"subnetpool": {"name": "x"}}, project="p1", expect=403)
    assert error_type(api.get(f"{POOLS}/{p['id']}", project="p2", expect=404)) == "SubnetPoolNotFound"
    api.delete(f"{POOLS}/{p['id']}", project="p2", expect=404)


def test_one_default_pool_per_ip_version_and_use_default_subnetpool(api):
    net = api.network()
    resp = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "use_default_subnetpool": True}}, expect=400)
    assert "No default subnetpool found for IPv4" in resp.json()["NeutronError"]["message"]
    default = pool(api, prefixes=["10.30.0.0/16"], admin=True, shared=True, is_default=True,
                   default_prefixlen=26)
    resp = pool(api, prefixes=["10.40.0.0/16"], admin=True, is_default=True, expect=400)
    assert error_type(resp) == "InvalidInput" and "default subnetpool" in resp.text
    other = pool(api, prefixes=["10.40.0.0/16"], admin=True)
    api.put(f"{POOLS}/{other['id']}", {"subnetpool": {"is_default": True}}, admin=True,
            expect=400)
    pool(api, prefixes=["2001:db8::/48"], admin=True, is_default=True)  # IPv6 has its own
    sub = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                "use_default_subnetpool": True}},
                   expect=201).json()["subnet"]
    assert sub["subnetpool_id"] == default["id"] and sub["cidr"] == "10.30.0.0/26"
    resp = api.post("/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "ip_version": 4, "use_default_subnetpool": True,
        "subnetpool_id": default["id"]}}, expect=400)
    assert "cannot both be specified" in resp.text
    # the default moves: unset, set on the other
    api.put(f"{POOLS}/{default['id']}", {"subnetpool": {"is_default": False}}, admin=True,
            expect=200)
    assert api.put(f"{POOLS}/{other['id']}", {"subnetpool": {"is_default": True}}, admin=True,
                   expect=200).json()["subnetpool"]["is_default"] is True


def test_subnets_from_a_pool_are_the_first_fit_and_never_overlap(api):
    p = pool(api, prefixes=["10.10.0.0/24", "10.99.0.0/28"], default_prefixlen=26,
             max_prefixlen=28)
    net = api.network()
    # the smallest free block that fits comes first (Neutron's best fit)
    assert pool_subnet(api, net["id"], p["id"], prefixlen=28)["cidr"] == "10.99.0.0/28"
    first = pool_subnet(api, net["id"], p["id"])
    assert (first["cidr"], first["subnetpool_id"], first["gateway_ip"]) == (
        "10.10.0.0/26", p["id"], "10.10.0.1")
    assert first["allocation_pools"] == [{"start": "10.10.0.2", "end": "10.10.0.62"}]
    assert pool_subnet(api, net["id"], p["id"], prefixlen="27")["cidr"] == "10.10.0.64/27"
    # a cidr inside the pool, and a gateway without cidr (its prefix)
    assert pool_subnet(api, net["id"], p["id"], cidr="10.10.0.128/26")["cidr"] == "10.10.0.128/26"
    other = api.network(name="other")
    sub = pool_subnet(api, other["id"], p["id"], gateway_ip="10.10.0.200", prefixlen=28)
    assert (sub["cidr"], sub["gateway_ip"]) == ("10.10.0.192/28", "10.10.0.200")
    sub = pool_subnet(api, net["id"], p["id"], gateway_ip=None, prefixlen=27)
    assert (sub["cidr"], sub["gateway_ip"]) == ("10.10.0.96/27", None)
    cidrs = [ipaddress.ip_network(s["cidr"]) for s in api.get(
        f"/v2.0/subnets?subnetpool_id={p['id']}").json()["subnets"]]
    assert all(not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    assert api.get("/v2.0/subnets?subnetpool_id=").json()["subnets"] == []


def test_a_full_pool_is_409_subnet_allocation_error(api):
    p = pool(api, prefixes=["10.10.0.0/27"], default_prefixlen=28)
    net = api.network()
    taken = {pool_subnet(api, net["id"], p["id"])["cidr"] for _ in range(2)}
    assert taken == {"10.10.0.0/28", "10.10.0.16/28"}
    before = api.get("/v2.0/subnets").json()["subnets"]
    resp = pool_subnet(api, net["id"], p["id"], expect=409)
    assert error_type(resp) == "SubnetAllocationError"
    assert resp.json()["NeutronError"]["message"] == (
        "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /28.")
    resp = pool_subnet(api, api.network(name="n2")["id"], p["id"], cidr="10.10.0.8/29",
                       expect=409)
    assert "Cannot allocate requested subnet from the available set of prefixes" in resp.text
    assert api.get("/v2.0/subnets").json()["subnets"] == before


@pytest.mark.parametrize("attrs, status, kind, words", [
    ({"prefixlen": 30}, 400, "MaxPrefixSubnetAllocationError", "maximum allowed prefix is 28"),
    ({"prefixlen": 20}, 400, "MinPrefixSubnetAllocationError", "minimum allowed prefix is 24"),
    ({"cidr": "10.10.0.0/29"}, 400, "MaxPrefixSubnetAllocationError", "prefix length 29"),
    ({"cidr": "10.11.0.0/26"}, 409, "SubnetAllocationError", "available set of prefixes"),
    ({"cidr": "10.10.0.0/26", "prefixlen": 26}, 400, "BadRequest", "must not be supplied"),
    ({"prefixlen": 26, "allocation_pools": [{"start": "10.10.0.5", "end": "10.10.0.9"}]},
     400, "BadRequest", "allocation_pools allowed only for specific subnet requests"),
    ({"ip_version": 6}, 400, "BadRequest", "Cannot allocate IPv6 subnet from IPv4 subnet pool"),
    ({"subnetpool_id": "9b4ba3b0-3e1c-4b2c-8f55-7d1c1b1c1b1c"}, 404, "SubnetPoolNotFound", ""),
    ({"subnetpool_id": None}, 400, "BadRequest",
     "a subnetpool must be specified in the absence of a cidr"),
])
def test_bad_subnet_requests_change_nothing(api, attrs, status, kind, words):
    p = pool(api, prefixes=["10.10.0.0/24"], min_prefixlen=24, default_prefixlen=26,
             max_prefixlen=28)
    net = api.network()
    resp = pool_subnet(api, net["id"], p["id"], expect=status, **attrs)
    assert error_type(resp) == kind and words in resp.json()["NeutronError"]["message"]
    assert api.get("/v2.0/subnets").json()["subnets"] == []
    assert show(api, p["id"]) == p


def test_pool_quota_counts_prefix_units_per_project(api):
    p = pool(api, prefixes=["10.10.0.0/24"], admin=True, shared=True, default_prefixlen=28,
             default_quota=32)
    net1, net2 = api.network(project="p1"), api.network(project="p2")
    pool_subnet(api, net1["id"], p["id"], project="p1")
    pool_subnet(api, net1["id"], p["id"], project="p1")
    resp = pool_subnet(api, net1["id"], p["id"], project="p1", expect=409)
    assert error_type(resp) == "SubnetPoolQuotaExceeded"
    pool_subnet(api, net2["id"], p["id"], project="p2")  # another project's own quota


def test_subnets_of_one_network_come_from_one_pool(api):
    p1 = pool(api, prefixes=["10.10.0.0/16"], default_prefixlen=24)
    p2 = pool(api, prefixes=["10.20.0.0/16"], default_prefixlen=24)
    net = api.network()
    pool_subnet(api, net["id"], p1["id"])
    resp = pool_subnet(api, net["id"], p2["id"], expect=400)
    assert error_type(resp) == "NetworkSubnetPoolAffinityError"
    resp = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": "192.168.0.0/24"}}, expect=400)
    assert error_type(resp) == "NetworkSubnetPoolAffinityError"
    plain = api.network(name="plain")
    api.subnet(plain["id"], "192.168.0.0/24")
    assert error_type(pool_subnet(api, plain["id"], p1["id"], expect=400)) == \
        "NetworkSubnetPoolAffinityError"
    api.subnet(plain["id"], "2001:db8::/64")  # the other IP version is independent


def test_add_and_remove_prefixes(api):
    p = pool(api, prefixes=["192.168.1.0/24", "10.10.10.0/24"], min_prefixlen=16,
             default_prefixlen=24)
    url = f"{POOLS}/{p['id']}"
    assert api.put(f"{url}/add_prefixes", {"prefixes": ["192.168.0.0/24", "10.10.0.0/16"]},
                   expect=200).json() == {"prefixes": ["10.10.0.0/16", "192.168.0.0/23"]}
    assert show(api, p["id"])["revision_number"] == 2
    net = api.network()
    sub = pool_subnet(api, net["id"], p["id"], cidr="192.168.1.0/24")
    resp = api.put(f"{url}/remove_prefixes", {"prefixes": ["192.168.1.0/25"]}, expect=400)
    assert error_type(resp) == "IllegalSubnetPoolPrefixUpdate"
    assert show(api, p["id"])["prefixes"] == ["10.10.0.0/16", "192.168.0.0/23"]
    assert api.put(f"{url}/remove_prefixes", {"prefixes": ["10.10.128.0/17", "172.16.0.0/12"]},
                   expect=200).json() == {"prefixes": ["10.10.0.0/17", "192.168.0.0/23"]}
    # outside the pool: nothing to do
    assert api.put(f"{url}/remove_prefixes", {"prefixes": ["172.16.0.0/12"]},
                   expect=200).json()["prefixes"] == ["10.10.0.0/17", "192.168.0.0/23"]
    for body in ({}, {"prefixes": []}, {"prefixes": "10.0.0.0/8"}):
        api.put(f"{url}/add_prefixes", body, expect=400)
    api.put(f"{url}/add_prefixes", {"prefixes": ["bogus"]}, expect=400)
    # shrinking through update is refused; a pool with subnets cannot go
    resp = api.put(url, {"subnetpool": {"prefixes": ["10.10.0.0/17"]}}, expect=400)
    assert error_type(resp) == "IllegalSubnetPoolPrefixUpdate"
    assert "Existing prefixes must be a subset of the new prefixes" in resp.text
    resp = api.delete(url, expect=400)
    assert error_type(resp) == "SubnetPoolDeleteError"
    api.put(f"{url}/add_prefixes", {"prefixes": ["10.0.0.0/8"]}, project="p2", expect=404)
    api.delete(f"/v2.0/subnets/{sub['id']}", expect=204)
    api.delete(url, expect=204)


def test_onboard_network_subnets(api):
    p = pool(api, prefixes=["10.10.0.0/24"], default_prefixlen=26)
    net = api.network()
    a = api.subnet(net["id"], "192.168.1.0/24")
    b = api.subnet(net["id"], "192.168.2.0/25")
    api.subnet(net["id"], "2001:db8::/64")  # other IP version: stays out
    url = f"{POOLS}/{p['id']}/onboard_network_subnets"
    api.put(url, {"network_id": net["id"]}, project="p2", expect=404)
    assert error_type(api.put(url, {}, expect=400)) == "InvalidInput"
    assert error_type(api.put(url, {"network_id": "9b4ba3b0-3e1c-4b2c-8f55-7d1c1b1c1b1c"},
                              expect=404)) == "NetworkNotFound"
    got = api.put(url, {"network_id": net["id"]}, expect=200).json()
    assert sorted(got, key=lambda x: x["cidr"]) == [{"id": a["id"], "cidr": a["cidr"]},
                                                    {"id": b["id"], "cidr": b["cidr"]}]
    assert show(api, p["id"])["prefixes"] == ["10.10.0.0/24", "192.168.1.0/24",
                                              "192.168.2.0/25"]
    assert api.get(f"/v2.0/subnets/{a['id']}").json()["subnet"]["subnetpool_id"] == p["id"]
    # the pool now knows them: no allocation lands on them
    other = api.network(name="other")
    assert pool_subnet(api, other["id"], p["id"], prefixlen=25)["cidr"] == "10.10.0.0/25"
    # another project's network: hidden 404, visible (shared) 403
    hidden = api.network(project="p2")
    assert error_type(api.put(url, {"network_id": hidden["id"]}, expect=404)) == "NetworkNotFound"
    shared = api.network(project="p2", shared=True)
    api.subnet(shared["id"], "172.16.0.0/24", project="p2")
    assert error_type(api.put(url, {"network_id": shared["id"]}, expect=403)) == "NotAuthorized"
    # a CIDR overlapping the pool's subnets
    clash = api.network(name="clash")
    api.subnet(clash["id"], "192.168.1.0/26")
    resp = api.put(url, {"network_id": clash["id"]}, expect=400)
    assert error_type(resp) == "IllegalSubnetPoolUpdate"
    # someone else's shared pool: seen, not changed
    theirs = pool(api, prefixes=["10.200.0.0/16"], project="p2", admin=True, shared=True)
    resp = api.put(f"{POOLS}/{theirs['id']}/onboard_network_subnets", {"network_id": clash["id"]},
                   expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    assert show(api, theirs["id"])["prefixes"] == ["10.200.0.0/16"]


def _create_from_pool(api, net_ids, pool_id, project="race"):
    ctx = Context(project, frozenset({"member", "reader"}))

    def make(network_id: str) -> str:
        body = {"network_id": network_id, "ip_version": 4, "subnetpool_id": pool_id,
                "prefixlen": 28, "enable_dhcp": False}
        try:
            return wire.create("subnet", api.env, ctx, [body])[0]["cidr"]
        except errors.SubnetAllocationError:
            return "409"
    with ThreadPoolExecutor(16) as executor:
        return list(executor.map(make, net_ids))


def test_concurrent_allocations_get_distinct_prefixes_then_409(api):
    """16 clients at once, twice, on a pool of 16 /28s: 16 distinct prefixes and 16
    SubnetAllocationErrors (on PostgreSQL the transactions really run in parallel;
    the pool's generation key makes the losers retry)."""
    p = pool(api, prefixes=["10.99.0.0/24"], project="race", admin=True)
    nets = [api.network(project="race", name=f"n{i}")["id"] for i in range(32)]
    got = _create_from_pool(api, nets[:16], p["id"]) + _create_from_pool(api, nets[16:], p["id"])
    cidrs = [ipaddress.ip_network(c) for c in got if c != "409"]
    assert len(cidrs) == 16 and got.count("409") == 16
    assert sorted(cidrs) == list(ipaddress.ip_network("10.99.0.0/24").subnets(new_prefix=28))


def test_ipv6_subnets_from_a_pool(api):
    p = pool(api, prefixes=["2001:db8:1000::/48"], default_prefixlen=64, min_prefixlen=56)
    net = api.network()
    body = {"subnet": {"network_id": net["id"], "ip_version": 6, "subnetpool_id": p["id"],
                       "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}}
    first = api.post("/v2.0/subnets", body, expect=201).json()["subnet"]
    second = api.post("/v2.0/subnets", body, expect=201).json()["subnet"]
    assert (first["cidr"], second["cidr"]) == ("2001:db8:1000::/64", "2001:db8:1000:1::/64")
    assert first["gateway_ip"] == "2001:db8:1000::1"  # network + 1, as Neutron's allocator
    resp = api.post("/v2.0/subnets", {"subnet": {**body["subnet"], "prefixlen": 48}},
                    expect=400)
    assert error_type(resp) == "MinPrefixSubnetAllocationError"
    # a v4 request on the v6 pool; the IP version of the default pool follows the cidr
    resp = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "subnetpool_id": p["id"]}}, expect=400)
    assert "Cannot allocate IPv4 subnet from IPv6 subnet pool" in resp.text


def test_default_quota_and_prefix_lengths_beyond_the_database_integer(api):
    """``default_quota`` 2**40 answered 500 on PostgreSQL (int4 out of range); past
    neutron-lib's DB_INTEGER_MAX_VALUE (2**31 - 1) it is InvalidInput, on create and
    update."""
    resp = pool(api, admin=True, default_quota=2**40, expect=400)
    assert error_type(resp) == "InvalidInput" and "default_quota" in \
        resp.json()["NeutronError"]["message"]
    p = pool(api, admin=True, default_quota=2**31 - 1)
    assert p["default_quota"] == 2**31 - 1
    resp = api.put(f"/v2.0/subnetpools/{p['id']}", {"subnetpool": {"default_quota": 2**70}},
                   admin=True, expect=400)
    assert error_type(resp) == "InvalidInput"


def test_onboard_network_id_that_is_not_a_string(api):
    """``{"network_id": [{}]}`` to onboard_network_subnets answered 500 (the list reached
    the database); it is InvalidInput, as an absent network_id."""
    p = pool(api, admin=True)
    for value in ([{}], {"a": 1}, 5):
        resp = api.put(f"{POOLS}/{p['id']}/onboard_network_subnets", {"network_id": value},
                       admin=True, expect=400)
        assert error_type(resp) == "InvalidInput"
        assert "network_id" in resp.json()["NeutronError"]["message"]

"""Address scopes through the API (extensions address-scope, rbac-address-scope): scopes,
subnet pools in them, networks' ipv4/ipv6_address_scope, RBAC sharing, and Neutron's
errors for bad input (which change nothing).

Projects: p1 and p2 are members; ``admin=True`` is an admin of the caller's project.
"""

from __future__ import annotations

import pytest
from conftest import error_type

SCOPES = "/v2.0/address-scopes"
POOLS = "/v2.0/subnetpools"
RBAC = "/v2.0/rbac-policies"


def scope(api, version=4, project="p1", admin=False, expect=201, **attrs):
    body = {"address_scope": {"name": "scope", "ip_version": version, **attrs}}
    resp = api.post(SCOPES, body, project=project, admin=admin, expect=expect)
    return resp.json()["address_scope"] if expect == 201 else resp


def pool(api, prefixes, project="p1", admin=False, expect=201, **attrs):
    body = {"subnetpool": {"name": "pool", "prefixes": list(prefixes), **attrs}}
    resp = api.post(POOLS, body, project=project, admin=admin, expect=expect)
    return resp.json()["subnetpool"] if expect == 201 else resp


def test_create_show_list_update_delete(api):
    s = scope(api)
    assert s == {"id": s["id"], "name": "scope", "project_id": "p1", "tenant_id": "p1",
                 "shared": False, "ip_version": 4}
    assert api.get(f"{SCOPES}/{s['id']}", expect=200).json()["address_scope"] == s
    six = scope(api, version=6, name="six")
    assert [x["id"] for x in api.get(f"{SCOPES}?ip_version=6").json()["address_scopes"]] == [six["id"]]
    assert [x["name"] for x in api.get(f"{SCOPES}?sort_key=name&sort_dir=desc"
                                       ).json()["address_scopes"]] == ["six", "scope"]
    upd = api.put(f"{SCOPES}/{s['id']}", {"address_scope": {"name": "new"}},
                  expect=200).json()["address_scope"]
    assert upd == {**s, "name": "new"}
    resp = api.put(f"{SCOPES}/{s['id']}", {"address_scope": {"ip_version": 6}}, expect=400)
    assert "read-only" in resp.text
    api.delete(f"{SCOPES}/{s['id']}", expect=204)
    assert error_type(api.get(f"{SCOPES}/{s['id']}", expect=404)) == "AddressScopeNotFound"
    api.delete(f"{SCOPES}/{s['id']}", expect=404)


def test_sharing_is_admin_only_and_cannot_be_undone_by_update(api):
    assert error_type(scope(api, shared=True, expect=403)) == "PolicyNotAuthorized"
    s = scope(api)
    for value in (True, False):
        api.put(f"{SCOPES}/{s['id']}", {"address_scope": {"shared": value}}, expect=403)
    assert error_type(api.get(f"{SCOPES}/{s['id']}", project="p2", expect=404)) == \
        "AddressScopeNotFound"
    shared = api.put(f"{SCOPES}/{s['id']}", {"address_scope": {"shared": True}}, admin=True,
                     expect=200).json()["address_scope"]
    assert shared["shared"] is True
    assert api.get(f"{SCOPES}/{s['id']}", project="p2", expect=200).json()["address_scope"][
        "shared"] is True
    api.put(f"{SCOPES}/{s['id']}", {"address_scope": {"name": "x"}}, project="p2", expect=403)
    resp = api.put(f"{SCOPES}/{s['id']}", {"address_scope": {"shared": False}}, admin=True,
                   expect=400)
    assert error_type(resp) == "AddressScopeUpdateError"
    assert "Shared address scope can't be unshared" in resp.text
    # the '*' policy mirrors it
    policies = api.get(f"{RBAC}?object_type=address_scope", admin=True).json()["rbac_policies"]
    assert [(p["object_id"], p["target_tenant"]) for p in policies] == [(s["id"], "*")]


def test_pools_in_a_scope(api):
    s4, s6 = scope(api), scope(api, version=6)
    a = pool(api, ["10.10.0.0/16", "10.30.0.0/16"], address_scope_id=s4["id"])
    assert a["address_scope_id"] == s4["id"]
    # the other IP version: 400; overlapping prefixes in one scope: 409
    resp = pool(api, ["2001:db8::/48"], address_scope_id=s4["id"], expect=400)
    assert error_type(resp) == "IllegalSubnetPoolIpVersionAssociationToAddressScope"
    resp = pool(api, ["10.40.0.0/16", "10.30.128.0/17"], address_scope_id=s4["id"], expect=409)
    assert error_type(resp) == "AddressScopePrefixConflict"
    resp = pool(api, ["10.0.0.0/8"], address_scope_id="9b4ba3b0-3e1c-4b2c-8f55-7d1c1b1c1b1c",
                expect=404)
    assert error_type(resp) == "AddressScopeNotFound"
    theirs = scope(api, project="p2")
    assert error_type(pool(api, ["10.0.0.0/8"], address_scope_id=theirs["id"], expect=404)) == \
        "AddressScopeNotFound"
    assert [p["id"] for p in api.get(POOLS).json()["subnetpools"]] == [a["id"]]
    # the same prefixes are fine outside the scope, or in another one
    b = pool(api, ["10.30.0.0/24"])
    resp = api.put(f"{POOLS}/{b['id']}", {"subnetpool": {"address_scope_id": s4["id"]}},
                   expect=409)
    assert error_type(resp) == "AddressScopePrefixConflict"
    resp = api.put(f"{POOLS}/{b['id']}", {"subnetpool": {"address_scope_id": s6["id"]}},
                   expect=400)
    assert error_type(resp) == "IllegalSubnetPoolIpVersionAssociationToAddressScope"
    assert api.get(f"{POOLS}/{b['id']}").json()["subnetpool"]["address_scope_id"] is None
    resp = api.put(f"{POOLS}/{a['id']}/add_prefixes", {"prefixes": ["10.30.0.0/24"]}, expect=200)
    resp = api.put(f"{POOLS}/{b['id']}", {"subnetpool": {"prefixes": ["10.20.0.0/24",
                                                                     "10.30.0.0/24"]}},
                   expect=200)
    api.put(f"{POOLS}/{b['id']}", {"subnetpool": {"address_scope_id": s4["id"]}}, expect=409)
    # a scope in use cannot go; its pool leaves, then it can
    assert error_type(api.delete(f"{SCOPES}/{s4['id']}", expect=409)) == "AddressScopeInUse"
    api.put(f"{POOLS}/{a['id']}", {"subnetpool": {"address_scope_id": None}}, expect=200)
    api.delete(f"{SCOPES}/{s4['id']}", expect=204)


def test_networks_show_the_scope_of_their_pools(api):
    s = scope(api)
    p = pool(api, ["10.10.0.0/16"], address_scope_id=s["id"], default_prefixlen=24)
    other = pool(api, ["10.20.0.0/16"], default_prefixlen=24)
    net = api.network()
    assert (net["ipv4_address_scope"], net["ipv6_address_scope"]) == (None, None)
    api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                          "subnetpool_id": p["id"]}}, expect=201)
    got = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert (got["ipv4_address_scope"], got["ipv6_address_scope"]) == (s["id"], None)
    listed = api.get("/v2.0/networks?fields=id&fields=ipv4_address_scope").json()["networks"]
    assert listed == [{"id": net["id"], "ipv4_address_scope": s["id"]}]
    resp = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "subnetpool_id": other["id"]}}, expect=400)
    assert error_type(resp) == "NetworkAddressScopeAffinityError"
    resp = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": "192.168.0.0/24"}}, expect=400)
    assert error_type(resp) == "NetworkAddressScopeAffinityError"
    # onboarded subnets follow their pool into a scope
    mixed = api.network(name="mixed")
    api.subnet(mixed["id"], "192.168.5.0/24")
    api.put(f"{POOLS}/{other['id']}/onboard_network_subnets", {"network_id": mixed["id"]},
            expect=200)
    api.subnet(mixed["id"], "2001:db8::/64")
    s2 = scope(api)
    api.put(f"{POOLS}/{other['id']}", {"subnetpool": {"address_scope_id": s2["id"]}}, expect=200)
    assert api.get(f"/v2.0/networks/{mixed['id']}").json()["network"]["ipv4_address_scope"] == \
        s2["id"]


def test_rbac_shares_a_scope_with_one_project(api):
    s = scope(api, project="admin", admin=True)
    assert error_type(api.get(f"{SCOPES}/{s['id']}", project="p1", expect=404)) == \
        "AddressScopeNotFound"
    pol = api.share("address_scope", s["id"], "p1", project="admin", admin=True)
    assert (pol["object_type"], pol["action"], pol["target_tenant"]) == (
        "address_scope", "access_as_shared", "p1")
    seen = api.get(f"{SCOPES}/{s['id']}", project="p1", expect=200).json()["address_scope"]
    assert seen["shared"] is True  # as Neutron shows it to the named project
    api.get(f"{SCOPES}/{s['id']}", project="p2", expect=404)
    assert api.get(f"{RBAC}/{pol['id']}", project="admin", admin=True).json()["rbac_policy"] == pol
    assert pol["id"] not in {p["id"] for p in api.get(RBAC, project="p2").json()["rbac_policies"]}
    # p1 puts a pool in it: the policy is in use
    p = pool(api, ["10.0.0.0/8"], project="p1", address_scope_id=s["id"])
    resp = api.delete(f"{RBAC}/{pol['id']}", project="admin", admin=True, expect=409)
    assert error_type(resp) == "RbacPolicyInUse"
    api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "p2"}}, project="admin",
            admin=True, expect=409)
    # the pool in a scope p1 does not own: only admins change it (Neutron's rule)
    resp = api.put(f"{POOLS}/{p['id']}", {"subnetpool": {"name": "x"}}, project="p1", expect=400)
    assert error_type(resp) == "IllegalSubnetPoolUpdate"
    api.delete(f"{POOLS}/{p['id']}", project="p1", expect=204)
    upd = api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "p2"}},
                  project="admin", admin=True, expect=200).json()["rbac_policy"]
    assert upd == {**pol, "target_tenant": "p2"}
    api.get(f"{SCOPES}/{s['id']}", project="p1", expect=404)
    api.delete(f"{RBAC}/{pol['id']}", project="admin", admin=True, expect=204)


def test_rbac_policies_of_both_kinds_list_together(api):
    s = scope(api)
    net = api.network()
    a = api.share("address_scope", s["id"], "p2")
    b = api.post(RBAC, {"rbac_policy": {"object_type": "network", "object_id": net["id"],
                                        "action": "access_as_shared", "target_tenant": "p2"}},
                 expect=201).json()["rbac_policy"]
    assert {p["id"] for p in api.get(RBAC).json()["rbac_policies"]} == {a["id"], b["id"]}
    assert [p["id"] for p in api.get(f"{RBAC}?object_type=address_scope").json()[
        "rbac_policies"]] == [a["id"]]
    assert [p["object_type"] for p in api.get(f"{RBAC}?sort_key=object_type").json()[
        "rbac_policies"]] == ["address_scope", "network"]
    page = api.get(f"{RBAC}?limit=1&sort_key=object_type").json()
    marker = page["rbac_policies"][0]["id"]
    assert [p["id"] for p in api.get(f"{RBAC}?limit=1&sort_key=object_type&marker={marker}"
                                     ).json()["rbac_policies"]] == [b["id"]]
    resp = api.share("address_scope", s["id"], "p2", expect=409)
    assert error_type(resp) == "DuplicateRbacPolicy"
    resp = api.post(RBAC, {"rbac_policy": {"object_type": "address_scope", "object_id": s["id"],
                                           "action": "access_as_external",
                                           "target_tenant": "p2"}}, expect=400)
    assert error_type(resp) == "InvalidActionForType"
    assert error_type(api.share("address_scope", s["id"], "*", expect=403)) == "PolicyNotAuthorized"
    theirs = scope(api, project="p2")
    assert error_type(api.share("address_scope", theirs["id"], "p1", expect=404)) == "AddressScopeNotFound"
    api.delete(f"{SCOPES}/{s['id']}", expect=204)  # its policies go with it
    assert [p["id"] for p in api.get(RBAC).json()["rbac_policies"]] == [b["id"]]


@pytest.mark.parametrize("body", [
    {"name": "x"},                      # ip_version required
    {"name": "x", "ip_version": 5},
    {"name": "x", "ip_version": 4, "id": "9b4ba3b0-3e1c-4b2c-8f55-7d1c1b1c1b1c"},
    {"name": "x", "ip_version": 4, "bogus": 1},
])
def test_bad_scopes_are_400_and_create_nothing(api, body):
    api.post(SCOPES, {"address_scope": body}, expect=400)
    assert api.get(SCOPES).json()["address_scopes"] == []

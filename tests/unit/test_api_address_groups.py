"""Address groups through the API (extensions address-group, rbac-address-group,
security-groups-remote-address-group): CRUD, member actions, Neutron's errors
(bad input changes nothing), RBAC sharing, and rules naming a group.

Projects: p1 and p2 are members; ``admin=True`` is an admin of the caller's project.
"""

from __future__ import annotations

from conftest import error_type
from sqlalchemy import select

from neutrino.db.models import OvnOutbox

AGS = "/v2.0/address-groups"
RBAC = "/v2.0/rbac-policies"
RULES = "/v2.0/security-group-rules"


def group(api, addresses=(), project="p1", admin=False, expect=201, **attrs):
    body = {"address_group": {"name": "ag", "addresses": None if addresses is None else list(addresses), **attrs}}
    resp = api.post(AGS, body, project=project, admin=admin, expect=expect)
    return resp.json()["address_group"] if expect == 201 else resp


def sg(api, project="p1"):
    return api.post("/v2.0/security-groups", {"security_group": {"name": "web"}},
                    project=project, expect=201).json()["security_group"]


def rule(api, sg_id, project="p1", expect=201, **attrs):
    body = {"security_group_rule": {"security_group_id": sg_id, "direction": "ingress",
                                    "protocol": "tcp", **attrs}}
    resp = api.post(RULES, body, project=project, expect=expect)
    return resp.json()["security_group_rule"] if expect == 201 else resp


def outbox(api):
    return api.env.db.run(lambda s: [(r.resource_type, r.resource_id) for r in
                                     s.scalars(select(OvnOutbox))], write=False)


def test_create_normalises_and_shows_standard_attributes(api):
    ag = group(api, ["10.10.10.3/32", "192.168.0.10/24", "2001:db8::f00/64", "192.168.0.0/24"],
               description="d")
    assert ag["addresses"] == ["10.10.10.3/32", "192.168.0.0/24", "2001:db8::/64"]
    assert set(ag) == {"id", "name", "description", "project_id", "tenant_id", "addresses",
                       "created_at", "updated_at", "revision_number"}
    assert (ag["name"], ag["description"], ag["project_id"], ag["revision_number"]) == \
        ("ag", "d", "p1", 1)
    assert api.get(f"{AGS}/{ag['id']}", expect=200).json()["address_group"] == ag
    assert ("address_group", ag["id"]) in outbox(api)
    assert group(api, None)["addresses"] == []


def test_list_filters_sorts_pages_and_fields(api):
    a, b = group(api, name="a"), group(api, name="b")
    group(api, project="p2", name="c")
    listed = api.get(f"{AGS}?sort_key=name&sort_dir=desc").json()["address_groups"]
    assert [g["name"] for g in listed] == ["b", "a"]
    assert [g["id"] for g in api.get(f"{AGS}?name=a").json()["address_groups"]] == [a["id"]]
    page = api.get(f"{AGS}?sort_key=name&limit=1&marker={a['id']}").json()
    assert [g["id"] for g in page["address_groups"]] == [b["id"]]
    only = api.get(f"{AGS}?fields=id&fields=addresses").json()["address_groups"]
    assert all(set(g) == {"id", "addresses"} for g in only)
    assert len(api.get(AGS, admin=True).json()["address_groups"]) == 3


def test_update_name_description_only(api):
    ag = group(api, ["10.0.0.0/8"])
    upd = api.put(f"{AGS}/{ag['id']}", {"address_group": {"description": "new"}},
                  expect=200).json()["address_group"]
    assert upd["description"] == "new" and upd["addresses"] == ["10.0.0.0/8"]
    assert upd["revision_number"] == 2
    resp = api.put(f"{AGS}/{ag['id']}", {"address_group": {"addresses": ["1.1.1.1/32"]}},
                   expect=400)
    assert error_type(resp) == "HTTPBadRequest"


def test_bad_addresses_are_400_and_change_nothing(api):
    for bad in ("10.20.30.40", "this is bad IP address"):
        assert error_type(group(api, [bad], expect=400)) == "InvalidInput"
    assert api.get(AGS).json()["address_groups"] == []
    ag = group(api, ["10.0.0.0/24"])
    url = f"{AGS}/{ag['id']}"
    for action in ("add_addresses", "remove_addresses"):
        api.put(f"{url}/{action}", {"addresses": ["this is bad IP address"]}, expect=400)
        api.put(f"{url}/{action}", {"wrong": []}, expect=400)
    assert api.get(url).json()["address_group"]["addresses"] == ["10.0.0.0/24"]


def test_add_and_remove_addresses(api):
    ag = group(api, ["10.0.0.0/24"])
    url = f"{AGS}/{ag['id']}"
    added = api.put(f"{url}/add_addresses", {"addresses": ["10.20.30.40/32", "fd00::1/64"]},
                    expect=200).json()["address_group"]
    assert added["addresses"] == ["10.0.0.0/24", "10.20.30.40/32", "fd00::/64"]
    assert added["revision_number"] == 2
    resp = api.put(f"{url}/add_addresses", {"addresses": ["10.0.0.1/24", "1.2.3.4/32"]},
                   expect=400)
    assert error_type(resp) == "AddressesAlreadyExist" and "10.0.0.0/24" in resp.text
    resp = api.put(f"{url}/remove_addresses", {"addresses": ["10.200.200.200", "10.0.0.0/24"]},
                   expect=404)
    assert error_type(resp) == "AddressesNotFound" and "10.200.200.200/32" in resp.text
    removed = api.put(f"{url}/remove_addresses", {"addresses": ["10.0.0.9/24"]},
                      expect=200).json()["address_group"]
    assert removed["addresses"] == ["10.20.30.40/32", "fd00::/64"]
    api.put(f"{AGS}/{'0' * 8}-0000-0000-0000-{'0' * 12}/add_addresses",
            {"addresses": []}, expect=404)


def test_other_projects_see_nothing_and_change_nothing(api):
    ag = group(api, ["10.0.0.0/24"])
    url = f"{AGS}/{ag['id']}"
    assert error_type(api.get(url, project="p2", expect=404)) == "AddressGroupNotFound"
    assert api.get(AGS, project="p2").json()["address_groups"] == []
    api.put(f"{url}/add_addresses", {"addresses": ["1.1.1.1/32"]}, project="p2", expect=404)
    api.delete(url, project="p2", expect=404)


def test_rbac_share_to_project_then_wildcard(api):
    ag = group(api, ["10.0.0.0/24"])
    url = f"{AGS}/{ag['id']}"
    p = api.share("address_group", ag["id"], "p2")
    assert p["object_type"] == "address_group"
    assert api.get(url, project="p2", expect=200).json()["address_group"]["id"] == ag["id"]
    # shared to it, p2 still cannot change it (404 as Neutron) nor share it on
    api.put(url, {"address_group": {"name": "x"}}, project="p2", expect=404)
    api.put(f"{url}/add_addresses", {"addresses": ["1.1.1.1/32"]}, project="p2", expect=404)
    assert error_type(api.share("address_group", ag["id"], "p3", project="p2", expect=400)) == "InvalidInput"
    assert api.get(RBAC, project="p2").json()["rbac_policies"] == []
    retarget = api.put(f"{RBAC}/{p['id']}", {"rbac_policy": {"target_tenant": "p3"}},
                       expect=200).json()["rbac_policy"]
    assert retarget == {**p, "target_tenant": "p3"}
    api.get(url, project="p2", expect=404)
    assert error_type(api.share("address_group", ag["id"], "*", expect=403)) == "PolicyNotAuthorized"
    star = api.share("address_group", ag["id"], "*", admin=True)
    assert api.get(url, project="p9", expect=200).json()["address_group"]["id"] == ag["id"]
    assert [x["id"] for x in api.get(f"{RBAC}?object_type=address_group",
                                     admin=True).json()["rbac_policies"]] != []
    api.delete(f"{RBAC}/{star['id']}", admin=True, expect=204)
    api.get(url, project="p9", expect=404)


def test_rule_with_remote_address_group(api):
    ag = group(api, ["10.0.0.0/24"])
    web = sg(api)
    r = rule(api, web["id"], remote_address_group_id=ag["id"])
    assert r["remote_address_group_id"] == ag["id"] and r["remote_ip_prefix"] is None
    shown = api.get(f"{RULES}/{r['id']}").json()["security_group_rule"]
    assert shown["remote_address_group_id"] == ag["id"]
    assert [x["id"] for x in api.get(
        f"{RULES}?remote_address_group_id={ag['id']}").json()["security_group_rules"]] == [r["id"]]
    # the same rule without the group is another rule; with it, a duplicate
    rule(api, web["id"])
    assert error_type(rule(api, web["id"], remote_address_group_id=ag["id"],
                           expect=409)) == "SecurityGroupRuleExists"
    for other in ({"remote_ip_prefix": "10.0.0.0/8"},
                  {"remote_group_id": web["id"]}):
        resp = rule(api, web["id"], remote_address_group_id=ag["id"], port_range_min=22,
                    port_range_max=22, expect=400, **other)
        assert error_type(resp) == "SecurityGroupMultipleRemoteEntites"
    resp = api.delete(f"{AGS}/{ag['id']}", expect=409)
    assert error_type(resp) == "AddressGroupInUse"
    api.delete(f"{RULES}/{r['id']}", expect=204)
    api.delete(f"{AGS}/{ag['id']}", expect=204)


def test_rule_needs_a_group_its_project_sees_and_in_use_policy(api):
    ag = group(api, ["10.0.0.0/24"], project="p1")
    theirs = sg(api, project="p2")
    resp = rule(api, theirs["id"], project="p2", remote_address_group_id=ag["id"], expect=404)
    assert error_type(resp) == "AddressGroupNotFound"
    p = api.share("address_group", ag["id"], "p2")
    r = rule(api, theirs["id"], project="p2", remote_address_group_id=ag["id"])
    resp = api.delete(f"{RBAC}/{p['id']}", expect=409)
    assert error_type(resp) == "RbacPolicyInUse"
    api.delete(f"{RULES}/{r['id']}", project="p2", expect=204)
    api.delete(f"{RBAC}/{p['id']}", expect=204)


def test_extensions_are_advertised(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"address-group", "rbac-address-group",
            "security-groups-remote-address-group"} <= aliases

"""Security group sharing through the API (extensions rbac-security-groups,
security-groups-shared-filtering, security-groups-rules-belongs-to-default-sg):
who sees, uses and changes a shared group, the ``shared`` attribute and filter,
policies in use, and Neutron's errors (a refused call changes nothing).

Projects: p1 owns the groups; p2 is the target; p3 is another project.
"""

from __future__ import annotations

from conftest import error_type

SGS = "/v2.0/security-groups"
RULES = "/v2.0/security-group-rules"
RBAC = "/v2.0/rbac-policies"


def sg(api, project="p1", name="web"):
    return api.post(SGS, {"security_group": {"name": name}}, project=project,
                    expect=201).json()["security_group"]


def test_target_project_sees_shared_group_others_do_not(api):
    group = sg(api)
    assert error_type(api.get(f"{SGS}/{group['id']}", project="p2", expect=404)) == \
        "SecurityGroupNotFound"
    policy = api.share("security_group", group["id"], "p2")
    assert policy["object_type"] == "security_group"
    seen = api.get(f"{SGS}/{group['id']}", project="p2", expect=200).json()["security_group"]
    assert seen["shared"] is True and seen["security_group_rules"]
    assert api.get(f"{SGS}/{group['id']}", expect=200).json()["security_group"]["shared"] is False
    api.get(f"{SGS}/{group['id']}", project="p3", expect=404)
    assert group["id"] in {g["id"] for g in api.get(SGS, project="p2").json()["security_groups"]}
    assert group["id"] not in {g["id"] for g in api.get(SGS, project="p3").json()["security_groups"]}
    # the policy is its maker's: the target does not see it
    assert api.get(RBAC, project="p2").json()["rbac_policies"] == []


def test_shared_filter_as_the_caller_sees_it(api):
    group, other = sg(api), sg(api, name="db")
    api.share("security_group", group["id"], "p2")
    shared = api.get(f"{SGS}?shared=True", project="p2").json()["security_groups"]
    assert [g["id"] for g in shared] == [group["id"]]
    unshared = {g["id"] for g in api.get(f"{SGS}?shared=False", project="p2").json()[
        "security_groups"]}
    assert group["id"] not in unshared and other["id"] not in unshared
    # the owner does not see its own group as shared (no entry names p1)
    assert api.get(f"{SGS}?shared=True").json()["security_groups"] == []
    assert {group["id"], other["id"]} <= {g["id"] for g in api.get(
        f"{SGS}?shared=false").json()["security_groups"]}


def test_wildcard_needs_admin_and_shares_to_everyone(api):
    group = sg(api)
    assert error_type(api.share("security_group", group["id"], "*", expect=403)) == "PolicyNotAuthorized"
    api.get(f"{SGS}/{group['id']}", project="p3", expect=404)
    api.share("security_group", group["id"], "*", admin=True)
    assert api.get(f"{SGS}/{group['id']}", project="p3").json()["security_group"]["shared"]


def test_target_cannot_change_the_group_nothing_changes(api):
    group = sg(api)
    api.share("security_group", group["id"], "p2")
    before = api.get(f"{SGS}/{group['id']}").json()["security_group"]
    resp = api.put(f"{SGS}/{group['id']}", {"security_group": {"name": "x"}}, project="p2",
                   expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    assert error_type(api.delete(f"{SGS}/{group['id']}", project="p2", expect=403)) == \
        "PolicyNotAuthorized"
    body = {"security_group_rule": {"security_group_id": group["id"], "direction": "ingress"}}
    assert error_type(api.post(RULES, body, project="p2", expect=403)) == "PolicyNotAuthorized"
    # the group's rules are its owner's: the target gets 404 for them
    rule_id = before["security_group_rules"][0]["id"]
    api.get(f"{RULES}/{rule_id}", project="p2", expect=404)
    api.delete(f"{RULES}/{rule_id}", project="p2", expect=404)
    assert rule_id not in {r["id"] for r in api.get(RULES, project="p2").json()[
        "security_group_rules"]}
    assert api.get(f"{SGS}/{group['id']}").json()["security_group"] == before
    # another project, not shared: 404
    api.put(f"{SGS}/{group['id']}", {"security_group": {"name": "x"}}, project="p3", expect=404)


def test_target_uses_shared_group_on_ports_and_as_remote_group(api):
    group = sg(api)
    net = api.network(project="p2")
    api.subnet(net["id"], project="p2")
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "security_groups": [group["id"]]}},
                    project="p2", expect=404)
    assert error_type(resp) == "SecurityGroupNotFound"
    api.share("security_group", group["id"], "p2")
    port = api.port(net["id"], project="p2", security_groups=[group["id"]])
    assert port["security_groups"] == [group["id"]]
    own = sg(api, project="p2")
    body = {"security_group_rule": {"security_group_id": own["id"], "direction": "ingress",
                                    "remote_group_id": group["id"]}}
    api.post(RULES, body, project="p2", expect=201)
    # p3 may not use it
    own3 = sg(api, project="p3")
    body["security_group_rule"]["security_group_id"] = own3["id"]
    assert error_type(api.post(RULES, body, project="p3", expect=404)) == "SecurityGroupNotFound"


def test_policy_in_use_while_target_ports_use_the_group(api):
    group = sg(api)
    policy = api.share("security_group", group["id"], "p2")
    net = api.network(project="p2")
    api.subnet(net["id"], project="p2")
    port = api.port(net["id"], project="p2", security_groups=[group["id"]])
    resp = api.delete(f"{RBAC}/{policy['id']}", expect=409)
    assert error_type(resp) == "RbacPolicyInUse"
    assert "project_id=p2" in resp.json()["NeutronError"]["message"]
    assert error_type(api.put(f"{RBAC}/{policy['id']}", {"rbac_policy": {"target_tenant": "p3"}},
                              expect=409)) == "RbacPolicyInUse"
    api.get(f"{RBAC}/{policy['id']}", expect=200)
    # a '*' entry keeps p2's access: then the named one may go
    wildcard = api.share("security_group", group["id"], "*", admin=True)
    api.delete(f"{RBAC}/{policy['id']}", expect=204)
    assert error_type(api.delete(f"{RBAC}/{wildcard['id']}", admin=True, expect=409)) == \
        "RbacPolicyInUse"
    api.delete(f"/v2.0/ports/{port['id']}", project="p2", expect=204)
    api.delete(f"{RBAC}/{wildcard['id']}", admin=True, expect=204)
    api.get(f"{SGS}/{group['id']}", project="p2", expect=404)


def test_retarget_and_errors(api):
    group = sg(api)
    policy = api.share("security_group", group["id"], "p2")
    moved = api.put(f"{RBAC}/{policy['id']}", {"rbac_policy": {"target_tenant": "p3"}},
                    expect=200).json()["rbac_policy"]
    assert moved["target_tenant"] == "p3"
    api.get(f"{SGS}/{group['id']}", project="p2", expect=404)
    api.get(f"{SGS}/{group['id']}", project="p3", expect=200)
    assert error_type(api.share("security_group", group["id"], "p3", expect=409)) == "DuplicateRbacPolicy"
    assert error_type(api.share("security_group", group["id"], "p2", project="p3", expect=400)) == "InvalidInput"
    missing = "00000000-0000-0000-0000-000000000000"
    assert error_type(api.share("security_group", missing, "p2", expect=404)) == "SecurityGroupNotFound"
    body = {"rbac_policy": {"object_type": "security_group", "object_id": group["id"],
                            "action": "access_as_external", "target_tenant": "p2"}}
    assert error_type(api.post(RBAC, body, expect=400)) == "InvalidActionForType"
    policies = api.get(f"{RBAC}?object_type=security_group").json()["rbac_policies"]
    assert [p["id"] for p in policies] == [policy["id"]]
    # deleting the group takes its policies
    api.delete(f"{SGS}/{group['id']}", expect=204)
    api.get(f"{RBAC}/{policy['id']}", expect=404)


def test_rules_belong_to_default_group(api):
    groups = api.get(SGS).json()["security_groups"]
    default = next(g for g in groups if g["name"] == "default")
    other = sg(api)
    assert all(r["belongs_to_default_sg"] for r in default["security_group_rules"])
    assert not any(r["belongs_to_default_sg"] for r in other["security_group_rules"])
    rules = api.get(f"{RULES}?belongs_to_default_sg=True").json()["security_group_rules"]
    assert {r["security_group_id"] for r in rules} == {default["id"]}
    rules = api.get(f"{RULES}?belongs_to_default_sg=false").json()["security_group_rules"]
    assert {r["security_group_id"] for r in rules} == {other["id"]}
    body = {"security_group_rule": {"security_group_id": default["id"], "direction": "ingress",
                                    "protocol": "tcp"}}
    made = api.post(RULES, body, expect=201).json()["security_group_rule"]
    assert made["belongs_to_default_sg"] is True
    assert api.get(f"{RULES}/{made['id']}").json()["security_group_rule"][
        "belongs_to_default_sg"] is True
    only = api.get(f"{RULES}/{made['id']}?fields=belongs_to_default_sg").json()
    assert only["security_group_rule"] == {"belongs_to_default_sg": True}


def test_admin_listing_a_project_makes_its_default_group(api):
    groups = api.get(f"{SGS}?project_id=p9&name=default", admin=True).json()["security_groups"]
    assert len(groups) == 1 and groups[0]["project_id"] == "p9"


def test_extensions_are_advertised(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"rbac-security-groups", "security-groups-shared-filtering",
            "security-groups-default-rules",
            "security-groups-rules-belongs-to-default-sg",
            "security-groups-default-statefulness"} <= aliases


def test_shared_group_on_another_projects_port_realises_as_an_own_group(api):
    """OVN: the target's port is in the owner's port group, whose ACLs are the
    group's rules; a remote-group rule names ``$pg_<group>_ip4``, the address
    set ovn-northd keeps from the port group's members of every project."""
    from neutrino.ovn import load
    from neutrino.ovn.security_groups import pg_name

    group = sg(api)
    api.share("security_group", group["id"], "p2")
    net = api.network(project="p2")
    api.subnet(net["id"], project="p2")
    port = api.port(net["id"], project="p2", security_groups=[group["id"]])
    own = sg(api, project="p2")
    body = {"security_group_rule": {"security_group_id": own["id"], "direction": "ingress",
                                    "remote_group_id": group["id"]}}
    api.post(RULES, body, project="p2", expect=201)
    settings = api.env.settings
    for loaded in (
            api.env.db.run(lambda s: load.load_all(s, base_mac=settings.base_mac,
                                                   lease_time=60), write=False),
            api.env.db.run(lambda s: load.load_resources(
                s, [("port", port["id"]), ("security_group", group["id"]),
                    ("security_group", own["id"])], base_mac=settings.base_mac,
                lease_time=60)[1], write=False)):
        pg = pg_name(group["id"])
        assert pg in loaded.ports[port["id"]].port_groups
        assert pg in loaded.port_groups
        rule_ids = {r["id"] for r in group["security_group_rules"]}
        assert rule_ids == {a.external_ids["neutron:security_group_rule_id"]
                            for a in loaded.acls.values() if a.port_group == pg}
        assert any(f"${pg}_ip4" in a.match for a in loaded.acls.values()
                   if a.port_group == pg_name(own["id"]))

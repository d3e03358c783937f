"""Rule templates through the API (extension security-groups-default-rules):
Neutron's four seeded templates, admin-only writes, reader reads, duplicates per
kind, and new groups taking their rules from the templates.
"""

from __future__ import annotations

from conftest import error_type

TEMPLATES = "/v2.0/default-security-group-rules"
SGS = "/v2.0/security-groups"


def template(api, expect=201, admin=True, **attrs):
    body = {"default_security_group_rule": {"direction": "ingress", "protocol": "tcp",
                                            "port_range_min": 22, "port_range_max": 22,
                                            "used_in_default_sg": False,
                                            "used_in_non_default_sg": True, **attrs}}
    resp = api.post(TEMPLATES, body, admin=admin, expect=expect)
    return resp.json()["default_security_group_rule"] if expect == 201 else resp


def keys(rule):
    return (rule["direction"], rule["ethertype"], rule["remote_group_id"],
            rule["used_in_default_sg"], rule["used_in_non_default_sg"])


def test_seeded_legacy_templates(api):
    rules = api.get(TEMPLATES).json()["default_security_group_rules"]
    assert sorted(map(keys, rules)) == [
        ("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
        ("ingress", "IPv4", "PARENT", True, False), ("ingress", "IPv6", "PARENT", True, False)]
    assert {r["description"] for r in rules} == {"Legacy default SG rule for egress traffic",
                                                 "Legacy default SG rule for ingress traffic"}
    assert set(rules[0]) == {"id", "direction", "ethertype", "protocol", "port_range_min",
                             "port_range_max", "remote_ip_prefix", "remote_group_id",
                             "remote_address_group_id", "description", "used_in_default_sg",
                             "used_in_non_default_sg"}
    only = api.get(f"{TEMPLATES}?used_in_non_default_sg=False").json()
    assert {r["remote_group_id"] for r in only["default_security_group_rules"]} == {"PARENT"}


def test_lifecycle_and_policy(api):
    assert error_type(template(api, admin=False, expect=403)) == "PolicyNotAuthorized"
    made = template(api, description="ssh")
    assert made["protocol"] == "tcp" and made["port_range_min"] == 22
    assert api.get(f"{TEMPLATES}/{made['id']}").json()["default_security_group_rule"] == made
    assert error_type(api.delete(f"{TEMPLATES}/{made['id']}", expect=403)) == \
        "PolicyNotAuthorized"
    api.delete(f"{TEMPLATES}/{made['id']}", admin=True, expect=204)
    resp = api.get(f"{TEMPLATES}/{made['id']}", expect=404)
    assert error_type(resp) == "DefaultSecurityGroupRuleNotFound"
    assert len(api.get(TEMPLATES).json()["default_security_group_rules"]) == 4


def test_bad_input_and_duplicates_change_nothing(api):
    body = {"default_security_group_rule": {"direction": "ingress"}}
    assert error_type(api.post(TEMPLATES, body, admin=True, expect=400)) == "HTTPBadRequest"
    assert error_type(template(api, port_range_min=30, port_range_max=20, expect=400)) == \
        "SecurityGroupInvalidPortRange"
    template(api, used_in_default_sg=True)
    resp = template(api, used_in_default_sg=True, used_in_non_default_sg=False, expect=409)
    assert error_type(resp) == "DefaultSecurityGroupRuleExists"
    resp = template(api, used_in_default_sg=False, used_in_non_default_sg=True, expect=409)
    assert error_type(resp) == "DefaultSecurityGroupRuleExists"
    pair = {"default_security_group_rules": [
        {"direction": "egress", "protocol": "udp", "used_in_default_sg": True,
         "used_in_non_default_sg": False}] * 2}
    assert error_type(api.post(TEMPLATES, pair, admin=True, expect=409)) == \
        "DuplicateDefaultSgRuleInPost"
    assert error_type(api.put(f"{TEMPLATES}/{api.get(TEMPLATES).json()['default_security_group_rules'][0]['id']}",
                              {"default_security_group_rule": {"description": "x"}},
                              admin=True, expect=400)) == "HTTPBadRequest"
    assert len(api.get(TEMPLATES).json()["default_security_group_rules"]) == 5


def test_new_groups_take_rules_from_the_templates(api):
    template(api, used_in_default_sg=False, used_in_non_default_sg=True)
    template(api, protocol="icmp", port_range_min=None, port_range_max=None,
             used_in_default_sg=True, used_in_non_default_sg=False)
    groups = api.get(SGS, project="p5").json()["security_groups"]
    default = groups[0]
    got = sorted((r["direction"], r["ethertype"], str(r["protocol"]), str(r["remote_group_id"]))
                 for r in default["security_group_rules"])
    me = default["id"]
    assert got == [("egress", "IPv4", "None", "None"), ("egress", "IPv6", "None", "None"),
                   ("ingress", "IPv4", "None", me), ("ingress", "IPv4", "icmp", "None"),
                   ("ingress", "IPv6", "None", me)]
    other = api.post(SGS, {"security_group": {"name": "web"}}, project="p5",
                     expect=201).json()["security_group"]
    got = sorted((r["direction"], r["ethertype"], str(r["protocol"]), str(r["port_range_min"]))
                 for r in other["security_group_rules"])
    assert got == [("egress", "IPv4", "None", "None"), ("egress", "IPv6", "None", "None"),
                   ("ingress", "IPv4", "tcp", "22")]

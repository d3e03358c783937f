"""QoS through the API (extensions qos, qos-default, qos-rule-type-details,
qos-bw-limit-direction, qos-bw-minimum-ingress, qos-pps, qos-rules-alias): policies,
rules and their conflicts, RBAC visibility, bindings on networks and ports, rule types,
Neutron's errors. ``mgr`` headers are a project manager's (Neutron's QoS write role)."""

from __future__ import annotations

from conftest import error_type
from sqlalchemy import delete, select
from test_api_routers import ext, fip, wired  # noqa: F401 (ext: the external network fixture)

from neutrino.db.models import OvnOutbox

POLICIES = "/v2.0/qos/policies"
MGR = {"X-Project-Id": "p1", "X-Roles": "manager,member,reader"}


def policy(api, project="p1", expect=201, **attrs):
    headers = {**MGR, "X-Project-Id": project}
    resp = api.request("POST", POLICIES, project=None, headers=headers, expect=expect,
                       json={"policy": {"name": "qp", **attrs}})
    return resp.json()["policy"] if expect == 201 else resp


def rule(api, policy_id, rtype, expect=201, **attrs):
    resp = api.request("POST", f"{POLICIES}/{policy_id}/{rtype}_rules", project=None,
                       headers=MGR, expect=expect, json={f"{rtype}_rule": attrs})
    return resp.json()[f"{rtype}_rule"] if expect == 201 else resp


def outbox(api):
    return api.env.db.run(lambda s: {(r.resource_type, r.resource_id) for r in
                                     s.scalars(select(OvnOutbox))}, write=False)


def test_policy_defaults_rules_and_alias(api):
    p = policy(api, description="d")
    assert (p["shared"], p["is_default"], p["rules"], p["tags"]) == (False, False, [], [])
    bw = rule(api, p["id"], "bandwidth_limit", max_kbps=10000)
    assert bw == {"id": bw["id"], "max_kbps": 10000, "max_burst_kbps": 0, "direction": "egress"}
    dscp = rule(api, p["id"], "dscp_marking", dscp_mark=26)
    shown = api.get(f"{POLICIES}/{p['id']}", expect=200).json()["policy"]
    assert {r["type"] for r in shown["rules"]} == {"bandwidth_limit", "dscp_marking"}
    assert shown["revision_number"] > p["revision_number"]
    alias = f"/v2.0/qos/alias_bandwidth_limit_rules/{bw['id']}"
    assert api.get(alias, expect=200).json()["bandwidth_limit_rule"]["max_kbps"] == 10000
    api.request("PUT", alias, project=None, headers=MGR, expect=200,
                json={"alias_bandwidth_limit_rule": {"max_kbps": 20000}})
    assert api.get(f"{POLICIES}/{p['id']}/bandwidth_limit_rules/{bw['id']}",
                   expect=200).json()["bandwidth_limit_rule"]["max_kbps"] == 20000
    api.request("DELETE", f"{POLICIES}/{p['id']}/dscp_marking_rules/{dscp['id']}",
                project=None, headers=MGR, expect=204)
    resp = api.get(f"{POLICIES}/{p['id']}/dscp_marking_rules/{dscp['id']}", expect=404)
    assert error_type(resp) == "QosRuleNotFound"


def test_rule_errors(api):
    p = policy(api)
    assert error_type(rule(api, p["id"], "dscp_marking", dscp_mark=7, expect=400)) \
        in ("InvalidInput", "HTTPBadRequest")
    assert rule(api, p["id"], "bandwidth_limit", expect=400)  # max_kbps is required
    rule(api, p["id"], "bandwidth_limit", max_kbps=1000)
    rule(api, p["id"], "bandwidth_limit", max_kbps=1000, direction="ingress")
    assert error_type(rule(api, p["id"], "bandwidth_limit", max_kbps=5, expect=409)) \
        == "QoSRulesConflict"
    assert error_type(rule(api, p["id"], "minimum_bandwidth", min_kbps=2000, expect=409)) \
        == "QoSRuleParameterConflict"
    rule(api, p["id"], "minimum_bandwidth", min_kbps=500, direction="ingress")
    # a member cannot write QoS policies (Neutron: admin or project manager), but a bad
    # body is 400 and another project's policy 404 first
    resp = api.post(POLICIES, {"policy": {"name": "x"}}, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    api.post(POLICIES, {"policy": {"name": "x" * 256}}, expect=400)
    assert error_type(api.put(f"{POLICIES}/{p['id']}", {"policy": {"name": "y"}},
                              project="p2", expect=404)) == "QosPolicyNotFound"
    assert error_type(api.put(f"{POLICIES}/{p['id']}", {"policy": {"name": "y"}},
                              expect=403)) == "PolicyNotAuthorized"
    # a rule's POST is checked first (403 even on another project's policy)
    resp = api.post(f"{POLICIES}/{p['id']}/dscp_marking_rules",
                    {"dscp_marking_rule": {"dscp_mark": 8}}, project="p2", expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"


def test_rbac_visibility_and_default(api):
    p = policy(api, is_default=True)
    assert p["is_default"] is True
    assert error_type(policy(api, is_default=True, expect=409)) == "QoSPolicyDefaultAlreadyExists"
    api.get(f"{POLICIES}/{p['id']}", project="p2", expect=404)
    api.post("/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": "qos_policy", "object_id": p["id"], "action": "access_as_shared",
        "target_tenant": "p2"}}, project=None, headers=MGR, expect=201)
    seen = api.get(f"{POLICIES}/{p['id']}", project="p2", expect=200).json()["policy"]
    assert seen["shared"] is True
    assert api.get(f"{POLICIES}?is_default=true", expect=200).json()["policies"][0]["id"] == p["id"]
    # the * entry, once a project named by no other entry uses the policy, is in use
    api.request("PUT", f"{POLICIES}/{p['id']}", project=None, headers=MGR, expect=200,
                json={"policy": {"shared": True}})
    api.network(project="p3", qos_policy_id=p["id"])
    assert error_type(api.request("PUT", f"{POLICIES}/{p['id']}", project=None, headers=MGR,
                                  json={"policy": {"shared": False}}, expect=409)) \
        == "RbacPolicyInUse"
    # the project's default goes on its new networks
    assert api.network()["qos_policy_id"] == p["id"]
    assert api.network(project="p2")["qos_policy_id"] is None


def test_network_and_port_bindings(api):
    p = policy(api)
    rule(api, p["id"], "bandwidth_limit", max_kbps=1000)
    net = api.network(qos_policy_id=p["id"])
    port = api.port(net["id"])
    assert (port["qos_policy_id"], port["qos_network_policy_id"]) == (None, p["id"])
    own = policy(api)
    updated = api.put(f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": own["id"]}},
                      expect=200).json()["port"]
    assert (updated["qos_policy_id"], updated["qos_network_policy_id"]) == (own["id"], p["id"])
    resp = api.request("DELETE", f"{POLICIES}/{own['id']}", project=None, headers=MGR,
                       expect=409)
    assert error_type(resp) == "QosPolicyInUse"
    # a rule change re-syncs the ports following the policy
    rule(api, own["id"], "dscp_marking", dscp_mark=10)
    assert ("port", port["id"]) in outbox(api)
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": None}}, expect=200)
    api.request("DELETE", f"{POLICIES}/{own['id']}", project=None, headers=MGR, expect=204)
    resp = api.put(f"/v2.0/networks/{net['id']}", {"network": {"qos_policy_id": own["id"]}},
                   expect=404)
    assert error_type(resp) == "QosPolicyNotFound"


def test_unsupported_rules_are_refused_where_ovn_enforces(api):
    pps = policy(api)
    rule(api, pps["id"], "packet_rate_limit", max_kpps=100)
    net = api.network()
    port = api.port(net["id"])
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": pps["id"]}},
                   expect=409)
    assert error_type(resp) == "QosRuleNotSupported"
    resp = api.put(f"/v2.0/networks/{net['id']}", {"network": {"qos_policy_id": pps["id"]}},
                   expect=409)
    assert error_type(resp) == "QosRuleNotSupportedByNetwork"
    bound = policy(api)
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": bound["id"]}}, expect=200)
    assert error_type(rule(api, bound["id"], "packet_rate_limit", max_kpps=1, expect=409)) \
        == "QosRuleNotSupported"


def test_rule_types(api):
    types = api.get("/v2.0/qos/rule-types", expect=200).json()["rule_types"]
    assert [t["type"] for t in types] == ["bandwidth_limit", "dscp_marking", "minimum_bandwidth"]
    assert error_type(api.get("/v2.0/qos/rule-types/bandwidth_limit", expect=403)) \
        == "NotAuthorized"
    detail = api.get("/v2.0/qos/rule-types/bandwidth_limit", admin=True,
                     expect=200).json()["rule_type"]
    (driver,) = detail["drivers"]
    params = {p["parameter_name"]: p for p in driver["supported_parameters"]}
    assert params["max_kbps"]["parameter_values"] == {"start": 0, "end": 2 ** 31 - 1}
    assert params["direction"] == {"parameter_name": "direction", "parameter_type": "choices",
                                   "parameter_values": ["egress", "ingress"]}
    assert api.get("/v2.0/qos/rule-types/packet_rate_limit", admin=True,
                   expect=200).json()["rule_type"]["drivers"] == []
    assert error_type(api.get("/v2.0/qos/rule-types/nope", admin=True, expect=404)) \
        == "RuleTypeNotFound"


def test_policy_tags(api):
    p = policy(api, tags=["a"])
    assert p["tags"] == ["a"]
    path = f"{POLICIES}/{p['id']}/tags"
    api.request("PUT", path + "/b", project=None, headers=MGR, expect=201)
    assert sorted(api.get(path, expect=200).json()["tags"]) == ["a", "b"]
    api.request("DELETE", path + "/a", project=None, headers=MGR, expect=204)
    assert api.get(f"{POLICIES}/{p['id']}", expect=200).json()["policy"]["tags"] == ["b"]
    api.put(path, {"tags": ["x"]}, expect=403)  # a member does not change QoS policies


def test_floating_ips_show_and_follow_their_external_networks_policy(api, ext):
    """qos-fip-network-policy: ``qos_network_policy_id`` is the external network's
    policy, read only; a network policy change re-syncs the routers of its floating IPs."""
    assert "qos-fip-network-policy" in {
        e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    net, _ = ext
    r, port = wired(api, ext)
    p, own = policy(api), policy(api)
    free = fip(api, net["id"])
    assert (free["qos_policy_id"], free["qos_network_policy_id"]) == (None, None)
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"qos_policy_id": p["id"]}}, admin=True,
            expect=200)
    assert ("router", r["id"]) not in outbox(api)  # not associated: no router to re-sync
    bound = api.put(f"/v2.0/floatingips/{free['id']}", {"floatingip": {
        "port_id": port["id"], "qos_policy_id": own["id"]}}, expect=200).json()["floatingip"]
    assert (bound["qos_policy_id"], bound["qos_network_policy_id"]) == (own["id"], p["id"])
    listed = api.get("/v2.0/floatingips?fields=id&fields=qos_network_policy_id").json()
    assert listed["floatingips"] == [{"id": free["id"], "qos_network_policy_id": p["id"]}]
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    rule(api, p["id"], "dscp_marking", dscp_mark=10)  # the network's policy changes
    assert ("router", r["id"]) in outbox(api)
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"qos_policy_id": None}}, admin=True,
            expect=200)
    assert ("router", r["id"]) in outbox(api)
    # read only, as Neutron's attribute map (allow_post/allow_put False)
    for method, path, body in (
            ("POST", "/v2.0/floatingips", {"floating_network_id": net["id"]}),
            ("PUT", f"/v2.0/floatingips/{free['id']}", {})):
        resp = api.request(method, path, expect=400, json={"floatingip": {
            **body, "qos_network_policy_id": p["id"]}})
        assert error_type(resp) == "HTTPBadRequest"


def test_policy_tags_ignore_a_tag_query_parameter(api):
    """``?tag=x`` on the collection of a policy's tags is no argument (was a 500: the
    handler got an unexpected ``tag``); Neutron ignores unknown query parameters here."""
    p = policy(api, tags=["a"])
    path = f"{POLICIES}/{p['id']}/tags"
    assert api.get(path, params={"tag": "x"}, expect=200).json()["tags"] == ["a"]
    assert api.request("POST", path, project=None, headers=MGR, params={"tag": "x"},
                       json={"tags": ["b"]}, expect=201).json()["tags"]
    api.request("DELETE", path, project=None, headers=MGR, params={"tag": "x"}, expect=204)
    assert api.get(path, expect=200).json()["tags"] == []

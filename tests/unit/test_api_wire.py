"""The wire declarations (``api/wire``): list, show, create and update answers rendered
from domain rows by a resource's declaration hold what the resource is (explicit
facts), alike for list and show, for every kind of caller and with ``fields=``; and
the declarations agree with the request schemas and the list specs."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from neutrino.api.schemas.address_groups import AddressGroupUpdate
from neutrino.api.schemas.agents import AgentUpdate
from neutrino.api.schemas.flavors import FlavorUpdate, ServiceProfileUpdate
from neutrino.api.schemas.network_logs import LogUpdate
from neutrino.api.schemas.networks import NetworkUpdate
from neutrino.api.schemas.port_forwardings import PortForwardingUpdate
from neutrino.api.schemas.ports import PortUpdate
from neutrino.api.schemas.qos import RULE_SCHEMAS, QosPolicyUpdate
from neutrino.api.schemas.rbac import RbacPolicyUpdate
from neutrino.api.schemas.routers import FloatingIPUpdate, RouterUpdate
from neutrino.api.schemas.security_groups import (DefaultSecurityGroupRuleUpdate,
                                                  SecurityGroupRuleUpdate, SecurityGroupUpdate)
from neutrino.api.schemas.segment_ranges import NetworkSegmentRangeUpdate
from neutrino.api.schemas.segments import SegmentUpdate
from neutrino.api.schemas.sg_default_statefulness import SettingUpdate
from neutrino.api.schemas.subnetpools import AddressScopeUpdate, SubnetPoolUpdate
from neutrino.api.schemas.subnets import SubnetUpdate
from neutrino.api.schemas.trunks import TrunkUpdate
from neutrino.api.wire.address_groups import ADDRESS_GROUP
from neutrino.api.wire.agents import AGENT
from neutrino.api.wire.address_scopes import ADDRESS_SCOPE
from neutrino.api.wire.default_security_group_rules import DEFAULT_SECURITY_GROUP_RULE
from neutrino.api.wire.flavors import FLAVOR, SERVICE_PROFILE
from neutrino.api.wire.floatingips import FLOATINGIP
from neutrino.api.wire.network_logs import NETWORK_LOG
from neutrino.api.wire.networks import NETWORK
from neutrino.api.wire.port_forwardings import PORT_FORWARDING
from neutrino.api.wire.ports import PORT
from neutrino.api.wire.qos_policies import QOS_POLICY
from neutrino.api.wire.qos_rules import RULES
from neutrino.api.wire.rbac_policies import RBAC_POLICY
from neutrino.api.wire.routers import ROUTER
from neutrino.api.wire.security_groups import SECURITY_GROUP, SECURITY_GROUP_RULE
from neutrino.api.wire.segment_ranges import SEGMENT_RANGE
from neutrino.api.wire.segments import SEGMENT
from neutrino.api.wire.sg_default_statefulness import SG_DEFAULT_STATEFULNESS
from neutrino.api.wire.subnetpools import SUBNETPOOL
from neutrino.api.wire.subnets import SUBNET
from neutrino.api.wire.trunks import TRUNK
from neutrino.db.models import Agent
from neutrino.services import (address_groups, address_scopes, agents,
                               default_security_group_rules, flavors, floatingips,
                               network_logs,
                               networks, port_forwardings, ports,
                               qos, qos_rule_reads, rbac, routers, security_groups,
                               segment_ranges, segments, sg_default_statefulness, subnetpools,
                               subnets, trunks)
from neutrino.services.context import Context

ADMIN = {"project": "p1", "admin": True}
USER = {"project": "p1"}
NOVA = {"headers": {"X-Project-Id": "nova", "X-Roles": "service"}, "project": None}
MANAGER = {"headers": {"X-Project-Id": "p1", "X-Roles": "manager,member,reader"},
           "project": None}
CONTEXTS = {"admin": Context("p1", frozenset({"admin", "member", "reader"})),
            "user": Context("p1", frozenset({"member", "reader"})),
            "service": Context("nova", frozenset({"service"})),
            "manager": Context("p1", frozenset({"manager", "member", "reader"}))}
CALLERS = {"admin": {"admin": True}, "user": {}, "service": NOVA, "manager": MANAGER}


@pytest.mark.parametrize("resource,service,schema", [
    (PORT, ports.SPEC, PortUpdate), (NETWORK, networks.SPEC, NetworkUpdate),
    (SUBNET, subnets._caller_spec(CONTEXTS["user"]), SubnetUpdate),
    (FLOATINGIP, floatingips.SPEC, FloatingIPUpdate), (ROUTER, routers.SPEC, RouterUpdate),
    (SECURITY_GROUP, security_groups.SPEC, SecurityGroupUpdate),
    (SECURITY_GROUP_RULE, security_groups.RULE_SPEC, SecurityGroupRuleUpdate),
    (SEGMENT, segments.SPEC, SegmentUpdate),
    (ADDRESS_SCOPE, address_scopes.SPEC, AddressScopeUpdate),
    (SUBNETPOOL, subnetpools.SPEC, SubnetPoolUpdate),
    (ADDRESS_GROUP, address_groups.SPEC, AddressGroupUpdate),
    (RBAC_POLICY, rbac.SPEC, RbacPolicyUpdate),
    (SEGMENT_RANGE, segment_ranges.SPEC, NetworkSegmentRangeUpdate),
    (QOS_POLICY, qos.SPEC, QosPolicyUpdate), (TRUNK, trunks.SPEC, TrunkUpdate),
    *[(RULES[t], qos_rule_reads.READERS[t].spec, RULE_SCHEMAS[t][1]) for t in RULES],
    (PORT_FORWARDING, port_forwardings.SPEC, PortForwardingUpdate),
    (NETWORK_LOG, network_logs.SPEC, LogUpdate),
    (FLAVOR, flavors.FLAVOR_SPEC, FlavorUpdate),
    (SERVICE_PROFILE, flavors.PROFILE_SPEC, ServiceProfileUpdate),
    (DEFAULT_SECURITY_GROUP_RULE, default_security_group_rules.SPEC,
     DefaultSecurityGroupRuleUpdate),
    (AGENT, agents.list_spec(CONTEXTS["admin"], SimpleNamespace(
        settings=SimpleNamespace(agent_down_time=75))), AgentUpdate),
    (SG_DEFAULT_STATEFULNESS, sg_default_statefulness.SPEC, SettingUpdate)])
def test_declarations_agree_with_schemas_and_list_specs(resource, service, schema):
    """Request bodies know the declared names; every filter and sort key of the list
    spec is a declared attribute, but for Neutron's filters that are none:
    ``changed_since`` and a subnet's ``shared`` (its network's)."""
    assert schema.ATTRIBUTES == resource.names
    declared = {a.name for a in resource.attributes}
    not_attributes = {"changed_since"} | ({"shared"} if resource is SUBNET else set())
    assert set(service.filters) - not_attributes <= declared
    assert set(service.sort_keys) <= declared


@pytest.fixture
def cloud(api):
    net = api.network(**{"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                         "provider:segmentation_id": 42})
    sub = api.subnet(net["id"], "10.0.0.0/24")
    api.subnet(net["id"], "fd00::/64")
    port = api.post("/v2.0/ports", {"port": {
        "network_id": net["id"], "trusted": True, "binding:host_id": "h1", "tags": ["b", "a"],
        "binding:profile": {"k": "v"}, "dns_name": "", "allowed_address_pairs": [
            {"ip_address": "10.0.0.99"}]}}, **ADMIN, expect=201).json()["port"]
    plain = api.port(net["id"], fixed_ips=[{"subnet_id": sub["id"]}])
    return net, [port, plain]


def _call(api, who, path):
    return api.get(path, expect=200, **{"project": "p1", **CALLERS[who]}).json()


def _lists_and_shows(api, who, path: str, plural: str, singular: str, seen: list[dict],
                     by_id: bool = True) -> None:
    """The collection at ``path`` lists ``seen`` (the answers expected) for ``who``, shows
    each of them, and (``by_id``) lists each alone with ``?id=``."""
    assert _call(api, who, path)[plural] == seen
    for expected in seen:
        assert _call(api, who, f"{path}/{expected['id']}")[singular] == expected
        if by_id:
            assert _call(api, who, f"{path}?id={expected['id']}")[plural] == [expected]


def _denied(api, who, path: str, some_id: str) -> None:
    """``who`` reads none of the collection at ``path``: 403 on its list and on showing
    ``some_id``."""
    kw = {"project": "p1", **CALLERS[who]}
    api.get(path, **kw, expect=403)
    api.get(f"{path}/{some_id}", **kw, expect=403)


def _sorted_fields(api, who, path: str, plural: str, seen: list[dict],
                   fields: tuple[str, ...], key: str, order=None) -> None:
    """``fields=`` of a list sorted by ``key`` descending, then id, equals those of
    ``seen`` (all the caller lists at ``path``, which may hold filters) sorted alike;
    ``order(dict)`` is the sort value (default: ``dict[key]``)."""
    expected = sorted(seen, key=lambda d: d["id"])
    expected.sort(key=order or (lambda d: d[key]), reverse=True)
    asked = "&".join(f"fields={f}" for f in fields)
    assert _call(api, who, f"{path}{'&' if '?' in path else '?'}{asked}&sort_key={key}"
                 "&sort_dir=desc&sort_key=id"
                 "&sort_dir=asc")[plural] == [{f: d[f] for f in fields} for d in expected]


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_ports_and_networks_render_from_their_declarations(api, cloud, who):
    net, made = cloud
    binding = {"binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details"}
    for port in made:  # made by admin (the first) and by p1's member
        shown = _call(api, who, f"/v2.0/ports/{port['id']}")["port"]
        assert _call(api, who, f"/v2.0/ports?id={port['id']}")["ports"] == [shown]
        # the binding attributes are admin or service (Nova), trusted admin only (A.5)
        assert (binding <= set(shown), "trusted" in shown) == (who != "user", who == "admin")
        assert {k: v for k, v in shown.items() if k not in binding | {"trusted"}} == {
            k: v for k, v in port.items() if k not in binding | {"trusted"}}
    assert (made[0]["binding:host_id"], made[0]["binding:vif_type"], made[0]["tags"],
            made[0]["allowed_address_pairs"][0]["ip_address"]) == ("h1", "ovs", ["a", "b"],
                                                                    "10.0.0.99")
    if who != "service":  # the service role sees no other project's network
        shown = _call(api, who, f"/v2.0/networks/{net['id']}")["network"]
        assert _call(api, who, f"/v2.0/networks?id={net['id']}")["networks"] == [shown]
        # the provider attributes are admin only (A.5); the subnets were added after
        assert shown.get("provider:segmentation_id") == (42 if who == "admin" else None)
        assert {k: v for k, v in shown.items() if k not in (
            "subnets", "revision_number", "updated_at")} == {
                k: v for k, v in net.items() if k not in (
                    "subnets", "revision_number", "updated_at")
                and (who == "admin" or not k.startswith("provider:") and k != "segments")}
        assert len(shown["subnets"]) == 2 and shown["l2_adjacency"] is True
        listed = _call(api, who, "/v2.0/subnets")["subnets"]
        assert sorted(s["id"] for s in listed) == sorted(shown["subnets"])
        for sub in listed:
            assert _call(api, who, f"/v2.0/subnets/{sub['id']}")["subnet"] == sub
            assert _call(api, who, f"/v2.0/subnets?id={sub['id']}")["subnets"] == [sub]
            assert ("segment_id" in sub) == (who == "admin")  # admin only (A.5)


def test_fields_select_only_what_the_caller_may_read(api, cloud):
    _, (port, _) = cloud
    got = api.get("/v2.0/ports?fields=id&fields=binding:host_id&fields=bogus",
                  expect=200).json()["ports"]
    assert {p["id"] for p in cloud[1]} <= {d["id"] for d in got}  # and the metadata port
    assert all(set(d) == {"id"} for d in got)  # binding:host_id is admin or service only
    one = api.get(f"/v2.0/ports/{port['id']}?fields=dns_assignment&fields=binding:profile",
                  admin=True, expect=200).json()["port"]
    assert one == {"binding:profile": {"k": "v", "trusted": True},
                   "dns_assignment": port["dns_assignment"]}
    for _ in range(2):
        api.post("/v2.0/qos/policies", {"policy": {"name": "g"}}, **ADMIN, expect=201)
    # two declared collections: the next link's marker is a rendered row's id
    for path, plural in (("ports", "ports"), ("qos/policies", "policies")):
        page = api.get(f"/v2.0/{path}?fields=name&limit=1", expect=200).json()
        assert set(page[plural][0]) == {"name"}
        assert page[f"{plural}_links"][0]["rel"] == "next"
        assert "marker=" in page[f"{plural}_links"][0]["href"]


def _routed(api) -> tuple[dict, dict, dict]:
    """``(external network, p1's network, router)``: the router's gateway on the first,
    its interface on the second's 10.0.0.0/24."""
    ext = api.network(**{"router:external": True})
    api.subnet(ext["id"], "172.24.4.0/24", project="p1")
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    router = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": ext["id"]}}}, **ADMIN, expect=201).json()["router"]
    api.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    return ext, net, router


def test_floating_ips_render_from_their_declaration(api):
    ext, net, router = _routed(api)
    port = api.port(net["id"])
    made = [api.post("/v2.0/floatingips", {"floatingip": {
        "floating_network_id": ext["id"], **extra}}, expect=201).json()["floatingip"]
        for extra in ({"port_id": port["id"]}, {})]
    assert set(made[0]) == {
        "id", "description", "project_id", "tenant_id", "created_at", "updated_at",
        "revision_number", "tags", "floating_network_id", "floating_ip_address", "router_id",
        "port_id", "fixed_ip_address", "status", "port_details", "port_forwardings",
        "dns_name", "dns_domain", "qos_policy_id", "qos_network_policy_id"}
    assert (made[0]["port_id"], made[0]["router_id"], made[0]["fixed_ip_address"],
            made[1]["port_id"], made[1]["port_details"]) == (
        port["id"], router["id"], port["fixed_ips"][0]["ip_address"], None, None)
    for who in ("admin", "user"):
        for expected in made:  # a floating IP reads alike for its project and admins
            assert _call(api, who, f"/v2.0/floatingips/{expected['id']}")[
                "floatingip"] == expected
            assert _call(api, who, f"/v2.0/floatingips?id={expected['id']}")[
                "floatingips"] == [expected]
    assert made[0]["port_details"]["device_owner"] == ""
    assert api.get("/v2.0/floatingips?fields=port_id", expect=200).json()["floatingips"] in (
        [{"port_id": port["id"]}, {"port_id": None}], [{"port_id": None}, {"port_id": port["id"]}])
    moved = api.put(f"/v2.0/floatingips/{made[1]['id']}", {"floatingip": {
        "port_id": port["id"], "description": "d"}}, expect=409).json()  # port taken
    assert moved["NeutronError"]["type"] == "FloatingIPPortAlreadyAssociated"
    updated = api.put(f"/v2.0/floatingips/{made[0]['id']}", {"floatingip": {
        "port_id": None, "description": "d"}}, expect=200).json()["floatingip"]
    assert updated == api.get(f"/v2.0/floatingips/{made[0]['id']}", expect=200).json()[
        "floatingip"]
    assert (updated["port_id"], updated["port_details"], updated["description"]) == (
        None, None, "d")


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_routers_render_from_their_declaration(api, who):
    """The service role reads no router (Neutron's get_router: admin or project reader):
    403 before any row is read. Admins read ``ha`` too; the actions that change a router
    answer it as its show does."""
    ext = api.network(**{"router:external": True})
    api.subnet(ext["id"], "172.24.4.0/24", project="p1")
    sub = api.subnet(api.network()["id"], "10.0.0.0/24")
    policy = api.post("/v2.0/qos/policies", {"policy": {"name": "q"}}, **ADMIN,
                      expect=201).json()["policy"]
    gateway = {"network_id": ext["id"], "qos_policy_id": policy["id"]}
    made = [api.post("/v2.0/routers", {"router": body}, **ADMIN, expect=201).json()["router"]
            for body in ({"external_gateway_info": gateway}, {"name": "plain"},
                         {"project_id": "nova", "external_gateway_info": {
                             "network_id": ext["id"]}})]
    api.put(f"/v2.0/routers/{made[0]['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    api.put(f"/v2.0/routers/{made[0]['id']}/tags/t", None, expect=201)
    api.put(f"/v2.0/routers/{made[0]['id']}", {"router": {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.0.0.5"}]}}, expect=200)
    if who == "service":
        api.get(f"/v2.0/routers/{made[2]['id']}", **NOVA, expect=403)
        api.get("/v2.0/routers", **NOVA, expect=403)
        return
    seen = _call(api, who, "/v2.0/routers")["routers"]
    assert len(seen) == {"admin": 3, "user": 2}[who]
    for expected in seen:
        assert _call(api, who, f"/v2.0/routers/{expected['id']}")["router"] == expected
        assert _call(api, who, f"/v2.0/routers?id={expected['id']}")["routers"] == [expected]
    plain = next(r for r in seen if r["id"] == made[1]["id"])
    assert plain == _call(api, who, f"/v2.0/routers/{made[1]['id']}")["router"]
    assert (plain["external_gateway_info"], plain["external_gateways"], plain["routes"]) == (
        None, [], [])
    assert ("ha" in seen[0]) == (who == "admin")
    if who == "admin":
        got = _call(api, who, f"/v2.0/routers/{made[0]['id']}")["router"]
        assert got["external_gateway_info"]["qos_policy_id"] == policy["id"]
        assert got["routes"] and got["tags"] == ["t"]
        one = _call(api, who, f"/v2.0/routers/{made[0]['id']}?fields=external_gateways")
        assert one["router"] == {"external_gateways": got["external_gateways"]}
    route = {"destination": "192.168.1.0/24", "nexthop": "10.0.0.6"}
    kw = {"admin": True} if who == "admin" else {}
    for action in ("add_extraroutes", "remove_extraroutes"):
        answered = api.put(f"/v2.0/routers/{made[0]['id']}/{action}", {"router": {
            "routes": [route]}}, expect=200, **kw).json()["router"]
        assert answered == _call(api, who, f"/v2.0/routers/{made[0]['id']}")["router"]
        assert (route in answered["routes"]) == (action == "add_extraroutes")
    changed = api.put(f"/v2.0/routers/{made[1]['id']}", {"router": {"name": "renamed"}},
                      expect=200, **kw).json()["router"]
    assert changed == _call(api, who, f"/v2.0/routers/{made[1]['id']}")["router"]
    assert changed["name"] == "renamed"


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_security_groups_and_rules_render_from_their_declarations(api, who):
    """Groups (own, another project's shared with p1 by RBAC, the default one) and
    their rules. The service role reads neither (get_security_group(_rule): admin or
    project reader): 403 before any row is read."""
    mine = api.post("/v2.0/security-groups", {"security_group": {"name": "web"}},
                    expect=201).json()["security_group"]
    rule = api.post("/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": mine["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.7/24"}},
        expect=201).json()["security_group_rule"]
    assert rule == api.get(f"/v2.0/security-group-rules/{rule['id']}", expect=200).json()[
        "security_group_rule"]
    described = api.put(f"/v2.0/security-group-rules/{rule['id']}", {
        "security_group_rule": {"description": "ssh"}}, expect=200).json()["security_group_rule"]
    assert described == api.get(f"/v2.0/security-group-rules/{rule['id']}", expect=200).json()[
        "security_group_rule"]
    assert (described["description"], described["belongs_to_default_sg"]) == ("ssh", False)
    api.put(f"/v2.0/security-groups/{mine['id']}/tags/t", None, expect=201)
    theirs = api.post("/v2.0/security-groups", {"security_group": {"name": "x"}},
                      project="p2", expect=201).json()["security_group"]
    api.post("/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": "security_group", "object_id": theirs["id"],
        "action": "access_as_shared", "target_tenant": "p1"}}, project="p2", expect=201)
    if who == "service":
        for path in ("security-groups", "security-group-rules"):
            api.get(f"/v2.0/{path}", **NOVA, expect=403)
        api.get(f"/v2.0/security-groups/{mine['id']}", **NOVA, expect=403)
        return
    seen = _call(api, who, "/v2.0/security-groups")["security_groups"]
    assert {mine["id"], theirs["id"]} <= {g["id"] for g in seen}
    for expected in seen:
        assert _call(api, who, f"/v2.0/security-groups/{expected['id']}")[
            "security_group"] == expected
        assert _call(api, who, f"/v2.0/security-groups?id={expected['id']}")[
            "security_groups"] == [expected]
    by_id = {g["id"]: g for g in seen}
    assert (by_id[theirs["id"]]["shared"], by_id[mine["id"]]["shared"],
            by_id[mine["id"]]["tags"]) == (True, False, ["t"])
    assert set(mine) == {"id", "name", "description", "project_id", "tenant_id",
                         "created_at", "updated_at", "revision_number", "tags", "stateful",
                         "shared", "security_group_rules"}
    rules = _call(api, who, "/v2.0/security-group-rules")["security_group_rules"]
    assert {r["belongs_to_default_sg"] for r in rules} == {True, False}
    # a group's own rules read as the rules collection reads them
    assert sorted((r for g in seen if g["project_id"] == "p1"
                   for r in g["security_group_rules"]), key=lambda r: r["id"]) == sorted(
        (r for r in rules if r["project_id"] == "p1"), key=lambda r: r["id"])
    for expected in rules:
        assert _call(api, who, f"/v2.0/security-group-rules/{expected['id']}")[
            "security_group_rule"] == expected
        assert _call(api, who, f"/v2.0/security-group-rules?id={expected['id']}")[
            "security_group_rules"] == [expected]
    got = _call(api, who, "/v2.0/security-group-rules?fields=normalized_cidr&protocol=tcp")
    assert {"normalized_cidr": "10.0.0.0/24"} in got["security_group_rules"]


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_segments_render_from_their_declaration(api, cloud, who):
    """Admins read every segment (the network's own and one added, with their
    attributes); members list none and show none (404); the service role reads none
    (get_segment needs a reader role: 403)."""
    net, _ = cloud
    made = api.post("/v2.0/segments", {"segment": {
        "network_id": net["id"], "network_type": "vlan", "physical_network": "physnet1",
        "segmentation_id": 43, "name": "s2"}}, **ADMIN, expect=201).json()["segment"]
    if who == "service":
        _denied(api, who, "/v2.0/segments", made["id"])
        return
    listed = _call(api, who, "/v2.0/segments")["segments"]
    if who == "user":
        assert listed == []
        api.get(f"/v2.0/segments/{made['id']}", expect=404)
        return
    assert sorted((s["network_id"], s["network_type"], s["physical_network"],
                   s["segmentation_id"], s["name"]) for s in listed) == [
        (net["id"], "vlan", "physnet1", 42, None), (net["id"], "vlan", "physnet1", 43, "s2")]
    assert set(made) == {"id", "network_id", "name", "description", "network_type",
                         "physical_network", "segmentation_id", "revision_number",
                         "created_at", "updated_at"}
    assert made in listed
    _lists_and_shows(api, who, "/v2.0/segments", "segments", "segment", listed)


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_address_scopes_render_from_their_declaration(api, who):
    """Own, shared with everyone, shared with p1 by RBAC, another project's private one:
    each with its attributes, ``shared`` as the caller sees it (true where an entry names
    its project). The service role reads none (get_address_scope needs a reader role):
    403."""
    made = [api.post("/v2.0/address-scopes", {"address_scope": {"ip_version": 4, **extra}},
                     expect=201, **kw).json()["address_scope"]
            for extra, kw in (({"name": "own"}, {}), ({"shared": True}, ADMIN),
                              ({}, {"project": "p2"}), ({}, {"project": "p3"}))]
    api.post("/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": "address_scope", "object_id": made[2]["id"],
        "action": "access_as_shared", "target_tenant": "p1"}}, project="p2", expect=201)
    if who == "service":
        _denied(api, who, "/v2.0/address-scopes", made[1]["id"])
        return

    def scope(i: int, project: str, name: str, shared: bool) -> dict:
        return {"id": made[i]["id"], "name": name, "project_id": project,
                "tenant_id": project, "shared": shared, "ip_version": 4}
    seen = [scope(0, "p1", "own", False), scope(1, "p1", "", True), scope(2, "p2", "", True)]
    if who == "admin":
        seen.append(scope(3, "p3", "", False))
    seen.sort(key=lambda d: d["id"])
    _lists_and_shows(api, who, "/v2.0/address-scopes", "address_scopes", "address_scope", seen,
                     by_id=False)
    # the sort reads the stored flag (only the admin's scope is shared with everyone),
    # as Neutron's database sort does; the answer shows the caller's view
    stored = {made[1]["id"]}
    assert _call(api, who, "/v2.0/address-scopes?fields=shared&sort_key=shared&sort_key=id")[
        "address_scopes"] == [{"shared": d["shared"]}
                              for d in sorted(seen, key=lambda d: (d["id"] in stored, d["id"]))]


def test_create_and_update_answer_what_show_answers(api):
    """Resources whose service returns what it wrote (``listing.Written``): the create
    and update answers are rendered as a show renders them, for the caller; an update
    answers the change (``shows``: as the API reads it) and nothing else new but its
    revision and time stamp (agents, which the API only updates, have neither)."""
    for path, singular, body, kw, change, shows in (
            ("address-scopes", "address_scope", {"ip_version": 4, "name": "a"}, {},
             {"name": "b"}, {"name": "b"}),
            ("address-scopes", "address_scope", {"ip_version": 6, "shared": True}, ADMIN,
             {"name": "c"}, {"name": "c"}),
            ("subnetpools", "subnetpool", {"name": "p", "prefixes": ["10.30.0.0/16"],
                                           "tags": ["t"]}, {},
             {"description": "d", "max_prefixlen": 28}, {"description": "d",
                                                         "max_prefixlen": "28"}),
            ("network-segment-ranges", "network_segment_range", {
                "name": "r", "network_type": "geneve", "minimum": 5000, "maximum": 5003},
             ADMIN, {"maximum": 5001}, {"maximum": 5001, "available": [5000, 5001]}),
            ("segments", "segment", {"network_id": "NET", "network_type": "vlan",
                                     "physical_network": "physnet1", "segmentation_id": 44},
             ADMIN, {"name": "s", "description": "d"}, {"name": "s", "description": "d"}),
            ("security-groups", "security_group", {"name": "sg"}, {},
             {"description": "d"}, {"description": "d"}),
            ("networks", "network", {"name": "n", "shared": True}, ADMIN,
             {"mtu": 1400, "is_default": False}, {"mtu": 1400}),
            ("networks", "network", {"name": "m"}, {}, {"admin_state_up": False},
             {"admin_state_up": False}),
            ("subnets", "subnet", {"network_id": "NET", "cidr": "10.7.0.0/24",
                                   "ip_version": 4}, {},
             {"name": "s", "dns_nameservers": ["10.7.0.53"]},
             {"name": "s", "dns_nameservers": ["10.7.0.53"]}),
            ("ports", "port", {"network_id": "NET", "tags": ["z", "y"], "name": "p"}, {},
             {"name": "q", "admin_state_up": False}, {"name": "q", "admin_state_up": False}),
            ("ports", "port", {"network_id": "NET", "binding:host_id": "h", "tags": ["t"]},
             ADMIN, {"binding:host_id": "h2"}, {"binding:host_id": "h2"}),
            ("qos/policies", "policy", {"name": "q", "tags": ["b", "a"]}, MANAGER,
             {"is_default": True, "shared": False}, {"is_default": True}),
            ("qos/policies", "policy", {"name": "s", "shared": True}, ADMIN,
             {"description": "d", "shared": False}, {"description": "d", "shared": False}),
            ("trunks", "trunk", {"port_id": "PORT", "name": "t"}, {},
             {"admin_state_up": False, "description": "d"},
             {"admin_state_up": False, "description": "d"}),
            ("log/logs", "log", {"resource_type": "security_group", "name": "l"}, ADMIN,
             {"enabled": False, "description": "d"}, {"enabled": False, "description": "d"}),
            ("flavors", "flavor", {"service_type": "L3_ROUTER_NAT", "name": "f"}, ADMIN,
             {"enabled": False, "description": "d"}, {"enabled": False, "description": "d"}),
            ("service_profiles", "service_profile", {"metainfo": "m"}, ADMIN,
             {"description": "d", "metainfo": "n"}, {"description": "d", "metainfo": "n"}),
            # templates have no writable attribute: an empty update answers the template
            ("default-security-group-rules", "default_security_group_rule", {
                "direction": "egress", "protocol": "udp", "used_in_default_sg": False,
                "used_in_non_default_sg": True}, ADMIN, {}, {}),
            ("security-groups-default-statefulness", "security_groups_default_statefulness",
             {"project_id": "p1", "stateful": False}, ADMIN, {"stateful": True},
             {"stateful": True}),
            ("rbac-policies", "rbac_policy", {"object_type": "network", "object_id": "NET",
                                              "action": "access_as_shared",
                                              "target_tenant": "p2"}, {},
             {"target_tenant": "p3"}, {"target_tenant": "p3"}),
            ("floatingips/FIP/port_forwardings", "port_forwarding", {
                "protocol": "tcp", "internal_port_id": "PORT", "internal_port": 22,
                "external_port": 2222}, {}, {"external_port_range": "2000:2009",
                                             "internal_port_range": "3000:3009"},
             {"external_port": None, "internal_port": None,
              "external_port_range": "2000:2009", "internal_port_range": "3000:3009"}),
            ("qos/policies/POLICY/bandwidth_limit_rules", "bandwidth_limit_rule",
             {"max_kbps": 10}, ADMIN, {"max_burst_kbps": 5}, {"max_burst_kbps": 5}),
            ("qos/policies/POLICY/dscp_marking_rules", "dscp_marking_rule",
             {"dscp_mark": 10}, ADMIN, {"dscp_mark": 12}, {"dscp_mark": 12}),
            ("address-groups", "address_group", {"addresses": ["10.0.0.0/24"]}, {},
             {"name": "g"}, {"name": "g"})):
        if "FIP" in path:
            ext, net, _ = _routed(api)
            path = path.replace("FIP", api.post("/v2.0/floatingips", {"floatingip": {
                "floating_network_id": ext["id"]}}, expect=201).json()["floatingip"]["id"])
            body = {**body, "internal_port_id": api.port(net["id"])["id"]}
        if "POLICY" in path:
            path = path.replace("POLICY", api.post("/v2.0/qos/policies", {"policy": {
                "name": "r"}}, expect=201, **ADMIN).json()["policy"]["id"])
        for key in ("network_id", "object_id"):
            if body.get(key) == "NET":
                body = {**body, key: api.network()["id"]}
        if body.get("port_id") == "PORT":
            body = {**body, "port_id": api.port(api.network()["id"])["id"]}
        made = api.post(f"/v2.0/{path}", {singular: body}, expect=201, **kw).json()[singular]
        shown = api.get(f"/v2.0/{path}/{made['id']}", expect=200, **kw).json()[singular]
        assert made == shown
        updated = api.put(f"/v2.0/{path}/{made['id']}", {singular: change}, expect=200,
                          **kw).json()[singular]
        assert updated == api.get(f"/v2.0/{path}/{made['id']}", expect=200, **kw).json()[singular]
        stamps = ("updated_at", "revision_number")
        assert {k: v for k, v in updated.items() if k not in stamps} == {
            **{k: v for k, v in shown.items() if k not in stamps}, **shows}
    group = made  # the last: an address group; its member actions answer as its show
    added = api.put(f"/v2.0/address-groups/{group['id']}/add_addresses",
                    {"addresses": ["fd00::1/64"]}, expect=200).json()["address_group"]
    assert added == api.get(f"/v2.0/address-groups/{group['id']}", expect=200).json()[
        "address_group"]
    assert added["addresses"] == ["10.0.0.0/24", "fd00::/64"]
    _add_agent(api, "c1", zones="az1")  # agents: the mirror creates them, admins update
    shown = api.get("/v2.0/agents/c1", admin=True, expect=200).json()["agent"]
    updated = api.put("/v2.0/agents/c1", {"agent": {"admin_state_up": False,
                                                     "description": "d"}},
                      admin=True, expect=200).json()["agent"]
    assert updated == api.get("/v2.0/agents/c1", admin=True, expect=200).json()["agent"]
    assert updated == {**shown, "admin_state_up": False, "description": "d"}


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_subnetpools_render_from_their_declaration(api, who):
    """Own (tagged, in an address scope, with a quota), shared by admin, another
    project's private one: lists and shows answer what their creates answered (a
    pool reads alike for everyone who sees it), prefix lengths as strings, tags
    sorted. The service role reads none (get_subnetpool's route check has no pool to
    find shared: 403)."""
    scope = api.post("/v2.0/address-scopes", {"address_scope": {"ip_version": 4}},
                     expect=201).json()["address_scope"]
    made = [api.post("/v2.0/subnetpools", {"subnetpool": {"name": name, **extra}},
                     expect=201, **kw).json()["subnetpool"]
            for name, extra, kw in (
                ("own", {"prefixes": ["10.10.0.0/16"], "address_scope_id": scope["id"],
                         "default_quota": 64, "tags": ["b", "a"], "min_prefixlen": 20},
                 {}),
                ("shared", {"prefixes": ["fd10::/48"], "shared": True}, ADMIN),
                ("theirs", {"prefixes": ["10.20.0.0/16"]}, {"project": "p2"}))]
    if who == "service":
        _denied(api, who, "/v2.0/subnetpools", made[1]["id"])
        return
    assert set(made[0]) == {
        "id", "name", "description", "project_id", "tenant_id", "created_at", "updated_at",
        "revision_number", "tags", "prefixes", "ip_version", "default_prefixlen",
        "min_prefixlen", "max_prefixlen", "default_quota", "is_default", "shared",
        "address_scope_id"}
    assert (made[0]["tags"], made[0]["min_prefixlen"], made[0]["max_prefixlen"],
            made[0]["default_quota"], made[0]["address_scope_id"]) == (
        ["a", "b"], "20", "32", 64, scope["id"])
    seen = sorted(made if who == "admin" else made[:2], key=lambda d: d["id"])
    _lists_and_shows(api, who, "/v2.0/subnetpools", "subnetpools", "subnetpool", seen)
    _sorted_fields(api, who, "/v2.0/subnetpools", "subnetpools", seen,
                   ("min_prefixlen", "address_scope_id"), "min_prefixlen",
                   lambda d: int(d["min_prefixlen"]))


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_address_groups_render_from_their_declaration(api, who):
    """Own (IPv4 and IPv6 addresses, host bits given), shared with everyone, another
    project's shared with p1 by RBAC, another project's private one. The service role
    reads none (get_address_group needs a reader role: 403). A group reads alike for
    everyone who sees it: lists and shows answer what its create answered."""
    made = [api.post("/v2.0/address-groups", {"address_group": body}, expect=201,
                     **kw).json()["address_group"]
            for body, kw in (({"name": "own", "addresses": [
                "fd00::5/64", "10.0.0.5/24", "192.168.1.1/32"]}, {}),
                ({"name": "everyone", "description": "d"}, {"project": "p2"}),
                ({"name": "named", "addresses": ["10.1.0.0/16"]}, {"project": "p2"}),
                ({"name": "private"}, {"project": "p3"}))]
    for group, target, admin in ((made[1], "*", True), (made[2], "p1", False)):
        api.post("/v2.0/rbac-policies", {"rbac_policy": {
            "object_type": "address_group", "object_id": group["id"],
            "action": "access_as_shared", "target_tenant": target}}, project="p2",
            admin=admin, expect=201)
    if who == "service":
        _denied(api, who, "/v2.0/address-groups", made[1]["id"])
        return
    assert set(made[0]) == {"id", "name", "description", "project_id", "tenant_id",
                            "created_at", "updated_at", "revision_number", "addresses"}
    assert made[0]["addresses"] == ["10.0.0.0/24", "192.168.1.1/32", "fd00::/64"]
    seen = sorted(made if who == "admin" else made[:3], key=lambda d: d["id"])
    _lists_and_shows(api, who, "/v2.0/address-groups", "address_groups", "address_group", seen)
    _sorted_fields(api, who, "/v2.0/address-groups", "address_groups", seen,
                   ("addresses", "description"), "description")


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_rbac_policies_render_from_their_declaration(api, who):
    """Policies of every object type: p1's on its network (shared and external), address
    scope, security group and QoS policy, another project's, and an admin's ``*`` one.
    Members read their project's; the service role reads none (get_rbac_policy: 403),
    before and after the declaration."""
    net = api.network()
    scope = api.post("/v2.0/address-scopes", {"address_scope": {"ip_version": 4}},
                     expect=201).json()["address_scope"]
    group = api.post("/v2.0/address-groups", {"address_group": {"name": "g"}},
                     expect=201).json()["address_group"]
    sg = api.post("/v2.0/security-groups", {"security_group": {"name": "s"}},
                  expect=201).json()["security_group"]
    qos = api.post("/v2.0/qos/policies", {"policy": {"name": "q"}}, **ADMIN,
                   expect=201).json()["policy"]
    theirs = api.network(project="p2")
    made = [api.post("/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": otype, "object_id": oid, "action": action, "target_tenant": target}},
        expect=201, **kw).json()["rbac_policy"] for otype, oid, action, target, kw in (
            ("network", net["id"], "access_as_shared", "p2", {}),
            ("network", net["id"], "access_as_external", "p3", {}),
            ("address_scope", scope["id"], "access_as_shared", "p2", {}),
            ("address_group", group["id"], "access_as_shared", "p2", {}),
            ("security_group", sg["id"], "access_as_shared", "p3", {}),
            ("qos_policy", qos["id"], "access_as_shared", "p2", {}),
            ("network", theirs["id"], "access_as_shared", "p1", {"project": "p2"}),
            ("address_group", group["id"], "access_as_shared", "*", ADMIN))]
    if who == "service":
        api.get("/v2.0/rbac-policies", **NOVA, expect=403)
        return
    assert set(made[0]) == {"id", "project_id", "tenant_id", "object_type", "object_id",
                            "action", "target_tenant"}
    assert [(p["object_type"], p["tenant_id"], p["target_tenant"]) for p in made] == [
        ("network", "p1", "p2"), ("network", "p1", "p3"), ("address_scope", "p1", "p2"),
        ("address_group", "p1", "p2"), ("security_group", "p1", "p3"),
        ("qos_policy", "p1", "p2"), ("network", "p2", "p1"), ("address_group", "p1", "*")]
    seen = sorted(made if who == "admin" else made[:6] + made[7:], key=lambda d: d["id"])
    _lists_and_shows(api, who, "/v2.0/rbac-policies", "rbac_policies", "rbac_policy", seen)
    to_p2 = [d for d in seen if d["target_tenant"] == "p2"]
    assert _call(api, who, "/v2.0/rbac-policies?target_project=p2")["rbac_policies"] == to_p2
    _sorted_fields(api, who, "/v2.0/rbac-policies?target_project=p2", "rbac_policies", to_p2,
                   ("object_type", "tenant_id"), "object_type")
    api.get(f"/v2.0/rbac-policies/{made[6]['id']}", expect=200 if who == "admin" else 404,
            **{"admin": True} if who == "admin" else {})


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_segment_ranges_render_from_their_declaration(make_api, who):
    """The configured (default) ranges, a shared VLAN range with a tag and one project's
    geneve range, segments taking ids in them. Admins read every range; members list
    none and show none (404); the service role reads none (get_network_segment_range
    needs a reader role: 403). ``used`` names the projects of the segments in a range,
    ``available`` the ids left."""
    api = make_api(network_vlan_ranges="physnet1:100:103", vni_ranges="1000:1999")
    url = "/v2.0/network-segment-ranges"
    made = [api.post(url, {"network_segment_range": body}, admin=True,
                     expect=201).json()["network_segment_range"]
            for body in ({"name": "theirs", "network_type": "geneve", "minimum": 1100,
                          "maximum": 1105, "shared": False, "project_id": "p2"},
                         {"name": "vlan", "description": "d", "network_type": "vlan",
                          "physical_network": "physnet1", "minimum": 100, "maximum": 101})]
    api.put(f"{url}/{made[1]['id']}/tags/t", None, admin=True, expect=201)
    api.network(project="p2")
    api.network(**{"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                   "provider:segmentation_id": 101})
    if who == "service":
        _denied(api, who, url, made[0]["id"])
        return
    listed = _call(api, who, url)["network_segment_ranges"]
    if who == "user":
        assert listed == []
        api.get(f"{url}/{made[0]['id']}", expect=404)
        return
    assert len(listed) == 4 and sum(r["default"] for r in listed) == 2
    by_name = {r["name"]: r for r in listed}
    assert set(by_name["vlan"]) == {
        "id", "name", "description", "project_id", "tenant_id", "created_at", "updated_at",
        "revision_number", "tags", "default", "shared", "network_type", "physical_network",
        "minimum", "maximum", "used", "available"}
    vlan, theirs = by_name["vlan"], by_name["theirs"]
    assert (vlan["used"], vlan["available"], vlan["tags"], vlan["shared"], vlan["project_id"],
            vlan["description"]) == ({"101": "p1"}, [100], ["t"], True, None, "d")
    assert (theirs["used"], theirs["available"], theirs["project_id"], theirs["tenant_id"],
            theirs["shared"]) == ({"1100": "p2"}, [1101, 1102, 1103, 1104, 1105], "p2", "p2",
                                  False)
    for expected in listed:
        assert _call(api, who, f"{url}/{expected['id']}")["network_segment_range"] == expected
        assert _call(api, who, f"{url}?id={expected['id']}")["network_segment_ranges"] == [
            expected]
    _sorted_fields(api, who, url, "network_segment_ranges", listed,
                   ("used", "available", "tags"), "minimum")


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_qos_policies_render_from_their_declaration(api, who):
    """Own (tagged, its project's default, two rules), shared with everyone, another
    project's shared with p1 by RBAC, another project's private one: lists and shows
    agree, ``shared`` as the caller sees it (the ``*`` entry or one naming p1), tags
    sorted, rules with their type. The service role reads none (get_policy's route
    check needs a reader role: 403)."""
    made = [api.post("/v2.0/qos/policies", {"policy": body}, **ADMIN, expect=201).json()["policy"]
            for body in ({"name": "own", "description": "b", "tags": ["b", "a"],
                          "is_default": True},
                         {"name": "everyone", "description": "a", "shared": True},
                         {"name": "named", "project_id": "p2"},
                         {"name": "private", "project_id": "p3"})]
    assert set(made[0]) == {
        "id", "name", "description", "project_id", "tenant_id", "created_at", "updated_at",
        "revision_number", "tags", "shared", "is_default", "rules"}
    assert [(p["tags"], p["is_default"], p["shared"], p["rules"]) for p in made] == [
        (["a", "b"], True, False, []), ([], False, True, []), ([], False, False, []),
        ([], False, False, [])]
    for rtype, rule in (("bandwidth_limit", {"max_kbps": 1000}), ("dscp_marking",
                                                                   {"dscp_mark": 26})):
        api.post(f"/v2.0/qos/policies/{made[0]['id']}/{rtype}_rules", {f"{rtype}_rule": rule},
                 **ADMIN, expect=201)
    api.post("/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": "qos_policy", "object_id": made[2]["id"],
        "action": "access_as_shared", "target_tenant": "p1"}}, **ADMIN, expect=201)
    if who == "service":
        _denied(api, who, "/v2.0/qos/policies", made[1]["id"])
        return
    seen = _call(api, who, "/v2.0/qos/policies")["policies"]
    assert sorted(p["id"] for p in seen) == sorted(
        p["id"] for p in (made if who == "admin" else made[:3]))
    _lists_and_shows(api, who, "/v2.0/qos/policies", "policies", "policy", seen)
    by_id = {p["id"]: p for p in seen}
    assert [r["type"] for r in by_id[made[0]["id"]]["rules"]] == [
        "bandwidth_limit", "dscp_marking"]
    assert (by_id[made[0]["id"]]["tags"], by_id[made[0]["id"]]["is_default"]) == (
        ["a", "b"], True)
    assert {p["id"] for p in seen if p["shared"]} == {made[1]["id"], made[2]["id"]}
    _sorted_fields(api, who, "/v2.0/qos/policies", "policies", seen,
                   ("shared", "is_default", "rules"), "description")


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_qos_rules_render_from_their_declarations(api, who):
    """Rules of every type on p1's policy (two bandwidth limits, one each direction), one
    on p3's private policy: a policy's rules of a type list by id (``fields=`` selects;
    no other query parameter does anything), show alike through their policy and the
    alias route, and are what the policy's ``rules`` shows, with ``qos_policy_id`` and
    ``type``. Members read the rules of the policies they see (p3's: its 404); the
    service role none (get_policy_<type>_rule needs a reader role: 403)."""
    own, theirs = [api.post("/v2.0/qos/policies", {"policy": {"name": n, "project_id": p}},
                            **ADMIN, expect=201).json()["policy"]
                   for n, p in (("own", "p1"), ("theirs", "p3"))]
    bodies = {"bandwidth_limit": [{"max_kbps": 1000, "max_burst_kbps": 100},
                                  {"max_kbps": 2000, "direction": "ingress"}],
              "dscp_marking": [{"dscp_mark": 26}], "minimum_bandwidth": [{"min_kbps": 500}],
              "packet_rate_limit": [{"max_kpps": 7, "direction": "ingress"}]}
    made = {t: [api.post(f"/v2.0/qos/policies/{own['id']}/{t}_rules", {f"{t}_rule": b},
                         **ADMIN, expect=201).json()[f"{t}_rule"] for b in bs]
            for t, bs in bodies.items()}
    hidden = api.post(f"/v2.0/qos/policies/{theirs['id']}/dscp_marking_rules", {
        "dscp_marking_rule": {"dscp_mark": 10}}, **ADMIN, expect=201).json()[
            "dscp_marking_rule"]
    assert [list(r) for t in bodies for r in made[t]] == [  # in this order
        ["id", "max_kbps", "max_burst_kbps", "direction"]] * 2 + [["id", "dscp_mark"]] + [
        ["id", "min_kbps", "direction"], ["id", "max_kpps", "max_burst_kpps", "direction"]]
    assert [(r.get("max_burst_kbps"), r.get("direction")) for t in bodies for r in made[t]] == [
        (100, "egress"), (0, "ingress"), (None, None), (None, "egress"), (None, "ingress")]
    if who == "service":
        _denied(api, who, f"/v2.0/qos/policies/{own['id']}/dscp_marking_rules",
                made["dscp_marking"][0]["id"])
        return
    in_policy = []
    for t, rules in made.items():
        path, plural = f"/v2.0/qos/policies/{own['id']}/{t}_rules", f"{t}_rules"
        seen = sorted(rules, key=lambda d: d["id"])
        _lists_and_shows(api, who, path, plural, f"{t}_rule", seen, by_id=False)
        assert _call(api, who, f"{path}?id=x&sort_key=direction&limit=1")[plural] == seen
        assert _call(api, who, f"{path}?fields=direction&fields=id")[plural] == [
            {k: d[k] for k in ("id", "direction") if k in d} for d in seen]
        for rule in seen:
            assert _call(api, who, f"/v2.0/qos/alias_{t}_rules/{rule['id']}")[
                f"{t}_rule"] == rule
        in_policy += [{**r, "qos_policy_id": own["id"], "type": t} for r in seen]
    assert _call(api, who, f"/v2.0/qos/policies/{own['id']}")["policy"]["rules"] == in_policy
    path = f"/v2.0/qos/policies/{theirs['id']}/dscp_marking_rules"
    for url, key, expected in (
            (path, "dscp_marking_rules", [hidden]),
            (f"{path}/{hidden['id']}", "dscp_marking_rule", hidden),
            (f"/v2.0/qos/alias_dscp_marking_rules/{hidden['id']}", "dscp_marking_rule", hidden)):
        if who == "admin":
            assert _call(api, who, url)[key] == expected
        else:
            api.get(url, expect=404)
    api.get(f"/v2.0/qos/policies/{own['id']}/dscp_marking_rules/{hidden['id']}", expect=404,
            **{"project": "p1", **CALLERS[who]})


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_port_forwardings_render_from_their_declaration(api, who):
    """Three forwardings of p1's floating IP: single ports, an N:N range, an N:1 range
    (udp). Lists (filters, sorting) and shows agree; ``external_port``/``internal_port``
    are a range's one port, else None; the floating IP's ``port_forwardings`` are the
    same forwardings' few attributes, without None. Members read the forwardings of the
    floating IPs they see (p2 none: the floating IP's 404); the service role none
    (get_floatingip_port_forwarding needs a reader role: 403)."""
    ext, net, _ = _routed(api)
    ports_ = [api.port(net["id"]) for _ in range(2)]
    fip = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": ext["id"]}},
                   expect=201).json()["floatingip"]
    path = f"/v2.0/floatingips/{fip['id']}/port_forwardings"
    made = [api.post(path, {"port_forwarding": {"internal_port_id": ports_[i]["id"], **body}},
                     expect=201).json()["port_forwarding"] for i, body in (
        (0, {"protocol": "tcp", "internal_port": 22, "external_port": 2222,
             "description": "ssh"}),
        (1, {"protocol": "tcp", "internal_port_range": "4000:4009",
             "external_port_range": "3000:3009"}),
        (0, {"protocol": "udp", "internal_port": 80, "external_port_range": "5000:5004"}))]
    assert list(made[0]) == [  # in this order
        "id", "protocol", "internal_port_id", "internal_ip_address", "external_port",
        "internal_port", "external_port_range", "internal_port_range", "description"]
    assert [(d["external_port"], d["internal_port"], d["external_port_range"],
             d["internal_port_range"], d["internal_ip_address"], d["description"])
            for d in made] == [
        (2222, 22, "2222:2222", "22:22", ports_[0]["fixed_ips"][0]["ip_address"], "ssh"),
        (None, None, "3000:3009", "4000:4009", ports_[1]["fixed_ips"][0]["ip_address"], ""),
        (None, 80, "5000:5004", "80:80", ports_[0]["fixed_ips"][0]["ip_address"], "")]
    api.get(path, project="p2", expect=404)
    if who == "service":
        _denied(api, who, path, made[0]["id"])
        return
    seen = sorted(made, key=lambda d: d["id"])
    _lists_and_shows(api, who, path, "port_forwardings", "port_forwarding", seen)
    for query, expected in (("protocol=udp", [made[2]]), ("description=ssh", [made[0]]),
                            ("external_port=2222", [made[0]]), ("external_port=2223", []),
                            (f"internal_port_id={ports_[1]['id']}", [made[1]]),
                            (f"internal_port_id={ports_[0]['id']}&protocol=tcp", [made[0]])):
        assert _call(api, who, f"{path}?{query}")["port_forwardings"] == expected
    bad = api.get(f"{path}?external_port=ssh", expect=400, **{"project": "p1", **CALLERS[who]})
    assert bad.json()["NeutronError"]["type"] == "InvalidInput"
    _sorted_fields(api, who, path, "port_forwardings", seen,
                   ("external_port_range", "internal_port", "protocol"), "external_port",
                   order=lambda d: int(d["external_port_range"].split(":")[0]))
    entries = _call(api, who, f"/v2.0/floatingips/{fip['id']}")["floatingip"][
        "port_forwardings"]
    fip_fields = ("id", "internal_ip_address", "protocol", "internal_port", "external_port",
                  "internal_port_id")
    assert [list(e) for e in entries] == [[k for k in fip_fields if d[k] is not None]
                                          for d in seen]
    assert entries == [{k: d[k] for k in fip_fields if d[k] is not None} for d in seen]


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_trunks_render_from_their_declaration(api, who):
    """Own (tagged, two subports), own without subports, another project's: lists and
    shows agree, subports by segmentation id, tags sorted. Members read their
    project's, admins all; the service role none (get_trunk needs a reader role: 403).
    The subport actions answer the trunk as its show."""
    net = api.network(project="p1")
    ports_ = [api.port(net["id"]) for _ in range(4)]
    theirs = api.port(api.network(project="p2")["id"], project="p2")
    made = [api.post("/v2.0/trunks", {"trunk": body}, expect=201, **kw).json()["trunk"]
            for body, kw in (
                ({"port_id": ports_[0]["id"], "name": "own", "description": "b",
                  "sub_ports": [
                      {"port_id": ports_[i]["id"], "segmentation_type": "vlan",
                       "segmentation_id": 200 - i} for i in (1, 2)]}, {}),
                ({"port_id": ports_[3]["id"], "description": "a", "admin_state_up": False},
                 {}),
                ({"port_id": theirs["id"]}, {"project": "p2"}))]
    assert set(made[0]) == {
        "id", "name", "description", "project_id", "tenant_id", "created_at", "updated_at",
        "revision_number", "tags", "admin_state_up", "status", "port_id", "sub_ports"}
    assert [(s["port_id"], s["segmentation_id"]) for s in made[0]["sub_ports"]] == [
        (ports_[2]["id"], 198), (ports_[1]["id"], 199)]
    assert (made[1]["sub_ports"], made[1]["admin_state_up"], made[1]["port_id"]) == (
        [], False, ports_[3]["id"])
    api.put(f"/v2.0/trunks/{made[0]['id']}/tags", {"tags": ["b", "a"]}, expect=200)
    if who == "service":
        _denied(api, who, "/v2.0/trunks", made[0]["id"])
        return
    seen = sorted(_call(api, who, "/v2.0/trunks")["trunks"], key=lambda d: d["id"])
    assert [t["id"] for t in seen] == sorted(
        t["id"] for t in (made if who == "admin" else made[:2]))
    _lists_and_shows(api, who, "/v2.0/trunks", "trunks", "trunk", seen)
    assert [(len(t["sub_ports"]), t["tags"]) for t in seen if t["id"] == made[0]["id"]] == [
        (2, ["a", "b"])]
    if who == "user":
        api.get(f"/v2.0/trunks/{made[2]['id']}", expect=404)
    _sorted_fields(api, who, "/v2.0/trunks", "trunks", seen,
                   ("sub_ports", "admin_state_up", "tags"), "description")
    removed = api.put(f"/v2.0/trunks/{made[0]['id']}/remove_subports", {
        "sub_ports": [{"port_id": ports_[1]["id"]}]}, expect=200).json()
    assert removed == _call(api, who, f"/v2.0/trunks/{made[0]['id']}")["trunk"]
    assert [s["port_id"] for s in removed["sub_ports"]] == [ports_[2]["id"]]


@pytest.mark.parametrize("who", ["admin", "manager", "user", "service"])
def test_network_logs_render_from_their_declaration(api, who):
    """A log of one group, one of every group (disabled, DROP), another project's:
    lists and shows answer what their creates answered (every attribute is a column).
    Admins read all, project managers their project's; members and the service role
    none (get_log: admin or project manager, 403)."""
    group = api.post("/v2.0/security-groups", {"security_group": {"name": "g"}},
                     expect=201).json()["security_group"]
    made = [api.post("/v2.0/log/logs", {"log": {"resource_type": "security_group", **body}},
                     admin=True, expect=201, project=project).json()["log"]
            for body, project in (({"name": "one", "description": "b",
                                    "resource_id": group["id"], "event": "ACCEPT"}, "p1"),
                                  ({"description": "a", "enabled": False, "event": "DROP"},
                                   "p1"),
                                  ({"name": "theirs"}, "p2"))]
    assert set(made[0]) == {
        "id", "name", "description", "project_id", "tenant_id", "created_at", "updated_at",
        "revision_number", "resource_type", "resource_id", "target_id", "event", "enabled"}
    assert [(d["resource_id"], d["target_id"], d["event"], d["enabled"], d["tenant_id"])
            for d in made] == [(group["id"], None, "ACCEPT", True, "p1"),
                               (None, None, "DROP", False, "p1"),
                               (None, None, "ALL", True, "p2")]
    if who in ("user", "service"):
        _denied(api, who, "/v2.0/log/logs", made[0]["id"])
        return
    seen = sorted(made if who == "admin" else made[:2], key=lambda d: d["id"])
    _lists_and_shows(api, who, "/v2.0/log/logs", "logs", "log", seen)
    _sorted_fields(api, who, "/v2.0/log/logs", "logs", seen,
                   ("resource_id", "enabled", "event"), "description")


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_flavors_and_service_profiles_render_from_their_declarations(api, who):
    """Two flavors (one disabled) and two profiles, one bound to both flavors: lists and
    shows agree, bound ids on both sides. Readers read flavors, admins also profiles;
    the service role neither (get_flavor needs a reader role, get_service_profile
    admin: 403)."""
    made = [api.post("/v2.0/flavors", {"flavor": {"service_type": "FLAVORS", **body}},
                     admin=True, expect=201).json()["flavor"]
            for body in ({"name": "f1", "description": "b"},
                         {"name": "f2", "description": "a", "enabled": False})]
    profiles = [api.post("/v2.0/service_profiles", {"service_profile": body}, admin=True,
                         expect=201).json()["service_profile"]
                for body in ({"metainfo": '{"a": 1}', "description": "p"},
                             {"metainfo": "m", "enabled": False})]
    assert made[1] == {"id": made[1]["id"], "name": "f2", "description": "a",
                       "service_type": "FLAVORS", "enabled": False, "service_profiles": []}
    assert profiles[1] == {"id": profiles[1]["id"], "description": "", "driver": "",
                           "enabled": False, "metainfo": "m", "flavors": []}
    for flavor in made:
        api.post(f"/v2.0/flavors/{flavor['id']}/service_profiles", {
            "service_profile": {"id": profiles[0]["id"]}}, admin=True, expect=201)
    if who == "service":
        _denied(api, who, "/v2.0/flavors", made[0]["id"])
    else:
        seen = sorted(_call(api, who, "/v2.0/flavors")["flavors"], key=lambda d: d["id"])
        assert [f["id"] for f in seen] == sorted(f["id"] for f in made)
        _lists_and_shows(api, who, "/v2.0/flavors", "flavors", "flavor", seen)
        assert [f["service_profiles"] for f in seen] == [[profiles[0]["id"]]] * 2
        _sorted_fields(api, who, "/v2.0/flavors", "flavors", seen,
                       ("service_profiles", "enabled", "name"), "description")
    if who != "admin":
        _denied(api, who, "/v2.0/service_profiles", profiles[0]["id"])
        return
    seen = sorted(_call(api, who, "/v2.0/service_profiles")["service_profiles"],
                  key=lambda d: d["id"])
    assert [p["id"] for p in seen] == sorted(p["id"] for p in profiles)
    _lists_and_shows(api, who, "/v2.0/service_profiles", "service_profiles",
                     "service_profile", seen)
    assert sorted(p["flavors"] for p in seen) == [[], sorted(f["id"] for f in made)]
    _sorted_fields(api, who, "/v2.0/service_profiles", "service_profiles", seen,
                   ("flavors", "metainfo"), "metainfo")


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_default_security_group_rules_render_from_their_declaration(api, who):
    """The four seeded templates (egress IPv4 and IPv6 for every group, ingress from
    ``PARENT`` for default groups) and two more (a port range, a remote address group):
    lists and shows agree. Readers read them all; the service role none
    (get_default_security_group_rule needs a reader role: 403)."""
    group = api.post("/v2.0/address-groups", {"address_group": {"name": "g"}},
                     expect=201).json()["address_group"]
    made = [api.post("/v2.0/default-security-group-rules", {"default_security_group_rule": {
        "direction": "ingress", "used_in_default_sg": True, **body}}, admin=True,
        expect=201).json()["default_security_group_rule"] for body in (
            {"protocol": "tcp", "port_range_min": 22, "port_range_max": 23,
             "remote_ip_prefix": "10.0.0.0/8", "description": "ssh",
             "used_in_non_default_sg": True},
            {"ethertype": "IPv6", "remote_address_group_id": group["id"],
             "used_in_non_default_sg": False})]
    assert made[0] == {
        "id": made[0]["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 23, "remote_ip_prefix": "10.0.0.0/8",
        "remote_group_id": None, "remote_address_group_id": None, "description": "ssh",
        "used_in_default_sg": True, "used_in_non_default_sg": True}
    assert (made[1]["remote_address_group_id"], made[1]["used_in_non_default_sg"]) == (
        group["id"], False)
    path, plural = "/v2.0/default-security-group-rules", "default_security_group_rules"
    if who == "service":
        _denied(api, who, path, made[0]["id"])
        return
    seen = sorted(_call(api, who, path)[plural], key=lambda d: d["id"])
    assert {t["id"] for t in made} <= {t["id"] for t in seen} and len(seen) == 6
    _lists_and_shows(api, who, path, plural, "default_security_group_rule", seen)
    assert sorted((t["direction"], t["ethertype"], t["remote_group_id"],
                   t["used_in_default_sg"], t["used_in_non_default_sg"])
                  for t in seen if t["id"] not in {m["id"] for m in made}) == [
        ("egress", "IPv4", None, True, True), ("egress", "IPv6", None, True, True),
        ("ingress", "IPv4", "PARENT", True, False), ("ingress", "IPv6", "PARENT", True, False)]
    _sorted_fields(api, who, path, plural, seen,
                   ("port_range_min", "used_in_default_sg", "remote_address_group_id"),
                   "ethertype")  # never NULL: databases order NULLs differently


def _add_agent(api, agent_id: str, seconds_ago: float = 0, zones: str = "",
               **columns) -> None:
    """An agent row as the controller's mirror writes it (``ovn.agents.record``), its
    last heartbeat ``seconds_ago``."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))
    columns = {"agent_type": "OVN Controller agent", **columns}
    api.env.db.run(lambda session: session.add(Agent(
        id=agent_id, chassis=agent_id, binary="ovn-controller", host=f"host-{agent_id}",
        availability_zones=zones, configurations={"k": agent_id}, created_at=stamp,
        started_at=stamp, heartbeat_at=stamp, **columns)))


@pytest.mark.parametrize("who", ["admin", "user", "service"])
def test_agents_render_from_their_declaration(api, who):
    """An alive agent in two zones, a dead one (600 s) in none, an alive gateway
    disabled, a deleted one: admins list the three not deleted (by id), lists and shows
    agree, ``alive`` from the heartbeat and ``agent_down_time`` (75 s), the first zone as
    ``availability_zone``, ``alive=`` filters. Members list none and show none (404);
    the service role reads none (get_agent needs a reader role: 403)."""
    _add_agent(api, "c1", zones="az1 az2", description="d")
    _add_agent(api, "c2", seconds_ago=600)
    _add_agent(api, "g1", agent_type="OVN Controller Gateway agent", admin_state_up=False)
    _add_agent(api, "x1", deleted=True)
    path = "/v2.0/agents"
    if who == "service":
        _denied(api, who, path, "c1")
        return
    listed = _call(api, who, path)["agents"]
    if who == "user":
        assert listed == []
        api.get(f"{path}/c1", expect=404)
        return
    assert [a["id"] for a in listed] == ["c1", "c2", "g1"]
    assert set(listed[0]) == {
        "id", "agent_type", "binary", "topic", "host", "admin_state_up", "description",
        "configurations", "created_at", "started_at", "heartbeat_timestamp", "alive",
        "availability_zone", "availability_zones", "resources_synced"}
    assert [(a["alive"], a["availability_zone"], a["availability_zones"], a["admin_state_up"],
             a["description"], a["host"], a["configurations"], a["topic"],
             a["resources_synced"]) for a in listed] == [
        (True, "az1", ["az1", "az2"], True, "d", "host-c1", {"k": "c1"}, "n/a", None),
        (False, None, [], True, "", "host-c2", {"k": "c2"}, "n/a", None),
        (True, None, [], False, "", "host-g1", {"k": "g1"}, "n/a", None)]
    assert all(a["heartbeat_timestamp"] == a["created_at"] == a["started_at"]
               for a in listed)
    api.get(f"{path}/x1", admin=True, expect=404)
    _lists_and_shows(api, who, path, "agents", "agent", listed)
    for alive, ids in (("true", ["c1", "g1"]), ("false", ["c2"]),
                       ("true&alive=false", ["c1", "c2", "g1"])):
        assert [a["id"] for a in _call(api, who, f"{path}?alive={alive}")["agents"]] == ids
    _sorted_fields(api, who, path, "agents", listed,
                   ("alive", "availability_zone", "heartbeat_timestamp"), "host")
    _sorted_fields(api, who, f"{path}?alive=true", "agents", [listed[0], listed[2]],
                   ("availability_zones", "topic"), "admin_state_up")


@pytest.mark.parametrize("who", ["admin", "manager", "user", "service"])
def test_security_groups_default_statefulness_renders_from_its_declaration(api, who):
    """The system-wide setting (not stateful), p1's (stateful) and p2's (made with
    ``tenant_id``): lists and shows answer what their creates answered (every attribute
    is a column). Admins read all three; p1's readers and managers p1's alone, the
    others 404; the service role none (get_security_groups_default_statefulness needs a
    reader role: 403)."""
    path = "/v2.0/security-groups-default-statefulness"
    key = "security_groups_default_statefulness"
    made = [api.post(path, {key: body}, admin=True, expect=201).json()[key]
            for body in ({"stateful": False}, {"project_id": "p1", "stateful": True},
                         {"tenant_id": "p2", "stateful": False})]
    assert all(set(m) == {"id", "project_id", "tenant_id", "stateful"} for m in made)
    assert [(m["project_id"], m["tenant_id"], m["stateful"]) for m in made] == [
        (None, None, False), ("p1", "p1", True), ("p2", "p2", False)]
    if who == "service":
        _denied(api, who, path, made[1]["id"])
        return
    seen = sorted(made if who == "admin" else made[1:2], key=lambda d: d["id"])
    _lists_and_shows(api, who, path, key, key, seen)
    if who != "admin":
        for hidden in (made[0], made[2]):
            api.get(f"{path}/{hidden['id']}", **{"project": "p1", **CALLERS[who]},
                    expect=404)
    assert [d["id"] for d in _call(api, who, f"{path}?stateful=false")[key]] == sorted(
        d["id"] for d in seen if not d["stateful"])
    _sorted_fields(api, who, path, key, seen, ("project_id", "tenant_id"), "stateful")

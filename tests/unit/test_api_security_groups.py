"""Security groups, rules and port security through HTTP (reference B.3, B.6)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from conftest import error_type
from neutrino.db.models import OvnOutbox
from neutrino.services import security_group_reads
from neutrino.services.context import Context
from neutrino.services.listing import ListQuery

SG, RULES = "/v2.0/security-groups", "/v2.0/security-group-rules"


def groups(api, project: str = "p1", **params) -> list[dict]:
    return api.get(SG, project=project, params=params, expect=200).json()["security_groups"]


def default_group(api, project: str = "p1") -> dict:
    [sg] = groups(api, project, name="default")
    return sg


def group(api, name: str = "web", project: str = "p1", **attrs) -> dict:
    return api.post(SG, {"security_group": {"name": name, **attrs}}, project=project,
                    expect=201).json()["security_group"]


def rule(api, sg_id: str, expect: int = 201, project: str = "p1", **attrs):
    body = {"security_group_rule": {"security_group_id": sg_id, "direction": "ingress", **attrs}}
    resp = api.post(RULES, body, project=project, expect=expect)
    return resp.json()["security_group_rule"] if expect == 201 else resp


def shape(r: dict) -> tuple:
    return (r["direction"], r["ethertype"], r["protocol"], r["remote_ip_prefix"],
            r["remote_group_id"])


def outbox(api) -> list[tuple[str, str]]:
    return api.env.db.run(lambda s: [(r.resource_type, r.resource_id) for r in s.execute(
        select(OvnOutbox.resource_type, OvnOutbox.resource_id).order_by(OvnOutbox.id))],
        write=False)


def test_default_group_is_made_on_first_listing_with_neutrons_rules(api):
    [sg] = groups(api)
    assert (sg["name"], sg["description"]) == ("default", "Default security group")
    assert sg["project_id"] == sg["tenant_id"] == "p1"
    assert (sg["stateful"], sg["shared"], sg["revision_number"]) == (True, False, 1)
    assert sorted(shape(r) for r in sg["security_group_rules"]) == sorted([
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", None, None, sg["id"]), ("ingress", "IPv6", None, None, sg["id"])])
    assert groups(api) == [sg]  # made once
    assert [g["name"] for g in groups(api, "p2")] == ["default"]  # each project its own
    assert default_group(api, "p2")["id"] != sg["id"]
    assert ("security_group", sg["id"]) in outbox(api)


def test_rule_listing_also_makes_the_default_group(api):
    rules = api.get(RULES, project="p3", expect=200).json()["security_group_rules"]
    assert len(rules) == 4 and {r["project_id"] for r in rules} == {"p3"}


def test_new_group_gets_the_two_egress_rules(api):
    sg = group(api, description="d")
    assert (sg["name"], sg["description"]) == ("web", "d")
    assert sorted(shape(r) for r in sg["security_group_rules"]) == [
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None)]
    assert {g["name"] for g in groups(api)} == {"default", "web"}
    assert api.get(f"{SG}/{sg['id']}", project="p2", expect=404)


def test_no_other_group_may_be_called_default(api):
    for name in ("default", "Default"):
        resp = api.post(SG, {"security_group": {"name": name}}, expect=409)
        assert error_type(resp) == "SecurityGroupDefaultAlreadyExists"
    sg = group(api)
    resp = api.put(f"{SG}/{sg['id']}", {"security_group": {"name": "default"}}, expect=409)
    assert error_type(resp) == "SecurityGroupDefaultAlreadyExists"


def test_default_group_keeps_its_name_and_is_not_deleted_by_members(api):
    sg = default_group(api)
    resp = api.put(f"{SG}/{sg['id']}", {"security_group": {"name": "x"}}, expect=409)
    assert error_type(resp) == "SecurityGroupCannotUpdateDefault"
    upd = api.put(f"{SG}/{sg['id']}", {"security_group": {"description": "mine"}},
                  expect=200).json()["security_group"]
    assert upd["description"] == "mine" and upd["revision_number"] == 2
    assert error_type(api.delete(f"{SG}/{sg['id']}", expect=409)) == \
        "SecurityGroupCannotRemoveDefault"
    api.delete(f"{SG}/{sg['id']}", admin=True, expect=204)


def test_group_in_use_is_not_deleted(api):
    sg = group(api)
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], security_groups=[sg["id"]])
    assert error_type(api.delete(f"{SG}/{sg['id']}", expect=409)) == "SecurityGroupInUse"
    resp = api.put(f"{SG}/{sg['id']}", {"security_group": {"stateful": False}}, expect=409)
    assert error_type(resp) == "SecurityGroupInUse"
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    api.delete(f"{SG}/{sg['id']}", expect=204)
    api.get(f"{SG}/{sg['id']}", expect=404)
    assert api.get(RULES, params={"security_group_id": sg["id"]}).json()[
        "security_group_rules"] == []


def test_deleting_a_group_removes_rules_naming_it_as_remote_group(api):
    web, db = group(api, "web"), group(api, "db")
    r = rule(api, db["id"], remote_group_id=web["id"])
    api.delete(f"{SG}/{web['id']}", expect=204)
    api.get(f"{RULES}/{r['id']}", expect=404)
    assert api.get(f"{SG}/{db['id']}").json()["security_group"]["revision_number"] == 3


def test_protocols_by_name_or_number_and_ipv6_icmp_spelling(api):
    sg = group(api)
    assert rule(api, sg["id"], protocol="TCP")["protocol"] == "tcp"
    assert rule(api, sg["id"], protocol=17)["protocol"] == "17"
    assert rule(api, sg["id"], protocol="any", ethertype="ipv6")["protocol"] is None
    assert rule(api, sg["id"], protocol="icmp", ethertype="IPv6")["protocol"] == "ipv6-icmp"
    assert rule(api, sg["id"], protocol="1", ethertype="IPv6",
                direction="egress")["protocol"] == "58"
    assert error_type(rule(api, sg["id"], 400, protocol="bogus")) == \
        "SecurityGroupRuleInvalidProtocol"
    assert error_type(rule(api, sg["id"], 400, protocol="256")) == \
        "SecurityGroupRuleInvalidProtocol"
    assert error_type(rule(api, sg["id"], 400, protocol="ipv6-icmp")) == \
        "SecurityGroupEthertypeConflictWithProtocol"
    assert rule(api, sg["id"], 400, direction="sideways")
    assert rule(api, sg["id"], 400, ethertype="IPv5")


@pytest.mark.parametrize("attrs, error", [
    ({"port_range_min": 22, "port_range_max": 22}, "SecurityGroupProtocolRequiredWithPorts"),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 22},
     "SecurityGroupInvalidPortValue"),
    ({"protocol": "tcp", "port_range_min": 30, "port_range_max": 22},
     "SecurityGroupInvalidPortRange"),
    ({"protocol": "udp", "port_range_min": 22}, "SecurityGroupInvalidPortRange"),
    ({"protocol": "icmp", "port_range_min": 300}, "SecurityGroupInvalidIcmpValue"),
    ({"protocol": "icmp", "port_range_max": 0}, "SecurityGroupMissingIcmpType"),
    ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2},
     "SecurityGroupInvalidProtocolForPort"),
    ({"protocol": "tcp", "port_range_min": 1, "port_range_max": 70000},
     "SecurityGroupInvalidPortValue"),
    ({"protocol": "tcp", "port_range_min": "x", "port_range_max": 2},
     "SecurityGroupInvalidPortValue"),
    ({"remote_ip_prefix": "2001:db8::/64"}, "SecurityGroupRuleParameterConflict"),
    ({"remote_ip_prefix": "10.0.0.0/33"}, "InvalidInput"),
])
def test_invalid_rules_are_400(api, attrs, error):
    sg = group(api)
    assert error_type(rule(api, sg["id"], 400, **attrs)) == error


@pytest.mark.parametrize("protocol, low, high, message", [
    ("tcp", -16, 80, "Invalid value for port -16"),
    ("tcp", 80, 65536, "Invalid value for port 65536"),
    ("tcp", 80, 79, "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ("tcp", None, 6, "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ("icmp", -1, 25, "Invalid value for port -1"),
    ("icmp", 1, 256, "Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255."),
    ("icmp", 300, 1, "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."),
])
def test_port_and_icmp_values_get_neutrons_messages(api, protocol, low, high, message):
    sg = group(api)
    resp = rule(api, sg["id"], 400, protocol=protocol, port_range_min=low, port_range_max=high)
    assert resp.json()["NeutronError"]["message"] == message


def test_ports_given_as_text_are_numbers(api):
    sg = group(api)
    r = rule(api, sg["id"], protocol="tcp", port_range_min="22", port_range_max="23")
    assert (r["port_range_min"], r["port_range_max"]) == (22, 23)


def test_ports_prefix_and_icmp_fields_are_stored_as_neutron_does(api):
    sg = group(api)
    r = rule(api, sg["id"], protocol="tcp", port_range_min=1, port_range_max=65535,
             remote_ip_prefix="10.0.0.5/24")
    assert (r["port_range_min"], r["port_range_max"]) == (None, None)  # every port
    assert (r["remote_ip_prefix"], r["normalized_cidr"]) == ("10.0.0.5/24", "10.0.0.0/24")
    r = rule(api, sg["id"], protocol="icmp", port_range_min=8, port_range_max=0,
             remote_ip_prefix="10.1.2.3")
    assert (r["port_range_min"], r["port_range_max"], r["remote_ip_prefix"]) == (8, 0, "10.1.2.3/32")
    r = rule(api, sg["id"], ethertype="IPv6", remote_ip_prefix="2001:DB8::1/64")
    assert r["remote_ip_prefix"] == "2001:db8::1/64" and r["normalized_cidr"] == "2001:db8::/64"


def test_one_remote_only_and_it_must_be_visible(api):
    sg, other = group(api), group(api, "x", project="p2")
    resp = rule(api, sg["id"], 400, remote_ip_prefix="10.0.0.0/8", remote_group_id=sg["id"])
    assert error_type(resp) == "SecurityGroupMultipleRemoteEntites"
    assert error_type(rule(api, sg["id"], 404, remote_group_id=other["id"])) == \
        "SecurityGroupNotFound"
    assert error_type(rule(api, other["id"], 404)) == "SecurityGroupNotFound"
    # group ids are looked up, not validated as UUIDs (Neutron)
    assert error_type(rule(api, sg["id"], 404, remote_group_id="bad_group_id")) == \
        "SecurityGroupNotFound"
    assert error_type(rule(api, "bad_group_id", 404)) == "SecurityGroupNotFound"


def test_duplicate_rules_are_409(api):
    sg = group(api)
    first = rule(api, sg["id"], protocol="tcp", port_range_min=22, port_range_max=22,
                 remote_ip_prefix="0.0.0.0/0")
    for same in ({"protocol": "6"}, {"protocol": "tcp", "remote_ip_prefix": None}):
        resp = rule(api, sg["id"], 409, **{"port_range_min": 22, "port_range_max": 22, **same})
        assert error_type(resp) == "SecurityGroupRuleExists"
        assert first["id"] in resp.json()["NeutronError"]["message"]
    twice = {"security_group_id": sg["id"], "direction": "egress", "protocol": "udp"}
    resp = api.post(RULES, {"security_group_rules": [twice, twice]}, expect=409)
    assert error_type(resp) == "DuplicateSecurityGroupRuleInPost"
    # the egress defaults exist already
    resp = rule(api, sg["id"], 409, direction="egress", ethertype="IPv4")
    assert error_type(resp) == "SecurityGroupRuleExists"


def test_bulk_rules_are_of_one_group_and_all_or_nothing(api):
    web, db = group(api, "web"), group(api, "db")
    one = {"security_group_id": web["id"], "direction": "ingress", "protocol": "tcp"}
    resp = api.post(RULES, {"security_group_rules": [one, {**one, "security_group_id": db["id"]}]},
                    expect=400)
    assert error_type(resp) == "SecurityGroupNotSingleGroupRules"
    made = api.post(RULES, {"security_group_rules": [one, {**one, "protocol": "udp"}]},
                    expect=201).json()["security_group_rules"]
    assert [r["protocol"] for r in made] == ["tcp", "udp"]
    assert api.get(f"{SG}/{web['id']}").json()["security_group"]["revision_number"] == 2


def test_rules_change_only_their_description(api):
    sg = group(api)
    r = rule(api, sg["id"], protocol="tcp")
    upd = api.put(f"{RULES}/{r['id']}", {"security_group_rule": {"description": "ssh"}},
                  expect=200).json()["security_group_rule"]
    assert upd["description"] == "ssh" and upd["revision_number"] == 2
    resp = api.put(f"{RULES}/{r['id']}", {"security_group_rule": {"protocol": "udp"}}, expect=400)
    assert error_type(resp) == "HTTPBadRequest"
    api.delete(f"{RULES}/{r['id']}", expect=204)
    api.get(f"{RULES}/{r['id']}", expect=404)
    assert ("security_group", sg["id"]) in outbox(api)


def test_rule_filters_and_sorting(api):
    sg = group(api)
    rule(api, sg["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    rule(api, sg["id"], protocol="udp", remote_ip_prefix="10.0.0.0/24")
    got = api.get(RULES, params={"security_group_id": sg["id"], "direction": "ingress",
                                 "sort_key": "protocol", "sort_dir": "desc"}).json()
    assert [r["protocol"] for r in got["security_group_rules"]] == ["udp", "tcp"]
    got = api.get(RULES, params={"protocol": "TCP", "port_range_min": "80"}).json()
    assert len(got["security_group_rules"]) == 1
    got = api.get(RULES, params={"normalized_cidr": "10.0.0.0/24"}).json()
    assert len(got["security_group_rules"]) == 1
    got = api.get(SG, params={"fields": ["id", "name"], "name": "web"}).json()["security_groups"]
    assert got == [{"id": sg["id"], "name": "web"}]


def test_group_and_rule_quotas(api):
    api.put("/v2.0/quotas/p1", {"quota": {"security_group": 2, "security_group_rule": 7}},
            admin=True, expect=200)
    group(api)  # with default: 2 groups, 6 rules
    assert error_type(api.post(SG, {"security_group": {"name": "x"}}, expect=409)) == "OverQuota"
    api.put("/v2.0/quotas/p1", {"quota": {"security_group": 3}}, admin=True, expect=200)
    assert error_type(api.post(SG, {"security_group": {"name": "x"}}, expect=409)) == "OverQuota"
    details = api.get("/v2.0/quotas/p1/details").json()["quota"]
    assert details["security_group"]["used"] == 2 and details["security_group_rule"]["used"] == 6


def test_the_quota_is_checked_before_the_default_group_is_made(api):
    """As Neutron (its API checks quotas before the plugin makes ``default``): with a
    quota of 1 a project's first group is made, with its default; the next is refused."""
    api.put("/v2.0/quotas/p9", {"quota": {"security_group": 1}}, admin=True, expect=200)
    body = {"security_group": {"name": "first", "project_id": "p9"}}
    api.post(SG, body, admin=True, expect=201)
    assert len(api.get(f"{SG}?project_id=p9", admin=True).json()["security_groups"]) == 2
    assert error_type(api.post(SG, body, admin=True, expect=409)) == "OverQuota"


def test_groups_are_taggable(api):
    sg = group(api)
    api.put(f"{SG}/{sg['id']}/tags", {"tags": ["red"]}, expect=200)
    assert api.get(f"{SG}/{sg['id']}").json()["security_group"]["tags"] == ["red"]
    assert [g["id"] for g in groups(api, tags="red")] == [sg["id"]]


# --- ports ------------------------------------------------------------------------

def test_port_gets_the_default_group_and_port_security_of_its_network(api):
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"])
    assert port["security_groups"] == [default_group(api)["id"]]
    assert port["port_security_enabled"] is True and port["allowed_address_pairs"] == []
    open_net = api.network(port_security_enabled=False)
    assert open_net["port_security_enabled"] is False
    api.subnet(open_net["id"])
    port = api.port(open_net["id"])
    assert port["port_security_enabled"] is False and port["security_groups"] == []


def test_network_owned_ports_get_no_group_addressless_ones_the_default(api):
    net = api.network()
    port = api.port(net["id"])  # no subnet, no address: still the default group (Neutron)
    assert port["fixed_ips"] == [] and port["security_groups"] == [default_group(api)["id"]]
    api.subnet(net["id"])
    dhcp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "device_owner": "network:dhcp"}},
                    admin=True, expect=201).json()["port"]
    assert dhcp["security_groups"] == [] and dhcp["port_security_enabled"] is False


def test_port_groups_are_chosen_replaced_and_filtered(api):
    net = api.network()
    api.subnet(net["id"])
    web, db = group(api, "web"), group(api, "db")
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "security_groups": [web["id"], web["id"]]}},
                    expect=400)
    assert "Duplicate items in the list" in resp.json()["NeutronError"]["message"]
    port = api.port(net["id"], security_groups=[web["id"]])
    assert port["security_groups"] == [web["id"]]
    upd = api.put(f"/v2.0/ports/{port['id']}", {"port": {"security_groups": [db["id"]]}},
                  expect=200).json()["port"]
    assert upd["security_groups"] == [db["id"]] and upd["revision_number"] == 2
    listed = api.get("/v2.0/ports", params={"security_groups": db["id"]}).json()["ports"]
    assert [p["id"] for p in listed] == [port["id"]]
    assert api.get("/v2.0/ports", params={"security_groups": web["id"]}).json()["ports"] == []
    other = group(api, "o", project="p2")
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "security_groups": [other["id"]]}}, expect=404)
    assert error_type(resp) == "SecurityGroupNotFound"
    stateless = group(api, "s", stateful=False)
    resp = api.put(f"/v2.0/ports/{port['id']}",
                   {"port": {"security_groups": [db["id"], stateless["id"]]}}, expect=409)
    assert error_type(resp) == "SecurityGroupConflict"


def test_port_security_and_groups_go_together(api):
    net = api.network()
    api.subnet(net["id"])
    web = group(api)
    body = {"port": {"network_id": net["id"], "port_security_enabled": False,
                     "security_groups": [web["id"]]}}
    assert error_type(api.post("/v2.0/ports", body, expect=400)) == \
        "PortSecurityAndIPRequiredForSecurityGroups"
    port = api.port(net["id"])
    path = f"/v2.0/ports/{port['id']}"
    resp = api.put(path, {"port": {"port_security_enabled": False}}, expect=409)
    assert error_type(resp) == "PortSecurityPortHasSecurityGroup"
    off = api.put(path, {"port": {"port_security_enabled": False, "security_groups": []}},
                  expect=200).json()["port"]
    assert off["port_security_enabled"] is False and off["security_groups"] == []
    resp = api.put(path, {"port": {"security_groups": [web["id"]]}}, expect=400)
    assert error_type(resp) == "PortSecurityAndIPRequiredForSecurityGroups"
    on = api.put(path, {"port": {"port_security_enabled": True, "security_groups": [web["id"]]}},
                 expect=200).json()["port"]
    assert on["port_security_enabled"] is True and on["security_groups"] == [web["id"]]


def test_allowed_address_pairs(api):
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], allowed_address_pairs=[
        {"ip_address": "10.0.0.100"}, {"ip_address": "10.0.9.0/24",
                                       "mac_address": "FA:16:3E:AA:BB:CC"}])
    assert port["allowed_address_pairs"] == [
        {"ip_address": "10.0.0.100", "mac_address": port["mac_address"]},
        {"ip_address": "10.0.9.0/24", "mac_address": "fa:16:3e:aa:bb:cc"}]
    path = f"/v2.0/ports/{port['id']}"
    resp = api.put(path, {"port": {"allowed_address_pairs": [{"ip_address": "10.0.0.1"}] * 2}},
                   expect=400)
    assert error_type(resp) == "DuplicateAddressPairInRequest"
    many = [{"ip_address": f"10.0.1.{i}"} for i in range(11)]
    resp = api.put(path, {"port": {"allowed_address_pairs": many}}, expect=400)
    assert error_type(resp) == "AllowedAddressPairExhausted"
    api.put(path, {"port": {"allowed_address_pairs": [{"mac_address": "fa:16:3e:00:00:01"}]}},
            expect=400)
    api.put(path, {"port": {"allowed_address_pairs": [{"ip_address": "banana"}]}}, expect=400)
    resp = api.put(path, {"port": {"port_security_enabled": False, "security_groups": []}},
                   expect=409)
    assert error_type(resp) == "AddressPairAndPortSecurityRequired"
    cleared = api.put(path, {"port": {"allowed_address_pairs": None}}, expect=200).json()["port"]
    assert cleared["allowed_address_pairs"] == []
    body = {"port": {"network_id": net["id"], "port_security_enabled": False,
                     "allowed_address_pairs": [{"ip_address": "10.0.0.100"}]}}
    assert error_type(api.post("/v2.0/ports", body, expect=409)) == \
        "AddressPairAndPortSecurityRequired"


def test_group_changes_of_a_port_enqueue_the_port(api):
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"])
    web = group(api)
    before = len(outbox(api))
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"security_groups": [web["id"]]}}, expect=200)
    assert outbox(api)[before:] == [("port", port["id"])]


def test_concurrent_first_requests_make_one_default_group(api):
    """The first requests of a project race to make its default group: the
    primary key of default_security_groups lets one win, the others retry."""
    ctx = Context("racer", frozenset({"member"}))
    barrier = threading.Barrier(6)
    seen: list[list[str]] = []

    def first_listing() -> None:
        barrier.wait()
        seen.append([row[0] for row in security_group_reads.READER.list_rows(
            api.env, ctx, ListQuery(), ("id",), ()).rows])

    threads = [threading.Thread(target=first_listing) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(seen) == 6 and len({tuple(s) for s in seen}) == 1 and len(seen[0]) == 1


def test_addressless_port_takes_groups_and_refuses_unknown_ones(api):
    net = api.network()  # no subnet: the ports have no address
    web = group(api, "web")
    stateless = group(api, "s", stateful=False)
    port = api.port(net["id"], security_groups=[web["id"]])
    assert port["fixed_ips"] == [] and port["security_groups"] == [web["id"]]
    path = f"/v2.0/ports/{port['id']}"
    missing = "7e57a5e0-0000-4000-8000-000000000000"
    resp = api.put(path, {"port": {"security_groups": [missing]}}, expect=404)
    assert error_type(resp) == "SecurityGroupNotFound"
    resp = api.put(path, {"port": {"security_groups": [web["id"], stateless["id"]]}}, expect=409)
    assert error_type(resp) == "SecurityGroupConflict"
    assert api.get(path).json()["port"]["security_groups"] == [web["id"]]  # nothing changed
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "security_groups": [missing]}}, expect=404)
    assert error_type(resp) == "SecurityGroupNotFound"
    assert error_type(api.delete(f"{SG}/{web['id']}", expect=409)) == "SecurityGroupInUse"
    assert error_type(api.put(f"{SG}/{web['id']}", {"security_group": {"stateful": False}},
                              expect=409)) == "SecurityGroupInUse"
    upd = api.put(path, {"port": {"security_groups": [default_group(api)["id"]]}},
                  expect=200).json()["port"]
    assert upd["revision_number"] == port["revision_number"] + 1

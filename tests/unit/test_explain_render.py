"""The explain renderer on recorded ovn-trace runs (``tests/unit/data/explain_traces.json``).

Recorded from a real ``neutrino up`` (OVN 23.03): networks n1 10.1.0.0/24 and n2
10.2.0.0/24 behind router r1 with a gateway on the flat external network ``public``,
ports pa and pb on n1 and pc on n2 in security group ``ssh`` (the two default egress
rules and one ingress tcp/22 rule). Each case keeps the plan, the facts read from the
database, the gateway chassis and ovn-trace's detailed output, so the renderer runs
here exactly as it did against the lab.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neutrino.ovn import explain, trace
from neutrino.ovn.explain_facts import Facts, Plan

DATA = json.loads((Path(__file__).parent / "data" / "explain_traces.json").read_text())


def rendered(case: str, text: str | None = None) -> dict:
    rec = DATA[case]
    plan = Plan(**{k: (tuple(v) if k == "early" and v else v) for k, v in rec["plan"].items()})
    return explain.render(trace.parse(text if text is not None else rec["trace"]),
                          Facts(**rec["facts"]), plan, rec["gateways"])


def kinds(result: dict, kind: str) -> list[dict]:
    return [s for s in result["steps"] if s["kind"] == kind]


def test_parse_follows_the_packet_through_both_pipelines_of_each_datapath():
    pipes = trace.parse(DATA["across_router_tcp22"]["trace"])
    assert [(p.kind, p.is_router) for p in pipes] == [
        ("ingress", False), ("egress", False), ("ingress", True), ("egress", True),
        ("ingress", False), ("egress", False)]
    assert pipes[2].inport.startswith("lrp-")
    assert pipes[-1].outputs == [(DATA["across_router_tcp22"]["plan"]["dest_port_id"], "")]
    acl = [f for f in pipes[-1].flows if f.stage == "ls_out_acl"]
    assert acl and acl[0].priority == 2002 and "tcp.dst == 22" in acl[0].match


def test_tcp22_on_one_network_is_allowed_by_the_ingress_rule():
    result = rendered("same_network_tcp22")
    rules = {s["ids"]["security_group_rule_id"] for s in kinds(result, "security_group_rule")}
    ids = DATA["same_network_tcp22"]["rule_ids"]
    assert result["verdict"] == "allowed"
    assert rules == {ids["ingress_tcp22"], ids["egress_any"]}
    assert ids["ingress_tcp22"] in result["reason"]
    assert not kinds(result, "default_drop")


def test_tcp80_on_one_network_is_dropped_by_the_default_drop():
    result = rendered("same_network_tcp80")
    assert result["verdict"] == "dropped"
    [drop] = kinds(result, "default_drop")
    assert drop["ids"]["port_id"] == DATA["same_network_tcp80"]["plan"]["dest_port_id"]
    assert "no ingress rule" in drop["summary"] and "(ssh)" in drop["summary"]
    assert "default drop" in result["reason"]
    rules = {s["ids"]["security_group_rule_id"] for s in kinds(result, "security_group_rule")}
    assert DATA["same_network_tcp80"]["rule_ids"]["ingress_tcp22"] not in rules


def test_across_the_router_both_networks_and_the_connected_route_appear():
    rec = DATA["across_router_tcp22"]
    result = rendered("across_router_tcp22")
    assert result["verdict"] == "allowed"
    [router] = kinds(result, "router")
    [route] = kinds(result, "route")
    assert route["ids"]["router_id"] == router["ids"]["router_id"]
    assert "connected subnet 10.2.0.0/24" in route["summary"]
    networks = {s["ids"].get("network_id") for s in kinds(result, "switch")} - {None}
    src_net = rec["facts"]["ports"][rec["plan"]["source_port_id"]]["network_id"]
    dst_net = rec["facts"]["ports"][rec["plan"]["dest_port_id"]]["network_id"]
    assert networks == {src_net, dst_net}
    assert rec["facts"]["routers"][router["ids"]["router_id"]]["name"] == "r1"


def test_external_traffic_shows_the_default_route_snat_and_gateway_chassis():
    rec = DATA["external_snat_tcp22"]
    result = rendered("external_snat_tcp22")
    assert result["verdict"] == "allowed"
    [nat] = kinds(result, "nat")
    router = rec["facts"]["routers"][nat["ids"]["router_id"]]
    gw = rec["facts"]["ports"][router["gw_port_id"]]
    assert nat["ids"]["port_id"] == router["gw_port_id"]
    assert gw["fixed_ips"][0]["ip_address"] in nat["summary"]
    [route] = kinds(result, "route")
    assert "0.0.0.0/0 via 172.24.4.1" in route["summary"]
    gateway = [s for s in kinds(result, "chassis") if "gateway" in s["summary"]]
    assert gateway and gateway[0]["ids"]["binding:host_id"] == \
        next(iter(rec["gateways"].values()))
    assert any("physical network physnet1" in s["summary"] for s in kinds(result, "switch"))


def test_a_trace_that_ends_inside_the_router_delivers_nothing():
    text = DATA["across_router_tcp22"]["trace"]
    cut = text[:text.index("egress(dp=", text.index("lrp-"))]
    result = rendered("across_router_tcp22", cut)
    assert result["verdict"] == "dropped"
    assert "delivers it nowhere" in result["reason"]


@pytest.mark.parametrize("protocol,port,expected", [
    ("tcp", 22, ["tcp", "tcp.dst == 22", "tcp.flags == 0x002"]),
    ("udp", 53, ["udp", "udp.dst == 53"]),
    ("icmp", None, ["icmp4", "icmp4.type == 8"]),
])
def test_microflow_is_the_first_packet_of_a_new_connection(protocol, port, expected):
    flow = trace.microflow(inport="p", eth_src="fa:16:3e:00:00:01", eth_dst="fa:16:3e:00:00:02",
                           ip_version=4, ip_src="10.0.0.2", ip_dst="10.0.0.3",
                           protocol=protocol, port=port)
    parts = flow.split(" && ")
    assert parts[:6] == ['inport == "p"', "eth.src == fa:16:3e:00:00:01",
                         "eth.dst == fa:16:3e:00:00:02", "ip4.src == 10.0.0.2",
                         "ip4.dst == 10.0.0.3", "ip.ttl == 64"]
    assert all(e in parts for e in expected)


def test_a_floating_ip_of_a_neighbour_is_reached_through_the_gateway_and_its_dnat():
    """pa to pb's floating IP: SNAT out of the gateway, back in through the floating IP's
    DNAT to pb's fixed address, delivered to pb (which counts as the destination)."""
    rec = DATA["floating_ip_hairpin_tcp22"]
    result = rendered("floating_ip_hairpin_tcp22")
    assert result["verdict"] == "allowed", result
    snat, dnat = kinds(result, "nat")
    [(fip_id, fip)] = rec["facts"]["floatingips"].items()
    assert "SNATs" in snat["summary"] and dnat["ids"]["floatingip_id"] == fip_id
    assert fip["fixed_ip_address"] in dnat["summary"]
    delivered = [s for s in kinds(result, "switch") if "delivers it to port" in s["summary"]]
    assert [s["ids"]["port_id"] for s in delivered] == [fip["fixed_port_id"]]
    assert len(kinds(result, "router")) == 2  # in from n1, back in from public


def test_an_acl_no_current_rule_makes_is_still_shown_with_its_group():
    """The NB behind the database (a rule deleted, its ACL not yet): the flow is still
    named, by its port group, and nothing claims a rule id."""
    rec = DATA["same_network_tcp22"]
    facts = Facts(**rec["facts"])
    ingress = rec["rule_ids"]["ingress_tcp22"]
    facts.acls = {m: a for m, a in facts.acls.items() if a.get("id") != ingress}
    plan = Plan(**rec["plan"])
    result = explain.render(trace.parse(rec["trace"]), facts, plan, rec["gateways"])
    stale = [s for s in kinds(result, "security_group_rule")
             if "no current rule" in s["summary"]]
    assert len(stale) == 1 and "security_group_rule_id" not in stale[0]["ids"]
    assert stale[0]["ids"]["port_id"] == plan.dest_port_id
    assert "ssh" in stale[0]["summary"]

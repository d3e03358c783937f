"""ovn-controller's acl_log lines read back (ovn/acl_log.py, cli/logs.py): parsing,
rule matching, counts, --since."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from neutrino.cli.logs import since_of
from neutrino.ovn import acl_log

LOG_ID = "5f0e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
TEXT = f"""\
2026-12-07T10:00:00.100Z|00010|binding|INFO|Claiming lport x for this chassis.
2026-12-07T10:00:01.250Z|00042|acl_log(ovn_pinctrl0)|INFO|name="neutron-{LOG_ID}", verdict=allow, severity=info, direction=to-lport: tcp,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:06,dl_dst=fa:16:3e:00:00:05,nw_src=10.0.0.6,nw_dst=10.0.0.5,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=40000,tp_dst=8022,tcp_flags=syn
2026-12-07T10:00:02.000Z|00043|acl_log(ovn_pinctrl0)|INFO|name="neutron-{LOG_ID}", verdict=drop, severity=info, direction=from-lport: icmp,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:05,dl_dst=fa:16:3e:00:00:06,nw_src=10.0.0.5,nw_dst=10.0.0.6,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0
2026-12-07T10:00:03.000Z|00044|acl_log(ovn_pinctrl0)|INFO|name="<unnamed>", verdict=allow, severity=info, direction=from-lport: udp6,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:05,dl_dst=fa:16:3e:00:00:06,ipv6_src=2001:db8::5,ipv6_dst=2001:db8::6,ipv6_label=0x00000,nw_tos=0,nw_ecn=0,nw_ttl=64,tp_src=5000,tp_dst=53
"""


def test_parse_reads_acl_log_lines_only():
    allow, drop, v6 = acl_log.parse(TEXT)
    assert (allow.log_id, allow.verdict, allow.direction, allow.five_tuple) == (
        LOG_ID, "allow", "to-lport", "tcp 10.0.0.6:40000 -> 10.0.0.5:8022")
    assert (drop.verdict, drop.protocol, drop.sport, drop.dport, drop.src_mac) == (
        "drop", "icmp", 8, 0, "fa:16:3e:00:00:05")
    assert (v6.log_id, v6.protocol, v6.src, v6.dport) == (None, "udp", "2001:db8::5", 53)
    assert v6.five_tuple == "udp [2001:db8::5]:5000 -> [2001:db8::6]:53"
    assert drop.five_tuple == "icmp 10.0.0.5 -> 10.0.0.6 type 8 code 0"
    assert len(acl_log.parse(TEXT, since=datetime(2026, 12, 7, 10, 0, 2))) == 2


def rule(**attrs):
    base = dict(direction="ingress", ethertype="IPv4", protocol="tcp", port_range_min=8022,
                port_range_max=8022, remote_ip_prefix="10.0.0.0/24")
    return SimpleNamespace(**{**base, **attrs})


@pytest.mark.parametrize("attrs, matches", [
    ({}, True), ({"direction": "egress"}, False), ({"remote_ip_prefix": "10.1.0.0/24"}, False),
    ({"port_range_min": 22, "port_range_max": 22}, False), ({"protocol": None}, True),
    ({"protocol": "udp"}, False), ({"ethertype": "IPv6"}, False),
    ({"port_range_min": None, "port_range_max": None}, True)])
def test_rule_matches(attrs, matches):
    [allow] = [e for e in acl_log.parse(TEXT) if e.protocol == "tcp"]
    assert acl_log.rule_matches(rule(**attrs), allow) is matches


def test_summary_counts_per_log_group_rule_and_verdict():
    allow, drop, _ = acl_log.parse(TEXT)
    allow = replace(allow, port_id="p", security_groups=("g",), rule="r", logs=(LOG_ID,))
    drop = replace(drop, port_id="p", security_groups=("g",), rule=acl_log.DEFAULT_DROP,
                   logs=("l2",))
    uncovered = replace(drop, logs=())  # logged for another project's log
    unknown = replace(drop, port_id=None)  # a port not in the database: the ACL's name
    assert acl_log.summary([allow, allow, drop, uncovered, unknown]) == [
        (LOG_ID, "g", "r", "allow", 2), ("-", "g", acl_log.DEFAULT_DROP, "drop", 1),
        (LOG_ID, "g", acl_log.DEFAULT_DROP, "drop", 1),
        ("l2", "g", acl_log.DEFAULT_DROP, "drop", 1)]


def _line(verdict: str, direction: str, log_id: str, src: tuple[str, str],
          dst: tuple[str, str], dport: int) -> acl_log.Entry:
    """An acl_log entry of a TCP packet from ``src`` to ``dst`` ((MAC, IP) pairs)."""
    return acl_log.Entry(time="2026-12-07T10:00:00.000Z", log_id=log_id, verdict=verdict,
                         direction=direction, protocol="tcp", src_mac=src[0], dst_mac=dst[0],
                         src=src[1], dst=dst[1], sport=40000, dport=dport)


def test_attribute_names_the_log_the_rule_or_the_groups(api):
    """Against the database: an allow belongs to the log its ACL names and to the rule
    whose remote (a group's members here) admits it; a drop to the enabled DROP/ALL logs
    covering the port's groups, a project-wide log covering groups made after it, and to
    none when only another project's log had it logged."""
    def group(name, project="p1"):
        return api.post("/v2.0/security-groups", {"security_group": {"name": name}},
                        project=project, expect=201).json()["security_group"]

    def ingress(sg, **attrs):
        return api.post("/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 8080, "port_range_max": 8080, **attrs}},
            expect=201).json()["security_group_rule"]

    def log(project="p1", **attrs):
        return api.post("/v2.0/log/logs", {"log": {"resource_type": "security_group", **attrs}},
                        project=project, admin=True, expect=201).json()["log"]

    web, clients = group("web"), group("clients")
    from_members = ingress(web, remote_group_id=clients["id"])
    from_host = ingress(web, remote_ip_prefix="192.0.2.99/32")
    accept = log(event="ACCEPT", resource_id=web["id"])
    everything = log(event="ALL")  # project-wide, before "later" exists
    log(event="DROP", enabled=False)
    later = group("later")
    net = api.network()
    api.subnet(net["id"])
    server = api.port(net["id"], security_groups=[web["id"]])
    client = api.port(net["id"], security_groups=[clients["id"]])
    newcomer = api.port(net["id"], security_groups=[later["id"]])
    net2 = api.network(project="p2")
    api.subnet(net2["id"], project="p2")
    stranger = api.port(net2["id"], project="p2")  # p2 has no log
    log(project="p2", event="ACCEPT")

    def ends(p):
        return p["mac_address"], p["fixed_ips"][0]["ip_address"]
    # outside the subnet: IPAM picks addresses at random, and a member port given the
    # outsider's address would make the remote-group rule admit it too
    outsider = ("fa:16:3e:00:00:99", "192.0.2.99")
    entries = [
        _line("allow", "to-lport", accept["id"], ends(client), ends(server), 8080),
        _line("allow", "to-lport", accept["id"], outsider, ends(server), 8080),
        _line("drop", "to-lport", everything["id"], ends(client), ends(newcomer), 8080),
        _line("drop", "from-lport", everything["id"], ends(stranger), outsider, 8080),
        _line("drop", "to-lport", everything["id"], outsider, ("fa:16:3e:00:00:98", "192.0.2.98"),
              8080)]
    member, host, new_drop, other_drop, unknown = api.env.db.run(
        lambda s: acl_log.attribute(s, entries), write=False)
    assert (member.port_id, member.logs, member.rule, member.security_groups) == (
        server["id"], (accept["id"],), from_members["id"], (web["id"],))
    assert (host.rule, host.log) == (from_host["id"], accept["id"])
    assert (new_drop.port_id, new_drop.logs, new_drop.rule, new_drop.security_groups) == (
        newcomer["id"], (everything["id"],), acl_log.DEFAULT_DROP, (later["id"],))
    assert (other_drop.port_id, other_drop.logs, other_drop.log) == (stranger["id"], (), "-")
    assert (unknown.port_id, unknown.log) == (None, everything["id"])


def test_since_of():
    now = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
    assert since_of("10m", now) == datetime(2026, 12, 7, 9, 50)
    assert since_of("2026-12-07T11:00:00+01:00") == datetime(2026, 12, 7, 10, 0)
    assert since_of(None) is None
    with pytest.raises(ValueError):
        since_of("yesterday")

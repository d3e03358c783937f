"""Network logs as OVN rows (ovn/network_log.py): which ACLs get log/name/
severity/meter, the meters' bands, and the plan/apply of both."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from unittest import mock

from neutrino.ovn import network_log
from neutrino.ovn.apply import nb_commands
from neutrino.ovn.rows import Desired
from neutrino.ovn.observe import Found, Observed
from neutrino.ovn.plan import ADD, DEL, SET, plan
from neutrino.ovn.security_groups import desired_port_groups

SG, OTHER = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def rule(id, group, direction="ingress", protocol="tcp"):
    return SimpleNamespace(id=id, security_group_id=group, direction=direction, ethertype="IPv4",
                           remote_ip_prefix=None, remote_group_id=None, protocol=protocol,
                           port_range_min=22, port_range_max=22)


def acls():
    groups = [SimpleNamespace(id=SG, stateful=True), SimpleNamespace(id=OTHER, stateful=False)]
    return desired_port_groups(groups, [rule("r1", SG), rule("r2", OTHER)])[1]


def log(id="l1", event="ALL", enabled=True):
    return SimpleNamespace(id=id, event=event, enabled=enabled)


def by_action(result, logged=True):
    return sorted((a.port_group, a.action) for a in result.values() if a.log == logged)


def test_all_event_logs_the_groups_allows_and_the_drop_acls():
    result = network_log.logged_acls(acls(), [(log(), {SG})])
    assert by_action(result) == [("neutron_pg_drop", "drop"), ("neutron_pg_drop", "drop"),
                                 ("pg_" + SG.replace("-", "_"), "allow-related")]
    acl = next(a for a in result.values() if a.log and a.action == "allow-related")
    assert (acl.name, acl.severity, acl.meter) == ("neutron-l1", "info", "acl_log_meter")
    # the DHCP/metadata allowances of neutron_pg_drop are not a group's rules
    assert not any(a.log for a in result.values()
                   if a.port_group == "neutron_pg_drop" and a.action != "drop")


def test_accept_and_drop_events_and_disabled_logs():
    assert by_action(network_log.logged_acls(acls(), [(log(event="ACCEPT"), {SG})])) == [
        ("pg_" + SG.replace("-", "_"), "allow-related")]
    assert {a.port_group for a in network_log.logged_acls(
        acls(), [(log(event="DROP"), {SG})]).values() if a.log} == {"neutron_pg_drop"}
    assert by_action(network_log.logged_acls(acls(), [(log(enabled=False), {SG})])) == []


def test_older_log_names_the_acl_and_stateless_groups_use_their_meter():
    result = network_log.logged_acls(acls(), [(log("old"), {SG, OTHER}), (log("new"), {SG})],
                                     stateless_groups={OTHER})
    names = {(a.port_group, a.meter, a.name) for a in result.values() if a.log and
             a.action != "drop"}
    assert names == {("pg_" + SG.replace("-", "_"), "acl_log_meter", "neutron-old"),
                     ("pg_" + OTHER.replace("-", "_"), "acl_log_meter_stateless", "neutron-old")}


def test_meters_follow_the_settings():
    meters = network_log.desired_meters(True, 200, 50)
    assert {(m.name, m.rate, m.burst_size, m.unit, m.fair) for m in meters.values()} == {
        ("acl_log_meter", 200, 50, "pktps", True), ("acl_log_meter_stateless", 100, 25, "pktps", True)}
    assert network_log.desired_meters(False, 200, 50) == {}


def test_plan_and_apply_meters():
    want = network_log.desired_meters(True, 100, 25)
    band = uuid.uuid4()
    old = network_log.Meter("acl_log_meter", 300, 25, external_ids=dict(want["acl_log_meter"].external_ids))
    observed = Observed(meters={"acl_log_meter": [Found(uuid.uuid4(), old, band)]})
    changes = plan(Desired(meters=want), observed)
    assert sorted((c.action, c.key, c.columns) for c in changes) == [
        (ADD, "acl_log_meter_stateless", ()), (SET, "acl_log_meter", ("rate",))]
    api = mock.Mock()
    cmds = nb_commands(api, changes, observed)
    api.meter_add.assert_called_once_with("acl_log_meter_stateless", "pktps", rate=50, fair=True,
                                          burst_size=12, may_exist=True,
                                          external_ids={"neutron:device_owner": "logging-plugin"})
    band_set = [c for c in cmds if getattr(c, "table", None) == "Meter_Band"]
    assert len(band_set) == 1 and band_set[0].record == band
    assert [c.action for c in plan(Desired(), observed)] == [DEL]

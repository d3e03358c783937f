"""Network logs through the NB sync, against the real NB of the shared ``ovn_lab``:
a log on a security group marks its rules' ACLs and ``neutron_pg_drop``'s drop ACLs
(``log``, ``name=neutron-<log id>``, ``severity=info``, ``meter``) and brings the
fair ``acl_log_meter`` rows; the audit repairs both when changed by hand; disabling
clears the ACLs, deleting the last log removes the meters.
"""

from __future__ import annotations

import pytest
from test_nb_security_groups import P1, drain, make_port, pg

from neutrino.lab.daemons import wait_until
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import network_logs
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]
ADMIN = Context.admin()


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


def logged(nb, name: str) -> dict[str, tuple]:
    """``{match: (action, log, name, severity, meter)}`` of a port group's ACLs."""
    with nb.ovsdb_connection.lock:
        row = nb.lookup("Port_Group", name)
        return {a.match: (a.action, a.log, a.name[0] if a.name else "",
                          a.severity[0] if a.severity else "", a.meter[0] if a.meter else "")
                for a in row.acls}


def meters(nb) -> dict[str, tuple]:
    """``{name: (unit, fair, rate, burst)}`` of the NB meters."""
    with nb.ovsdb_connection.lock:
        return {m.name: (m.unit, list(m.fair), m.bands[0].rate, m.bands[0].burst_size)
                for m in nb.tables["Meter"].rows.values()}


def test_log_marks_acls_and_meters_and_the_audit_repairs_them(ovn_lab, env, nb, sync,
                                                               only_our_rows):
    _, port = make_port(env)
    [sg_id] = port["security_groups"]
    log = network_logs.create_logs(env, ADMIN, [{"resource_type": "security_group",
                                                "resource_id": sg_id, "event": "ALL",
                                                "project_id": P1.project_id}]).objects[0]
    try:
        drain(sync)
        name = f"neutron-{log.id}"
        mine = logged(nb, pg(sg_id))
        assert mine and all(v[1:] == (True, name, "info", "acl_log_meter") for v in mine.values())
        drop = logged(nb, "neutron_pg_drop")
        assert {m: v for m, v in drop.items() if v[0] == "drop"} == {
            "inport == @neutron_pg_drop && ip": ("drop", True, name, "info", "acl_log_meter"),
            "outport == @neutron_pg_drop && ip": ("drop", True, name, "info", "acl_log_meter")}
        assert not any(v[1] for v in drop.values() if v[0] != "drop")
        assert meters(nb) == {"acl_log_meter": ("pktps", [True], 100, 25),
                              "acl_log_meter_stateless": ("pktps", [True], 50, 12)}
        assert not sync.audit(repair=False).has_drift

        # changed by hand: an ACL no longer logs, a meter band's rate, a meter gone
        match = next(iter(mine))
        central = ovn_lab.deployment.central
        acl_uuid = central.nbctl("--bare", "--columns=_uuid", "find", "ACL",
                                 f'match="{match}"').split()[0]
        central.nbctl("set", "ACL", acl_uuid, "log=false")
        band = central.nbctl("--bare", "--columns=bands", "find", "Meter",
                             "name=acl_log_meter").split()[0]
        central.nbctl("set", "Meter_Band", band, "rate=999")
        central.nbctl("meter-del", "acl_log_meter_stateless")
        wait_until(lambda: "acl_log_meter_stateless" not in meters(nb)
                   and not logged(nb, pg(sg_id))[match][1], 10, "the IDL to see the changes")
        report = sync.audit(repair=True)
        assert {(c.drift, c.table) for c in report.changes} == {
            ("different", "ACL"), ("different", "Meter"), ("missing", "Meter")}
        assert not sync.audit(repair=False).has_drift
        assert logged(nb, pg(sg_id))[match][1] and meters(nb)["acl_log_meter"][2] == 100

        network_logs.update_log(env, ADMIN, log.id, {"enabled": False})
        drain(sync)
        assert all(v[1:] == (False, "", "", "") for v in logged(nb, pg(sg_id)).values())
        assert not any(v[1] for v in logged(nb, "neutron_pg_drop").values())
        assert set(meters(nb)) == {"acl_log_meter", "acl_log_meter_stateless"}
    finally:
        network_logs.delete_log(env, ADMIN, log.id)
        drain(sync)
    assert meters(nb) == {}
    assert not any(v[1] for v in logged(nb, "neutron_pg_drop").values())


def test_project_wide_log_covers_groups_made_after_it(ovn_lab, env, nb, sync, only_our_rows):
    """A log without ``resource_id`` and ``target_id`` covers every group of its
    project, also one created later (here the project's default group, made with its
    first port, and a rule added afterwards): their allow ACLs are named by the log."""
    from neutrino.services import security_groups
    log = network_logs.create_logs(env, ADMIN, [{"resource_type": "security_group",
                                                "event": "ACCEPT",
                                                "project_id": P1.project_id}]).objects[0]
    try:
        drain(sync)
        _, port = make_port(env)
        [sg_id] = port["security_groups"]
        security_groups.create_security_group_rules(env, P1, [{
            "security_group_id": sg_id, "direction": "ingress", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22}])
        drain(sync)
        name = f"neutron-{log.id}"
        mine = logged(nb, pg(sg_id))
        assert len(mine) >= 3 and all(v[1:3] == (True, name) for v in mine.values()), mine
        # ACCEPT: the drop ACLs are not logged
        assert not any(v[1] for v in logged(nb, "neutron_pg_drop").values())
        assert not sync.audit(repair=False).has_drift
    finally:
        network_logs.delete_log(env, ADMIN, log.id)
        drain(sync)

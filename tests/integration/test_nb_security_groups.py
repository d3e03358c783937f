"""Security groups through the NB sync, against the real NB and SB of the shared
``ovn_lab``: port groups, ACLs, memberships, port security (reference D.6).

Resources are made through ``neutrino.services`` (the outbox rows are the
real ones) on a fresh database per test. Every port group and switch a test
makes is removed after it; audits only run when no other test's rows are there.
"""

from __future__ import annotations


import pytest
import wire

from neutrino.lab.daemons import wait_until
from neutrino.ovn import apply, plan
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import ports, security_groups, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

P1 = Context("p1", frozenset({"member", "reader"}))


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


def drain(sync: NorthboundSync) -> list[plan.Change]:
    """Apply the outbox batch by batch; every change made."""
    changes: list[plan.Change] = []
    original = apply.apply_resources

    def recording(*args, **kwargs):
        made = original(*args, **kwargs)
        changes.extend(made)
        return made
    apply.apply_resources = recording
    try:
        while sync.run_once():
            pass
    finally:
        apply.apply_resources = original
    return changes


def pg(sg_id: str) -> str:
    return "pg_" + sg_id.replace("-", "_")


def acls(nb, name: str) -> dict[str, tuple]:
    """``{match: (direction, priority, action, rule id, ACL uuid)}`` of a port group."""
    with nb.ovsdb_connection.lock:
        row = nb.lookup("Port_Group", name, default=None)
        if row is None:
            return {}
        return {a.match: (a.direction, a.priority, a.action,
                          a.external_ids.get("neutron:security_group_rule_id"), a.uuid)
                for a in row.acls}


def members(nb, name: str) -> set[str]:
    with nb.ovsdb_connection.lock:
        row = nb.lookup("Port_Group", name, default=None)
        return {p.name for p in row.ports} if row is not None else set()


def lsp(nb, port_id: str):
    return nb.lookup("Logical_Switch_Port", port_id, default=None)


def make_port(env: Env, **attrs) -> tuple[dict, dict]:
    net = wire.create("network", env, P1, [{"name": "sg"}])[0]
    subnets.create_subnets(env, P1, [{"network_id": net["id"], "cidr": "10.0.0.0/24",
                                      "ip_version": 4}])
    return net, wire.create("port", env, P1, [{"network_id": net["id"], **attrs}])[0]


def entry(port: dict) -> str:
    return " ".join([port["mac_address"], *(f["ip_address"] for f in port["fixed_ips"])])


def test_default_group_becomes_a_port_group_with_neutrons_acls(env, nb, sync):
    _, port = make_port(env)
    [sg_id] = port["security_groups"]
    drain(sync)

    name = pg(sg_id)
    assert nb.lookup("Port_Group", name).external_ids == {"neutron:security_group_id": sg_id}
    got = {m: v[:3] for m, v in acls(nb, name).items()}
    assert got == {
        f"inport == @{name} && ip4": ("from-lport", 1002, "allow-related"),
        f"inport == @{name} && ip6": ("from-lport", 1002, "allow-related"),
        f"outport == @{name} && ip4 && ip4.src == ${name}_ip4": ("to-lport", 1002, "allow-related"),
        f"outport == @{name} && ip6 && ip6.src == ${name}_ip6": ("to-lport", 1002, "allow-related"),
    }
    rule_ids = {r["id"] for r in wire.show(env, P1, "security_group", sg_id)[
        "security_group_rules"]}
    assert {v[3] for v in acls(nb, name).values()} == rule_ids
    drop = acls(nb, "neutron_pg_drop")
    assert drop["inport == @neutron_pg_drop && ip"][:3] == ("from-lport", 1001, "drop")
    assert drop["outport == @neutron_pg_drop && ip"][:3] == ("to-lport", 1001, "drop")
    assert members(nb, name) == {port["id"]} and port["id"] in members(nb, "neutron_pg_drop")
    row = lsp(nb, port["id"])
    assert row.port_security == [entry(port)] and row.addresses == [entry(port)]
    assert row.external_ids["neutron:security_group_ids"] == sg_id


def test_northd_fills_the_remote_group_address_set(ovn_lab, env, nb, sync):
    _, port = make_port(env)
    drain(sync)
    name = f"{pg(port['security_groups'][0])}_ip4"

    def addresses() -> list[str]:
        return ovn_lab.deployment.central.sbctl("--bare", "--columns=addresses", "find",
                                                "Address_Set", f"name={name}").split()
    got = wait_until(addresses, 10, f"SB address set {name}")
    assert got == [port["fixed_ips"][0]["ip_address"]]


def test_a_rule_change_touches_only_its_acl(env, nb, sync):
    _, port = make_port(env)
    sg_id = port["security_groups"][0]
    drain(sync)
    before = acls(nb, pg(sg_id))

    rule = wire.one(env, P1, "security_group_rule", security_groups.create_security_group_rules(
        env, P1, [{"security_group_id": sg_id, "direction": "ingress", "protocol": "tcp",
                   "port_range_min": 22, "port_range_max": 22,
                   "remote_ip_prefix": "10.0.0.7/24"}]))
    changes = drain(sync)

    match = f"outport == @{pg(sg_id)} && ip4 && ip4.src == 10.0.0.0/24 && tcp && tcp.dst == 22"
    assert [(c.action, c.table, c.key.split(" ", 3)[3]) for c in changes] == [
        (plan.ADD, "ACL", match)]
    after = acls(nb, pg(sg_id))
    assert after[match][:4] == ("to-lport", 1002, "allow-related", rule["id"])
    assert {m: v for m, v in after.items() if m != match} == before  # same rows, same uuids

    security_groups.delete_security_group_rule(env, P1, rule["id"])
    changes = drain(sync)
    assert [(c.action, c.table) for c in changes] == [(plan.DEL, "ACL")]
    assert acls(nb, pg(sg_id)) == before


def test_joining_and_leaving_groups_moves_only_that_port(env, nb, sync):
    net, port = make_port(env)
    other = wire.create("port", env, P1, [{"network_id": net["id"]}])[0]
    default = port["security_groups"][0]
    web = wire.one(env, P1, "security_group",
                   security_groups.create_security_groups(env, P1, [{"name": "web"}]))
    drain(sync)
    lsp_uuid = lsp(nb, port["id"]).uuid

    ports.update_port(env, P1, port["id"], {"security_groups": [web["id"]]})
    changes = drain(sync)

    assert members(nb, pg(web["id"])) == {port["id"]}
    assert members(nb, pg(default)) == {other["id"]}
    assert lsp(nb, port["id"]).uuid == lsp_uuid  # moved between groups, not recreated
    assert {(c.table, c.key) for c in changes} == {("Logical_Switch_Port", port["id"])}
    assert lsp(nb, port["id"]).external_ids["neutron:security_group_ids"] == web["id"]

    ports.update_port(env, P1, port["id"], {"security_groups": []})
    drain(sync)
    assert members(nb, pg(web["id"])) == set()
    assert port["id"] in members(nb, "neutron_pg_drop")  # still dropped: no group allows it


def test_port_security_off_opens_the_port(env, nb, sync):
    _, port = make_port(env, port_security_enabled=False)
    assert port["security_groups"] == [] and port["port_security_enabled"] is False
    drain(sync)
    row = lsp(nb, port["id"])
    assert row.port_security == [] and sorted(row.addresses) == sorted([entry(port), "unknown"])
    assert port["id"] not in members(nb, "neutron_pg_drop")

    default = wire.listed(env, P1, "security_group")[0]["id"]
    ports.update_port(env, P1, port["id"], {"port_security_enabled": True,
                                            "security_groups": [default]})
    drain(sync)
    row = lsp(nb, port["id"])
    assert row.port_security == [entry(port)] and row.addresses == [entry(port)]
    assert port["id"] in members(nb, "neutron_pg_drop") & members(nb, pg(default))


def test_allowed_address_pairs_extend_port_security(env, nb, sync):
    _, port = make_port(env, allowed_address_pairs=[
        {"ip_address": "10.0.0.100"}, {"ip_address": "10.0.9.0/24",
                                       "mac_address": "fa:16:3e:aa:bb:cc"}])
    drain(sync)
    row = lsp(nb, port["id"])
    assert sorted(row.port_security) == sorted([f"{entry(port)} 10.0.0.100",
                                                "fa:16:3e:aa:bb:cc 10.0.9.0/24"])
    assert sorted(row.addresses) == sorted([entry(port), "fa:16:3e:aa:bb:cc"])


def test_deleting_a_group_removes_its_port_group(env, nb, sync):
    web = wire.one(env, P1, "security_group",
                   security_groups.create_security_groups(env, P1, [{"name": "web"}]))
    drain(sync)
    assert nb.lookup("Port_Group", pg(web["id"]), default=None) is not None
    security_groups.delete_security_group(env, P1, web["id"])
    drain(sync)
    assert nb.lookup("Port_Group", pg(web["id"]), default=None) is None


def test_audit_repairs_acls_and_memberships_changed_by_hand(ovn_lab, env, nb, sync, only_our_rows):
    _, port = make_port(env)
    name = pg(port["security_groups"][0])
    drain(sync)
    central = ovn_lab.deployment.central
    own_pg = f"{ovn_lab.prefix}_handmade"
    [ingress_v4] = [m for m in acls(nb, name) if m.startswith("outport") and "ip4" in m]
    central.nbctl("acl-del", name, "to-lport", "1002", ingress_v4,
                  "--", "acl-add", name, "to-lport", "1002", f"outport == @{name} && tcp",
                  "allow",
                  "--", "clear", "Port_Group", name, "ports",
                  "--", "pg-add", own_pg)
    try:
        wait_until(lambda: not members(nb, name), 10, "the IDL to see the hand-made changes")
        report = sync.audit(repair=True)
        assert {(c.drift, c.table) for c in report.changes} == {
            ("missing", "ACL"), ("extra", "ACL"), ("different", "Logical_Switch_Port")}
        assert not sync.audit(repair=False).has_drift
        assert ingress_v4 in acls(nb, name) and members(nb, name) == {port["id"]}
        assert nb.lookup("Port_Group", own_pg, default=None) is not None  # not ours
    finally:
        nb.pg_del(own_pg, if_exists=True).execute(check_error=True)

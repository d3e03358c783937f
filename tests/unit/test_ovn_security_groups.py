"""Security groups as OVN rows (reference D.6): the pure builders of
``ovn.security_groups`` and ``ovn.desired``, and the diff and commands of
``ovn.apply`` for port groups, ACLs and memberships. No daemons."""

from __future__ import annotations

import dataclasses
import uuid
from types import SimpleNamespace
from unittest import mock

import pytest

from neutrino.ovn.apply import nb_commands
from neutrino.ovn.load import Scope
from neutrino.ovn.observe import Found, Observed
from neutrino.ovn.plan import ADD, DEL, SET, plan
from neutrino.ovn.commands import ChildAddCommand, DbReplaceCommand
from neutrino.ovn.rows import Desired, LogicalSwitch, LogicalSwitchPort
from neutrino.ovn.desired import desired_lsp
from neutrino.ovn.security_groups import (PG_DROP, Acl, PortGroup, acl_match, desired_acl,
                                          desired_drop_group, desired_port_groups, pg_name,
                                          port_groups_of, sg_id_of)

SG = "3f2a0000-0000-4000-8000-000000000001"
OTHER = "3f2a0000-0000-4000-8000-000000000002"
PG = pg_name(SG)
MAC = "fa:16:3e:12:34:56"


def rule(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": "r1", "security_group_id": SG, "direction": "ingress", "ethertype": "IPv4",
        "protocol": None, "port_range_min": None, "port_range_max": None,
        "remote_ip_prefix": None, "remote_group_id": None, **kw})


def port(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": "p1", "network_id": "n1", "mac_address": MAC, "name": "vm", "project_id": "p",
        "device_id": "d", "device_owner": "compute:nova", "admin_state_up": True,
        "revision_number": 1, "port_security_enabled": True, "allowed_address_pairs": [], **kw})


def test_port_group_name_replaces_dashes_and_round_trips():
    assert PG == "pg_3f2a0000_0000_4000_8000_000000000001"
    assert sg_id_of(PG) == SG and sg_id_of(PG_DROP) is None


@pytest.mark.parametrize("attrs, match", [
    ({}, f"outport == @{PG} && ip4"),
    ({"direction": "egress", "ethertype": "IPv6"}, f"inport == @{PG} && ip6"),
    ({"remote_group_id": SG}, f"outport == @{PG} && ip4 && ip4.src == ${PG}_ip4"),
    ({"direction": "egress", "ethertype": "IPv6", "remote_group_id": OTHER},
     f"inport == @{PG} && ip6 && ip6.dst == ${pg_name(OTHER)}_ip6"),
    ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
      "remote_ip_prefix": "0.0.0.0/0"},
     f"outport == @{PG} && ip4 && ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22"),
    ({"protocol": "17", "port_range_min": 1000, "port_range_max": 2000,
      "remote_ip_prefix": "10.0.0.5/24"},
     (f"outport == @{PG} && ip4 && ip4.src == 10.0.0.0/24 && udp && udp.dst >= 1000 "
      "&& udp.dst <= 2000")),
    ({"protocol": "sctp"}, f"outport == @{PG} && ip4 && sctp"),
    ({"protocol": "icmp", "port_range_min": 8, "port_range_max": 0},
     f"outport == @{PG} && ip4 && icmp4 && icmp4.type == 8 && icmp4.code == 0"),
    ({"protocol": "ipv6-icmp", "ethertype": "IPv6", "port_range_min": 128},
     f"outport == @{PG} && ip6 && icmp6 && icmp6.type == 128"),
    ({"protocol": "58", "ethertype": "IPv6"}, f"outport == @{PG} && ip6 && icmp6"),
    ({"protocol": "gre"}, f"outport == @{PG} && ip4 && ip.proto == 47"),
    ({"protocol": "dccp", "port_range_min": 5, "port_range_max": 6},
     f"outport == @{PG} && ip4 && ip.proto == 33"),
    ({"direction": "egress", "ethertype": "IPv6", "remote_ip_prefix": "2001:db8::1/64"},
     f"inport == @{PG} && ip6 && ip6.dst == 2001:db8::/64"),
])
def test_acl_match_is_built_as_neutrons_acl_py(attrs, match):
    assert acl_match(rule(**attrs), PG) == match


def test_rule_acl_is_stateful_allow_at_1002_with_its_rule_id():
    assert desired_acl(rule(direction="egress")) == Acl(
        PG, "from-lport", 1002, f"inport == @{PG} && ip4", "allow-related",
        {"neutron:security_group_rule_id": "r1"})
    assert desired_acl(rule(), stateful=False).action == "allow-stateless"


def test_drop_group_drops_ip_both_ways_but_lets_dhcp_and_metadata_out():
    pg, acls = desired_drop_group()
    assert pg == PortGroup(PG_DROP)
    drops = {(a.direction, a.priority, a.match) for a in acls if a.action == "drop"}
    assert drops == {("from-lport", 1001, f"inport == @{PG_DROP} && ip"),
                     ("to-lport", 1001, f"outport == @{PG_DROP} && ip")}
    allowed = [a.match for a in acls if a.action == "allow-related"]
    assert all(a.startswith(f"inport == @{PG_DROP} && ") and a for a in allowed)
    assert any("udp.dst == 67" in a for a in allowed)
    assert any("169.254.169.254" in a and "tcp.dst == 80" in a for a in allowed)


def test_desired_port_groups_keep_one_acl_per_match():
    groups = [SimpleNamespace(id=SG, stateful=True), SimpleNamespace(id=OTHER, stateful=False)]
    rules = [rule(id="b", remote_ip_prefix="10.0.0.5/24"),
             rule(id="a", remote_ip_prefix="10.0.0.0/24"),
             rule(id="c", security_group_id=OTHER),
             rule(id="z", security_group_id="not-given")]
    pgs, acls = desired_port_groups(groups, rules)
    assert set(pgs) == {PG_DROP, PG, pg_name(OTHER)}
    assert pgs[PG].external_ids == {"neutron:security_group_id": SG}
    mine = [a for a in acls.values() if a.port_group == PG]
    assert [a.external_ids["neutron:security_group_rule_id"] for a in mine] == ["a"]
    [other] = [a for a in acls.values() if a.port_group == pg_name(OTHER)]
    assert other.action == "allow-stateless"


def test_a_port_with_port_security_is_in_the_drop_group_and_its_groups():
    assert port_groups_of(port(), [OTHER, SG]) == (PG_DROP, PG, pg_name(OTHER))
    assert port_groups_of(port(), []) == (PG_DROP,)
    assert port_groups_of(port(port_security_enabled=False), [SG]) == ()
    assert port_groups_of(port(device_owner="network:router_interface"), []) == ()


def test_lsp_of_a_port_carries_groups_and_allowed_address_pairs():
    pairs = [{"ip_address": "10.0.0.100", "mac_address": MAC},
             {"ip_address": "10.0.9.0/24", "mac_address": "fa:16:3e:aa:bb:cc"}]
    lsp = desired_lsp(port(allowed_address_pairs=pairs), [(SimpleNamespace(
        id="s", ip_version=4, cidr="10.0.0.0/24"), "10.0.0.5")], {}, security_groups=[SG])
    assert lsp.port_security == (f"{MAC} 10.0.0.5 10.0.0.100", "fa:16:3e:aa:bb:cc 10.0.9.0/24")
    assert lsp.addresses == (f"{MAC} 10.0.0.5", "fa:16:3e:aa:bb:cc")
    assert lsp.port_groups == (PG_DROP, PG)
    assert lsp.external_ids["neutron:security_group_ids"] == SG


def test_lsp_without_port_security_is_open():
    lsp = desired_lsp(port(port_security_enabled=False), [], {})
    assert (lsp.port_security, lsp.addresses, lsp.port_groups) == ((), (MAC, "unknown"), ())


# --- diff and commands ------------------------------------------------------------

SWITCH = "neutron-n1"
DROP_PG, DROP_ACLS = desired_drop_group()
RULE_ACL = desired_acl(rule())
LSP = LogicalSwitchPort("p1", SWITCH, port_groups=(PG_DROP, PG))
DESIRED = Desired(switches={SWITCH: LogicalSwitch(SWITCH)}, ports={"p1": LSP},
                  port_groups={PG_DROP: DROP_PG, PG: PortGroup(PG, {"neutron:security_group_id": SG})},
                  acls={a.key: a for a in (*DROP_ACLS, RULE_ACL)})
SCOPE = Scope(switches=frozenset({SWITCH}), ports=frozenset({"p1"}),
              port_groups=frozenset({PG_DROP, PG}))


def nb(desired: Desired = DESIRED, **replace) -> Observed:
    """The NB in line with ``desired``; ``replace`` swaps an LSP by name."""
    switches = {n: [Found(uuid.uuid4(), row)] for n, row in desired.switches.items()}
    ports = {n: Found(uuid.uuid4(), replace.get(n, row), switches[row.switch][0].uuid)
             for n, row in desired.ports.items()}
    pgs = {n: [Found(uuid.uuid4(), row)] for n, row in desired.port_groups.items()}
    acls = {k: [Found(uuid.uuid4(), a, pgs[a.port_group][0].uuid)]
            for k, a in desired.acls.items()}
    return Observed(switches=switches, ports=ports, port_groups=pgs, acls=acls)


def keys(changes) -> set[tuple[str, str]]:
    return {(c.action, c.table) for c in changes}


def test_nb_in_line_needs_no_change():
    assert plan(DESIRED, nb(), SCOPE) == []
    assert plan(DESIRED, nb()) == []


def test_a_new_rule_is_one_acl_added_to_its_port_group():
    extra = desired_acl(rule(id="r2", protocol="tcp"))
    desired = dataclasses.replace(DESIRED, acls={**DESIRED.acls, extra.key: extra})
    observed = nb()

    [change] = plan(desired, observed, Scope(port_groups=frozenset({PG})))
    [cmd] = nb_commands(mock.Mock(), [change], observed)

    assert (change.action, change.table, change.key) == (ADD, "ACL", extra.key)
    assert isinstance(cmd, ChildAddCommand) and cmd.parent == observed.port_groups[PG][0].uuid
    assert cmd.columns == {"action": "allow-related", "direction": "to-lport", "priority": 1002,
                           "match": extra.match,
                           "external_ids": {"neutron:security_group_rule_id": "r2"}}


def test_a_removed_rule_is_its_acl_removed_from_its_port_group():
    observed = nb()
    desired = dataclasses.replace(DESIRED, acls={k: a for k, a in DESIRED.acls.items()
                                                 if a is not RULE_ACL})
    api = mock.Mock()

    [change] = plan(desired, observed, Scope(port_groups=frozenset({PG})))
    nb_commands(api, [change], observed)

    assert (change.action, change.table, change.resource) == (DEL, "ACL", "")
    api.db_remove.assert_called_once_with("Port_Group", observed.port_groups[PG][0].uuid,
                                          "acls", observed.acls[RULE_ACL.key][0].uuid,
                                          if_exists=True)


def test_a_member_group_that_exists_keeps_its_acls_and_a_missing_one_gets_them():
    # a port round scopes its groups as member groups (Scope.member_groups)
    extra = desired_acl(rule(id="r2", protocol="tcp"))
    desired = dataclasses.replace(DESIRED, acls={**DESIRED.acls, extra.key: extra})
    scope = Scope(ports=frozenset({"p1"}), port_groups=frozenset({PG_DROP}),
                  member_groups=frozenset({PG}))

    assert plan(desired, nb(), scope) == []  # the ACL is the group's own round to write

    missing = nb()
    missing = dataclasses.replace(missing, port_groups={PG_DROP: missing.port_groups[PG_DROP]},
                                  acls={k: f for k, f in missing.acls.items()
                                        if f[0].row.port_group == PG_DROP})
    added = plan(desired, missing, scope)
    assert {(c.action, c.table, c.key) for c in added} == {
        (ADD, "Port_Group", PG), (ADD, "ACL", RULE_ACL.key), (ADD, "ACL", extra.key)}


def test_changed_membership_is_a_port_groups_difference_of_the_lsp():
    observed = nb(p1=dataclasses.replace(LSP, port_groups=(PG_DROP, "pg_old")))
    api = mock.Mock()

    [change] = plan(DESIRED, observed, SCOPE)
    cmds = nb_commands(api, [change], observed)

    assert (change.action, change.columns) == (SET, ("port_groups",))
    lsp_uuid = observed.ports["p1"].uuid
    api.pg_add_ports.assert_called_once_with(observed.port_groups[PG][0].uuid, lsp_uuid)
    api.pg_del_ports.assert_called_once_with("pg_old", lsp_uuid, if_exists=True)
    assert cmds == [api.pg_add_ports.return_value, api.pg_del_ports.return_value]
    assert not any(isinstance(c, DbReplaceCommand) for c in cmds)  # no LSP column changes


def test_new_port_and_new_group_are_added_in_one_transaction_in_order():
    api = mock.Mock()

    changes = plan(DESIRED, Observed(), SCOPE)
    cmds = nb_commands(api, changes, Observed())

    assert keys(changes) == {(ADD, "Logical_Switch"), (ADD, "Logical_Switch_Port"),
                             (ADD, "Port_Group"), (ADD, "ACL")}
    pg_add = api.pg_add.return_value
    assert cmds[0] is pg_add and api.pg_add.call_count == 2
    acl_adds = [c for c in cmds if isinstance(c, ChildAddCommand)]
    assert len(acl_adds) == len(DESIRED.acls) and all(c.parent is pg_add for c in acl_adds)
    lsp_add = api.lsp_add.return_value
    assert api.pg_add_ports.call_args_list == [mock.call(pg_add, lsp_add)] * 2
    assert cmds.index(lsp_add) < cmds.index(api.pg_add_ports.return_value)


def test_a_deleted_group_takes_its_acls_with_it():
    observed = nb()
    api = mock.Mock()
    desired = dataclasses.replace(DESIRED, port_groups={PG_DROP: DROP_PG},
                                  acls={a.key: a for a in DROP_ACLS},
                                  ports={"p1": dataclasses.replace(LSP, port_groups=(PG_DROP,))})

    changes = plan(desired, observed, SCOPE)
    cmds = nb_commands(api, changes, observed)

    assert keys(changes) == {(DEL, "Port_Group"), (DEL, "ACL"), (SET, "Logical_Switch_Port")}
    assert cmds == [api.pg_del.return_value]  # ACLs and membership go with the row
    api.pg_del.assert_called_once_with(observed.port_groups[PG][0].uuid, if_exists=True)


def test_audit_removes_owned_port_groups_nothing_wants():
    observed = nb()
    stray = PortGroup(pg_name(OTHER), {"neutron:security_group_id": OTHER})
    observed = dataclasses.replace(
        observed, port_groups={**observed.port_groups, stray.name: [Found(uuid.uuid4(), stray)]})

    [change] = plan(DESIRED, observed)

    assert (change.action, change.table, change.key) == (DEL, "Port_Group", stray.name)


def test_changes_name_their_security_group_resource():
    [pg_change, *acl_changes] = plan(DESIRED, Observed(), Scope(port_groups=frozenset({PG})))
    assert pg_change.resource == f"security_group {SG}"
    assert acl_changes[0].resource == "security_group_rule r1"
    [drop_change, *_] = plan(DESIRED, Observed(), Scope(port_groups=frozenset({PG_DROP})))
    assert drop_change.resource == "port security (all ports)"

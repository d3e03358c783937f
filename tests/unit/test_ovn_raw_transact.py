"""ovn.raw_transact: which plans go as raw operations, and their RFC 7047 shape.

That the NB rows come out as the ovsdbapp path writes them is checked against a
real ovsdb-server (tests/integration/test_nb_raw_repair.py).
"""

from __future__ import annotations

from unittest import mock

import pytest

from neutrino.ovn import raw_transact
from neutrino.ovn.apply import nb_commands
from neutrino.ovn.observe import Observed
from neutrino.ovn.plan import ADD, DEL, Change, plan
from test_ovn_apply import DESIRED, observed


def test_only_large_plans_of_additions_are_eligible(monkeypatch):
    monkeypatch.setattr(raw_transact, "MIN_CHANGES", 3)
    adds = plan(DESIRED, Observed())
    assert len(adds) == 3 and raw_transact.eligible(adds)
    assert not raw_transact.eligible(adds[:2])
    assert not raw_transact.eligible(adds[:2] + [Change(DEL, "Logical_Switch", "x")])
    # below the threshold nb_commands keeps ovsdbapp's commands
    monkeypatch.setattr(raw_transact, "MIN_CHANGES", 4)
    assert not any(isinstance(c, raw_transact.RawOpsCommand)
                   for c in nb_commands(mock.Mock(), adds, Observed()))


def test_rows_refer_to_each_other_by_named_uuid_and_children_join_by_mutate(monkeypatch):
    monkeypatch.setattr(raw_transact, "MIN_CHANGES", 1)
    [command] = nb_commands(mock.Mock(), plan(DESIRED, Observed()), Observed())
    txn = mock.Mock()
    command.run_idl(txn)
    ops = [c.args[0] for c in txn.add_op.call_args_list]
    dhcp, switch, port, ports = ops
    assert dhcp == {"op": "insert", "table": "DHCP_Options", "uuid-name": "row0", "row": {
        "cidr": "10.0.0.0/24", "external_ids": ["map", [["subnet_id", "s1"],
                                                        ["neutron:revision_number", "1"]]],
        "options": ["map", [["server_id", "10.0.0.1"]]]}}
    assert switch["row"]["name"] == "neutron-net1" and switch["uuid-name"] == "row1"
    assert port["row"]["name"] == "p1"
    assert port["row"]["dhcpv4_options"] == ["set", [["named-uuid", "row0"]]]
    assert port["row"]["parent_name"] == ["set", []] and port["row"]["enabled"] is True
    assert ports == {"op": "mutate", "table": "Logical_Switch",
                     "where": [["_uuid", "==", ["named-uuid", "row1"]]],
                     "mutations": [["ports", "insert", ["set", [["named-uuid", "row2"]]]]]}
    assert command.weight == 3
    # ovsdbapp re-runs a transaction that came back "try again": the plan is stale then
    with pytest.raises(raw_transact.StalePlan):
        command.run_idl(mock.Mock())


def test_a_port_on_an_observed_switch_joins_it_by_uuid(monkeypatch):
    monkeypatch.setattr(raw_transact, "MIN_CHANGES", 1)
    nb = observed()
    nb.ports.clear()
    changes = plan(DESIRED, nb)
    assert [(c.action, c.key) for c in changes] == [(ADD, "p1")]
    [command] = nb_commands(mock.Mock(), changes, nb)
    txn = mock.Mock()
    command.run_idl(txn)
    port, ports = (c.args[0] for c in txn.add_op.call_args_list)
    switch_uuid = nb.switches["neutron-net1"][0].uuid
    dhcp_uuid = nb.dhcp_options["s1"][0].uuid
    assert port["row"]["dhcpv4_options"] == ["set", [["uuid", str(dhcp_uuid)]]]
    assert ports["where"] == [["_uuid", "==", ["uuid", str(switch_uuid)]]]

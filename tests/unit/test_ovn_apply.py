"""The pure diff of ovn.apply: desired rows against rows read from the NB."""

from __future__ import annotations

import dataclasses
import uuid

from neutrino.ovn.apply import ADD, DEL, SET, Found, Observed, Scope, plan
from neutrino.ovn.desired import Desired, DhcpOptions, LogicalSwitch, LogicalSwitchPort

SWITCH = "neutron-net1"
SWITCH_ROW = LogicalSwitch(SWITCH, {"neutron:network_name": "n1"}, {"mcast_snoop": "false"})
PORT = LogicalSwitchPort("p1", SWITCH, addresses=("fa:16:3e:00:00:01 10.0.0.5",),
                         port_security=("fa:16:3e:00:00:01 10.0.0.5",),
                         options={"requested-chassis": ""}, external_ids={"neutron:port_name": ""},
                         dhcpv4_options="s1")
DHCP = DhcpOptions("s1", "10.0.0.0/24", {"server_id": "10.0.0.1"},
                   {"subnet_id": "s1", "neutron:revision_number": "1"})
DESIRED = Desired({SWITCH: SWITCH_ROW}, {"p1": PORT}, {"s1": DHCP})


def observed(desired: Desired = DESIRED, **replace) -> Observed:
    """What the NB holds when it matches ``desired``; ``replace`` swaps LSPs."""
    switches = {n: [Found(uuid.uuid4(), row)] for n, row in desired.switches.items()}
    ports = {n: Found(uuid.uuid4(), replace.get(n, row), switches[row.switch][0].uuid)
             for n, row in desired.ports.items()}
    dhcp = {s: [Found(uuid.uuid4(), row)] for s, row in desired.dhcp_options.items()}
    return Observed(switches, ports, dhcp)


def keys(changes) -> set[tuple[str, str, str]]:
    return {(c.action, c.table, c.key) for c in changes}


def test_empty_nb_gets_every_row_added():
    assert keys(plan(DESIRED, Observed())) == {
        (ADD, "Logical_Switch", SWITCH), (ADD, "Logical_Switch_Port", "p1"),
        (ADD, "DHCP_Options", "s1")}


def test_nb_in_line_needs_no_change():
    assert plan(DESIRED, observed()) == []


def test_sets_are_compared_unordered():
    two = dataclasses.replace(PORT, addresses=("a", "b"))
    desired = dataclasses.replace(DESIRED, ports={"p1": two})

    assert plan(desired, observed(desired, p1=dataclasses.replace(two, addresses=("b", "a")))) == []


def test_only_differing_columns_are_set():
    nb = observed(p1=dataclasses.replace(PORT, enabled=False, options={}))

    [change] = plan(DESIRED, nb)

    assert (change.action, change.key, change.columns) == (SET, "p1", ("enabled", "options"))
    assert change.uuid == nb.ports["p1"].uuid


def test_lsp_on_another_switch_is_moved():
    nb = observed()
    stray = dataclasses.replace(nb.ports["p1"], switch_uuid=uuid.uuid4())
    nb = dataclasses.replace(nb, ports={"p1": stray})

    [change] = plan(DESIRED, nb)

    assert (change.action, change.columns) == (SET, ("switch",))


def test_duplicate_switch_and_dhcp_rows_keep_the_first():
    nb = observed()
    dup_switch, dup_dhcp = Found(uuid.uuid4(), SWITCH_ROW), Found(uuid.uuid4(), DHCP)
    nb = dataclasses.replace(nb, switches={SWITCH: nb.switches[SWITCH] + [dup_switch]},
                             dhcp_options={"s1": nb.dhcp_options["s1"] + [dup_dhcp]})

    changes = plan(DESIRED, nb)

    assert {(c.action, c.uuid) for c in changes} == {(DEL, dup_switch.uuid), (DEL, dup_dhcp.uuid)}


def test_audit_removes_an_lsp_nothing_wants_and_rows_of_deleted_resources():
    nb = observed()
    by_hand = Found(uuid.uuid4(), LogicalSwitchPort("by-hand", SWITCH),
                    nb.switches[SWITCH][0].uuid)
    nb = dataclasses.replace(nb, ports={**nb.ports, "by-hand": by_hand})

    assert keys(plan(DESIRED, nb)) == {(DEL, "Logical_Switch_Port", "by-hand")}
    assert keys(plan(Desired(), nb)) == {
        (DEL, "Logical_Switch", SWITCH), (DEL, "Logical_Switch_Port", "p1"),
        (DEL, "Logical_Switch_Port", "by-hand"), (DEL, "DHCP_Options", "s1")}


def test_a_scoped_plan_looks_only_at_its_rows():
    nb = observed(p1=dataclasses.replace(PORT, enabled=False))
    scope = Scope(switches=frozenset({SWITCH}), subnets=frozenset({"s1", "s2"}))

    assert plan(DESIRED, nb, scope) == []
    assert keys(plan(Desired(), nb, Scope(ports=frozenset({"p1"})))) == {
        (DEL, "Logical_Switch_Port", "p1")}


def test_dhcp_reference_to_another_row_differs():
    nb = observed(p1=dataclasses.replace(PORT, dhcpv4_options=f"uuid:{uuid.uuid4()}"))

    [change] = plan(DESIRED, nb)

    assert change.columns == ("dhcpv4_options",)


def test_changes_name_their_drift_and_resource():
    added, removed = plan(DESIRED, Observed())[0], plan(Desired(), observed())[0]

    assert (added.drift, added.resource) == ("missing", "network net1")
    assert (removed.drift, removed.resource) == ("extra", "")

"""The pure diff of ovn.plan: desired rows against rows read from the NB (ovn.observe)."""

from __future__ import annotations

import dataclasses
import uuid

from unittest import mock

from neutrino.ovn.apply import nb_commands
from neutrino.ovn.load import Scope, unscheduled_gateways
from neutrino.ovn.observe import Found, Observed
from neutrino.ovn.plan import ADD, DEL, SET, plan
from neutrino.ovn.commands import ChildAddCommand, DbReplaceCommand
from neutrino.ovn.rows import (Desired, DhcpOptions, GatewayChassis, LogicalRouter,
                               LogicalRouterPort, LogicalSwitch, LogicalSwitchPort, Nat,
                               StaticRoute)

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
    stray = dataclasses.replace(nb.ports["p1"], parent_uuid=uuid.uuid4())
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


# --- localnet ports ---------------------------------------------------------------------

LOCALNET = LogicalSwitchPort("provnet-seg1", SWITCH, type="localnet", addresses=("unknown",),
                             options={"network_name": "physnet1"}, tag_request=100)


def test_localnet_port_of_a_removed_segment_goes_with_its_network_entry():
    with_localnet = dataclasses.replace(DESIRED, ports={**DESIRED.ports, LOCALNET.name: LOCALNET})
    nb = observed(with_localnet)
    scope = Scope(switches=frozenset({SWITCH}))

    assert keys(plan(DESIRED, nb, scope)) == {(DEL, "Logical_Switch_Port", LOCALNET.name)}
    assert plan(with_localnet, nb, scope) == []


def test_vlan_tag_request_is_compared():
    desired = dataclasses.replace(DESIRED, ports={LOCALNET.name: LOCALNET})
    nb = observed(desired, **{LOCALNET.name: dataclasses.replace(LOCALNET, tag_request=None)})

    [change] = plan(desired, nb)

    assert change.columns == ("tag_request",)


# --- routers ------------------------------------------------------------------------------

ROUTER = "neutron-r1"
GW_LRP, IF_LRP = "lrp-gw", "lrp-if"
LR_ROW = LogicalRouter(ROUTER, True, {"dynamic_neigh_routers": "true"},
                       {"neutron:router_name": "r1", "neutron:gw_port_id": "gw"})
LRPS = {IF_LRP: LogicalRouterPort(IF_LRP, ROUTER, "fa:16:3e:00:00:01", ("10.0.0.1/24",)),
        GW_LRP: LogicalRouterPort(GW_LRP, ROUTER, "fa:16:3e:00:00:02", ("172.24.4.10/24",))}
GWCS = {f"{GW_LRP}_{c}": GatewayChassis(f"{GW_LRP}_{c}", GW_LRP, c, p)
        for c, p in (("ch1", 2), ("ch2", 1))}
ROUTE_ROW = StaticRoute(ROUTER, "0.0.0.0/0", "172.24.4.1", {"neutron:is_ext_gw": "true"})
SNAT = Nat(ROUTER, "snat", "172.24.4.10", "10.0.0.0/24")
FIP = Nat(ROUTER, "dnat_and_snat", "172.24.4.20", "10.0.0.5", "vm", "", {"neutron:fip_id": "f1"})
ROUTED = Desired(routers={ROUTER: LR_ROW}, router_ports=LRPS,
                 static_routes={ROUTE_ROW.key: ROUTE_ROW}, nats={n.key: n for n in (SNAT, FIP)},
                 gateway_chassis=GWCS)
ROUTER_SCOPE = Scope(routers=frozenset({ROUTER}), router_ports=frozenset(LRPS))


def routed_nb(desired: Desired = ROUTED, **replace) -> Observed:
    """The NB in line with ``desired`` routers; ``replace`` swaps rows by name/key."""
    routers = {n: [Found(uuid.uuid4(), row)] for n, row in desired.routers.items()}
    lrps = {n: Found(uuid.uuid4(), replace.get(n, row), routers[row.router][0].uuid)
            for n, row in desired.router_ports.items()}
    gwcs = {n: Found(uuid.uuid4(), replace.get(n, row), lrps[row.port].uuid)
            for n, row in (desired.gateway_chassis or {}).items()}
    routes = {k: [Found(uuid.uuid4(), replace.get(k, r), routers[r.router][0].uuid)]
              for k, r in desired.static_routes.items()}
    nats = {k: [Found(uuid.uuid4(), replace.get(k, r), routers[r.router][0].uuid)]
            for k, r in desired.nats.items()}
    return Observed(routers=routers, router_ports=lrps, gateway_chassis=gwcs,
                    static_routes=routes, nats=nats)


def test_a_new_router_gets_every_row_added():
    assert keys(plan(ROUTED, Observed(), ROUTER_SCOPE)) == {
        (ADD, "Logical_Router", ROUTER), (ADD, "Logical_Router_Port", IF_LRP),
        (ADD, "Logical_Router_Port", GW_LRP), (ADD, "Gateway_Chassis", f"{GW_LRP}_ch1"),
        (ADD, "Gateway_Chassis", f"{GW_LRP}_ch2"),
        (ADD, "Logical_Router_Static_Route", ROUTE_ROW.key), (ADD, "NAT", SNAT.key),
        (ADD, "NAT", FIP.key)}


def test_router_in_line_needs_no_change():
    assert plan(ROUTED, routed_nb(), ROUTER_SCOPE) == []
    assert plan(ROUTED, routed_nb()) == []


def test_deleted_router_is_removed_with_everything_on_it():
    nb = routed_nb()

    changes = plan(Desired(), nb, ROUTER_SCOPE)

    assert {c.action for c in changes} == {DEL}
    assert ("Logical_Router", ROUTER) in {(c.table, c.key) for c in changes}
    assert len(changes) == 8


def test_a_new_chassis_priority_is_set_in_place():
    gwc = f"{GW_LRP}_ch2"
    nb = routed_nb(**{gwc: dataclasses.replace(GWCS[gwc], priority=7)})

    [change] = plan(ROUTED, nb, ROUTER_SCOPE)

    assert (change.action, change.table, change.columns) == (SET, "Gateway_Chassis", ("priority",))


def test_a_chassis_gone_from_the_sb_loses_its_gateway_chassis_row():
    gone = f"{GW_LRP}_ch2"
    desired = dataclasses.replace(ROUTED, gateway_chassis={
        f"{GW_LRP}_ch1": GWCS[f"{GW_LRP}_ch1"]})

    nb = routed_nb()

    [change] = plan(desired, nb, ROUTER_SCOPE)

    assert (change.action, change.table, change.key) == (DEL, "Gateway_Chassis", gone)
    assert change.parent_uuid == nb.router_ports[GW_LRP].uuid


def test_unknown_chassis_leave_gateway_chassis_rows_alone():
    desired = dataclasses.replace(ROUTED, gateway_chassis=None)

    assert plan(desired, routed_nb(), ROUTER_SCOPE) == []


def test_an_lrp_on_another_router_moves_and_its_gateway_chassis_are_added_anew():
    nb = routed_nb()
    stray = dataclasses.replace(nb.router_ports[GW_LRP], parent_uuid=uuid.uuid4())
    nb = dataclasses.replace(nb, router_ports={**nb.router_ports, GW_LRP: stray})

    changes = plan(ROUTED, nb, ROUTER_SCOPE)

    assert keys(changes) == {(SET, "Logical_Router_Port", GW_LRP),
                             (ADD, "Gateway_Chassis", f"{GW_LRP}_ch1"),
                             (ADD, "Gateway_Chassis", f"{GW_LRP}_ch2")}
    assert changes[0].columns == ("router",)


def test_an_lrp_added_by_hand_to_our_router_is_removed():
    nb = routed_nb()
    hand = Found(uuid.uuid4(), LogicalRouterPort("by-hand", ROUTER), nb.routers[ROUTER][0].uuid)
    nb = dataclasses.replace(nb, router_ports={**nb.router_ports, "by-hand": hand})

    assert keys(plan(ROUTED, nb, ROUTER_SCOPE)) == {(DEL, "Logical_Router_Port", "by-hand")}
    assert keys(plan(ROUTED, nb)) == {(DEL, "Logical_Router_Port", "by-hand")}


def test_routes_and_nats_are_compared_by_key_and_columns():
    changed_fip = dataclasses.replace(FIP, logical_port="other-vm")
    nb = routed_nb(**{FIP.key: changed_fip})
    duplicate = Found(uuid.uuid4(), ROUTE_ROW, nb.routers[ROUTER][0].uuid)
    nb = dataclasses.replace(nb, static_routes={
        ROUTE_ROW.key: nb.static_routes[ROUTE_ROW.key] + [duplicate]})

    changes = plan(ROUTED, nb, ROUTER_SCOPE)

    assert {(c.action, c.table, c.columns) for c in changes} == {
        (SET, "NAT", ("logical_port",)), (DEL, "Logical_Router_Static_Route", ())}
    assert [c.uuid for c in changes if c.action == DEL] == [duplicate.uuid]


def test_a_router_scope_leaves_other_routers_alone():
    other = dataclasses.replace(LR_ROW, name="neutron-r2", enabled=False)
    nb = routed_nb(dataclasses.replace(ROUTED, routers={ROUTER: LR_ROW, "neutron-r2": other}))

    assert plan(ROUTED, nb, ROUTER_SCOPE) == []
    assert keys(plan(ROUTED, nb)) == {(DEL, "Logical_Router", "neutron-r2")}


def test_router_changes_name_their_resource():
    changes = {(c.table, c.key): c for c in plan(ROUTED, Observed(), ROUTER_SCOPE)}

    assert changes[("Logical_Router", ROUTER)].resource == "router r1"
    assert changes[("Logical_Router_Port", GW_LRP)].resource == "port gw"
    assert changes[("Gateway_Chassis", f"{GW_LRP}_ch1")].resource == "port gw"
    assert changes[("NAT", SNAT.key)].resource == "router r1"
    assert changes[("NAT", FIP.key)].resource == "floatingip f1"


def test_unscheduled_gateways_are_the_gateway_lrps_without_chassis():
    assert unscheduled_gateways(ROUTED) == []
    assert unscheduled_gateways(dataclasses.replace(ROUTED, gateway_chassis={})) == [GW_LRP]
    assert unscheduled_gateways(dataclasses.replace(ROUTED, gateway_chassis=None)) == []


def test_commands_add_children_to_rows_added_in_the_same_transaction():
    api = mock.Mock()

    cmds = nb_commands(api, plan(ROUTED, Observed(), ROUTER_SCOPE), Observed())

    router_add = api.lr_add.return_value
    assert cmds[0] is router_add
    children = [c for c in cmds if isinstance(c, ChildAddCommand)]
    assert len(children) == 7
    lrp_adds = {c.columns["name"]: c for c in children if c.table == "Logical_Router_Port"}
    for child in children:
        expected = lrp_adds[GW_LRP] if child.table == "Gateway_Chassis" else router_add
        assert child.parent is expected
    fip = next(c for c in children if c.columns.get("type") == "dnat_and_snat")
    assert (fip.columns["logical_port"], fip.columns["external_mac"]) == (["vm"], [])


def test_distributing_a_floating_ip_sets_its_external_mac_in_place_and_back():
    distributed = dataclasses.replace(FIP, external_mac="fa:16:3e:00:00:cc")
    centralised_nb = routed_nb()
    nb_uuid = centralised_nb.nats[FIP.key][0].uuid

    [on] = plan(dataclasses.replace(ROUTED, nats={SNAT.key: SNAT, FIP.key: distributed}),
                centralised_nb, ROUTER_SCOPE)
    [off] = plan(ROUTED, routed_nb(**{FIP.key: distributed}), ROUTER_SCOPE)

    assert (on.action, on.table, on.key, on.columns, on.uuid) == \
        (SET, "NAT", FIP.key, ("external_mac",), nb_uuid)
    assert (off.action, off.columns) == (SET, ("external_mac",))
    [set_on] = nb_commands(mock.Mock(), [on], centralised_nb)
    [set_off] = nb_commands(mock.Mock(), [off], centralised_nb)
    assert isinstance(set_on, DbReplaceCommand) and isinstance(set_off, DbReplaceCommand)
    assert set_on.columns == {"external_mac": ["fa:16:3e:00:00:cc"]}
    assert set_off.columns == {"external_mac": []}


def test_commands_skip_children_of_a_deleted_router():
    nb = routed_nb()
    api = mock.Mock()

    cmds = nb_commands(api, plan(Desired(), nb, ROUTER_SCOPE), nb)

    assert cmds == [api.lr_del.return_value]
    api.lr_del.assert_called_once_with(nb.routers[ROUTER][0].uuid, if_exists=True)


def test_commands_set_changed_columns_in_place():
    gwc = f"{GW_LRP}_ch2"
    nb = routed_nb(**{gwc: dataclasses.replace(GWCS[gwc], priority=7)})

    [cmd] = nb_commands(mock.Mock(), plan(ROUTED, nb, ROUTER_SCOPE), nb)

    assert isinstance(cmd, DbReplaceCommand)
    assert (cmd.table, cmd.record, cmd.columns) == ("Gateway_Chassis", nb.gateway_chassis[gwc].uuid,
                                                    {"priority": 1})


def test_execute_waits_longer_for_a_larger_transaction():
    """A repair of thousands of rows gets more than the connection's 30 s
    (bench/scale.py: 20,000 commands timed out, ovsdb-server committed them later)."""
    import contextlib

    from neutrino.ovn import apply

    class Txn:
        def __init__(self):
            self.timeout, self.commands = 30, []

        def add(self, command):
            self.commands.append(command)

    txns = []

    @contextlib.contextmanager
    def transaction(check_error):
        txns.append(Txn())
        yield txns[-1]

    api = mock.Mock(transaction=transaction)
    apply.execute(api, ["c"] * 20000)
    apply.execute(api, ["c"] * 10)
    apply.execute(api, [])
    assert [t.timeout for t in txns] == [230, 30.1] and len(txns[0].commands) == 20000

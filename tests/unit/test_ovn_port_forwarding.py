"""Port forwarding balancers (ovn.port_forwarding): ML2/OVN's Load_Balancer rows, and how
the sync's plan and commands add, move, change and delete them."""

from __future__ import annotations

import dataclasses
import types

from neutrino.ovn.port_forwarding import desired_load_balancers, lb_name, unroll


def pf_row(fip="f1", proto="tcp", ext=(2222, 2222), internal=(22, 22), ip="10.0.0.5"):
    return types.SimpleNamespace(floatingip_id=fip, protocol=proto, internal_ip_address=ip,
                                 external_port_start=ext[0], external_port_end=ext[1],
                                 internal_port_start=internal[0], internal_port_end=internal[1])


def test_balancers_are_ml2_ovn_s():
    fip = types.SimpleNamespace(id="f1", floating_ip_address="172.24.4.11", router_id="r1",
                                revision_number=4)
    lbs = desired_load_balancers(
        [pf_row(), pf_row(ext=(80, 80), internal=(8080, 8080)), pf_row(proto="udp"),
         pf_row(ext=(3000, 3001), internal=(53, 53))],
        {"f1": fip}, lambda r: f"neutron-{r}")
    tcp = lbs[lb_name("f1", "tcp")]
    assert tcp.name == "pf-floatingip-f1-tcp" and tcp.router == "neutron-r1"
    assert dict(tcp.vips) == {"172.24.4.11:2222": "10.0.0.5:22", "172.24.4.11:80": "10.0.0.5:8080"}
    assert dict(tcp.external_ids) == {"neutron:device_owner": "port_forwarding_plugin",
                                      "neutron:fip_id": "f1", "neutron:router_name": "neutron-r1",
                                      "neutron:revision_number": "4"}
    assert dict(lbs["pf-floatingip-f1-udp"].vips) == {"172.24.4.11:2222": "10.0.0.5:22"}
    # a range is unrolled into one balancer per external port (N:1 here)
    assert dict(lbs["pf-floatingip-f1-tcp-3001"].vips) == {"172.24.4.11:3001": "10.0.0.5:53"}
    assert unroll(pf_row(ext=(10, 12), internal=(20, 22))) == [(10, 20), (11, 21), (12, 22)]
    # a floating IP without a router has no balancer
    unrouted = types.SimpleNamespace(**{**vars(fip), "router_id": None})
    assert desired_load_balancers([pf_row()], {"f1": unrouted}, str) == {}


def test_balancer_plan_adds_moves_and_deletes():
    """The sync's plan and commands for balancers: added into the router's (and its
    interfaces' switches') ``load_balancer``, moved (delete + add) when the router changes, VIPs set in place,
    a stray one of a scoped router deleted."""
    import uuid
    from unittest import mock

    from neutrino.ovn.apply import nb_commands
    from neutrino.ovn.commands import ChildAddCommand, DbReplaceCommand
    from neutrino.ovn.rows import Desired, LogicalRouter
    from neutrino.ovn.load import Scope
    from neutrino.ovn.observe import Found, Observed
    from neutrino.ovn.plan import ADD, DEL, SET, plan
    from neutrino.ovn.port_forwarding import LoadBalancer

    lb = LoadBalancer("pf-floatingip-f1-tcp", "tcp", {"1.2.3.4:22": "10.0.0.5:22"},
                      {"neutron:device_owner": "port_forwarding_plugin"}, "neutron-r1",
                      ("neutron-n1",))
    routers = {n: LogicalRouter(n) for n in ("neutron-r1", "neutron-r2")}
    desired = Desired(routers=routers, load_balancers={lb.name: lb})
    nb_routers = {n: [Found(uuid.uuid4(), r)] for n, r in routers.items()}
    scope = Scope(routers=frozenset(routers))
    api = mock.MagicMock()

    changes = plan(desired, Observed(routers=nb_routers), scope)
    assert [(c.action, c.table) for c in changes] == [(ADD, "Load_Balancer")]
    cmd, on_switches = nb_commands(api, changes, Observed(routers=nb_routers))
    assert isinstance(cmd, ChildAddCommand) and cmd.column == "load_balancer"
    assert cmd.parent == nb_routers["neutron-r1"][0].uuid and cmd.columns["protocol"] == ["tcp"]
    assert (on_switches.names, on_switches.value, on_switches.remove) == (["neutron-n1"], cmd,
                                                                          False)

    have = Found(uuid.uuid4(), dataclasses.replace(lb, router="neutron-r2",
                                                   vips={"1.2.3.4:22": "10.0.0.6:22"}))
    nb = Observed(routers=nb_routers, load_balancers={lb.name: [have]})
    [change] = plan(desired, nb, scope)
    assert change.action == SET and set(change.columns) == {"router", "vips"}
    cmds = nb_commands(api, [change], nb)
    api.lb_del.assert_called_with(have.uuid, if_exists=True)
    assert isinstance(cmds[1], ChildAddCommand) and len(cmds) == 3  # del, add, on switches

    same_router = Observed(routers=nb_routers, load_balancers={lb.name: [
        Found(have.uuid, dataclasses.replace(have.row, router="neutron-r1",
                                             switches=("neutron-n2",)))]})
    [change] = plan(desired, same_router, scope)
    cmd, added, removed = nb_commands(api, [change], same_router)
    assert isinstance(cmd, DbReplaceCommand) and set(cmd.columns) == {"vips"}
    assert (added.names, added.value, removed.names, removed.remove) == (
        ["neutron-n1"], have.uuid, ["neutron-n2"], True)

    gone = plan(Desired(routers=routers), same_router, scope)
    assert [(c.action, c.key) for c in gone] == [(DEL, lb.name)]

"""QoS through the NB sync, against the real NB of the shared ``ovn_lab``: a port's
effective policy (its own, else its network's) becomes ML2/OVN's ``QoS`` rows on the
port's switch; a rule change rewrites them in place; the audit sees them and repairs a
row deleted by hand; removing the policy removes the rows."""

from __future__ import annotations

import pytest
import wire
from test_nb_security_groups import P1, drain

from neutrino.lab.daemons import wait_until
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import networks, ports, qos_rules, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]
MGR = Context("p1", frozenset({"manager", "member", "reader"}))


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


def qos_rows(nb, switch: str) -> dict[str, tuple]:
    """``{match: (direction, priority, bandwidth, action, external_ids)}`` of a switch."""
    with nb.ovsdb_connection.lock:
        ls = nb.lookup("Logical_Switch", switch, default=None)
        return {} if ls is None else {
            q.match: (q.direction, q.priority, dict(q.bandwidth), dict(q.action),
                      dict(q.external_ids)) for q in ls.qos_rules}


def test_port_policy_rows_audit_and_repair(ovn_lab, env, nb, sync, only_our_rows):
    net_policy = wire.create("qos_policy", env, MGR, [{"name": "net"}])[0]
    qos_rules.create_rule(env, MGR, "bandwidth_limit", net_policy["id"],
                          {"max_kbps": 10000, "max_burst_kbps": 8000, "direction": "egress"})
    qos_rules.create_rule(env, MGR, "dscp_marking", net_policy["id"], {"dscp_mark": 26})
    net = wire.create("network", env, P1, [{"name": "q", "qos_policy_id": net_policy["id"]}])[0]
    subnets.create_subnets(env, P1, [{"network_id": net["id"], "cidr": "10.9.0.0/24",
                                      "ip_version": 4}])
    port = wire.create("port", env, P1, [{"network_id": net["id"]}])[0]
    drain(sync)
    switch = f"neutron-{net['id']}"
    egress = f'inport == "{port["id"]}"'
    assert qos_rows(nb, switch) == {egress: ("from-lport", 2002, {"rate": 10000, "burst": 8000},
                                             {"dscp": 26}, {"neutron:port_id": port["id"]})}

    # the port's own policy wins over the network's; ingress is to-lport on outport
    own = wire.create("qos_policy", env, MGR, [{"name": "own"}])[0]
    qos_rules.create_rule(env, MGR, "bandwidth_limit", own["id"],
                          {"max_kbps": 2000, "max_burst_kbps": 0, "direction": "ingress"})
    ports.update_port(env, P1, port["id"], {"qos_policy_id": own["id"]})
    drain(sync)
    ingress = f'outport == "{port["id"]}"'
    assert qos_rows(nb, switch) == {ingress: ("to-lport", 2002, {"rate": 2000}, {},
                                              {"neutron:port_id": port["id"]})}
    assert not sync.audit(repair=False).has_drift

    # a row deleted by hand is drift the audit repairs
    with nb.ovsdb_connection.lock:
        row = nb.lookup("Logical_Switch", switch).qos_rules[0].uuid
    ovn_lab.deployment.central.nbctl("remove", "Logical_Switch", switch, "qos_rules", str(row))
    wait_until(lambda: qos_rows(nb, switch) == {}, 10, "the IDL to see it")
    report = sync.audit(repair=True)
    assert {(c.drift, c.table, c.resource) for c in report.changes} == {
        ("missing", "QoS", f"port {port['id']}")}
    assert ingress in qos_rows(nb, switch)

    ports.update_port(env, P1, port["id"], {"qos_policy_id": None})
    networks.update_network(env, P1, net["id"], {"qos_policy_id": None})
    drain(sync)
    assert qos_rows(nb, switch) == {}
    assert not sync.audit(repair=False).has_drift


def test_floating_ip_and_router_gateway_rows(ovn_lab, env, nb, sync, only_our_rows):
    from test_nb_routers import ADMIN, FLOATING_IP, topology
    from neutrino.services import floatingips, routers
    t = topology(env)
    drain(sync)
    policy = wire.create("qos_policy", env, ADMIN, [{"name": "l3"}])[0]
    qos_rules.create_rule(env, ADMIN, "bandwidth_limit", policy["id"],
                          {"max_kbps": 3000, "max_burst_kbps": 0, "direction": "ingress"})
    fip = wire.one(env, ADMIN, "floatingip", floatingips.update_floatingip(
        env, ADMIN, t["fip"], {"qos_policy_id": policy["id"]}))
    assert fip["qos_policy_id"] == policy["id"]
    router = wire.one(env, ADMIN, "router", routers.update_router(
        env, ADMIN, t["router"], {"external_gateway_info": {
            "network_id": t["ext"]["id"], "qos_policy_id": policy["id"]}}))
    assert router["external_gateway_info"]["qos_policy_id"] == policy["id"]
    drain(sync)
    gw, switch = t["gw"]["id"], f"neutron-{t['ext']['id']}"
    fip_match = (f'outport == "{gw}" && ip4.dst == {FLOATING_IP} && '
                 f'is_chassis_resident("cr-lrp-{gw}")')
    assert qos_rows(nb, switch) == {
        fip_match: ("to-lport", 2003, {"rate": 3000}, {}, {"neutron:fip_id": t["fip"]}),
        f'outport == "{gw}"': ("to-lport", 2002, {"rate": 3000}, {},
                               {"neutron:router_id": t["router"]})}
    assert not sync.audit(repair=False).has_drift
    floatingips.update_floatingip(env, ADMIN, t["fip"], {"qos_policy_id": None})
    drain(sync)
    assert list(qos_rows(nb, switch)) == [f'outport == "{gw}"']
    # qos-fip-network-policy: without its own policy the floating IP takes its external
    # network's (ML2/OVN's update_floatingip); its own wins again; none, no rows
    net_policy = wire.create("qos_policy", env, ADMIN, [{"name": "ext"}])[0]
    qos_rules.create_rule(env, ADMIN, "bandwidth_limit", net_policy["id"],
                          {"max_kbps": 7000, "max_burst_kbps": 0, "direction": "ingress"})
    ext = wire.update("network", env, ADMIN, t["ext"]["id"], {"qos_policy_id": net_policy["id"]})
    assert ext["qos_policy_id"] == net_policy["id"]
    assert wire.show(env, ADMIN, "floatingip", t["fip"])["qos_network_policy_id"] == \
        net_policy["id"]
    drain(sync)
    assert qos_rows(nb, switch)[fip_match] == ("to-lport", 2003, {"rate": 7000}, {},
                                               {"neutron:fip_id": t["fip"]})
    assert not sync.audit(repair=False).has_drift
    floatingips.update_floatingip(env, ADMIN, t["fip"], {"qos_policy_id": policy["id"]})
    drain(sync)
    assert qos_rows(nb, switch)[fip_match][2] == {"rate": 3000}
    floatingips.update_floatingip(env, ADMIN, t["fip"], {"qos_policy_id": None})
    networks.update_network(env, ADMIN, t["ext"]["id"], {"qos_policy_id": None})
    drain(sync)
    assert list(qos_rows(nb, switch)) == [f'outport == "{gw}"']

"""explain against the real SB of the shared ``ovn_lab``: a port the NB sync has not
realised is 409 ``PortNotInOvn``; once synced, real ovn-trace runs name the rule that
allows tcp/22 and the default drop for tcp/80, and a port without port security is
not filtered on its side. Ports are never bound here (ovn-trace simulates logical flows
only); bound ports and real packets: tests/e2e/test_routers.py."""

from __future__ import annotations

import pytest
import wire

from neutrino.lab.daemons import wait_until
from neutrino.ovn import explain, trace
from neutrino.ovn.explain_facts import ExplainRequest
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import security_groups, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

P1 = Context("p1", frozenset({"member", "reader"}))


@pytest.fixture
def traced_env(env: Env, ovn_lab) -> Env:
    return Env(db=env.db, settings=env.settings.model_copy(
        update={"ovn_sb_connection": ovn_lab.sb_connection}))


def drain(env: Env, nb) -> None:
    sync = NorthboundSync(env, nb, audit_interval=0)
    while sync.run_once():
        pass


def in_sb(env: Env, *port_ids: str) -> None:
    wait_until(lambda: all(trace.sb_binding(env.settings.ovn_sb_connection, p)[0]
                           for p in port_ids), 10, "ovn-northd to bind the ports")


def test_explain_before_and_after_the_nb_sync(traced_env: Env, nb):
    env = traced_env
    net = wire.create("network", env, P1, [{"name": "explain"}])[0]
    subnets.create_subnets(env, P1, [{"network_id": net["id"], "cidr": "10.0.0.0/24",
                                      "ip_version": 4}])
    sg = wire.one(env, P1, "security_group",
                  security_groups.create_security_groups(env, P1, [{"name": "ssh"}]))
    rule = wire.one(env, P1, "security_group_rule", security_groups.create_security_group_rules(
        env, P1, [{"security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
                   "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]))
    a, b = wire.create("port", env, P1, [{"network_id": net["id"], "security_groups": [sg["id"]]}
                                        for _ in range(2)])
    with pytest.raises(explain.PortNotInOvn):
        explain.explain(env, P1, a["id"], ExplainRequest(b["id"], "tcp", 22))
    drain(env, nb)
    in_sb(env, a["id"], b["id"])
    allowed = explain.explain(env, P1, a["id"], ExplainRequest(b["id"], "tcp", 22, raw=True))
    assert allowed["verdict"] == "allowed", allowed
    assert rule["id"] in {s["ids"].get("security_group_rule_id") for s in allowed["steps"]}
    assert allowed["raw"].startswith("# tcp,") and "ls_out_acl" in allowed["raw"]
    dropped = explain.explain(env, P1, a["id"], ExplainRequest(
        b["fixed_ips"][0]["ip_address"], "tcp", 80))
    assert dropped["verdict"] == "dropped"
    assert [s["ids"]["port_id"] for s in dropped["steps"] if s["kind"] == "default_drop"] \
        == [b["id"]]
    # no router on the subnet: nothing routes an outside address; no port owns 10.0.0.250
    outside = explain.explain(env, P1, a["id"], ExplainRequest("198.51.100.7"))
    assert outside["verdict"] == "dropped" and outside["steps"][-1]["kind"] == "route"
    assert "no router interface" in outside["reason"]
    nobody = explain.explain(env, P1, a["id"], ExplainRequest("10.0.0.250", "udp", 53))
    assert nobody["verdict"] == "dropped" and "no port on network" in nobody["reason"]
    # another project's member may not explain p1's port
    with pytest.raises(Exception) as caught:
        explain.explain(env, Context("p2", frozenset({"member", "reader"})), a["id"],
                        ExplainRequest(b["id"], "tcp", 22))
    assert type(caught.value).__name__ == "PortNotFound"


def test_a_port_without_port_security_is_not_filtered(traced_env: Env, nb):
    env = traced_env
    net = wire.create("network", env, P1, [{"name": "open"}])[0]
    subnets.create_subnets(env, P1, [{"network_id": net["id"], "cidr": "10.1.0.0/24",
                                      "ip_version": 4}])
    a, b = wire.create("port", env, P1, [
        {"network_id": net["id"]},
        {"network_id": net["id"], "port_security_enabled": False, "security_groups": []}])
    drain(env, nb)
    in_sb(env, a["id"], b["id"])
    # a's default group admits members of default only: b is none
    into_a = explain.explain(env, P1, b["id"], ExplainRequest(a["id"], "udp", 5000))
    assert into_a["verdict"] == "dropped", into_a
    assert [s["ids"]["port_id"] for s in into_a["steps"] if s["kind"] == "port_security"] \
        == [b["id"]]
    assert [s["ids"]["port_id"] for s in into_a["steps"] if s["kind"] == "default_drop"] \
        == [a["id"]]
    # a's default egress rule lets it out, and b has no ACL to pass
    into_b = explain.explain(env, P1, a["id"], ExplainRequest(b["id"], "udp", 5000))
    assert into_b["verdict"] == "allowed", into_b
    assert {s["ids"]["port_id"] for s in into_b["steps"]
            if s["kind"] == "security_group_rule"} == {a["id"]}

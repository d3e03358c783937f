"""Floating IP port forwardings through the NB sync, against the real NB of the
shared ``ovn_lab``: ML2/OVN's ``pf-floatingip-<fip>-<protocol>`` Load_Balancer rows
in the router's ``load_balancer`` column, their VIPs following the forwardings, and
the audit repairing a balancer deleted by hand. Everything is made through
``neutrino.services``, as the API does."""

from __future__ import annotations

import pytest
import wire

from neutrino.ovn.sync import NorthboundSync
from neutrino.lab.daemons import wait_until
from neutrino.services import floatingips, port_forwardings, ports, routers, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


def drain(sync: NorthboundSync) -> None:
    while sync.run_once():
        pass


def balancers(nb, router_id: str) -> dict[str, tuple]:
    """``{name: (protocol, vips, external_ids)}`` of the router's load balancers."""
    with nb.ovsdb_connection.lock:
        lr = nb.lookup("Logical_Router", f"neutron-{router_id}")
        return {b.name: (b.protocol[0], dict(b.vips), dict(b.external_ids))
                for b in lr.load_balancer}


def test_forwardings_become_router_load_balancers(ovn_lab, env, nb, sync, only_our_rows):
    ext = wire.create("network", env, ADMIN, [{
        "name": "public", "router_external": True, "provider_network_type": "flat",
        "provider_physical_network": "physnet1"}])[0]
    subnets.create_subnets(env, ADMIN, [{
        "network_id": ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
        "enable_dhcp": False}])
    net = wire.create("network", env, ADMIN, [{"name": "private"}])[0]
    sub = wire.create("subnet", env, ADMIN, [{"network_id": net["id"], "cidr": "10.0.0.0/24",
                                               "ip_version": 4}])[0]
    r = wire.one(env, ADMIN, "router", routers.create_routers(env, ADMIN, [{
        "name": "r", "external_gateway_info": {"network_id": ext["id"]}}]))
    routers.add_router_interface(env, ADMIN, r["id"], {"subnet_id": sub["id"]})
    vm = wire.create("port", env, ADMIN, [{"network_id": net["id"]}])[0]
    vm_ip = vm["fixed_ips"][0]["ip_address"]
    fip = wire.one(env, ADMIN, "floatingip", floatingips.create_floatingips(
        env, ADMIN, [{"floating_network_id": ext["id"]}]))
    address = fip["floating_ip_address"]
    ssh = wire.one(env, ADMIN, "port_forwarding", port_forwardings.create_port_forwarding(
        env, ADMIN, fip["id"], {
            "protocol": "tcp", "internal_port_id": vm["id"], "internal_ip_address": vm_ip,
            "internal_port": 22, "external_port": 2222}))
    port_forwardings.create_port_forwarding(env, ADMIN, fip["id"], {
        "protocol": "udp", "internal_port_id": vm["id"], "internal_port": 53,
        "external_port": 5353})
    drain(sync)
    tcp, udp = f"pf-floatingip-{fip['id']}-tcp", f"pf-floatingip-{fip['id']}-udp"
    found = balancers(nb, r["id"])
    assert set(found) == {tcp, udp}
    assert found[tcp][:2] == ("tcp", {f"{address}:2222": f"{vm_ip}:22"})
    assert found[udp][:2] == ("udp", {f"{address}:5353": f"{vm_ip}:53"})
    with nb.ovsdb_connection.lock:  # on the interface's switch too, not the external one
        on = {s: {b.name for b in nb.lookup("Logical_Switch", f"neutron-{s}").load_balancer}
              for s in (net["id"], ext["id"])}
    assert on == {net["id"]: {tcp, udp}, ext["id"]: set()}
    ext_ids = found[tcp][2]
    assert (ext_ids["neutron:device_owner"], ext_ids["neutron:fip_id"],
            ext_ids["neutron:router_name"]) == ("port_forwarding_plugin", fip["id"],
                                                f"neutron-{r['id']}")
    assert ext_ids["neutron:revision_number"] == str(wire.show(
        env, ADMIN, "floatingip", fip["id"])["revision_number"])

    # a range: one balancer per external port
    port_forwardings.create_port_forwarding(env, ADMIN, fip["id"], {
        "protocol": "tcp", "internal_port_id": vm["id"], "external_port_range": "3000:3001",
        "internal_port_range": "4000:4001"})
    drain(sync)
    found = balancers(nb, r["id"])
    assert found[f"{tcp}-3001"][1] == {f"{address}:3001": f"{vm_ip}:4001"}
    drift = sync.audit(repair=False)
    assert not drift.has_drift, [(c.key, c.columns, c.row) for c in drift.changes]

    # a balancer deleted by hand is drift; the repair puts it back on the router
    ovn_lab.deployment.central.nbctl("lb-del", tcp)
    wait_until(lambda: tcp not in balancers(nb, r["id"]), 10, "the IDL to see it")
    report = sync.audit(repair=True)
    assert {(c.drift, c.table) for c in report.changes} == {("missing", "Load_Balancer")}
    assert balancers(nb, r["id"])[tcp][1] == {f"{address}:2222": f"{vm_ip}:22"}
    assert not sync.audit(repair=False).has_drift

    port_forwardings.delete_port_forwarding(env, ADMIN, fip["id"], ssh["id"])
    drain(sync)
    assert tcp not in balancers(nb, r["id"]) and udp in balancers(nb, r["id"])
    ports.delete_port(env, ADMIN, vm["id"])  # its forwardings go with it
    drain(sync)
    assert balancers(nb, r["id"]) == {}
    with nb.ovsdb_connection.lock:
        assert not [b for b in nb.tables["Load_Balancer"].rows.values()
                    if b.external_ids.get("neutron:fip_id") == fip["id"]]

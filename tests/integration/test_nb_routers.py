"""Routers, NAT, routes, gateway chassis and localnet ports through the NB sync,
against the real NB and SB of the shared ``ovn_lab``.

Networks, subnets and ports (router interfaces and gateways included, with
their ``device_owner``/``device_id``) are made through ``neutrino.services``;
the router and floating IP rows are written with the ORM models (their
services are another change) and enqueued as "router" outbox rows, as the
services will. Gateway candidates are the gateway-capable SB chassis
(``ovn-cms-options=enable-chassis-as-gw``) bridging ``physnet1``: the lab's
chassis, plus made-up Chassis rows a test adds with ``ovn-sbctl`` (vxlan
encap, so the lab's geneve-only ovn-controller builds no tunnel to them) and
removes again. Every neutron-owned NB row a test makes is removed
after it; audits only run when no other test's neutron rows are there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import wire
from ovnlab import PHYSNET, OvnLab

from neutrino.db.models import FloatingIP, Port, Router
from neutrino.lab.daemons import wait_until
from neutrino.ovn import apply, chassis
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import common, networks, ports
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")
EXT_GW_IP, GW_IP, FLOATING_IP = "172.24.4.1", "172.24.4.10", "172.24.4.20"


# --- fixtures -------------------------------------------------------------------

@pytest.fixture
def sync(env: Env, nb, sb) -> Iterator[NorthboundSync]:
    sync = NorthboundSync(env, nb, sb_api=sb, audit_interval=0)
    yield sync
    sync.close()


# --- helpers --------------------------------------------------------------------

def drain(sync: NorthboundSync) -> int:
    total = 0
    while (done := sync.run_once()):
        total += done
    return total


def enqueue(env: Env, *resources: tuple[str, str]) -> None:
    env.db.run(lambda s: [common.enqueue_ovn(s, *r) for r in resources])


def topology(env: Env, *, routes: list | None = None) -> dict:
    """A flat external network on physnet1 (172.24.4.0/24), a tenant network
    (10.0.0.0/24) with a VM port, router r1 with an interface on the tenant
    subnet and its gateway at 172.24.4.10, and floating IP 172.24.4.20 on the
    VM port. Returns the ids and dicts."""
    ext = wire.create("network", env, ADMIN, [{
        "name": "public", "router_external": True, "provider_network_type": "flat",
        "provider_physical_network": PHYSNET}])[0]
    ext_sub = wire.create("subnet", env, ADMIN, [{
        "network_id": ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
        "gateway_ip": EXT_GW_IP, "enable_dhcp": False}])[0]
    net = wire.create("network", env, ADMIN, [{"name": "private"}])[0]
    sub = wire.create("subnet", env, ADMIN, [{"network_id": net["id"], "cidr": "10.0.0.0/24",
                                               "ip_version": 4}])[0]
    router_id, fip_id = str(uuid.uuid4()), str(uuid.uuid4())
    iface = router_port(env, router_id, sub, "10.0.0.1")
    gw = wire.create("port", env, ADMIN, [{
        "network_id": ext["id"], "device_owner": "network:router_gateway",
        "device_id": router_id, "project_id": "",
        "fixed_ips": [{"subnet_id": ext_sub["id"], "ip_address": GW_IP}]}])[0]
    vm = wire.create("port", env, ADMIN, [{"network_id": net["id"], "device_owner": "compute:nova",
                                          "device_id": "vm-1"}])[0]
    fip_port = wire.create("port", env, ADMIN, [{
        "network_id": ext["id"], "device_owner": "network:floatingip", "device_id": fip_id,
        "project_id": "", "fixed_ips": [{"subnet_id": ext_sub["id"],
                                         "ip_address": FLOATING_IP}]}])[0]
    vm_ip = vm["fixed_ips"][0]["ip_address"]

    def rows(session) -> None:
        stamp = common.now()
        session.add(Router(id=router_id, project_id="p1", name="r1", created_at=stamp,
                           updated_at=stamp, revision_number=1, admin_state_up=True,
                           status="ACTIVE", gw_port_id=gw["id"], enable_snat=True,
                           routes=routes or []))
        session.flush()
        session.add(FloatingIP(id=fip_id, project_id="p1", created_at=stamp, updated_at=stamp,
                               revision_number=1, floating_network_id=ext["id"],
                               floating_port_id=fip_port["id"],
                               floating_ip_address=FLOATING_IP, fixed_port_id=vm["id"],
                               fixed_ip_address=vm_ip, router_id=router_id, status="DOWN"))
        common.enqueue_ovn(session, "router", router_id)
    env.db.run(rows)
    return {"ext": ext, "ext_sub": ext_sub, "net": net, "sub": sub, "router": router_id,
            "iface": iface, "gw": gw, "vm": vm, "vm_ip": vm_ip, "fip": fip_id,
            "fip_port": fip_port}


def router_port(env: Env, router_id: str, sub: dict, ip: str) -> dict:
    """A router interface port on ``sub`` at ``ip``."""
    return wire.create("port", env, ADMIN, [{
        "network_id": sub["network_id"], "device_owner": "network:router_interface",
        "device_id": router_id, "fixed_ips": [{"subnet_id": sub["id"], "ip_address": ip}]}])[0]


def detach(env: Env, port: dict) -> None:
    """Take a router port off its router (by hand, as the router service
    will), then delete it through the port service."""
    def run(session) -> None:
        row = session.get(Port, port["id"])
        common.enqueue_ovn(session, "router", row.device_id)
        common.enqueue_ovn(session, "port", row.id)
        row.device_owner = row.device_id = ""
    env.db.run(run)
    ports.delete_port(env, ADMIN, port["id"])


def update_router(env: Env, router_id: str, **values) -> None:
    def run(session) -> None:
        row = session.get(Router, router_id)
        for k, v in values.items():
            setattr(row, k, v)
        row.revision_number += 1
        common.enqueue_ovn(session, "router", router_id)
    env.db.run(run)


def lr(nb, router_id: str):
    return nb.lookup("Logical_Router", f"neutron-{router_id}", default=None)


def lrp(nb, port_id: str):
    return nb.lookup("Logical_Router_Port", f"lrp-{port_id}", default=None)


def lsp(nb, name: str):
    return nb.lookup("Logical_Switch_Port", name, default=None)


def routes_of(nb, router_id: str) -> dict[tuple[str, str], dict]:
    with nb.ovsdb_connection.lock:
        row = lr(nb, router_id)
        return {(r.ip_prefix, r.nexthop): dict(r.external_ids) for r in row.static_routes}


def nats_of(nb, router_id: str) -> dict[tuple[str, str, str], tuple[list, list, dict]]:
    """``{(type, external_ip, logical_ip): (logical_port, external_mac, external_ids)}``."""
    with nb.ovsdb_connection.lock:
        row = lr(nb, router_id)
        return {(n.type, n.external_ip, n.logical_ip):
                (list(n.logical_port), list(n.external_mac), dict(n.external_ids))
                for n in row.nat}


def gateway_chassis(nb, port_id: str) -> dict[str, int]:
    """``{chassis name: priority}`` of a gateway LRP."""
    with nb.ovsdb_connection.lock:
        row = lrp(nb, port_id)
        return {g.chassis_name: g.priority for g in row.gateway_chassis} if row else {}


def physnet_chassis(sb) -> set[str]:
    return {name for name, nets in chassis.chassis_physnets(sb).items() if PHYSNET in nets}


@contextmanager
def made_up_chassis(ovn_lab: OvnLab, suffix: str, mappings: str, *,
                    gateway: bool = True) -> Iterator[str]:
    """An SB Chassis row without an ovn-controller, bridging ``mappings``;
    gateway capable (``ovn-cms-options=enable-chassis-as-gw``) unless not ``gateway``."""
    central = ovn_lab.deployment.central
    name = f"{ovn_lab.prefix}-{suffix}"
    cms = ["other_config:ovn-cms-options=enable-chassis-as-gw"] if gateway else []
    central.sbctl("chassis-add", name, "vxlan", f"127.0.9.{sum(map(ord, suffix)) % 250}",
                  "--", "set",
                  "Chassis", name, f"other_config:ovn-bridge-mappings=\"{mappings}\"", *cms)
    try:
        yield name
    finally:
        central.sbctl("--if-exists", "chassis-del", name)


# --- outbox -> NB -----------------------------------------------------------------

def test_router_with_interface_gateway_and_floating_ip_becomes_nb_rows(ovn_lab, env, nb, sb,
                                                                       sync):
    t = topology(env, routes=[{"destination": "192.168.7.0/24", "nexthop": "10.0.0.254"}])
    router_id, iface, gw = t["router"], t["iface"], t["gw"]

    drain(sync)

    row = lr(nb, router_id)
    assert row.enabled == [True]
    assert row.options == {"always_learn_from_arp_request": "false",
                           "dynamic_neigh_routers": "true"}
    assert row.external_ids == {
        "neutron:router_name": "r1", "neutron:gw_port_id": gw["id"],
        "neutron:gw_network_id": t["ext"]["id"], "neutron:revision_number": "1",
        "neutron:availability_zone_hints": ""}
    assert sorted(p.name for p in row.ports) == sorted([f"lrp-{iface['id']}", f"lrp-{gw['id']}"])
    inside, outside = lrp(nb, iface["id"]), lrp(nb, gw["id"])
    assert (inside.mac, inside.networks) == (iface["mac_address"], ["10.0.0.1/24"])
    assert outside.networks == [f"{GW_IP}/24"]
    assert inside.external_ids == {
        "neutron:revision_number": str(iface["revision_number"]),
        "neutron:subnet_ids": t["sub"]["id"], "neutron:network_name": f"neutron-{t['net']['id']}",
        "neutron:router_name": router_id}
    peer, gw_peer = lsp(nb, iface["id"]), lsp(nb, gw["id"])
    assert (peer.type, peer.addresses, peer.port_security) == ("router", ["router"], [])
    assert peer.options == {"router-port": f"lrp-{iface['id']}"}
    assert gw_peer.options == {"router-port": f"lrp-{gw['id']}", "nat-addresses": "router",
                               "exclude-lb-vips-from-garp": "true"}
    assert routes_of(nb, router_id) == {
        ("0.0.0.0/0", EXT_GW_IP): {"neutron:is_ext_gw": "true",
                                   "neutron:subnet_id": t["ext_sub"]["id"]},
        ("192.168.7.0/24", "10.0.0.254"): {}}
    assert nats_of(nb, router_id) == {
        ("snat", GW_IP, "10.0.0.0/24"): ([], [], {}),
        ("dnat_and_snat", FLOATING_IP, t["vm_ip"]): ([t["vm"]["id"]], [], {
            "neutron:fip_id": t["fip"], "neutron:revision_number": "1",
            "neutron:fip_port_id": t["vm"]["id"], "neutron:router_name": f"neutron-{router_id}",
            "neutron:fip_external_mac": t["fip_port"]["mac_address"],
            "neutron:fip_network_id": t["ext"]["id"]})}
    candidates = physnet_chassis(sb)
    assert ovn_lab.chassis_name in candidates
    placed = gateway_chassis(nb, gw["id"])
    assert set(placed) == candidates and len(set(placed.values())) == len(placed)
    with nb.ovsdb_connection.lock:
        names = {g.name for g in lrp(nb, gw["id"]).gateway_chassis}
    assert names == {f"lrp-{gw['id']}_{c}" for c in candidates}
    [localnet] = [p for p in nb.lookup("Logical_Switch", f"neutron-{t['ext']['id']}").ports
                  if p.name.startswith("provnet-")]
    assert (localnet.type, localnet.addresses, localnet.tag_request) == ("localnet", ["unknown"], [])
    assert localnet.options == {"network_name": PHYSNET, "mcast_flood": "false",
                                "mcast_flood_reports": "true"}
    central = ovn_lab.deployment.central
    wait_until(lambda: central.sbctl("--bare", "--columns=type", "find", "Port_Binding",
                                     f"logical_port=cr-lrp-{gw['id']}").strip() == "chassisredirect",
               timeout=10, what="ovn-northd to make the gateway's chassisredirect port")


def test_replaying_router_entries_changes_nothing(env, nb, sync):
    t = topology(env)
    drain(sync)
    before = (lr(nb, t["router"]).uuid, lrp(nb, t["gw"]["id"]).uuid, nats_of(nb, t["router"]),
              routes_of(nb, t["router"]), gateway_chassis(nb, t["gw"]["id"]))
    transactions = sync.stats.nb_transactions
    resources = {("router", t["router"]), ("network", t["ext"]["id"]),
                 ("port", t["iface"]["id"]), ("port", t["gw"]["id"])}

    again = apply.apply_resources(env, nb, resources, sync.chassis())
    enqueue(env, *sorted(resources))
    consumed = drain(sync)

    assert again == [] and consumed == len(resources)
    assert sync.stats.nb_transactions == transactions
    assert before == (lr(nb, t["router"]).uuid, lrp(nb, t["gw"]["id"]).uuid,
                      nats_of(nb, t["router"]), routes_of(nb, t["router"]),
                      gateway_chassis(nb, t["gw"]["id"]))


def test_router_updates_interfaces_snat_routes_and_floating_ips(env, nb, sync):
    t = topology(env)
    router_id = t["router"]
    second = wire.create("subnet", env, ADMIN, [{"network_id": t["net"]["id"],
                                                  "cidr": "10.9.0.0/24", "ip_version": 4}])[0]
    drain(sync)

    iface2 = router_port(env, router_id, second, "10.9.0.1")
    update_router(env, router_id, routes=[{"destination": "192.168.8.0/24",
                                           "nexthop": "10.9.0.254"}])
    drain(sync)
    assert lrp(nb, iface2["id"]).networks == ["10.9.0.1/24"]
    assert ("snat", GW_IP, "10.9.0.0/24") in nats_of(nb, router_id)
    assert ("192.168.8.0/24", "10.9.0.254") in routes_of(nb, router_id)

    update_router(env, router_id, enable_snat=False, routes=[])

    def disassociate(session) -> None:
        fip = session.get(FloatingIP, t["fip"])
        fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
    env.db.run(disassociate)
    detach(env, iface2)
    drain(sync)

    assert nats_of(nb, router_id) == {}
    assert list(routes_of(nb, router_id)) == [("0.0.0.0/0", EXT_GW_IP)]
    assert lrp(nb, iface2["id"]) is None and lsp(nb, iface2["id"]) is None
    assert lrp(nb, t["iface"]["id"]) is not None
    assert lr(nb, router_id).external_ids["neutron:revision_number"] == "3"


def test_removing_the_gateway_and_deleting_the_router(env, nb, sync):
    t = topology(env)
    router_id, gw = t["router"], t["gw"]
    drain(sync)
    assert gateway_chassis(nb, gw["id"])

    def drop_fip(session) -> None:
        session.delete(session.get(FloatingIP, t["fip"]))
    env.db.run(drop_fip)
    update_router(env, router_id, gw_port_id=None)
    detach(env, gw)
    drain(sync)

    row = lr(nb, router_id)
    assert [p.name for p in row.ports] == [f"lrp-{t['iface']['id']}"]
    assert routes_of(nb, router_id) == {} and nats_of(nb, router_id) == {}
    assert row.external_ids["neutron:gw_port_id"] == ""
    assert lsp(nb, gw["id"]) is None
    with nb.ovsdb_connection.lock:
        assert not [g for g in nb.tables["Gateway_Chassis"].rows.values()
                    if g.name.startswith(f"lrp-{gw['id']}_")]

    detach(env, t["iface"])
    env.db.run(lambda s: s.delete(s.get(Router, router_id)))
    enqueue(env, ("router", router_id))
    drain(sync)

    assert lr(nb, router_id) is None and lrp(nb, t["iface"]["id"]) is None
    assert lsp(nb, t["iface"]["id"]) is None


def bfd_rows(nb) -> set[tuple[str, str]]:
    with nb.ovsdb_connection.lock:
        return {(b.logical_port, b.dst_ip) for b in nb.tables["BFD"].rows.values()}


def default_route(nb, router_id: str) -> tuple[list, list]:
    """``(output_port, [(logical_port, dst_ip) of its BFD rows])`` of 0.0.0.0/0."""
    with nb.ovsdb_connection.lock:
        [route] = [r for r in lr(nb, router_id).static_routes if r.ip_prefix == "0.0.0.0/0"]
        return list(route.output_port), [(b.logical_port, b.dst_ip) for b in route.bfd]


def test_default_route_bfd_rows_follow_the_router_flag(env, nb, sync):
    """enable_default_route_bfd (ML2/OVN's rows): the default route leaves through the
    gateway LRP with a BFD row to its next hop; off again, or the router deleted, the
    BFD row goes too."""
    t = topology(env)
    router_id, gw_lrp = t["router"], f"lrp-{t['gw']['id']}"
    drain(sync)
    assert default_route(nb, router_id) == ([], [])

    update_router(env, router_id, enable_default_route_bfd=True)
    drain(sync)
    assert default_route(nb, router_id) == ([gw_lrp], [(gw_lrp, EXT_GW_IP)])
    assert (gw_lrp, EXT_GW_IP) in bfd_rows(nb)
    assert apply.apply_resources(env, nb, {("router", router_id)}, sync.chassis()) == []

    update_router(env, router_id, enable_default_route_bfd=False)
    drain(sync)
    assert default_route(nb, router_id) == ([], [])
    assert (gw_lrp, EXT_GW_IP) not in bfd_rows(nb)

    update_router(env, router_id, enable_default_route_bfd=True)
    drain(sync)
    assert (gw_lrp, EXT_GW_IP) in bfd_rows(nb)
    env.db.run(lambda s: s.delete(s.get(FloatingIP, t["fip"])))
    env.db.run(lambda s: s.delete(s.get(Router, router_id)))
    enqueue(env, ("router", router_id))
    drain(sync)
    assert lr(nb, router_id) is None and (gw_lrp, EXT_GW_IP) not in bfd_rows(nb)


def test_gateway_port_moved_to_another_router_in_one_batch(env, nb, sync):
    t = topology(env)
    gw = t["gw"]
    drain(sync)
    placed = gateway_chassis(nb, gw["id"])
    other = str(uuid.uuid4())

    def move(session) -> None:
        stamp = common.now()
        session.delete(session.get(FloatingIP, t["fip"]))
        session.get(Router, t["router"]).gw_port_id = None
        session.flush()
        session.add(Router(id=other, project_id="p1", name="r2", created_at=stamp,
                           updated_at=stamp, revision_number=1, admin_state_up=True,
                           status="ACTIVE", gw_port_id=gw["id"], enable_snat=True, routes=[]))
        session.get(Port, gw["id"]).device_id = other
        for router_id in (t["router"], other):
            common.enqueue_ovn(session, "router", router_id)
    env.db.run(move)
    drain(sync)

    assert [p.name for p in lr(nb, other).ports] == [f"lrp-{gw['id']}"]
    assert f"lrp-{gw['id']}" not in [p.name for p in lr(nb, t["router"]).ports]
    assert set(gateway_chassis(nb, gw["id"])) == set(placed)
    assert list(routes_of(nb, other)) == [("0.0.0.0/0", EXT_GW_IP)]
    assert routes_of(nb, t["router"]) == {} and nats_of(nb, t["router"]) == {}


def test_vlan_segment_is_a_tagged_localnet_port(env, nb, sync):
    net = wire.create("network", env, ADMIN, [{
        "name": "vlan101", "provider_network_type": "vlan",
        "provider_physical_network": PHYSNET, "provider_segmentation_id": 101}])[0]
    drain(sync)

    [localnet] = [p for p in nb.lookup("Logical_Switch", f"neutron-{net['id']}").ports]
    assert localnet.name.startswith("provnet-")
    assert (localnet.type, localnet.tag_request) == ("localnet", [101])
    assert localnet.options["network_name"] == PHYSNET

    networks.delete_network(env, ADMIN, net["id"])
    drain(sync)
    assert lsp(nb, localnet.name) is None


# --- gateway chassis follow the SB ---------------------------------------------------

def test_gateway_chassis_follow_sb_chassis_and_their_bridge_mappings(ovn_lab, env, nb, sb,
                                                                     sync):
    t = topology(env)
    gw = t["gw"]["id"]
    drain(sync)
    before = gateway_chassis(nb, gw)

    with made_up_chassis(ovn_lab, "gw9", f"{PHYSNET}:br-ex") as extra:
        wait_until(lambda: (drain(sync), extra in gateway_chassis(nb, gw))[1], timeout=10,
                   what="the new chassis to become a gateway chassis")
        placed = gateway_chassis(nb, gw)
        assert set(placed) == set(before) | {extra}
        assert sorted(placed.values()) == list(range(1, len(placed) + 1))

        ovn_lab.deployment.central.sbctl("set", "Chassis", extra,
                                         'other_config:ovn-bridge-mappings="other:br-x"')
        wait_until(lambda: (drain(sync), extra not in gateway_chassis(nb, gw))[1], timeout=10,
                   what="a chassis no longer bridging the physnet to be dropped")
    assert set(gateway_chassis(nb, gw)) == set(before)

    with made_up_chassis(ovn_lab, "gw8", f"{PHYSNET}:br-ex") as extra:
        wait_until(lambda: (drain(sync), extra in gateway_chassis(nb, gw))[1], timeout=10,
                   what="the new chassis to become a gateway chassis")
    wait_until(lambda: (drain(sync), extra not in gateway_chassis(nb, gw))[1], timeout=10,
               what="a deleted chassis to be dropped")


def test_only_gateway_capable_chassis_host_gateways(ovn_lab, env, nb, sb, sync):
    t = topology(env)
    gw = t["gw"]["id"]
    drain(sync)
    central = ovn_lab.deployment.central

    with made_up_chassis(ovn_lab, "cn9", f"{PHYSNET}:br-ex", gateway=False) as compute, \
            made_up_chassis(ovn_lab, "gw7", f"{PHYSNET}:br-ex") as marked:
        # the IDL applies SB updates in order: once gw7 is placed, cn9 has been seen too
        wait_until(lambda: (drain(sync), marked in gateway_chassis(nb, gw))[1], timeout=10,
                   what="the gateway-capable chassis to become a gateway chassis")
        assert compute not in gateway_chassis(nb, gw)
        assert compute not in sync.chassis() and PHYSNET in chassis.host_physnets(sb)[compute]

        central.sbctl("set", "Chassis", compute,
                      'other_config:ovn-cms-options="availability-zones=az1,enable-chassis-as-gw"')
        wait_until(lambda: (drain(sync), compute in gateway_chassis(nb, gw))[1], timeout=10,
                   what="a chassis marked as gateway to be scheduled")
        placed = gateway_chassis(nb, gw)
        assert sorted(placed.values()) == list(range(1, len(placed) + 1))

        central.sbctl("remove", "Chassis", compute, "other_config", "ovn-cms-options")
        wait_until(lambda: (drain(sync), compute not in gateway_chassis(nb, gw))[1], timeout=10,
                   what="a chassis no longer marked as gateway to be dropped")

        # OVN before 20.06 published the cms options in external_ids
        central.sbctl("set", "Chassis", compute,
                      "external_ids:ovn-cms-options=enable-chassis-as-gw")
        wait_until(lambda: (drain(sync), compute in gateway_chassis(nb, gw))[1], timeout=10,
                   what="external_ids:ovn-cms-options to count as well")


def test_without_sb_gateway_chassis_are_left_alone(env, nb, sync):
    t = topology(env)
    drain(sync)
    placed = gateway_chassis(nb, t["gw"]["id"])
    no_sb = NorthboundSync(env, nb, audit_interval=0)

    update_router(env, t["router"], name="renamed")
    drain(no_sb)

    assert lr(nb, t["router"]).external_ids["neutron:router_name"] == "renamed"
    assert placed and gateway_chassis(nb, t["gw"]["id"]) == placed


# --- distributed floating IPs ---------------------------------------------------------

def test_distributed_floating_ips_follow_the_setting_and_a_flip_is_repaired(
        ovn_lab, env, nb, sb, sync, only_our_rows):
    t = topology(env)
    router_id, vm, fip_mac = t["router"], t["vm"]["id"], t["fip_port"]["mac_address"]
    key = ("dnat_and_snat", FLOATING_IP, t["vm_ip"])
    env_on = Env(db=env.db, settings=env.settings.model_copy(
        update={"enable_distributed_floating_ip": True}))
    sync_on = NorthboundSync(env_on, nb, sb_api=sb, audit_interval=0)
    resident = f'is_chassis_resident("{vm}")'

    def router_flows() -> str:
        return ovn_lab.deployment.central.sbctl("lflow-list", f"neutron-{router_id}")

    try:
        drain(sync)
        logical_port, external_mac, ids = nats_of(nb, router_id)[key]
        assert (logical_port, external_mac) == ([vm], [])
        assert ids["neutron:fip_external_mac"] == fip_mac

        # the setting turned on: the audit finds the NAT centralised and distributes it
        report = sync_on.audit(repair=False)
        assert [(c.drift, c.table, c.columns) for c in report.changes] == [
            ("different", "NAT", ("external_mac",))]
        assert sync_on.audit(repair=True).repaired
        assert nats_of(nb, router_id)[key][:2] == ([vm], [fip_mac])
        assert not sync_on.audit(repair=False).has_drift
        wait_until(lambda: resident in router_flows(), timeout=10,
                   what="ovn-northd to NAT the floating IP on the VM's chassis")

        # the outbox path writes the same shape: replaying the router changes nothing
        transactions = sync_on.stats.nb_transactions
        enqueue(env, ("router", router_id))
        drain(sync_on)
        assert sync_on.stats.nb_transactions == transactions
        assert nats_of(nb, router_id)[key][:2] == ([vm], [fip_mac])

        # and back off: the outbox (here a router update) centralises it again
        update_router(env, router_id, name="renamed")
        drain(sync)
        assert nats_of(nb, router_id)[key][:2] == ([vm], [])
        assert not sync.audit(repair=False).has_drift
        assert [c.columns for c in sync_on.audit(repair=False).changes] == [("external_mac",)]
        wait_until(lambda: resident not in router_flows(), timeout=10,
                   what="ovn-northd to NAT the floating IP on the gateway chassis")
    finally:
        sync_on.close()


# --- audit ------------------------------------------------------------------------

def test_audit_reports_and_repairs_router_drift(ovn_lab, env, nb, sync, only_our_rows):
    central = ovn_lab.deployment.central
    t = topology(env)
    router_id, gw = t["router"], t["gw"]["id"]
    name = f"neutron-{router_id}"
    drain(sync)
    hand_router = f"{ovn_lab.prefix}-hand-router"
    placed = gateway_chassis(nb, gw)
    [gwc] = [n for n, p in placed.items() if p == max(placed.values())]
    with nb.ovsdb_connection.lock:
        [gwc_uuid] = [g.uuid for g in lrp(nb, gw).gateway_chassis if g.chassis_name == gwc]
    central.nbctl("lr-add", hand_router, "--", "lr-route-add", hand_router, "0.0.0.0/0",
                  "192.0.2.1")
    try:
        central.nbctl("lr-nat-del", name, "dnat_and_snat", FLOATING_IP,
                      "--", "lr-route-add", name, "198.51.100.0/24", "10.0.0.99",
                      "--", "set", "Gateway_Chassis", str(gwc_uuid), "priority=77",
                      "--", "set", "Logical_Router", name, "enabled=false")
        wait_until(lambda: not lr(nb, router_id).enabled[0], timeout=10,
                   what="the IDL to see the hand-made changes")

        report = sync.audit(repair=False)
        drift = {(c.drift, c.table) for c in report.changes}
        assert drift == {("missing", "NAT"), ("extra", "Logical_Router_Static_Route"),
                         ("different", "Gateway_Chassis"), ("different", "Logical_Router")}
        assert report.checked["Logical_Router"] == 1 and report.checked["NAT"] == 2
        assert report.checked["Gateway_Chassis"] == len(physnet_chassis(sync.sb))

        repaired = sync.audit(repair=True)
        after = sync.audit(repair=False)

        assert repaired.repaired and not after.has_drift, after
        assert lr(nb, router_id).enabled == [True]
        assert ("dnat_and_snat", FLOATING_IP, t["vm_ip"]) in nats_of(nb, router_id)
        assert ("198.51.100.0/24", "10.0.0.99") not in routes_of(nb, router_id)
        assert gateway_chassis(nb, gw)[gwc] != 77
        assert central.nbctl("lr-route-list", hand_router).count("192.0.2.1") == 1
    finally:
        central.nbctl("--if-exists", "lr-del", hand_router)


def test_audit_recreates_a_router_deleted_by_hand(ovn_lab, env, nb, sync, only_our_rows):
    t = topology(env)
    drain(sync)
    placed = gateway_chassis(nb, t["gw"]["id"])
    ovn_lab.deployment.central.nbctl("lr-del", f"neutron-{t['router']}")
    wait_until(lambda: lr(nb, t["router"]) is None, timeout=10, what="the IDL to see the delete")

    report = sync.audit(repair=True)

    assert ("missing", "Logical_Router") in {(c.drift, c.table) for c in report.changes}
    assert gateway_chassis(nb, t["gw"]["id"]) == placed
    assert len(nats_of(nb, t["router"])) == 2 and len(routes_of(nb, t["router"])) == 1
    assert not sync.audit(repair=False).has_drift


def test_neutrino_sync_command_checks_gateway_chassis_with_the_sb(ovn_lab, env, nb, sync,
                                                                   only_our_rows):
    t = topology(env)
    drain(sync)
    with nb.ovsdb_connection.lock:
        gwc_uuid = lrp(nb, t["gw"]["id"]).gateway_chassis[0].uuid

    def neutrino_sync(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "neutrino.cli", "sync", "--database-url",
             env.settings.database_url, "--ovn-nb-connection", ovn_lab.nb_connection, *flags],
            check=False, capture_output=True, text=True, timeout=60,
            env={**os.environ, "COLUMNS": "250"})

    ovn_lab.deployment.central.nbctl("set", "Gateway_Chassis", str(gwc_uuid), "priority=99")
    without_sb = neutrino_sync()
    with_sb = neutrino_sync("--ovn-sb-connection", ovn_lab.sb_connection)
    repaired = neutrino_sync("--ovn-sb-connection", ovn_lab.sb_connection, "--repair")

    assert without_sb.returncode == 0 and "Gateway_Chassis" not in without_sb.stdout, without_sb
    assert "1 Logical_Router," in without_sb.stdout and "2 NAT" in without_sb.stdout
    assert with_sb.returncode == 1 and "Gateway_Chassis" in with_sb.stdout, with_sb
    assert repaired.returncode == 0 and "no drift left" in repaired.stdout, repaired

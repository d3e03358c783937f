"""A router with two external gateways (``external-gateway-multihoming``) through the
services and the NB sync, against the real NB, SB and ovn-northd of the shared
``ovn_lab``: two gateway LRPs (each a chassisredirect port for ovn-northd) and, with
``enable_default_route_ecmp``, two default routes of one prefix (with BFD, a session
each); one of each after ``remove_external_gateways``. SQLite only: the database plays no part here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import wire
from ovnlab import PHYSNET
from test_nb_routers import bfd_rows, drain, gateway_chassis, lr, lrp, nats_of, routes_of

from neutrino.lab.daemons import wait_until
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import router_gateways, routers, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")


@pytest.fixture
def database_url(tmp_path, sqlite_template) -> Iterator[str]:
    path = tmp_path / "neutrino.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def sync(env: Env, nb, sb) -> Iterator[NorthboundSync]:
    sync = NorthboundSync(env, nb, sb_api=sb, audit_interval=0)
    yield sync
    sync.close()


def external(env: Env, name: str, cidr: str, gateway: str, **provider) -> dict:
    net = wire.create("network", env, ADMIN, [{"name": name, "router_external": True,
                                                 "provider_physical_network": PHYSNET,
                                                 **provider}])[0]
    subnets.create_subnets(env, ADMIN, [{"network_id": net["id"], "cidr": cidr,
                                         "ip_version": 4, "gateway_ip": gateway,
                                         "enable_dhcp": False}])
    return net


def test_two_gateways_are_two_lrps_with_ecmp_default_routes_until_one_is_removed(
        ovn_lab, env, nb, sb, sync):
    pub = external(env, "public", "172.24.4.0/24", "172.24.4.1", provider_network_type="flat")
    pub2 = external(env, "public2", "198.51.100.0/24", "198.51.100.1",
                    provider_network_type="vlan", provider_segmentation_id=3001)
    net = wire.create("network", env, ADMIN, [{"name": "private"}])[0]
    sub = wire.create("subnet", env, ADMIN, [{"network_id": net["id"], "cidr": "10.0.0.0/24",
                                               "ip_version": 4}])[0]
    r = wire.one(env, ADMIN, "router", routers.create_routers(
        env, ADMIN, [{"name": "mh", "enable_default_route_ecmp": True}]))
    routers.add_router_interface(env, ADMIN, r["id"], {"subnet_id": sub["id"]})
    r = wire.one(env, ADMIN, "router", router_gateways.add_external_gateways(
        env, ADMIN, r["id"], [{"network_id": pub["id"]}, {"network_id": pub2["id"]}]))
    first, second = r["external_gateways"]
    ips = [g["external_fixed_ips"][0]["ip_address"] for g in (first, second)]
    port_ids = {p.network_id: p.id for p in _gateway_rows(env, r["id"])}

    drain(sync)

    gw_lrps = {f"lrp-{port_ids[pub['id']]}", f"lrp-{port_ids[pub2['id']]}"}
    with nb.ovsdb_connection.lock:
        assert gw_lrps <= {p.name for p in lr(nb, r["id"]).ports}
    for port_id in port_ids.values():
        assert gateway_chassis(nb, port_id)  # each gateway LRP is scheduled
    routes = routes_of(nb, r["id"])
    assert {k for k in routes if k[0] == "0.0.0.0/0"} == {
        ("0.0.0.0/0", "172.24.4.1"), ("0.0.0.0/0", "198.51.100.1")}
    assert {(n[1], n[2]) for n in nats_of(nb, r["id"]) if n[0] == "snat"} == {
        (ips[0], "10.0.0.0/24"), (ips[1], "10.0.0.0/24")}
    central = ovn_lab.deployment.central
    for port_id in port_ids.values():
        wait_until(lambda p=port_id: central.sbctl(
            "--bare", "--columns=type", "find", "Port_Binding",
            f"logical_port=cr-lrp-{p}").strip() == "chassisredirect",
            timeout=10, what="ovn-northd to make each gateway a chassisredirect port")

    # ECMP off: only the first gateway's default route
    routers.update_router(env, ADMIN, r["id"], {"enable_default_route_ecmp": False})
    drain(sync)
    assert {k for k in routes_of(nb, r["id"]) if k[0] == "0.0.0.0/0"} == {
        ("0.0.0.0/0", "172.24.4.1")}
    # ECMP and BFD: a session per gateway LRP and next hop
    routers.update_router(env, ADMIN, r["id"], {"enable_default_route_ecmp": True,
                                                "enable_default_route_bfd": True})
    drain(sync)
    lrp1, lrp2 = f"lrp-{port_ids[pub['id']]}", f"lrp-{port_ids[pub2['id']]}"
    assert {(lrp1, "172.24.4.1"), (lrp2, "198.51.100.1")} <= bfd_rows(nb)

    r = wire.one(env, ADMIN, "router",
                 router_gateways.remove_external_gateways(env, ADMIN, r["id"], [second]))
    assert r["external_gateways"] == [first]
    drain(sync)
    assert (lrp2, "198.51.100.1") not in bfd_rows(nb) and (lrp1, "172.24.4.1") in bfd_rows(nb)

    assert lrp(nb, port_ids[pub2["id"]]) is None
    assert lrp(nb, port_ids[pub["id"]]) is not None
    assert {k for k in routes_of(nb, r["id"]) if k[0] == "0.0.0.0/0"} == {
        ("0.0.0.0/0", "172.24.4.1")}
    assert {n[1] for n in nats_of(nb, r["id"]) if n[0] == "snat"} == {ips[0]}

    routers.remove_router_interface(env, ADMIN, r["id"], {"subnet_id": sub["id"]})
    routers.delete_router(env, ADMIN, r["id"])
    drain(sync)
    assert lr(nb, r["id"]) is None


def _gateway_rows(env: Env, router_id: str) -> list:
    from sqlalchemy import select

    from neutrino.db.models import Port
    return env.db.run(lambda s: list(s.execute(select(Port.id, Port.network_id).where(
        Port.device_id == router_id, Port.device_owner == "network:router_gateway"))),
        write=False)

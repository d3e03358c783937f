"""The NB rows of a router with several gateways (``external-gateway-multihoming``,
``ovn/desired_routers.py``): an LRP, gateway chassis and SNAT per gateway as
ML2/OVN's ``_add_router_ext_gw``; default routes of the extra gateways only with ECMP."""

from __future__ import annotations

from test_ovn_desired import (EXT_NET, GW_ID, LR, ext_subnet, gw_port, iface_port, router,
                              routing, segment, subnet)

EXT2_NET = "e0000000-0000-4000-8000-000000000e02"
EXT2_SUB = "e5000000-0000-4000-8000-000000000024"
GW2_ID = "9a000000-0000-4000-8000-0000000000a2"


def two_gateways(**router_attrs):
    """r1 with its first gateway on 172.24.4.0/24 (physnet "public") and a second on
    198.51.100.0/24 (physnet "public2"); chassis gw1/gw2 bridge both."""
    sub2 = ext_subnet(id=EXT2_SUB, network_id=EXT2_NET, cidr="198.51.100.0/24",
                      gateway_ip="198.51.100.1")
    fixed = {GW_ID: [(ext_subnet(), "172.24.4.10")], GW2_ID: [(sub2, "198.51.100.10")],
             "1f000000-0000-4000-8000-0000000000f1": [(subnet(), "10.0.0.1")]}
    return routing(routers=[router(**router_attrs)],
                   ports=[iface_port(), gw_port(), gw_port(id=GW2_ID, network_id=EXT2_NET,
                                                           mac_address="fa:16:3e:00:00:a2")],
                   fixed=fixed, chassis={"gw1": {"public", "public2"}, "gw2": {"public", "public2"}},
                   segments=[segment(network_id=EXT_NET, physical_network="public"),
                             segment(id="s2", network_id=EXT2_NET, physical_network="public2")])


def defaults(state):
    return sorted((r.nexthop, r.output_port, r.bfd) for r in state.static_routes.values()
                  if r.ip_prefix == "0.0.0.0/0")


def test_each_gateway_is_an_lrp_with_snat_and_chassis_of_its_own():
    state = two_gateways()
    assert {f"lrp-{GW_ID}", f"lrp-{GW2_ID}"} <= set(state.router_ports)
    assert sorted((n.external_ip, n.logical_ip) for n in state.nats.values()) == [
        ("172.24.4.10", "10.0.0.0/24"), ("198.51.100.10", "10.0.0.0/24")]
    first = {g.port: g.chassis_name for g in state.gateway_chassis.values()
             if g.priority == 2}
    # anti-affinity: the two gateways are first on different chassis
    assert set(first) == {f"lrp-{GW_ID}", f"lrp-{GW2_ID}"} and len(set(first.values())) == 2
    # the router's external_ids still name its first gateway
    assert state.routers[LR].external_ids["neutron:gw_port_id"] == GW_ID


def test_extra_gateways_get_default_routes_only_with_ecmp_and_bfd_on_each():
    assert defaults(two_gateways()) == [("172.24.4.1", "", False)]
    assert defaults(two_gateways(enable_default_route_ecmp=True)) == [
        ("172.24.4.1", "", False), ("198.51.100.1", "", False)]
    assert defaults(two_gateways(enable_default_route_ecmp=True,
                                 enable_default_route_bfd=True)) == [
        ("172.24.4.1", f"lrp-{GW_ID}", True), ("198.51.100.1", f"lrp-{GW2_ID}", True)]


def test_gateway_ports_without_a_first_gateway_are_left_out():
    state = two_gateways(gw_port_id=None)
    assert not any(name.startswith("lrp-9a") for name in state.router_ports)
    assert state.nats == {} and state.static_routes == {}

"""ML2/OVN's router extensions beyond ``router``: availability zones, ``ha``, the
top-level ``enable_snat``, floating IP pools (services/router_extras.py,
services/floatingip_pools.py) and the gateway chassis an AZ hint allows (ovn/router_az.py)."""

from __future__ import annotations

from conftest import error_type
from test_agents import add_agent
from test_api_routers import EXTERNAL, router
from test_ovn_desired import LR, routing
from test_ovn_desired import router as router_row
from test_ovn_gateways import FakeSb, sb_chassis

from neutrino.ovn import chassis
from neutrino.ovn.router_az import ChassisPhysnets, in_zones


# --- API -------------------------------------------------------------------------------

def test_a_router_keeps_its_zone_hints_and_reports_them(api):
    add_agent(api, "c1", zones="az1 az2")
    r = router(api, availability_zone_hints=["az2"])
    assert (r["availability_zone_hints"], r["availability_zones"]) == (["az2"], ["az2"])
    plain = router(api)
    assert (plain["availability_zone_hints"], plain["availability_zones"]) == ([], [])
    shown = api.get(f"/v2.0/routers/{r['id']}", expect=200).json()["router"]
    assert shown["availability_zones"] == ["az2"]
    resp = api.put(f"/v2.0/routers/{r['id']}", {"router": {"availability_zone_hints": []}},
                   expect=400)
    assert "read-only" in resp.json()["NeutronError"]["message"]


def test_unknown_or_malformed_zone_hints_are_refused_as_neutron_does(api):
    add_agent(api, "c1", zones="az1")
    resp = api.post("/v2.0/routers", {"router": {"availability_zone_hints": ["az1", "nope"]}},
                    expect=404)
    assert error_type(resp) == "AvailabilityZoneNotFound" and "nope" in resp.text
    resp = api.post("/v2.0/routers", {"router": {"availability_zone_hints": ["az1", "az1"]}},
                    expect=400)
    assert error_type(resp) == "InvalidInput"
    assert api.get("/v2.0/routers", expect=200).json()["routers"] == []


def test_ha_is_always_true_and_for_admins_only(api):
    r = router(api)
    assert "ha" not in r  # get_router:ha is admin only
    shown = api.get(f"/v2.0/routers/{r['id']}", admin=True, expect=200).json()["router"]
    assert shown["ha"] is True
    api.post("/v2.0/routers", {"router": {"ha": True}}, expect=403)  # create_router:ha
    made = api.post("/v2.0/routers", {"router": {"ha": False}}, admin=True,
                    expect=201).json()["router"]
    assert made["ha"] is True  # OVN's provider is HA whatever is asked (ML2/OVN)
    api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": True}}, expect=403)
    ok = api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": True}}, admin=True, expect=200)
    assert ok.json()["router"]["ha"] is True
    resp = api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": False}}, admin=True,
                   expect=400)
    assert error_type(resp) == "InvalidInput" and "does not support ha=False" in resp.text


def test_enable_snat_is_a_read_only_router_attribute(api):
    net = api.network(name="public", **EXTERNAL)
    api.subnet(net["id"], "172.24.4.0/24", enable_dhcp=False)
    r = router(api, external_gateway_info={"network_id": net["id"]})
    assert r["enable_snat"] is True
    api.put(f"/v2.0/routers/{r['id']}", {"router": {"external_gateway_info": {
        "network_id": net["id"], "enable_snat": False}}}, admin=True, expect=200)
    listed = api.get("/v2.0/routers?enable_snat=false", expect=200).json()["routers"]
    assert [(x["id"], x["enable_snat"]) for x in listed] == [(r["id"], False)]
    api.put(f"/v2.0/routers/{r['id']}", {"router": {"enable_snat": True}}, expect=400)
    api.post("/v2.0/routers", {"router": {"enable_snat": True}}, expect=400)


def test_floatingip_pools_are_the_ipv4_subnets_of_usable_external_networks(api):
    public = api.network(name="public", **EXTERNAL)
    s1 = api.subnet(public["id"], "172.24.4.0/24", enable_dhcp=False)
    s2 = api.subnet(public["id"], "172.24.5.0/24", enable_dhcp=False)
    api.subnet(public["id"], "2001:db8::/64", ip_version=6, enable_dhcp=False)
    own = api.network(project="p1")
    api.subnet(own["id"], "10.0.0.0/24")
    pools = api.get("/v2.0/floatingip_pools", project="p2", expect=200).json()
    assert sorted((p["subnet_id"], p["cidr"], p["network_id"], p["project_id"])
                  for p in pools["floatingip_pools"]) == sorted(
        [(s1["id"], "172.24.4.0/24", public["id"], "p2"),
         (s2["id"], "172.24.5.0/24", public["id"], "p2")])
    one = api.get(f"/v2.0/floatingip-pools?subnet_id={s2['id']}&fields=cidr", expect=200)
    assert one.json()["floatingip_pools"] == [{"cidr": "172.24.5.0/24"}]


def test_the_extensions_are_listed():
    from neutrino.api.extensions import EXTENSIONS
    assert {"router_availability_zone", "l3-ha", "router-enable-snat",
            "floatingip-pools", "service-type", "enable-default-route-bfd",
            "enable-default-route-ecmp"} <= set(EXTENSIONS)


# --- the desired rows ----------------------------------------------------------------

def test_zone_hints_keep_only_the_gateway_chassis_of_those_zones():
    known = {"gw1": ChassisPhysnets({"public"}, {"az1"}),
             "gw2": ChassisPhysnets({"public"}, {"az2", "az3"}),
             "gw3": ChassisPhysnets({"public"}), "compute": ChassisPhysnets({"other"}, {"az1"})}

    def placed(hints):
        state = routing(routers=[router_row(availability_zone_hints=hints)], chassis=known)
        return state, {g.chassis_name for g in state.gateway_chassis.values()}

    assert placed([])[1] == {"gw1", "gw2", "gw3"}
    assert placed(["az1"])[1] == {"gw1"}
    assert placed(["az1", "az3"])[1] == {"gw1", "gw2"}
    assert placed(["az9"])[1] == set()  # none of the zone: no chassis, never another one
    state, _ = placed(["az1", "az3"])
    assert state.routers[LR].external_ids["neutron:availability_zone_hints"] == "az1,az3"


def test_a_chassis_reports_its_zones_with_its_physnets_and_a_zone_change_is_a_change():
    sb = FakeSb(sb_chassis("gw1", cms="enable-chassis-as-gw,availability-zones=az1:az2"),
                sb_chassis("gw2", cms="enable-chassis-as-gw"))
    seen = chassis.chassis_physnets(sb)
    assert seen == {"gw1": {"physnet1"}, "gw2": {"physnet1"}}
    assert (seen["gw1"].zones, seen["gw2"].zones) == ({"az1", "az2"}, frozenset())
    assert ChassisPhysnets({"p"}, {"az1"}) != ChassisPhysnets({"p"}, {"az2"})
    assert ChassisPhysnets({"p"}, {"az1"}) == ChassisPhysnets({"p"}, {"az1"})
    assert in_zones(["a", "b"], {"a": {"p"}}, ["az1"]) == []  # plain sets have no zones


# --- default-route BFD / ECMP ----------------------------------------------------------

def test_default_route_flags_are_admin_only_and_default_false(api):
    r = router(api)
    assert (r["enable_default_route_bfd"], r["enable_default_route_ecmp"]) == (False, False)
    for attr in ("enable_default_route_bfd", "enable_default_route_ecmp"):
        resp = api.post("/v2.0/routers", {"router": {attr: True}}, expect=403)
        assert error_type(resp) == "PolicyNotAuthorized"
        api.put(f"/v2.0/routers/{r['id']}", {"router": {attr: True}}, expect=403)
    made = api.post("/v2.0/routers", {"router": {"enable_default_route_bfd": True}},
                    admin=True, expect=201).json()["router"]
    assert (made["enable_default_route_bfd"], made["enable_default_route_ecmp"]) == (True, False)
    upd = api.put(f"/v2.0/routers/{r['id']}", {"router": {"enable_default_route_ecmp": True,
                                                           "enable_default_route_bfd": None}},
                  admin=True, expect=200).json()["router"]
    assert (upd["enable_default_route_bfd"], upd["enable_default_route_ecmp"]) == (False, True)
    seen = api.get(f"/v2.0/routers/{r['id']}", expect=200).json()["router"]  # members read
    assert seen["enable_default_route_ecmp"] is True


def test_bfd_puts_the_default_routes_on_the_gateway_lrp_with_a_session_each():
    from test_ovn_desired import GW_ID, ext_subnet, gw_port, iface_port
    both = {GW_ID: [(ext_subnet(), "172.24.4.10"), (ext_subnet(ip_version=6), "2001:db8:e::a")]}
    on = routing(routers=[router_row(enable_default_route_bfd=True)],
                 ports=[iface_port(), gw_port()], fixed=both)
    off = routing(routers=[router_row()], ports=[iface_port(), gw_port()], fixed=both)
    lrp = f"lrp-{GW_ID}"
    defaults = [r for r in on.static_routes.values() if r.ip_prefix in ("0.0.0.0/0", "::/0")]
    assert sorted((r.nexthop, r.output_port, r.bfd) for r in defaults) == [
        ("172.24.4.1", lrp, True), ("2001:db8:e::1", lrp, True)]
    assert all((r.output_port, r.bfd) == ("", False) for r in off.static_routes.values())
    assert on.static_routes.keys() == off.static_routes.keys()  # same routes, BFD added


def test_service_providers_list_ovn_as_the_l3_provider(api):
    got = api.get("/v2.0/service-providers", expect=200).json()["service_providers"]
    assert got == [{"service_type": "L3_ROUTER_NAT", "name": "ovn", "default": True}]
    none = api.get("/v2.0/service-providers?service_type=LOADBALANCERV2", expect=200)
    assert none.json()["service_providers"] == []
    assert api.get("/v2.0/service-providers?fields=name", expect=200).json() == {
        "service_providers": [{"name": "ovn"}]}


def test_a_bfd_flip_remakes_the_route_and_a_deleted_router_drops_its_bfd_rows():
    import dataclasses
    from unittest import mock

    from test_ovn_apply import ROUTE_ROW, ROUTED, ROUTER, ROUTER_SCOPE, routed_nb

    from neutrino.ovn import bfd
    from neutrino.ovn.apply import nb_commands
    from neutrino.ovn.rows import Desired
    from neutrino.ovn.plan import SET, plan

    with_bfd = dataclasses.replace(ROUTE_ROW, output_port="lrp-gw", bfd=True)
    wanted = dataclasses.replace(ROUTED, static_routes={with_bfd.key: with_bfd})
    nb = routed_nb()
    [change] = plan(wanted, nb, ROUTER_SCOPE)
    assert (change.action, set(change.columns)) == (SET, {"output_port", "bfd"})
    drop, remove, add = nb_commands(mock.Mock(), [change], nb)
    assert isinstance(drop, bfd.DropRouteBfd) and drop.route == change.uuid
    assert isinstance(add, bfd.AddRouteWithBfd)
    assert add.columns["output_port"] == ["lrp-gw"] and "bfd" not in add.columns

    on_nb = routed_nb(wanted)
    assert plan(wanted, on_nb, ROUTER_SCOPE) == []  # in line: nothing to do
    api = mock.Mock()
    cmds = nb_commands(api, plan(Desired(), on_nb, ROUTER_SCOPE), on_nb)
    assert isinstance(cmds[0], bfd.DropRouterBfd) and cmds[1:] == [api.lr_del.return_value]
    assert cmds[0].router == on_nb.routers[ROUTER][0].uuid

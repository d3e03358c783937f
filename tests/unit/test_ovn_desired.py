"""Pure NB row builders (ovn.desired): DB rows in, dataclasses out, no daemons."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pytest

from neutrino.ovn.rows import (DhcpOptions, GatewayChassis, LogicalRouter, LogicalRouterPort,
                               LogicalSwitch, LogicalSwitchPort, Nat, StaticRoute,
                               derived_mac, network_id_of, switch_name)
from neutrino.ovn.desired import (desired_dhcp_options, desired_localnet, desired_lsp,
                                  desired_state, desired_switch)
from neutrino.ovn.desired_routers import (desired_floating_ip, desired_gateway_chassis,
                                          desired_router, desired_router_port,
                                          desired_routers, gateway_chassis_order,
                                          parse_bridge_mappings)

BASE_MAC = "fa:16:3e:00:00:00"
NET_ID = "6f9f2a1e-0000-4000-8000-000000000001"
SUB4 = "5a1b0000-0000-4000-8000-000000000004"
SUB6 = "5a1b0000-0000-4000-8000-000000000006"
PORT_ID = "70a70000-0000-4000-8000-0000000000aa"
MAC = "fa:16:3e:12:34:56"


def network(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": NET_ID, "name": "net1", "mtu": 1442, "revision_number": 3,
                              "availability_zone_hints": [],
                              "project_id": "p1", **kw})


def subnet(**kw) -> SimpleNamespace:
    v6 = kw.get("ip_version") == 6
    return SimpleNamespace(**{
        "id": SUB6 if v6 else SUB4, "network_id": NET_ID, "ip_version": 4,
        "cidr": "2001:db8::/64" if v6 else "10.0.0.0/24",
        "gateway_ip": "2001:db8::1" if v6 else "10.0.0.1", "enable_dhcp": True,
        "ipv6_ra_mode": None, "ipv6_address_mode": None, "dns_nameservers": [],
        "host_routes": [], "revision_number": 2, **kw})


def port(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": PORT_ID, "network_id": NET_ID, "mac_address": MAC, "name": "vm1",
        "project_id": "p1", "device_id": "vm-uuid", "device_owner": "compute:nova",
        "admin_state_up": True, "revision_number": 5, **kw})


def dhcp4(**kw) -> DhcpOptions:
    return desired_dhcp_options(subnet(**kw), network(), base_mac=BASE_MAC)


# --- switch -------------------------------------------------------------------

def test_switch_is_named_after_network_with_neutron_external_ids():
    assert desired_switch(network()) == LogicalSwitch(
        name=f"neutron-{NET_ID}",
        external_ids={"neutron:network_name": "net1", "neutron:mtu": "1442",
                      "neutron:revision_number": "3", "neutron:availability_zone_hints": ""},
        other_config={"mcast_snoop": "false", "mcast_flood_unregistered": "false"})
    zoned = desired_switch(network(availability_zone_hints=["az1", "az2"]))
    assert zoned.external_ids["neutron:availability_zone_hints"] == "az1,az2"  # as ML2/OVN


def test_switch_name_round_trips_to_network_id():
    assert network_id_of(switch_name(NET_ID)) == NET_ID
    assert network_id_of("nt12-hand-made") is None


# --- DHCP_Options ------------------------------------------------------------------

def test_ipv4_dhcp_options_with_host_routes_and_dns_servers():
    row = dhcp4(dns_nameservers=["8.8.8.8", "1.1.1.1"],
                host_routes=[{"destination": "192.168.0.0/24", "nexthop": "10.0.0.254"},
                             {"destination": "172.16.0.0/16", "nexthop": "10.0.0.253"}])

    assert row == DhcpOptions(
        subnet_id=SUB4, cidr="10.0.0.0/24",
        options={"server_id": "10.0.0.1", "server_mac": derived_mac(BASE_MAC, SUB4),
                 "lease_time": "43200", "mtu": "1442", "router": "10.0.0.1",
                 "dns_server": "{8.8.8.8, 1.1.1.1}",
                 "classless_static_route": "{192.168.0.0/24,10.0.0.254, "
                                           "172.16.0.0/16,10.0.0.253, 0.0.0.0/0,10.0.0.1}"},
        external_ids={"subnet_id": SUB4, "neutron:revision_number": "2"})


def test_ipv4_without_host_routes_or_dns_has_neither_option():
    options = dhcp4().options

    assert "classless_static_route" not in options
    assert "dns_server" not in options
    assert options["router"] == "10.0.0.1"


def test_lease_time_comes_from_the_caller():
    row = desired_dhcp_options(subnet(), network(), base_mac=BASE_MAC, lease_time=600)

    assert row.options["lease_time"] == "600"


def test_dhcp_disabled_subnet_has_no_row():
    assert dhcp4(enable_dhcp=False) is None


def test_ipv4_without_gateway_and_metadata_port_has_no_row():
    assert dhcp4(gateway_ip=None) is None


def test_ipv4_without_gateway_serves_from_metadata_port_without_router():
    row = desired_dhcp_options(subnet(gateway_ip=None), network(), base_mac=BASE_MAC,
                               metadata_ip="10.0.0.2")

    assert row.options["server_id"] == "10.0.0.2"
    assert "router" not in row.options
    assert row.options["classless_static_route"] == "{169.254.169.254/32,10.0.0.2}"


def test_metadata_route_comes_first_and_default_route_last():
    sub = subnet(host_routes=[{"destination": "192.168.0.0/24", "nexthop": "10.0.0.254"}])
    row = desired_dhcp_options(sub, network(), base_mac=BASE_MAC, metadata_ip="10.0.0.2")

    assert row.options["classless_static_route"] == (
        "{169.254.169.254/32,10.0.0.2, 192.168.0.0/24,10.0.0.254, 0.0.0.0/0,10.0.0.1}")


def test_server_mac_is_stable_per_subnet_and_inside_base_mac():
    first, again = derived_mac(BASE_MAC, SUB4), derived_mac(BASE_MAC, SUB4)

    assert first == again
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", first)
    assert derived_mac(BASE_MAC, SUB6) != first
    assert derived_mac("fa:16:3e:7f:00:00", SUB4).startswith("fa:16:3e:7f:")


def test_ipv6_stateless_row_marks_dhcpv6_stateless():
    sub = subnet(ip_version=6, ipv6_ra_mode="dhcpv6-stateless",
                 ipv6_address_mode="dhcpv6-stateless", dns_nameservers=["2001:db8::53"])

    assert desired_dhcp_options(sub, network(), base_mac=BASE_MAC) == DhcpOptions(
        subnet_id=SUB6, cidr="2001:db8::/64",
        options={"server_id": derived_mac(BASE_MAC, SUB6), "dns_server": "{2001:db8::53}",
                 "dhcpv6_stateless": "true"},
        external_ids={"subnet_id": SUB6, "neutron:revision_number": "2"})


def test_ipv6_stateful_row_has_server_id_only():
    sub = subnet(ip_version=6, ipv6_address_mode="dhcpv6-stateful")

    row = desired_dhcp_options(sub, network(), base_mac=BASE_MAC)

    assert row.options == {"server_id": derived_mac(BASE_MAC, SUB6)}


@pytest.mark.parametrize("modes", [("slaac", "slaac"), (None, "slaac"), ("slaac", None)])
def test_ipv6_slaac_subnet_has_no_row(modes):
    ra_mode, address_mode = modes
    sub = subnet(ip_version=6, ipv6_ra_mode=ra_mode, ipv6_address_mode=address_mode)

    assert desired_dhcp_options(sub, network(), base_mac=BASE_MAC) is None


# --- Logical_Switch_Port -----------------------------------------------------------

def test_vm_port_has_addresses_port_security_and_neutron_external_ids():
    sub4 = subnet()
    lsp = desired_lsp(port(), [(sub4, "10.0.0.5")], {SUB4: dhcp4()})

    assert lsp == LogicalSwitchPort(
        name=PORT_ID, switch=f"neutron-{NET_ID}", type="",
        addresses=(f"{MAC} 10.0.0.5",), port_security=(f"{MAC} 10.0.0.5",), enabled=True,
        options={"requested-chassis": ""},
        external_ids={"neutron:port_name": "vm1", "neutron:device_id": "vm-uuid",
                      "neutron:device_owner": "compute:nova", "neutron:project_id": "p1",
                      "neutron:cidrs": "10.0.0.5/24", "neutron:network_name": f"neutron-{NET_ID}",
                      "neutron:security_group_ids": "", "neutron:revision_number": "5"},
        dhcpv4_options=SUB4, dhcpv6_options=None, port_groups=("neutron_pg_drop",))


def test_dual_stack_port_lists_every_address_and_cidr():
    v6 = subnet(ip_version=6, ipv6_address_mode="dhcpv6-stateful")
    lsp = desired_lsp(port(), [(subnet(), "10.0.0.5"), (v6, "2001:db8::5")],
                      {SUB4: dhcp4(), SUB6: desired_dhcp_options(v6, network(), base_mac=BASE_MAC)})

    assert lsp.addresses == (f"{MAC} 10.0.0.5 2001:db8::5",)
    assert lsp.external_ids["neutron:cidrs"] == "10.0.0.5/24 2001:db8::5/64"
    assert (lsp.dhcpv4_options, lsp.dhcpv6_options) == (SUB4, SUB6)


def test_ipv6_dhcp_reference_prefers_a_stateful_subnet():
    stateless = subnet(ip_version=6, id="stateless", cidr="2001:db8:1::/64",
                       ipv6_address_mode="dhcpv6-stateless")
    stateful = subnet(ip_version=6, id="stateful", cidr="2001:db8:2::/64",
                      ipv6_address_mode="dhcpv6-stateful")
    dhcp = {s.id: desired_dhcp_options(s, network(), base_mac=BASE_MAC)
            for s in (stateless, stateful)}

    lsp = desired_lsp(port(), [(stateless, "2001:db8:1::5"), (stateful, "2001:db8:2::5")], dhcp)

    assert lsp.dhcpv6_options == "stateful"


def test_port_on_dhcp_disabled_subnet_has_no_dhcp_reference():
    lsp = desired_lsp(port(), [(subnet(enable_dhcp=False), "10.0.0.5")], {})

    assert lsp.dhcpv4_options is None


def test_network_owned_port_has_no_port_security_and_unknown_address():
    lsp = desired_lsp(port(device_owner="network:dhcp"),
                      [(subnet(), "10.0.0.1")], {SUB4: dhcp4()})

    assert lsp.port_security == ()
    assert lsp.addresses == (f"{MAC} 10.0.0.1", "unknown")
    assert (lsp.type, lsp.dhcpv4_options) == ("", None)


def test_metadata_port_is_a_localport_without_port_security():
    lsp = desired_lsp(port(device_owner="network:distributed", device_id=f"ovnmeta-{NET_ID}"),
                      [(subnet(), "10.0.0.2")], {SUB4: dhcp4()})

    assert (lsp.type, lsp.port_security, lsp.addresses) == ("localport", (), (f"{MAC} 10.0.0.2",))
    assert lsp.dhcpv4_options is None


def test_floating_ip_port_has_no_lsp():
    assert desired_lsp(port(device_owner="network:floatingip"), [], {}) is None


def test_admin_down_bound_port_is_disabled_and_requests_its_chassis():
    lsp = desired_lsp(port(admin_state_up=False, binding_host_id="compute1"), [], {})

    assert lsp.enabled is False
    assert lsp.options == {"requested-chassis": "compute1"}
    assert lsp.addresses == (MAC,)


# --- whole state ----------------------------------------------------------------------

def test_desired_state_picks_the_first_dhcp_enabled_ipv4_subnet_of_a_port():
    off = subnet(id="off", cidr="10.1.0.0/24", gateway_ip="10.1.0.1", enable_dhcp=False)
    on = subnet(id="on", cidr="10.2.0.0/24", gateway_ip="10.2.0.1")
    allocations = [SimpleNamespace(port_id=PORT_ID, subnet_id="on", ip_address="10.2.0.9"),
                   SimpleNamespace(port_id=PORT_ID, subnet_id="off", ip_address="10.1.0.9")]

    state = desired_state([network()], [off, on], [port()], allocations, base_mac=BASE_MAC)

    assert set(state.switches) == {f"neutron-{NET_ID}"}
    assert set(state.dhcp_options) == {"on"}
    lsp = state.ports[PORT_ID]
    assert lsp.addresses == (f"{MAC} 10.1.0.9 10.2.0.9",)
    assert lsp.dhcpv4_options == "on"


def test_desired_state_skips_floating_ip_ports():
    state = desired_state([network()], [], [port(device_owner="network:floatingip")], [],
                          base_mac=BASE_MAC)

    assert state.ports == {}


# --- localnet ports -------------------------------------------------------------------

def segment(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": "5e600000-0000-4000-8000-000000000001", "network_id": NET_ID,
                              "network_type": "flat", "physical_network": "physnet1",
                              "segmentation_id": None, **kw})


def test_flat_segment_is_a_localnet_port_on_the_network_switch():
    assert desired_localnet(segment()) == LogicalSwitchPort(
        name="provnet-5e600000-0000-4000-8000-000000000001", switch=f"neutron-{NET_ID}",
        type="localnet", addresses=("unknown",),
        options={"network_name": "physnet1", "mcast_flood": "false",
                 "mcast_flood_reports": "true"}, tag_request=None)


def test_vlan_segment_requests_its_tag():
    lsp = desired_localnet(segment(network_type="vlan", segmentation_id=101))

    assert (lsp.type, lsp.tag_request) == ("localnet", 101)


def test_overlay_segment_has_no_localnet_port():
    assert desired_localnet(segment(network_type="geneve", physical_network=None,
                                    segmentation_id=7)) is None


def test_desired_state_adds_localnet_ports_of_given_networks_only():
    other = segment(id="seg-other", network_id="not-given")

    state = desired_state([network()], [], [], [], base_mac=BASE_MAC,
                          segments=[segment(), other])

    assert set(state.ports) == {"provnet-5e600000-0000-4000-8000-000000000001"}


# --- routers ------------------------------------------------------------------------

ROUTER_ID = "40000000-0000-4000-8000-0000000000r1"
EXT_NET = "e0000000-0000-4000-8000-000000000e01"
EXT_SUB4 = "e5000000-0000-4000-8000-000000000004"
EXT_SUB6 = "e5000000-0000-4000-8000-000000000006"
IFACE_ID = "1f000000-0000-4000-8000-0000000000f1"
GW_ID = "9a000000-0000-4000-8000-0000000000a1"
VM_PORT = "70a70000-0000-4000-8000-0000000000bb"
FIP_ID = "f1900000-0000-4000-8000-000000000001"
FIP_PORT = "f1900000-0000-4000-8000-0000000000cc"
FIP_MAC = "fa:16:3e:00:00:cc"
LR = f"neutron-{ROUTER_ID}"


def router(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": ROUTER_ID, "name": "r1", "admin_state_up": True,
                              "revision_number": 4, "gw_port_id": GW_ID, "enable_snat": True,
                              "routes": [], **kw})


def ext_subnet(**kw) -> SimpleNamespace:
    v6 = kw.get("ip_version") == 6
    return subnet(**{"id": EXT_SUB6 if v6 else EXT_SUB4, "network_id": EXT_NET,
                     "cidr": "2001:db8:e::/64" if v6 else "172.24.4.0/24",
                     "gateway_ip": "2001:db8:e::1" if v6 else "172.24.4.1", **kw})


def iface_port(**kw) -> SimpleNamespace:
    return port(**{"id": IFACE_ID, "name": "", "device_owner": "network:router_interface",
                   "device_id": ROUTER_ID, "mac_address": "fa:16:3e:00:00:f1", **kw})


def gw_port(**kw) -> SimpleNamespace:
    return port(**{"id": GW_ID, "name": "", "network_id": EXT_NET, "project_id": "",
                   "device_owner": "network:router_gateway", "device_id": ROUTER_ID,
                   "mac_address": "fa:16:3e:00:00:a1", **kw})


def fip(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": FIP_ID, "router_id": ROUTER_ID, "fixed_port_id": VM_PORT,
                              "fixed_ip_address": "10.0.0.5", "floating_ip_address": "172.24.4.20",
                              "floating_network_id": EXT_NET, "floating_port_id": FIP_PORT,
                              "revision_number": 2, **kw})


def routing(routers=None, ports=None, fixed=None, fips=(), chassis=None, segments=None,
            distributed=False):
    """desired_routers for r1 with an interface on 10.0.0.0/24 and a gateway
    172.24.4.10 on the flat external network (physnet "public"); floating IP
    ports have the MAC ``FIP_MAC``."""
    fixed = fixed if fixed is not None else {IFACE_ID: [(subnet(), "10.0.0.1")],
                                              GW_ID: [(ext_subnet(), "172.24.4.10")]}
    segs = segments if segments is not None else [
        segment(network_id=EXT_NET, physical_network="public")]
    return desired_routers(routers or [router()], ports or [iface_port(), gw_port()], fixed,
                           networks={NET_ID: network(), EXT_NET: network(id=EXT_NET, mtu=1500)},
                           segments=segs, floating_ips=fips,
                           floating_macs={FIP_PORT: FIP_MAC,
                                          "other-fip-port": "fa:16:3e:00:00:dd"},
                           distributed_floating_ips=distributed, chassis=chassis)


def test_router_is_named_after_its_id_with_zed_external_ids():
    assert desired_router(router(), gw_port()) == LogicalRouter(
        name=LR, enabled=True,
        options={"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true"},
        external_ids={"neutron:router_name": "r1", "neutron:gw_port_id": GW_ID,
                      "neutron:gw_network_id": EXT_NET, "neutron:revision_number": "4",
                      "neutron:availability_zone_hints": ""})


def test_router_without_gateway_has_empty_gateway_ids_and_follows_admin_state():
    row = desired_router(router(gw_port_id=None, admin_state_up=False), None)

    assert row.enabled is False
    assert (row.external_ids["neutron:gw_port_id"], row.external_ids["neutron:gw_network_id"]) \
        == ("", "")


def test_interface_lrp_has_port_mac_and_address_with_prefix_length():
    assert desired_router_port(iface_port(), [(subnet(), "10.0.0.1")], ROUTER_ID, mtu=1442) == \
        LogicalRouterPort(
            name=f"lrp-{IFACE_ID}", router=LR, mac="fa:16:3e:00:00:f1", networks=("10.0.0.1/24",),
            external_ids={"neutron:revision_number": "5", "neutron:subnet_ids": SUB4,
                          "neutron:network_name": f"neutron-{NET_ID}",
                          "neutron:router_name": ROUTER_ID},
            ipv6_ra_configs={})


def test_dual_stack_interface_lrp_advertises_the_ipv6_address_mode():
    v6 = subnet(ip_version=6, ipv6_ra_mode="dhcpv6-stateful", ipv6_address_mode="dhcpv6-stateful")
    row = desired_router_port(iface_port(), [(v6, "2001:db8::1"), (subnet(), "10.0.0.1")],
                              ROUTER_ID, mtu=1442)

    assert row.networks == ("10.0.0.1/24", "2001:db8::1/64")
    assert row.external_ids["neutron:subnet_ids"] == f"{SUB4} {SUB6}"
    assert row.ipv6_ra_configs == {"address_mode": "dhcpv6_stateful", "send_periodic": "true",
                                   "mtu": "1442"}


def test_gateway_lrp_does_not_send_periodic_router_advertisements():
    v6 = ext_subnet(ip_version=6, ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    row = desired_router_port(gw_port(), [(v6, "2001:db8:e::10")], ROUTER_ID, mtu=1500)

    assert row.ipv6_ra_configs == {"address_mode": "slaac", "send_periodic": "false",
                                   "mtu": "1500"}


def test_router_port_without_address_has_no_lrp():
    assert desired_router_port(iface_port(), [], ROUTER_ID) is None


def test_router_interface_lsp_is_a_router_port_peer():
    lsp = desired_lsp(iface_port(), [(subnet(), "10.0.0.1")], {SUB4: dhcp4()})

    assert (lsp.type, lsp.addresses, lsp.port_security) == ("router", ("router",), ())
    assert lsp.options == {"router-port": f"lrp-{IFACE_ID}"}
    assert (lsp.dhcpv4_options, lsp.dhcpv6_options) == (None, None)
    assert lsp.external_ids["neutron:cidrs"] == "10.0.0.1/24"


def test_router_gateway_lsp_announces_nat_addresses():
    lsp = desired_lsp(gw_port(), [(ext_subnet(), "172.24.4.10")], {})

    assert (lsp.type, lsp.addresses) == ("router", ("router",))
    assert lsp.options == {"router-port": f"lrp-{GW_ID}", "nat-addresses": "router",
                           "exclude-lb-vips-from-garp": "true"}


def test_gateway_gets_default_routes_and_snat_per_ipv4_interface_subnet():
    second = subnet(id="sub-b", cidr="10.1.0.0/24", gateway_ip="10.1.0.1")
    v6 = subnet(ip_version=6, ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    fixed = {IFACE_ID: [(subnet(), "10.0.0.1"), (v6, "2001:db8::1")],
             "if-2": [(second, "10.1.0.1")],
             GW_ID: [(ext_subnet(), "172.24.4.10"), (ext_subnet(ip_version=6), "2001:db8:e::10")]}

    state = routing(ports=[iface_port(), iface_port(id="if-2"), gw_port()], fixed=fixed)

    assert set(state.router_ports) == {f"lrp-{IFACE_ID}", "lrp-if-2", f"lrp-{GW_ID}"}
    assert sorted(state.static_routes.values(), key=lambda r: r.ip_prefix) == [
        StaticRoute(LR, "0.0.0.0/0", "172.24.4.1",
                    {"neutron:is_ext_gw": "true", "neutron:subnet_id": EXT_SUB4}),
        StaticRoute(LR, "::/0", "2001:db8:e::1",
                    {"neutron:is_ext_gw": "true", "neutron:subnet_id": EXT_SUB6})]
    assert sorted(state.nats.values(), key=lambda n: n.logical_ip) == [
        Nat(LR, "snat", "172.24.4.10", "10.0.0.0/24"),
        Nat(LR, "snat", "172.24.4.10", "10.1.0.0/24")]


def test_snat_disabled_router_keeps_its_default_route_only():
    state = routing(routers=[router(enable_snat=False)])

    assert state.nats == {} and len(state.static_routes) == 1


def test_router_without_gateway_has_no_default_route_snat_or_gateway_chassis():
    state = routing(routers=[router(gw_port_id=None)], chassis={"gw1": {"public"}})

    assert set(state.router_ports) == {f"lrp-{IFACE_ID}"}
    assert (state.static_routes, state.nats, state.gateway_chassis) == ({}, {}, {})


def test_extra_routes_are_static_routes_without_external_ids():
    state = routing(routers=[router(gw_port_id=None, routes=[
        {"destination": "192.168.9.0/24", "nexthop": "10.0.0.254"}])])

    assert list(state.static_routes.values()) == [
        StaticRoute(LR, "192.168.9.0/24", "10.0.0.254", {})]


FIP_NAT_IDS = {"neutron:fip_id": FIP_ID, "neutron:revision_number": "2",
               "neutron:fip_port_id": VM_PORT, "neutron:router_name": LR,
               "neutron:fip_external_mac": FIP_MAC, "neutron:fip_network_id": EXT_NET}


def test_associated_floating_ip_is_a_centralised_dnat_and_snat():
    state = routing(fips=[fip(), fip(id="unassociated", fixed_port_id=None,
                                     fixed_ip_address=None, router_id=None,
                                     floating_ip_address="172.24.4.21",
                                     floating_port_id="other-fip-port")])

    assert state.nats[f"{LR} dnat_and_snat 172.24.4.20 10.0.0.5"] == Nat(
        LR, "dnat_and_snat", "172.24.4.20", "10.0.0.5", logical_port=VM_PORT, external_mac="",
        external_ids=FIP_NAT_IDS)
    assert len([n for n in state.nats.values() if n.type == "dnat_and_snat"]) == 1


def test_distributed_floating_ip_carries_the_mac_of_its_own_port():
    state = routing(fips=[fip()], distributed=True)

    assert state.nats[f"{LR} dnat_and_snat 172.24.4.20 10.0.0.5"] == Nat(
        LR, "dnat_and_snat", "172.24.4.20", "10.0.0.5", logical_port=VM_PORT,
        external_mac=FIP_MAC, external_ids=FIP_NAT_IDS)


def test_distribution_changes_only_the_external_mac_of_floating_ip_nats():
    centralised, distributed = routing(fips=[fip()]), routing(fips=[fip()], distributed=True)

    assert centralised.nats.keys() == distributed.nats.keys()
    differing = [k for k in centralised.nats if centralised.nats[k] != distributed.nats[k]]
    assert differing == [f"{LR} dnat_and_snat 172.24.4.20 10.0.0.5"]
    assert dataclasses.replace(distributed.nats[differing[0]], external_mac="") == \
        centralised.nats[differing[0]]


def test_floating_ip_whose_port_mac_is_unknown_stays_centralised():
    nat = desired_floating_ip(fip(), None, distributed=True)

    assert (nat.logical_port, nat.external_mac) == (VM_PORT, "")
    assert "neutron:fip_external_mac" not in nat.external_ids


def test_floating_ip_mac_is_written_in_lower_case():
    nat = desired_floating_ip(fip(), "FA:16:3E:00:00:CC", distributed=True)

    assert nat.external_mac == nat.external_ids["neutron:fip_external_mac"] == FIP_MAC


def test_floating_ip_of_a_router_not_given_is_left_out():
    state = routing(fips=[fip(router_id="another-router")])

    assert all(n.type == "snat" for n in state.nats.values())


def test_gateway_chassis_are_the_chassis_bridging_the_external_physnet():
    chassis = {"gw1": {"public"}, "gw2": {"public", "other"}, "compute1": {"other"},
               "compute2": set()}

    rows = routing(chassis=chassis).gateway_chassis

    assert {g.chassis_name for g in rows.values()} == {"gw1", "gw2"}
    assert sorted(g.priority for g in rows.values()) == [1, 2]
    assert all(name == f"lrp-{GW_ID}_{g.chassis_name}" and g.port == f"lrp-{GW_ID}"
               for name, g in rows.items())


def test_no_candidate_chassis_means_no_gateway_chassis():
    assert routing(chassis={"compute1": {"other"}}).gateway_chassis == {}
    assert routing(chassis={"gw1": {"public"}}, segments=[]).gateway_chassis == {}


def test_unknown_chassis_leave_gateway_chassis_unmanaged():
    assert routing(chassis=None).gateway_chassis is None


def test_gateway_chassis_get_distinct_priorities_highest_first():
    rows = desired_gateway_chassis("lrp-x", ROUTER_ID, [f"ch{i}" for i in range(8)])

    assert len(rows) == 5  # MAX_GW_CHASSIS
    assert [g.priority for g in rows] == [5, 4, 3, 2, 1]
    assert rows[0] == GatewayChassis(f"lrp-x_{rows[0].chassis_name}", "lrp-x",
                                     rows[0].chassis_name, 5)


def test_gateway_chassis_order_is_deterministic_and_spreads_routers():
    chassis = [f"ch{i}" for i in range(4)]
    firsts = {gateway_chassis_order(f"router-{i}", chassis)[0] for i in range(40)}

    assert gateway_chassis_order(ROUTER_ID, chassis) == \
        gateway_chassis_order(ROUTER_ID, list(reversed(chassis)))
    assert firsts == set(chassis)


def test_a_new_chassis_keeps_the_order_of_the_others():
    chassis = ["ch0", "ch1", "ch2"]
    for i in range(20):
        before = gateway_chassis_order(f"router-{i}", chassis)
        after = gateway_chassis_order(f"router-{i}", chassis + ["ch3"])

        assert [c for c in after if c != "ch3"] == before


def test_losing_the_first_chassis_promotes_the_second():
    chassis = ["ch0", "ch1", "ch2"]
    before = gateway_chassis_order(ROUTER_ID, chassis)

    assert gateway_chassis_order(ROUTER_ID, [c for c in chassis if c != before[0]]) == before[1:]


def test_bridge_mappings_parse_to_physnets():
    assert parse_bridge_mappings("physnet1:br-ex, physnet2:br-x") == {"physnet1", "physnet2"}
    assert parse_bridge_mappings("") == frozenset()
    assert parse_bridge_mappings("broken,:br-y,physnet3:") == frozenset()


def test_desired_state_builds_routers_with_switches_and_lsps():
    allocations = [SimpleNamespace(port_id=IFACE_ID, subnet_id=SUB4, ip_address="10.0.0.1"),
                   SimpleNamespace(port_id=GW_ID, subnet_id=EXT_SUB4, ip_address="172.24.4.10")]
    ports = [iface_port(), gw_port()]

    state = desired_state([network(), network(id=EXT_NET)], [subnet(), ext_subnet()], ports,
                          allocations, base_mac=BASE_MAC,
                          segments=[segment(network_id=EXT_NET, physical_network="public")],
                          routers=[router()], router_ports=ports, chassis={"gw1": {"public"}})

    assert set(state.routers) == {LR}
    assert state.router_ports[f"lrp-{GW_ID}"].networks == ("172.24.4.10/24",)
    assert state.ports[IFACE_ID].type == "router"
    assert [g.chassis_name for g in state.gateway_chassis.values()] == ["gw1"]


def test_desired_state_passes_floating_ip_macs_and_distribution_through():
    allocations = [SimpleNamespace(port_id=IFACE_ID, subnet_id=SUB4, ip_address="10.0.0.1"),
                   SimpleNamespace(port_id=GW_ID, subnet_id=EXT_SUB4, ip_address="172.24.4.10")]
    ports = [iface_port(), gw_port()]

    def nat(**kw) -> Nat:
        state = desired_state([network(), network(id=EXT_NET)], [subnet(), ext_subnet()], ports,
                              allocations, base_mac=BASE_MAC, routers=[router()],
                              router_ports=ports, floating_ips=[fip()], **kw)
        return state.nats[f"{LR} dnat_and_snat 172.24.4.20 10.0.0.5"]

    assert nat().external_mac == "" and "neutron:fip_external_mac" not in nat().external_ids
    assert nat(floating_macs={FIP_PORT: FIP_MAC}).external_mac == ""
    assert nat(floating_macs={FIP_PORT: FIP_MAC}, distributed_floating_ips=True).external_mac \
        == FIP_MAC


# --- live migration (binding-extended): multi-chassis LSP options -------------------

def test_migrating_port_requests_both_chassis_and_waits_for_rarp():
    lsp = desired_lsp(port(binding_host_id="hostA"), [], {}, migrating_to="hostB")
    assert lsp.options == {"requested-chassis": "hostA,hostB", "activation-strategy": "rarp"}


def test_migrating_to_from_profile_wins_and_unbound_port_has_no_destination():
    from neutrino.ovn.desired import chassis_options
    bound = port(binding_host_id="hostA", binding_profile={"migrating_to": "hostC"})
    assert chassis_options(bound, "hostB")["requested-chassis"] == "hostA,hostC"
    assert chassis_options(port(binding_host_id=""), "hostB") == {"requested-chassis": ""}
    assert chassis_options(port(binding_host_id="hostB"), "hostB") == {
        "requested-chassis": "hostB"}


def test_router_interface_reroutes_metadata_to_its_networks_metadata_port():
    # a guest ignoring option 121 sends 169.254.169.254 to its gateway: back to the
    # metadata port of its own subnet, never out of the router's gateway
    allocations = [SimpleNamespace(port_id=IFACE_ID, subnet_id=SUB4, ip_address="10.0.0.1"),
                   SimpleNamespace(port_id=GW_ID, subnet_id=EXT_SUB4, ip_address="172.24.4.10")]
    ports = [iface_port(), gw_port()]

    state = desired_state([network(), network(id=EXT_NET)], [subnet(), ext_subnet()], ports,
                          allocations, base_mac=BASE_MAC, routers=[router()], router_ports=ports,
                          metadata_ips={SUB4: "10.0.0.2"})

    [policy] = state.router_policies.values()
    assert (policy.router, policy.priority, policy.action, policy.nexthops) == (
        LR, 1000, "reroute", ("10.0.0.2",))
    assert policy.match == (f'inport == "lrp-{IFACE_ID}" && ip4.src == 10.0.0.0/24 && '
                            "ip4.dst == 169.254.169.254")
    assert desired_state([network(), network(id=EXT_NET)], [subnet(), ext_subnet()], ports,
                         allocations, base_mac=BASE_MAC, routers=[router()],
                         router_ports=ports).router_policies == {}

"""Pure NB row builders (ovn.desired): DB rows in, dataclasses out, no daemons."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from neutrino.ovn.desired import (DhcpOptions, LogicalSwitch, LogicalSwitchPort, derived_mac,
                                  desired_dhcp_options, desired_lsp, desired_state,
                                  desired_switch, network_id_of, switch_name)

BASE_MAC = "fa:16:3e:00:00:00"
NET_ID = "6f9f2a1e-0000-4000-8000-000000000001"
SUB4 = "5a1b0000-0000-4000-8000-000000000004"
SUB6 = "5a1b0000-0000-4000-8000-000000000006"
PORT_ID = "70a70000-0000-4000-8000-0000000000aa"
MAC = "fa:16:3e:12:34:56"


def network(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": NET_ID, "name": "net1", "mtu": 1442, "revision_number": 3,
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
                      "neutron:revision_number": "5"},
        dhcpv4_options=SUB4, dhcpv6_options=None)


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
    lsp = desired_lsp(port(device_owner="network:router_interface"),
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

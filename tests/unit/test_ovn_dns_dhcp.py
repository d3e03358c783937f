"""OVN rows of DNS names and extra DHCP options: the pure builders (ovn.dns,
ovn.port_dhcp, their use in ovn.desired), the plan's scope for them, and what the
load stage reads from a real database (ovn.load, ovn.load_extras)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import Api
from fastapi.testclient import TestClient

from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.ovn import load, plan
from neutrino.ovn.rows import Desired, DhcpOptions
from neutrino.ovn.desired import desired_dhcp_options, desired_state
from neutrino.ovn.dns import (Dns, DnsInputs, default_dns_servers, desired_dns,
                              dhcp_dns_servers, port_records, reverse_name)
from neutrino.ovn.observe import Found, Observed
from neutrino.ovn.port_dhcp import port_key, port_options
from neutrino.services.env import Env

BASE_MAC = "fa:16:3e:00:00:00"
NET = "6f9f2a1e-0000-4000-8000-000000000001"
SUB4 = "5a1b0000-0000-4000-8000-000000000004"
SUB6 = "5a1b0000-0000-4000-8000-000000000006"
PORT = "70a70000-0000-4000-8000-0000000000aa"
SWITCH = f"neutron-{NET}"


def network(**kw):
    return SimpleNamespace(**{"id": NET, "name": "n", "mtu": 1442, "revision_number": 1,
                              "project_id": "p1", "dns_domain": "", "availability_zone_hints": [],
                              **kw})


def subnet(v6: bool = False, **kw):
    return SimpleNamespace(**{
        "id": SUB6 if v6 else SUB4, "network_id": NET, "ip_version": 6 if v6 else 4,
        "cidr": "2001:db8::/64" if v6 else "10.0.0.0/24",
        "gateway_ip": "2001:db8::1" if v6 else "10.0.0.1", "enable_dhcp": True,
        "ipv6_ra_mode": "dhcpv6-stateful" if v6 else None,
        "ipv6_address_mode": "dhcpv6-stateful" if v6 else None, "dns_nameservers": [],
        "host_routes": [], "revision_number": 2, **kw})


def port(**kw):
    return SimpleNamespace(**{
        "id": PORT, "network_id": NET, "mac_address": "fa:16:3e:12:34:56", "name": "vm",
        "project_id": "p1", "device_id": "vm-1", "device_owner": "compute:nova",
        "admin_state_up": True, "revision_number": 1, "binding_vnic_type": "normal",
        "extra_dhcp_opts": [], "dns_name": "", **kw})


def alloc(ip: str, sub: str = SUB4, port_id: str = PORT):
    return SimpleNamespace(port_id=port_id, subnet_id=sub, ip_address=ip)


def opt(name: str, value: str | None, version: int = 4) -> dict:
    return {"opt_name": name, "opt_value": value, "ip_version": version}


# --- a port's own DHCP row ------------------------------------------------------------------

def test_port_options_map_names_and_numbers_quote_strings_and_brace_maps():
    p = port(extra_dhcp_opts=[opt("26", "1400"), opt("domain-search", "a.example"),
                              opt("bootfile-name", '"quoted"'), opt("121", "10.9.0.0/16,10.0.0.9"),
                              opt("server-ip-address", "10.0.0.7"), opt("dns-server", "::1", 6)])
    assert port_options(p, 4) == (False, {
        "mtu": "1400", "domain_search_list": '"a.example"', "bootfile_name": '"quoted"',
        "classless_static_route": "{10.9.0.0/16,10.0.0.9}", "next_server": "10.0.0.7"})
    assert port_options(p, 6) == (False, {"dns_server": "::1"})
    assert port_options(port(extra_dhcp_opts=[opt("mtu", "1"), opt("dhcp_disabled", "TRUE")]),
                        4) == (True, {})
    assert port_options(port(device_owner="network:router_interface",
                             extra_dhcp_opts=[opt("mtu", "1")]), 4) == (True, {})
    bm = port(binding_vnic_type="baremetal", extra_dhcp_opts=[opt("tag:!ipxe,67", "undi")])
    assert port_options(bm, 4) == (False, {"bootfile_name_alt": '"undi"'})


def state(p, *, subs=None, allocs=None):
    subs = subs or [subnet()]
    return desired_state([network()], subs, [p], allocs or [alloc("10.0.0.5")],
                         base_mac=BASE_MAC)


def test_desired_state_gives_a_port_with_options_its_own_row():
    p = port(extra_dhcp_opts=[opt("mtu", "1400"), opt("121", "10.9.0.0/16,10.0.0.9"),
                              opt("router", "")])
    d = state(p, subs=[subnet(host_routes=[{"destination": "10.8.0.0/16",
                                            "nexthop": "10.0.0.8"}])])
    key = port_key(SUB4, PORT)
    assert d.ports[PORT].dhcpv4_options == key and set(d.dhcp_options) == {SUB4, key}
    own, base = d.dhcp_options[key], d.dhcp_options[SUB4]
    assert own.external_ids == {**base.external_ids, "port_id": PORT}
    assert own.cidr == base.cidr and own.subnet_id == SUB4
    # map options merged after the subnet's; a blank router is no router
    assert own.options["classless_static_route"] == (
        "{10.8.0.0/16,10.0.0.8, 0.0.0.0/0,10.0.0.1, 10.9.0.0/16,10.0.0.9}")
    assert own.options["mtu"] == "1400" and "router" not in own.options
    assert {k: v for k, v in own.options.items()
            if k not in ("mtu", "classless_static_route", "router")} == {
        k: v for k, v in base.options.items() if k not in ("mtu", "classless_static_route",
                                                           "router")}


def test_options_of_one_ip_version_and_dhcp_disabled():
    subs = [subnet(), subnet(v6=True)]
    allocs = [alloc("10.0.0.5"), alloc("2001:db8::5", SUB6)]
    d = state(port(extra_dhcp_opts=[opt("dns-server", "2001:db8::53", 6)]), subs=subs,
              allocs=allocs)
    assert d.ports[PORT].dhcpv4_options == SUB4
    assert d.ports[PORT].dhcpv6_options == port_key(SUB6, PORT)
    assert d.dhcp_options[port_key(SUB6, PORT)].options["dns_server"] == "2001:db8::53"
    d = state(port(extra_dhcp_opts=[opt("dhcp_disabled", "true")]), subs=subs, allocs=allocs)
    assert d.ports[PORT].dhcpv4_options is None and d.ports[PORT].dhcpv6_options == SUB6
    assert set(d.dhcp_options) == {SUB4, SUB6}


# --- DNS records ------------------------------------------------------------------------------

def test_records_of_a_port_as_ml2_ovn_writes_them():
    p = port(dns_name="vm1")
    assert port_records(p, ["10.0.0.5", "2001:db8::5"], "corp.example.", "example.org.") == {
        "vm1": ["10.0.0.5", "2001:db8::5"], "vm1.corp.example": ["10.0.0.5", "2001:db8::5"],
        "vm1.example.org": ["10.0.0.5", "2001:db8::5"],
        "5.0.0.10.in-addr.arpa": ["vm1.example.org"],
        reverse_name("2001:db8::5"): ["vm1.example.org"]}
    assert reverse_name("2001:db8::5").endswith(".8.b.d.0.1.0.0.2.ip6.arpa")
    # the network's domain equal to the FQDN's adds nothing; no device or name: nothing
    assert set(port_records(p, ["10.0.0.5"], "example.org.", "example.org.")) == {
        "vm1", "vm1.example.org", "5.0.0.10.in-addr.arpa"}
    assert port_records(port(dns_name="vm1", device_id=""), ["10.0.0.5"], "", "x.org.") == {}
    assert port_records(port(), ["10.0.0.5"], "", "x.org.") == {}


def test_one_dns_row_per_switch_and_shared_names_merge():
    a = port(id="a", dns_name="web")
    b = port(id="b", dns_name="web")
    rows = desired_dns([network()], [b, a], {"a": ["10.0.0.5"], "b": ["10.0.0.6"]},
                       switch_name=lambda n: f"neutron-{n}", dns_domain_setting="example.org.")
    assert rows == {SWITCH: Dns(SWITCH, {
        "web": "10.0.0.5 10.0.0.6", "web.example.org": "10.0.0.5 10.0.0.6",
        "5.0.0.10.in-addr.arpa": "web.example.org", "6.0.0.10.in-addr.arpa": "web.example.org"},
        {"ls_name": SWITCH})}
    d = desired_state([network()], [subnet()], [a], [alloc("10.0.0.5", port_id="a")],
                      base_mac=BASE_MAC, dns=DnsInputs(dns_domain="example.org.", ports=(a,),
                                                       addresses={"a": ("10.0.0.5",)}))
    assert set(d.dns) == {SWITCH} and d.switches[SWITCH].dns_records == (SWITCH,)
    assert desired_state([network()], [], [], [], base_mac=BASE_MAC).switches[
        SWITCH].dns_records == ()


def test_dhcp_resolvers_and_domain():
    assert dhcp_dns_servers(subnet(), ["192.0.2.53", "2001:db8::53"]) == ["192.0.2.53"]
    assert dhcp_dns_servers(subnet(v6=True), ["192.0.2.53", "2001:db8::53"]) == ["2001:db8::53"]
    assert dhcp_dns_servers(subnet(dns_nameservers=["10.0.0.53"]), ["192.0.2.53"]) == [
        "10.0.0.53"]
    assert dhcp_dns_servers(subnet(dns_nameservers=["0.0.0.0"]), ["192.0.2.53"]) == []
    inputs = DnsInputs(dns_domain="example.org.", servers=("192.0.2.53",))
    options = desired_dhcp_options(subnet(), network(), base_mac=BASE_MAC, dns=inputs).options
    assert options["dns_server"] == "{192.0.2.53}" and options["domain_name"] == '"example.org."'
    options = desired_dhcp_options(subnet(), network(), base_mac=BASE_MAC,
                                   dns=DnsInputs(servers=("192.0.2.53",))).options
    assert "domain_name" not in options  # the default openstacklocal. is not sent


def test_default_dns_servers_from_the_setting_or_resolv_conf(tmp_path: Path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nsearch x\nnameserver 10.1.2.3\nnameserver fe80::1%eth0\n"
                    "nameserver bogus\n")
    assert default_dns_servers(SimpleNamespace(dns_servers=""), conf) == ("10.1.2.3", "fe80::1")
    assert default_dns_servers(SimpleNamespace(dns_servers="192.0.2.1, 192.0.2.2"), conf) == (
        "192.0.2.1", "192.0.2.2")
    assert default_dns_servers(SimpleNamespace(dns_servers=""), tmp_path / "none") == ()


# --- plan: scope of the new rows ------------------------------------------------------------

def test_plan_scopes_port_rows_with_their_port_and_dns_rows_with_their_switch():
    key = port_key(SUB4, PORT)
    stray = port_key(SUB4, "other-port")
    row = DhcpOptions(SUB4, "10.0.0.0/24", {"mtu": "1"}, {"subnet_id": SUB4, "port_id": PORT})
    observed = Observed(dhcp_options={key: [Found("u1", row)], stray: [Found("u2", row)]},
                        dns={SWITCH: [Found("u3", Dns(SWITCH, {"a": "10.0.0.1"},
                                                      {"ls_name": SWITCH}))]})
    desired = Desired(gateway_chassis=None)  # nothing desired
    scoped = plan.plan(desired, observed, load.Scope(ports=frozenset({PORT}),
                                                     switches=frozenset({SWITCH})))
    assert {(c.action, c.table, c.key) for c in scoped} == {
        ("del", "DHCP_Options", key), ("del", "DNS", SWITCH)}
    audit = plan.plan(desired, observed)
    assert {(c.table, c.key) for c in audit} == {("DHCP_Options", key), ("DHCP_Options", stray),
                                                 ("DNS", SWITCH)}


# --- load: what a change brings along -------------------------------------------------------

@pytest.fixture
def named_api(database_url):
    env = Env(db=Database(database_url),
              settings=Settings(state_dir=Path("/nonexistent"), database_url=database_url,
                                dns_domain="example.org."))
    with TestClient(create_app(env)) as client:
        yield Api(client, env)
    env.db.dispose()


def test_a_network_change_brings_its_dns_row_and_ports_with_options(named_api):
    api = named_api
    net = api.network()
    sub = api.subnet(net["id"])
    pxe = api.port(net["id"], extra_dhcp_opts=[{"opt_name": "mtu", "opt_value": "1400"}])
    vm = api.port(net["id"], dns_name="vm1", device_id="vm-1")
    api.port(net["id"])  # neither: stays out of the load

    def loaded(resources):
        return api.env.db.run(lambda s: load.load_resources(
            s, resources, base_mac=BASE_MAC, lease_time=43200, dns_domain="example.org.",
            dns_servers=("192.0.2.53",)), write=False)
    scope, desired = loaded([("network", net["id"])])
    assert pxe["id"] in scope.ports and vm["id"] not in scope.ports
    assert desired.ports[pxe["id"]].dhcpv4_options == port_key(sub["id"], pxe["id"])
    ip = vm["fixed_ips"][0]["ip_address"]
    assert desired.dns[f"neutron-{net['id']}"].records["vm1.example.org"] == ip
    assert desired.dhcp_options[sub["id"]].options["dns_server"] == "{192.0.2.53}"
    # the audit's whole-database load agrees
    whole = api.env.db.run(lambda s: load.load_all(
        s, base_mac=BASE_MAC, lease_time=43200, dns_domain="example.org.",
        dns_servers=("192.0.2.53",)), write=False)
    assert whole.dns == desired.dns
    key = port_key(sub["id"], pxe["id"])
    assert whole.dhcp_options[key] == desired.dhcp_options[key]

"""The metadata port (reference C.4, D.4, D.7): one ``network:distributed`` port per
network with a subnet it serves (``serves_metadata``: DHCP-enabled IPv4 and SLAAC or
DHCPv6-stateless subnets; DHCP-disabled IPv4 ones too with ``metadata_without_dhcp``),
at the first
pool address, and the DHCP options that route 169.254.169.254 to it."""

from __future__ import annotations

from sqlalchemy import select

from neutrino.db.models import OvnOutbox
from neutrino.ovn import load

OWNER = "network:distributed"


def metadata_ports(api, network_id: str) -> list[dict]:
    return api.get("/v2.0/ports", params={"network_id": network_id, "device_owner": OWNER},
                   project=None).json()["ports"]


def addresses(port: dict) -> dict[str, str]:
    return {f["subnet_id"]: f["ip_address"] for f in port["fixed_ips"]}


def test_first_dhcp_subnet_makes_the_port_at_the_first_pool_address(api):
    net = api.network()
    sub = api.subnet(net["id"], allocation_pools=[{"start": "10.0.0.50", "end": "10.0.0.60"}])
    [port] = metadata_ports(api, net["id"])
    assert port["device_id"] == f"ovnmeta-{net['id']}" and port["project_id"] == "p1"
    assert port["name"] == "" and port["status"] == "DOWN"
    assert addresses(port) == {sub["id"]: "10.0.0.50"}
    # the owner sees it, as in Neutron; it counts as a used address
    assert [p["id"] for p in api.get("/v2.0/ports").json()["ports"]] == [port["id"]]
    got = api.get(f"/v2.0/network-ip-availabilities/{net['id']}", project="p1",
                  admin=True).json()["network_ip_availability"]
    assert got["used_ips"] == 1
    # and a port made next takes another address
    assert api.port(net["id"])["fixed_ips"][0]["ip_address"] != "10.0.0.50"


def test_each_dhcp_enabled_ipv4_subnet_gives_it_one_address(api):
    net = api.network()
    a = api.subnet(net["id"], "10.0.0.0/24")
    b = api.subnet(net["id"], "10.0.1.0/24")
    api.subnet(net["id"], "10.0.2.0/24", enable_dhcp=False)
    api.subnet(net["id"], "2001:db8::/64", ipv6_address_mode="dhcpv6-stateful",
               ipv6_ra_mode="dhcpv6-stateful")
    [port] = metadata_ports(api, net["id"])
    assert addresses(port) == {a["id"]: "10.0.0.2", b["id"]: "10.0.1.2"}
    assert port["revision_number"] > 1


def test_dhcp_toggles_release_and_take_the_address(api):
    net = api.network()
    a = api.subnet(net["id"], "10.0.0.0/24")
    b = api.subnet(net["id"], "10.0.1.0/24", enable_dhcp=False)
    api.put(f"/v2.0/subnets/{b['id']}", {"subnet": {"enable_dhcp": True}}, expect=200)
    [port] = metadata_ports(api, net["id"])
    assert addresses(port) == {a["id"]: "10.0.0.2", b["id"]: "10.0.1.2"}
    api.put(f"/v2.0/subnets/{a['id']}", {"subnet": {"enable_dhcp": False}}, expect=200)
    [same] = metadata_ports(api, net["id"])
    assert same["id"] == port["id"] and addresses(same) == {b["id"]: "10.0.1.2"}
    # DHCP off everywhere: no metadata port; back on: a new one
    api.put(f"/v2.0/subnets/{b['id']}", {"subnet": {"enable_dhcp": False}}, expect=200)
    assert metadata_ports(api, net["id"]) == []
    api.put(f"/v2.0/subnets/{a['id']}", {"subnet": {"enable_dhcp": True}}, expect=200)
    [again] = metadata_ports(api, net["id"])
    assert again["id"] != port["id"] and addresses(again) == {a["id"]: "10.0.0.2"}


def test_subnet_and_network_deletion_take_it_along(api):
    net = api.network()
    a = api.subnet(net["id"], "10.0.0.0/24")
    b = api.subnet(net["id"], "10.0.1.0/24")
    api.delete(f"/v2.0/subnets/{a['id']}", expect=204)
    [port] = metadata_ports(api, net["id"])
    assert addresses(port) == {b["id"]: "10.0.1.2"}
    api.delete(f"/v2.0/subnets/{b['id']}", expect=204)
    assert metadata_ports(api, net["id"]) == []
    api.subnet(net["id"], "10.0.0.0/24")
    assert len(metadata_ports(api, net["id"])) == 1
    api.delete(f"/v2.0/networks/{net['id']}", expect=204)
    assert api.get("/v2.0/ports", project=None).json()["ports"] == []


def test_no_free_address_for_it_is_409_and_changes_nothing(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/30", enable_dhcp=False)  # one address: .2
    api.port(net["id"])
    resp = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"enable_dhcp": True}}, expect=409)
    assert resp.json()["NeutronError"]["type"] == "IpAddressGenerationFailure"
    assert api.get(f"/v2.0/subnets/{sub['id']}").json()["subnet"]["enable_dhcp"] is False


def test_changes_reach_the_outbox(api):
    net = api.network()
    sub = api.subnet(net["id"])
    [port] = metadata_ports(api, net["id"])
    queued = api.env.db.run(lambda s: set(s.execute(
        select(OvnOutbox.resource_type, OvnOutbox.resource_id)).all()), write=False)
    assert {("port", port["id"]), ("subnet", sub["id"])} <= set(map(tuple, queued))


def dhcp_options(api, subnet_id: str) -> dict[str, str]:
    settings = api.env.settings
    desired = api.env.db.run(lambda s: load.load_all(
        s, base_mac=settings.base_mac, lease_time=settings.dhcp_lease_time), write=False)
    loaded = api.env.db.run(lambda s: load.load_resources(
        s, [("subnet", subnet_id)], base_mac=settings.base_mac,
        lease_time=settings.dhcp_lease_time)[1], write=False)
    assert loaded.dhcp_options[subnet_id] == desired.dhcp_options[subnet_id]
    return dict(desired.dhcp_options[subnet_id].options)


def test_option_121_routes_the_metadata_address_to_the_port(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24",
                     host_routes=[{"destination": "192.168.5.0/24", "nexthop": "10.0.0.254"}])
    api.subnet(net["id"], "2001:db8::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    [port] = metadata_ports(api, net["id"])
    assert len(port["fixed_ips"]) == 2  # a SLAAC subnet gives every port its EUI-64 address
    options = dhcp_options(api, sub["id"])
    assert options["classless_static_route"] == (
        "{169.254.169.254/32,10.0.0.2, 192.168.5.0/24,10.0.0.254, 0.0.0.0/0,10.0.0.1}")
    assert options["server_id"] == "10.0.0.1" and options["router"] == "10.0.0.1"


def test_a_provider_network_without_gateway_is_served_from_the_metadata_address(api):
    net = api.network(**{"provider:network_type": "flat", "provider:physical_network": "physnet1"})
    sub = api.post("/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "cidr": "192.168.50.0/24", "ip_version": 4,
        "gateway_ip": None}}, admin=True, expect=201).json()["subnet"]
    [port] = metadata_ports(api, net["id"])
    assert addresses(port) == {sub["id"]: "192.168.50.1"}
    options = dhcp_options(api, sub["id"])
    assert options["server_id"] == "192.168.50.1" and "router" not in options
    assert options["classless_static_route"] == "{169.254.169.254/32,192.168.50.1}"


def test_without_dhcp_there_is_no_metadata_port(api):
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)
    api.subnet(net["id"], "2001:db8::/64", ipv6_address_mode="dhcpv6-stateful",
               ipv6_ra_mode="dhcpv6-stateful")
    assert metadata_ports(api, net["id"]) == []


def test_an_ipv6_only_network_has_one(api):
    """Its guests read metadata at fe80::a9fe:a9fe, from the port's namespace."""
    net = api.network()
    sub = api.subnet(net["id"], "2001:db8:1::/64", ipv6_address_mode="slaac",
                     ipv6_ra_mode="slaac")
    [port] = metadata_ports(api, net["id"])
    assert list(addresses(port)) == [sub["id"]]  # its SLAAC address, once
    stateless = api.subnet(net["id"], "2001:db8:2::/64",
                           ipv6_address_mode="dhcpv6-stateless", ipv6_ra_mode="dhcpv6-stateless")
    [port] = metadata_ports(api, net["id"])
    assert set(addresses(port)) == {sub["id"], stateless["id"]}
    api.delete(f"/v2.0/subnets/{sub['id']}", expect=204)
    api.delete(f"/v2.0/subnets/{stateless['id']}", expect=204)
    assert metadata_ports(api, net["id"]) == []
    # DHCPv6-stateful subnets take no address from their pool for it: none
    api.subnet(net["id"], "2001:db8:3::/64", ipv6_address_mode="dhcpv6-stateful",
               ipv6_ra_mode="dhcpv6-stateful")
    assert metadata_ports(api, net["id"]) == []


def test_dhcp_disabled_subnets_with_metadata_without_dhcp(make_api):
    """The setting gives DHCP-disabled IPv4 subnets an address too (guests with a
    static address and a static route); a service subnet that does not let the
    port in gets none."""
    api = make_api(metadata_without_dhcp=True)
    net = api.network()
    a = api.subnet(net["id"], "10.0.0.0/24", enable_dhcp=False,
                   allocation_pools=[{"start": "10.0.0.20", "end": "10.0.0.30"}])
    [port] = metadata_ports(api, net["id"])
    assert addresses(port) == {a["id"]: "10.0.0.20"}
    api.subnet(net["id"], "10.0.1.0/24", enable_dhcp=False,
               service_types=["network:floatingip"])
    b = api.subnet(net["id"], "10.0.2.0/24")
    [same] = metadata_ports(api, net["id"])
    assert same["id"] == port["id"] and addresses(same) == {a["id"]: "10.0.0.20",
                                                            b["id"]: "10.0.2.2"}
    # toggling DHCP changes nothing: the address stays
    api.put(f"/v2.0/subnets/{a['id']}", {"subnet": {"enable_dhcp": True}}, expect=200)
    api.put(f"/v2.0/subnets/{a['id']}", {"subnet": {"enable_dhcp": False}}, expect=200)
    assert addresses(metadata_ports(api, net["id"])[0]) == addresses(same)

"""Networks, subnets and ports through HTTP: CRUD, defaults, visibility, errors."""

from __future__ import annotations

import ipaddress

import pytest

from conftest import error_type


def test_versions_and_resources(api):
    versions = api.get("/", expect=200).json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "CURRENT"
    names = {r["collection"] for r in api.get("/v2.0", expect=200).json()["resources"]}
    assert {"networks", "subnets", "ports"} <= names


def test_extensions_list_and_show(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert {"pagination", "sorting", "standard-attr-tag", "network-ip-availability",
            "quotas", "revision-if-match"} <= aliases
    assert "bgpvpn" not in aliases  # only what is implemented
    assert api.get("/v2.0/extensions/quotas", expect=200).json()["extension"]["alias"] == "quotas"
    assert error_type(api.get("/v2.0/extensions/bgpvpn", expect=404)) == "ExtensionNotFound"


def test_network_crud_and_defaults(api):
    net = api.network(name="blue", description="d")
    assert net["admin_state_up"] is True and net["status"] == "ACTIVE"
    assert net["shared"] is False and net["subnets"] == [] and net["mtu"] == 1442
    assert net["project_id"] == net["tenant_id"] == "p1"
    assert net["revision_number"] == 1 and net["created_at"].endswith("Z")
    got = api.get(f"/v2.0/networks/{net['id']}", expect=200).json()["network"]
    assert got == net
    upd = api.put(f"/v2.0/networks/{net['id']}", {"network": {"name": "green"}},
                  expect=200).json()["network"]
    assert upd["name"] == "green" and upd["revision_number"] == 2
    api.delete(f"/v2.0/networks/{net['id']}", expect=204)
    assert error_type(api.get(f"/v2.0/networks/{net['id']}", expect=404)) == "NetworkNotFound"


def test_json_suffix_is_accepted(api):
    net = api.network()
    assert api.get(f"/v2.0/networks/{net['id']}.json", expect=200).json()["network"]["id"] == net["id"]
    assert len(api.get("/v2.0/networks.json", expect=200).json()["networks"]) == 1


def test_other_projects_resources_are_invisible(api):
    net = api.network(project="p1")
    sub = api.subnet(net["id"], project="p1")
    port = api.port(net["id"], project="p1")
    for path in (f"/v2.0/networks/{net['id']}", f"/v2.0/subnets/{sub['id']}", f"/v2.0/ports/{port['id']}"):
        api.get(path, project="p2", expect=404)
        api.put(path, {path.split("/")[2][:-1]: {"name": "x"}}, project="p2", expect=404)
        api.delete(path, project="p2", expect=404)
    assert api.get("/v2.0/networks", project="p2", expect=200).json()["networks"] == []
    assert api.get("/v2.0/ports", project="p2", expect=200).json()["ports"] == []
    body = {"port": {"network_id": net["id"]}}
    assert error_type(api.post("/v2.0/ports", body, project="p2", expect=404)) == "NetworkNotFound"
    assert len(api.get("/v2.0/networks", project=None, expect=200).json()["networks"]) == 1


def test_shared_network_is_usable_by_other_projects(api):
    net = api.network(project="admin-project", shared=True)
    sub = api.subnet(net["id"], project="admin-project")
    assert [n["id"] for n in api.get("/v2.0/networks", project="p2").json()["networks"]] == [net["id"]]
    assert api.get(f"/v2.0/subnets/{sub['id']}", project="p2", expect=200)
    port = api.port(net["id"], project="p2")
    assert port["project_id"] == "p2" and port["fixed_ips"]
    # ...but only the network's owner (or admin) picks addresses or changes it.
    body = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.50"}]}}
    assert error_type(api.post("/v2.0/ports", body, project="p2", expect=403)) == "PolicyNotAuthorized"
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"name": "x"}}, project="p2", expect=403)
    body = {"subnet": {"network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 4}}
    api.post("/v2.0/subnets", body, project="p2", expect=403)


@pytest.mark.parametrize("attrs", [{"port_security_enabled": False},
                                   {"allowed_address_pairs": [{"ip_address": "1.1.1.1"}]}])
def test_only_the_network_owner_sets_port_security_attributes_on_a_shared_network(api, attrs):
    net = api.network(project="admin-project", shared=True)
    api.subnet(net["id"], project="admin-project")
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], **attrs}}, project="p2",
                    expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    port = api.port(net["id"], project="p2")
    path = f"/v2.0/ports/{port['id']}"
    assert error_type(api.put(path, {"port": attrs}, project="p2", expect=403)) == \
        "PolicyNotAuthorized"
    assert api.get(path, project="p2").json()["port"] == port  # nothing changed
    # the owner and admins may
    api.post("/v2.0/ports", {"port": {"network_id": net["id"], **attrs}},
             project="admin-project", expect=201)
    api.put(path, {"port": {**attrs, "security_groups": []}}, admin=True, expect=200)


def test_admin_only_attributes(api):
    resp = api.post("/v2.0/networks", {"network": {"shared": True}}, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    net = api.network()
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": True}}, expect=403)
    body = {"port": {"network_id": net["id"], "device_owner": "network:dhcp"}}
    api.post("/v2.0/ports", body, expect=403)
    api.post("/v2.0/ports", body, admin=True, expect=201)


def test_project_id_in_body(api):
    resp = api.post("/v2.0/networks", {"network": {"project_id": "other"}}, expect=400)
    assert error_type(resp) == "BadRequest"
    net = api.post("/v2.0/networks", {"network": {"tenant_id": "other"}}, admin=True,
                   expect=201).json()["network"]
    assert net["project_id"] == "other"
    resp = api.post("/v2.0/networks", {"network": {"project_id": "a", "tenant_id": "b"}},
                    admin=True, expect=400)
    assert "do not match" in resp.json()["NeutronError"]["message"]


def test_subnet_defaults_v4(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.5/24")
    assert sub["cidr"] == "10.0.0.0/24" and sub["gateway_ip"] == "10.0.0.1"
    assert sub["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert sub["enable_dhcp"] is True and sub["dns_nameservers"] == [] and sub["host_routes"] == []
    assert sub["ipv6_ra_mode"] is None and sub["subnetpool_id"] is None
    got = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert got["subnets"] == [sub["id"]] and got["revision_number"] == 2


def test_subnet_v6_and_slaac(api):
    net = api.network()
    sub = api.subnet(net["id"], "2001:db8::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    assert sub["gateway_ip"] == "2001:db8::"
    assert sub["allocation_pools"] == [{"start": "2001:db8::1", "end": "2001:db8::ffff:ffff:ffff:ffff"}]
    port = api.port(net["id"], mac_address="fa:16:3e:12:34:56")
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "2001:db8::f816:3eff:fe12:3456"}]
    body = {"subnet": {"network_id": net["id"], "cidr": "2001:db9::/80", "ip_version": 6,
                       "ipv6_address_mode": "slaac"}}
    assert "/64" in api.post("/v2.0/subnets", body, expect=400).json()["NeutronError"]["message"]


@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_auto_address_subnet_deletes_while_ports_hold_its_addresses(api, mode):
    net = api.network()
    v4 = api.subnet(net["id"], "10.0.0.0/24")
    sub = api.subnet(net["id"], "2001:db8::/64", ipv6_ra_mode=mode, ipv6_address_mode=mode)
    port = api.port(net["id"])
    assert {f["subnet_id"] for f in port["fixed_ips"]} == {v4["id"], sub["id"]}
    api.delete(f"/v2.0/subnets/{sub['id']}", expect=204)
    after = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert [f["subnet_id"] for f in after["fixed_ips"]] == [v4["id"]]
    assert after["revision_number"] > port["revision_number"]
    # ...but not while a router interface is on it; a stateful subnet is in use as any
    sub = api.subnet(net["id"], "2001:db8::/64", ipv6_ra_mode=mode, ipv6_address_mode=mode,
                     gateway_ip="2001:db8::1")
    router = api.post("/v2.0/routers", {"router": {"name": "r"}}, expect=201).json()["router"]
    api.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    assert error_type(api.delete(f"/v2.0/subnets/{sub['id']}", expect=409)) == "SubnetInUse"
    stateful = api.subnet(net["id"], "2001:db8:2::/64", ipv6_address_mode="dhcpv6-stateful",
                          ipv6_ra_mode="dhcpv6-stateful")
    api.port(net["id"])
    assert error_type(api.delete(f"/v2.0/subnets/{stateful['id']}", expect=409)) == "SubnetInUse"


def test_subnet_stateful_v6_allocates_from_pool(api):
    net = api.network()
    sub = api.subnet(net["id"], "2001:db8:1::/64", ipv6_address_mode="dhcpv6-stateful",
                     ipv6_ra_mode="dhcpv6-stateful")
    v4 = api.subnet(net["id"], "10.0.0.0/24")
    port = api.port(net["id"])
    versions = sorted(ipaddress.ip_address(f["ip_address"]).version for f in port["fixed_ips"])
    assert versions == [4, 6]
    assert {f["subnet_id"] for f in port["fixed_ips"]} == {sub["id"], v4["id"]}


@pytest.mark.parametrize("attrs, status, kind, words", [
    ({"cidr": "10.0.0.0"}, 400, "InvalidInput", "not a valid IP subnet"),
    ({"cidr": "10.0.0.300/24"}, 400, "InvalidInput", "not a valid IP subnet"),
    ({"cidr": "0.0.0.0/0"}, 400, "InvalidInput", "/0"),
    ({"gateway_ip": "10.0.0.0"}, 400, "BadRequest", "network"),
    ({"gateway_ip": "10.0.0.255"}, 400, "BadRequest", "broadcast"),
    ({"ip_version": 6}, 400, "InvalidInput", "ip_version"),
    ({"ip_version": 5}, 400, "InvalidInput", "ip_version"),
    ({"ip_version": "four"}, 400, "InvalidInput", "ip_version"),
    ({"allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.50"},
                           {"start": "10.0.0.40", "end": "10.0.0.60"}]}, 409,
     "OverlappingAllocationPools", "10.0.0.2-10.0.0.50"),
    ({"allocation_pools": [{"start": "10.0.0.2", "end": "10.0.1.5"}]}, 400,
     "OutOfBoundsAllocationPool", "10.0.0.0/24"),
    ({"gateway_ip": "10.0.0.10", "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.50"}]},
     409, "GatewayConflictWithAllocationPools", "10.0.0.10"),
    ({"dns_nameservers": ["8.8.8.8", "8.8.8.8"]}, 400, "InvalidInput", "Duplicate"),
    ({"dns_nameservers": ["2001:db8::1"]}, 400, "InvalidInput", "IPv4"),
    ({"host_routes": [{"destination": "10.1.0.0/16"}]}, 400, "InvalidInput", "nexthop"),
    ({"ipv6_ra_mode": "slaac"}, 400, "InvalidInput", "ipv6_ra_mode"),
    ({"enable_dhcp": "maybe"}, 400, "InvalidInput", "enable_dhcp"),
    ({"cidr": "10.0.0.0/31"}, 400, "InvalidInput", "DHCP"),
    ({"name": 5}, 400, "InvalidInput", "name"),
    ({"id": "x"}, 400, "HTTPBadRequest", "Attribute 'id' not allowed in POST"),
])
def test_bad_subnet_is_rejected_and_nothing_written(api, attrs, status, kind, words):
    net = api.network()
    body = {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4, **attrs}}
    resp = api.post("/v2.0/subnets", body, expect=status)
    assert error_type(resp) == kind
    assert words in resp.json()["NeutronError"]["message"]
    assert api.get("/v2.0/subnets").json()["subnets"] == []
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["revision_number"] == 1


def test_ip_version_written_as_a_string_is_the_integer(api):
    """neutron-lib converts ``ip_version`` with convert_to_int (tempest sends "4")."""
    net = api.network()
    body = {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": "4"}}
    assert api.post("/v2.0/subnets", body, expect=201).json()["subnet"]["ip_version"] == 4


def test_overlapping_subnets_on_one_network_rejected_across_networks_allowed(api):
    net, other = api.network(), api.network()
    api.subnet(net["id"], "10.0.0.0/24")
    body = {"subnet": {"network_id": net["id"], "cidr": "10.0.0.128/25", "ip_version": 4}}
    assert "overlaps" in api.post("/v2.0/subnets", body, expect=400).json()["NeutronError"]["message"]
    api.subnet(other["id"], "10.0.0.0/24")
    api.subnet(api.network(project="p2")["id"], "10.0.0.0/24", project="p2")


def test_subnet_update(api):
    net = api.network()
    sub = api.subnet(net["id"])
    body = {"subnet": {"dns_nameservers": ["10.0.0.53", "8.8.8.8"], "name": "s",
                       "host_routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}],
                       "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}]}}
    upd = api.put(f"/v2.0/subnets/{sub['id']}", body, expect=200).json()["subnet"]
    assert upd["dns_nameservers"] == ["10.0.0.53", "8.8.8.8"]
    assert upd["allocation_pools"] == [{"start": "10.0.0.10", "end": "10.0.0.20"}]
    assert upd["revision_number"] == 2
    resp = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"cidr": "10.1.0.0/24"}}, expect=400)
    assert resp.json()["NeutronError"]["message"] == "Cannot update read-only attribute cidr"
    resp = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.0.0.15"}}, expect=409)
    assert error_type(resp) == "GatewayConflictWithAllocationPools"


def test_port_defaults(api):
    net = api.network()
    sub = api.subnet(net["id"])
    port = api.port(net["id"], name="vm", device_id="d1", device_owner="compute:nova")
    assert port["status"] == "DOWN" and port["admin_state_up"] is True
    assert port["mac_address"].startswith("fa:16:3e:")
    [fixed] = port["fixed_ips"]
    assert fixed["subnet_id"] == sub["id"]
    assert ipaddress.ip_address(fixed["ip_address"]) in ipaddress.ip_network("10.0.0.0/24")
    assert fixed["ip_address"] not in ("10.0.0.0", "10.0.0.1", "10.0.0.255")
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"] == port


def test_port_on_network_without_subnets_has_no_address(api):
    assert api.port(api.network()["id"])["fixed_ips"] == []


def test_port_fixed_ip_forms(api):
    net = api.network()
    a = api.subnet(net["id"], "10.0.0.0/24")
    b = api.subnet(net["id"], "10.0.1.0/24")
    port = api.port(net["id"], fixed_ips=[{"subnet_id": b["id"]}, {"ip_address": "10.0.0.77"},
                                          {"subnet_id": b["id"], "ip_address": "10.0.1.99"}])
    got = {(f["subnet_id"], f["ip_address"]) for f in port["fixed_ips"]}
    assert (a["id"], "10.0.0.77") in got and (b["id"], "10.0.1.99") in got and len(got) == 3
    # an address outside the allocation pool is allowed, as in Neutron
    api.put(f"/v2.0/subnets/{a['id']}", {"subnet": {"allocation_pools": [
        {"start": "10.0.0.10", "end": "10.0.0.20"}]}}, expect=200)
    api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.200"}])


@pytest.mark.parametrize("fixed_ips, status, kind", [
    ([{"ip_address": "10.0.0.1"}], 400, "InvalidIpForSubnet"),
    ([{"ip_address": "10.0.0.255"}], 400, "InvalidIpForSubnet"),
    ([{"ip_address": "10.9.0.5"}], 400, "InvalidIpForNetwork"),
    ([{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5"}], 400, "InvalidInput"),
    ([{}], 400, "BadRequest"),
    ([{"ip_address": "not-an-ip"}], 400, "InvalidInput"),
    ([{"subnet_id": "00000000-0000-0000-0000-000000000000"}], 404, "SubnetNotFound"),
])
def test_bad_fixed_ips(api, fixed_ips, status, kind):
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)  # no metadata port: no port at all
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": fixed_ips}},
                    expect=status)
    assert error_type(resp) == kind
    assert api.get("/v2.0/ports").json()["ports"] == []


def test_fixed_ip_from_another_networks_subnet(api):
    net, other = api.network(), api.network()
    api.subnet(net["id"], enable_dhcp=False)  # no metadata ports: no port at all
    foreign = api.subnet(other["id"], "10.5.0.0/24", enable_dhcp=False)
    body = {"port": {"network_id": net["id"], "fixed_ips": [{"subnet_id": foreign["id"]}]}}
    resp = api.post("/v2.0/ports", body, expect=400)
    assert foreign["id"] in resp.json()["NeutronError"]["message"]
    body = {"port": {"network_id": net["id"],
                     "fixed_ips": [{"subnet_id": foreign["id"], "ip_address": "10.5.0.9"}]}}
    api.post("/v2.0/ports", body, expect=400)
    assert api.get("/v2.0/ports").json()["ports"] == []


def test_address_in_use_and_mac_in_use(api):
    net = api.network()
    sub = api.subnet(net["id"])
    port = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.5"}], mac_address="FA:16:3E:00:00:01")
    assert port["mac_address"] == "fa:16:3e:00:00:01"
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "fixed_ips": [{"ip_address": "10.0.0.5"}]}}, expect=409)
    assert error_type(resp) == "IpAddressAlreadyAllocated" and sub["id"] in resp.text
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "mac_address": "fa:16:3e:00:00:01"}}, expect=409)
    assert error_type(resp) == "MacAddressInUse"
    # the same MAC on another network is fine
    api.port(api.network()["id"], mac_address="fa:16:3e:00:00:01")


@pytest.mark.parametrize("mac", ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "zz"])
def test_bad_mac_rejected(api, mac):
    net = api.network()
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "mac_address": mac}}, expect=400)
    assert "mac_address" in resp.json()["NeutronError"]["message"]


def test_freed_address_is_reusable(api):
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.9"}])
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.9"}])


def test_exhausted_subnet_gives_409_naming_subnet_and_counts(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/29")  # .2-.6: 5 addresses
    # the metadata port took .2, the first pool address (reference C.4)
    ips = {api.port(net["id"])["fixed_ips"][0]["ip_address"] for _ in range(4)}
    assert ips == {f"10.0.0.{i}" for i in range(3, 7)}
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"]}}, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    message = resp.json()["NeutronError"]["message"]
    assert sub["id"] in message and "5 of 5" in message
    assert len(api.get("/v2.0/ports").json()["ports"]) == 5  # 4 and the metadata port


def test_second_subnet_used_when_first_is_full(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/30")  # one address: .2
    second = api.subnet(net["id"], "10.0.1.0/24")
    api.port(net["id"])
    assert api.port(net["id"])["fixed_ips"][0]["subnet_id"] == second["id"]


def test_update_fixed_ips_adds_and_releases_atomically(api):
    net = api.network()
    sub = api.subnet(net["id"])
    port = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.5"}])
    body = {"port": {"fixed_ips": [{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.6"}]}}
    upd = api.put(f"/v2.0/ports/{port['id']}", body, expect=200).json()["port"]
    assert [f["ip_address"] for f in upd["fixed_ips"]] == ["10.0.0.5", "10.0.0.6"]
    assert upd["revision_number"] == 2
    body = {"port": {"fixed_ips": [{"ip_address": "10.0.0.7"}]}}
    upd = api.put(f"/v2.0/ports/{port['id']}", body, expect=200).json()["port"]
    assert upd["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.7"}]
    api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.5"}])  # released
    # a failing update changes nothing: .7 is kept, .5 is taken by the other port
    body = {"port": {"fixed_ips": [{"ip_address": "10.0.0.8"}, {"ip_address": "10.0.0.5"}]}}
    api.put(f"/v2.0/ports/{port['id']}", body, expect=409)
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"]["fixed_ips"] == upd["fixed_ips"]
    api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.8"}])
    # "an address of this subnet" keeps the one the port has
    body = {"port": {"fixed_ips": [{"subnet_id": sub["id"]}]}}
    same = api.put(f"/v2.0/ports/{port['id']}", body, expect=200).json()["port"]
    assert same["fixed_ips"] == upd["fixed_ips"]


def test_network_in_use_and_subnet_in_use(api):
    net = api.network()
    sub = api.subnet(net["id"])
    port = api.port(net["id"])
    assert error_type(api.delete(f"/v2.0/networks/{net['id']}", expect=409)) == "NetworkInUse"
    assert error_type(api.delete(f"/v2.0/subnets/{sub['id']}", expect=409)) == "SubnetInUse"
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    api.delete(f"/v2.0/networks/{net['id']}", expect=204)
    assert api.get("/v2.0/subnets").json()["subnets"] == []


def test_network_delete_removes_auto_deleted_ports(api):
    net = api.network()
    api.subnet(net["id"])  # makes the metadata port, at 10.0.0.2
    body = {"port": {"network_id": net["id"], "device_owner": "network:dhcp"}}
    dhcp = api.post("/v2.0/ports", body, admin=True, expect=201).json()["port"]
    assert dhcp["fixed_ips"][0]["ip_address"] == "10.0.0.3"  # lowest free address for network:*
    api.delete(f"/v2.0/networks/{net['id']}", expect=204)
    assert api.get("/v2.0/ports", project=None).json()["ports"] == []


def test_delete_with_body_is_rejected(api):
    net = api.network()
    resp = api.request("DELETE", f"/v2.0/networks/{net['id']}", content=b'{"a": 1}', expect=400)
    assert "DELETE" in resp.json()["NeutronError"]["message"]


def test_port_binding_attributes_are_admin_only(api):
    net = api.network()
    body = {"port": {"network_id": net["id"], "binding:host_id": "compute-1"}}
    assert error_type(api.post("/v2.0/ports", body, expect=403)) == "PolicyNotAuthorized"
    port = api.post("/v2.0/ports", body, admin=True, expect=201).json()["port"]
    assert port["binding:host_id"] == "compute-1" and port["binding:vif_type"] == "ovs"
    assert port["binding:vnic_type"] == "normal" and port["binding:profile"] == {}
    mine = api.get(f"/v2.0/ports/{port['id']}", project=port["project_id"]).json()["port"]
    assert "binding:host_id" not in mine and mine["binding:vnic_type"] == "normal"
    upd = api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": ""}}, admin=True,
                  expect=200).json()["port"]
    assert upd["binding:vif_type"] == "unbound"
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:vnic_type": "bogus"}}, admin=True,
            expect=400)


def test_port_goes_active_when_a_chassis_claims_it(api):
    from neutrino.services import ports
    net = api.network()
    port = api.port(net["id"])
    assert ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="chassis-1")
    got = api.get(f"/v2.0/ports/{port['id']}", admin=True).json()["port"]
    assert got["status"] == "ACTIVE" and got["binding:host_id"] == "chassis-1"
    assert got["revision_number"] == 2
    ports.set_port_binding_state(api.env, port["id"], up=False, chassis_host=None)
    got = api.get(f"/v2.0/ports/{port['id']}", admin=True).json()["port"]
    assert got["status"] == "DOWN" and got["binding:host_id"] == "chassis-1"
    assert not ports.set_port_binding_state(api.env, "no-such-port", up=True, chassis_host="x")


def test_nul_characters_in_path_query_or_body(api):
    """NUL (U+0000) answered 500 on PostgreSQL (its text cannot hold one): in a path it
    names nothing (404), in a query string or a body it is refused (400)."""
    net = api.network()
    assert error_type(api.get("/v2.0/networks/a%00b", expect=404)) == "HTTPNotFound"
    assert error_type(api.get(f"/v2.0/networks/{net['id']}/tags/a%00b", expect=404)) \
        == "HTTPNotFound"
    assert error_type(api.get("/v2.0/networks?name=a%00b", expect=400)) == "HTTPBadRequest"
    assert error_type(api.get("/v2.0/networks?limit=1&marker=a%00b", expect=400)) \
        == "HTTPBadRequest"
    assert error_type(api.post("/v2.0/networks", {"network": {"name": "a\x00b"}},
                               expect=400)) == "InvalidInput"
    assert error_type(api.put(f"/v2.0/networks/{net['id']}/tags", {"tags": ["a\x00"]},
                              expect=400)) == "InvalidInput"
    assert api.get("/v2.0/networks?name=net", expect=200).json()["networks"][0]["id"] \
        == net["id"]

"""DNS names, extra DHCP options, subnet service types and IP availability details
through HTTP, on SQLite and PostgreSQL (extensions dns-integration, dns-domain-ports,
dns-integration-domain-keywords, subnet-dns-publish-fixed-ip, extra_dhcp_opt,
subnet-service-types, network-ip-availability-details)."""

from __future__ import annotations


import pytest
import sqlalchemy as sa
from alembic import command
from conftest import Api, error_type

from neutrino.db.session import alembic_config

EXTENSIONS = ("dns-integration", "dns-domain-ports", "dns-integration-domain-keywords",
              "subnet-dns-publish-fixed-ip", "extra_dhcp_opt", "subnet-service-types",
              "network-ip-availability-details")


@pytest.fixture
def api(make_api) -> Api:
    """Ports may have names: the dns_domain setting is not the default."""
    return make_api(dns_domain="example.org.")


def admin_subnet(api: Api, network_id: str, cidr: str = "10.0.0.0/24", **attrs) -> dict:
    """A subnet made by an admin of the project (service_types are admin-only)."""
    body = {"subnet": {"network_id": network_id, "cidr": cidr, "ip_version": 4, **attrs}}
    return api.post("/v2.0/subnets", body, admin=True, expect=201).json()["subnet"]


def put_port(api: Api, port_id: str, expect: int = 200, **attrs):
    return api.put(f"/v2.0/ports/{port_id}", {"port": attrs}, expect=expect)


def test_extensions_are_listed_with_neutrons_names(api):
    listed = {e["alias"]: e for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert set(EXTENSIONS) <= set(listed)
    assert listed["extra_dhcp_opt"]["name"] == "Neutron Extra DHCP options"
    assert listed["subnet-service-types"]["name"] == "Subnet service types"
    assert listed["dns-integration"]["description"] == "Provides integration with DNS."


# --- DNS --------------------------------------------------------------------------------

def test_dns_name_domain_and_assignment(api):
    net = api.network(dns_domain="Corp.Example.")
    assert net["dns_domain"] == "corp.example."
    api.subnet(net["id"])
    port = api.port(net["id"], dns_name="VM1", dns_domain="port.example.")
    ip = port["fixed_ips"][0]["ip_address"]
    assert port["dns_name"] == "vm1" and port["dns_domain"] == "port.example."
    assert port["dns_assignment"] == [{"hostname": "vm1", "ip_address": ip,
                                       "fqdn": "vm1.example.org."}]
    # without a name: host-<address>
    plain = api.port(net["id"])
    plain_ip = plain["fixed_ips"][0]["ip_address"]
    assert plain["dns_name"] == "" and plain["dns_domain"] == ""
    assert plain["dns_assignment"] == [{"hostname": f"host-{plain_ip.replace('.', '-')}",
                                        "ip_address": plain_ip,
                                        "fqdn": f"host-{plain_ip.replace('.', '-')}.example.org."}]
    # an FQDN inside the configured domain is its own fqdn
    upd = put_port(api, port["id"], dns_name="db.example.org.").json()["port"]
    assert upd["dns_assignment"][0]["fqdn"] == "db.example.org." and upd["revision_number"] == 2
    got = api.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"]
    assert got["dns_name"] == "db.example.org." and got["dns_assignment"] == upd["dns_assignment"]
    # the network's domain changes
    upd = api.put(f"/v2.0/networks/{net['id']}", {"network": {"dns_domain": ""}},
                  expect=200).json()["network"]
    assert upd["dns_domain"] == ""
    listed = api.get(f"/v2.0/ports?id={port['id']}&fields=dns_assignment", expect=200).json()
    assert listed["ports"] == [{"dns_assignment": got["dns_assignment"]}]


@pytest.mark.parametrize("name,reason", [
    ("-vm", "must not start or end with a hyphen"),
    ("vm_1", "must be 1-63 characters long"),
    ("a..b", "Encountered an empty component"),
    ("vm.123", "TLD '123' must not be all numeric"),
    ("vm.other.org.", "Its higher level labels must be equal to the dns_domain option"),
    ("x" * 64, "must be 1-63 characters long"),
])
def test_invalid_dns_names_are_refused_and_change_nothing(api, name, reason):
    net = api.network()
    api.subnet(net["id"])
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "dns_name": name}},
                    expect=400)
    assert error_type(resp) == "InvalidInput" and reason in resp.json()["NeutronError"]["message"]
    assert resp.json()["NeutronError"]["message"].startswith("Invalid input for dns_name.")
    port = api.port(net["id"], dns_name="ok")
    assert error_type(put_port(api, port["id"], 400, dns_name=name)) == "InvalidInput"
    assert api.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"]["revision_number"] == 1
    assert len(api.get(f"/v2.0/ports?network_id={net['id']}&device_owner=",
                       expect=200).json()["ports"]) == 1


def test_invalid_dns_domains(api):
    for domain in ("example.org", "-a.example.", "a" * 254 + "."):
        resp = api.post("/v2.0/networks", {"network": {"dns_domain": domain}}, expect=400)
        assert error_type(resp) == "InvalidInput"
    # keywords are labels too (dns-integration-domain-keywords)
    net = api.network(dns_domain="<project_id>.example.")
    assert net["dns_domain"] == "<project_id>.example."


def test_the_default_dns_domain_keeps_no_port_names(make_api):
    api = make_api()  # dns_domain openstacklocal.: Neutron ignores dns_name
    net = api.network(dns_domain="corp.example.")
    api.subnet(net["id"])
    port = api.port(net["id"], dns_name="vm1", dns_domain="port.example.")
    ip = port["fixed_ips"][0]["ip_address"].replace(".", "-")
    assert port["dns_name"] == "" and port["dns_domain"] == ""
    assert port["dns_assignment"][0]["hostname"] == f"host-{ip}"
    assert port["dns_assignment"][0]["fqdn"] == f"host-{ip}.openstacklocal."
    assert put_port(api, port["id"], dns_name="vm2").json()["port"]["dns_name"] == ""
    # a bad name is still refused
    assert error_type(put_port(api, port["id"], 400, dns_name="-x")) == "InvalidInput"


def test_floating_ips_take_dns_attributes_and_show_them_empty(api):
    public = api.network(**{"router:external": True})
    api.subnet(public["id"], "172.24.4.0/24")
    body = {"floatingip": {"floating_network_id": public["id"], "dns_name": "web",
                           "dns_domain": "corp.example."}}
    fip = api.post("/v2.0/floatingips", body, expect=201).json()["floatingip"]
    assert fip["dns_name"] == "" and fip["dns_domain"] == ""  # no external DNS service
    body["floatingip"]["dns_name"] = "web."
    assert error_type(api.post("/v2.0/floatingips", body, expect=400)) == "InvalidInput"


def test_subnet_dns_publish_fixed_ip(api):
    net = api.network()
    sub = api.subnet(net["id"])
    assert sub["dns_publish_fixed_ip"] is False
    sub = api.subnet(net["id"], "10.0.1.0/24", dns_publish_fixed_ip=True)
    assert sub["dns_publish_fixed_ip"] is True
    upd = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"dns_publish_fixed_ip": False}},
                  expect=200).json()["subnet"]
    assert upd["dns_publish_fixed_ip"] is False


# --- extra DHCP options -------------------------------------------------------------------

def test_extra_dhcp_opts_create_update_and_remove(api):
    net = api.network()
    api.subnet(net["id"])
    opts = [{"opt_name": "mtu", "opt_value": "1400"},
            {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": "4"},
            {"opt_name": "domain-search", "opt_value": "lab.example", "ip_version": 6},
            {"opt_name": "ntp-server", "opt_value": None}]  # null: not kept
    port = api.port(net["id"], extra_dhcp_opts=opts)
    assert port["extra_dhcp_opts"] == [
        {"opt_name": "mtu", "opt_value": "1400", "ip_version": 4},
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
        {"opt_name": "domain-search", "opt_value": "lab.example", "ip_version": 6}]
    # change one, remove one, add one; the rest stay
    upd = put_port(api, port["id"], extra_dhcp_opts=[
        {"opt_name": "mtu", "opt_value": "1300"},
        {"opt_name": "bootfile-name", "opt_value": None},
        {"opt_name": "router", "opt_value": ""}]).json()["port"]
    assert upd["extra_dhcp_opts"] == [
        {"opt_name": "mtu", "opt_value": "1300", "ip_version": 4},
        {"opt_name": "domain-search", "opt_value": "lab.example", "ip_version": 6},
        {"opt_name": "router", "opt_value": "", "ip_version": 4}]
    # an empty list changes nothing (Neutron)
    same = put_port(api, port["id"], extra_dhcp_opts=[]).json()["port"]
    assert same["extra_dhcp_opts"] == upd["extra_dhcp_opts"]
    got = api.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"]
    assert got["extra_dhcp_opts"] == upd["extra_dhcp_opts"]


@pytest.mark.parametrize("opts,words", [
    ([{"opt_name": "no-such-option", "opt_value": "1"}], 'IPv4: "no-such-option"'),
    ([{"opt_name": "mtu", "opt_value": "1400", "ip_version": 6}], 'IPv6: "mtu"'),
    ([{"opt_name": "tag:ipxe,bootfile-name", "opt_value": "x"}], 'IPv4: "tag:ipxe,bootfile-name"'),
    ([{"opt_name": "mtu"}], "No valid key specs matched"),
    ([{"opt_name": "mtu", "opt_value": ""}], "No valid key specs matched"),
    ([{"opt_name": "mtu", "opt_value": "1\n2"}], "No valid key specs matched"),
    ([{"opt_name": "mtu", "opt_value": "1", "ip_version": 5}], "No valid key specs matched"),
    ([{"opt_name": "mtu", "opt_value": "1", "extra": 1}], "No valid key specs matched"),
    ([{"opt_name": "mtu", "opt_value": "1"}] * 2, "Duplicate items in the list"),
    ("mtu=1", "is not a list"),
])
def test_bad_extra_dhcp_opts_are_invalid_input(api, opts, words):
    net = api.network()
    api.subnet(net["id"])
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "extra_dhcp_opts": opts}},
                    expect=400)
    assert error_type(resp) == "InvalidInput" and words in resp.json()["NeutronError"]["message"]
    port = api.port(net["id"])
    assert error_type(put_port(api, port["id"], 400, extra_dhcp_opts=opts)) == "InvalidInput"
    assert api.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"][
        "extra_dhcp_opts"] == []


def test_baremetal_ports_take_ipxe_tags_and_dhcp_disabled_takes_anything(api):
    net = api.network()
    api.subnet(net["id"])
    tagged = [{"opt_name": "tag:ipxe,bootfile-name", "opt_value": "http://boot/ipxe"},
              {"opt_name": "tag:!ipxe,67", "opt_value": "undionly.kpxe"}]
    port = api.port(net["id"], extra_dhcp_opts=tagged, **{"binding:vnic_type": "baremetal"})
    assert len(port["extra_dhcp_opts"]) == 2
    # the options no longer fit a normal port
    resp = put_port(api, port["id"], 400, **{"binding:vnic_type": "normal"})
    assert error_type(resp) == "InvalidInput"
    # ML2/OVN: dhcp_disabled=true validates any list
    other = api.port(net["id"], extra_dhcp_opts=[
        {"opt_name": "dhcp_disabled", "opt_value": "True"},
        {"opt_name": "whatever", "opt_value": "1"}])
    assert {o["opt_name"] for o in other["extra_dhcp_opts"]} == {"dhcp_disabled", "whatever"}


# --- subnet service types ---------------------------------------------------------------

def test_service_types_validation(api):
    net = api.network()
    sub = admin_subnet(api, net["id"], service_types=["network:floatingip", "compute:nova"])
    assert sub["service_types"] == ["network:floatingip", "compute:nova"]
    assert api.subnet(net["id"], "10.0.1.0/24")["service_types"] == []
    for bad, kind in ((["foo"], "InvalidSubnetServiceType"),
                      ([1], "InvalidInputSubnetServiceType"),
                      ("network:foo", "HTTPBadRequest")):
        body = {"subnet": {"network_id": net["id"], "cidr": "10.0.2.0/24", "ip_version": 4,
                           "service_types": bad}}
        assert error_type(api.post("/v2.0/subnets", body, expect=400)) == kind
        assert error_type(api.put(f"/v2.0/subnets/{sub['id']}",
                                  {"subnet": {"service_types": bad}}, expect=400)) == kind
    upd = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"service_types": []}},
                  admin=True, expect=200).json()["subnet"]
    assert upd["service_types"] == []
    # members set them too: neutron-lib's attribute has no enforce_policy, so Neutron
    # never checks its create_subnet:service_types rule (tempest's revision test relies on it)
    body = {"subnet": {"network_id": net["id"], "cidr": "10.0.3.0/24", "ip_version": 4,
                       "service_types": ["compute:nova"]}}
    assert api.post("/v2.0/subnets", body, expect=201).json()["subnet"]["service_types"] == \
        ["compute:nova"]
    upd = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"service_types": ["compute:nova"]}},
                  expect=200).json()["subnet"]
    assert upd["service_types"] == ["compute:nova"]
    assert len(api.get(f"/v2.0/subnets?network_id={net['id']}", expect=200).json()["subnets"]) == 3


def test_ports_take_addresses_from_subnets_their_owner_may_use(api):
    net = api.network(**{"router:external": True})
    plain = api.subnet(net["id"], "172.24.4.0/24")
    fips = admin_subnet(api, net["id"], "172.24.5.0/24", service_types=["network:floatingip"])
    gws = admin_subnet(api, net["id"], "172.24.6.0/24",
                       service_types=["network:router_gateway"])

    def subnet_of(port: dict) -> str:
        return port["fixed_ips"][0]["subnet_id"]
    # typed subnets first for their owners, plain ones for everyone else
    fip = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": net["id"]}},
                   expect=201).json()["floatingip"]
    assert fip["floating_ip_address"].startswith("172.24.5.")
    router = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": net["id"]}}}, admin=True, expect=201).json()["router"]
    gw_ips = router["external_gateway_info"]["external_fixed_ips"]
    assert [f["subnet_id"] for f in gw_ips] == [gws["id"]]
    body = {"port": {"network_id": net["id"], "device_owner": "compute:nova"}}
    vm = api.post("/v2.0/ports", body, admin=True, expect=201).json()["port"]
    assert subnet_of(vm) == plain["id"]
    # a subnet that does not admit the owner is not one of the network's for it
    body = {"port": {"network_id": net["id"], "device_owner": "compute:nova",
                     "fixed_ips": [{"subnet_id": fips["id"]}]}}
    assert error_type(api.post("/v2.0/ports", body, admin=True, expect=400)) == "BadRequest"
    body["port"]["fixed_ips"] = [{"ip_address": "172.24.5.99"}]
    assert error_type(api.post("/v2.0/ports", body, admin=True, expect=400)) == \
        "InvalidIpForNetwork"
    # without any subnet open to it: Neutron's 409
    api.put(f"/v2.0/subnets/{plain['id']}", {"subnet": {"service_types": ["network:dhcp"]}},
            admin=True, expect=200)
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "device_owner": "compute:nova"}},
                    admin=True, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailureNoMatchingSubnet"


# --- IP availability ------------------------------------------------------------------------

def test_ip_availability_details_and_addresses_outside_the_pools(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24",
                     allocation_pools=[{"start": "10.0.0.10", "end": "10.0.0.19"},
                                       {"start": "10.0.0.30", "end": "10.0.0.39"}])
    router = api.post("/v2.0/routers", {"router": {"name": "r"}}, expect=201).json()["router"]
    api.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)  # 10.0.0.1, the gateway: outside the pools
    for ip in ("10.0.0.25", "10.0.0.200", "10.0.0.15"):
        api.port(net["id"], fixed_ips=[{"ip_address": ip}])
    # the metadata port (first pool address) and 10.0.0.15 are in the pools
    avail = api.get(f"/v2.0/network-ip-availabilities/{net['id']}", expect=200).json()[
        "network_ip_availability"]
    [per] = avail["subnet_ip_availability"]
    assert set(avail) == {"network_id", "network_name", "project_id", "tenant_id", "total_ips",
                          "used_ips", "subnet_ip_availability", "ip_availability_details"}
    assert set(per) == {"subnet_id", "subnet_name", "ip_version", "cidr", "segment_id",
                        "total_ips", "used_ips", "ip_availability_details"}
    assert (avail["total_ips"], avail["used_ips"]) == (20, 5)
    assert avail["tenant_id"] == avail["project_id"] == net["project_id"]
    assert (per["total_ips"], per["used_ips"]) == (20, 5)  # Neutron's counts, unchanged
    assert per["ip_availability_details"] == {
        "total_ips_in_subnet": 254, "total_ips_in_allocation_pool": 20,
        "used_ips_in_subnet": 5, "used_ips_in_allocation_pool": 2}
    assert avail["ip_availability_details"] == per["ip_availability_details"]
    # the 18 pool addresses left are all a network can still hand out
    for _ in range(18):
        api.port(net["id"])
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"]}}, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    listed = api.get("/v2.0/network-ip-availabilities", expect=200).json()[
        "network_ip_availabilities"]
    assert listed[0]["ip_availability_details"]["used_ips_in_allocation_pool"] == 20
    only = api.get(f"/v2.0/network-ip-availabilities/{net['id']}?fields=network_id&fields=used_ips",
                   expect=200).json()["network_ip_availability"]
    assert only == {"network_id": net["id"], "used_ips": 23}


def test_the_scheduler_counts_pool_addresses_only(make_api):
    api = make_api()
    net = api.network(name="small")
    sub = api.subnet(net["id"], "10.0.0.0/24",
                     allocation_pools=[{"start": "10.0.0.10", "end": "10.0.0.12"}])
    router = api.post("/v2.0/routers", {"router": {"name": "r"}}, expect=201).json()["router"]
    api.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.100"}])
    [cand] = api.get("/v2.0/network-candidates", expect=200).json()["network_candidates"]
    # 3 pool addresses, the metadata port holds one: 2 free, though 3 are "used"
    assert (cand["total_ips"], cand["free_ips"], cand["used_ips"]) == (3, 2, 3)


# --- migrations 0012 and 0013 ----------------------------------------------------------------

def test_migrations_0012_and_0013_go_down_and_up_keeping_data(api, database_url):
    net = api.network()
    admin_subnet(api, net["id"], service_types=["compute:nova"])
    port = api.port(net["id"], dns_name="vm1", device_owner="compute:nova", extra_dhcp_opts=[
        {"opt_name": "mtu", "opt_value": "1400"}])
    engine = api.env.db.engine
    config = alembic_config(database_url, engine=engine)
    command.downgrade(config, "0011")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("ports")}
    assert not {"dns_name", "dns_domain", "extra_dhcp_opts"} & columns
    assert "service_types" not in {c["name"] for c in sa.inspect(engine).get_columns("subnets")}
    with engine.connect() as conn:  # nothing cascaded away
        assert conn.execute(sa.text("SELECT count(*) FROM ipallocations WHERE port_id = :p"),
                            {"p": port["id"]}).scalar() == 1
    command.upgrade(config, "head")
    got = api.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"]
    assert got["dns_name"] == "" and got["extra_dhcp_opts"] == [] and got["fixed_ips"]

"""Real, unmodified OpenStack clients against a running neutrino server on SQLite.

openstacksdk connects with ``auth_type="none"`` and ``network_endpoint_override``
set to the server root (the SDK discovers ``/v2.0`` itself; an override ending in
``/v2.0`` fails keystoneauth discovery, as it would with Neutron). The
``openstack`` CLI runs with ``--os-auth-type none --os-endpoint URL`` in a clean
environment whose HOME is a temporary directory, so no clouds.yaml or ``OS_*``
variable of the host is read.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import openstack
import pytest
from openstack import exceptions

from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401  (fixture)



@pytest.fixture(scope="module")
def conn(neutrino_sqlite: NeutrinoServer):
    """An openstacksdk connection as admin (noauth), ignoring clouds.yaml and OS_*."""
    connection = openstack.connect(
        load_yaml_config=False, load_envvars=False,
        auth_type="none", network_endpoint_override=neutrino_sqlite.url,
    )
    yield connection
    connection.close()


def in_pool(address: str, subnet) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ipaddress.ip_address(p["start"]) <= ip <= ipaddress.ip_address(p["end"])
               for p in subnet.allocation_pools)


def test_sdk_network_subnet_port_lifecycle(conn):
    net = conn.network.create_network(name="sdk-net")
    assert net.name == "sdk-net" and net.is_admin_state_up and net.status == "ACTIVE"
    subnet = conn.network.create_subnet(
        network_id=net.id, name="sdk-subnet", ip_version=4, cidr="10.0.0.0/24")
    assert subnet.cidr == "10.0.0.0/24" and subnet.gateway_ip == "10.0.0.1"
    assert subnet.allocation_pools == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    port = conn.network.create_port(network_id=net.id, name="sdk-port")

    assert port.status == "DOWN" and port.is_admin_state_up
    assert port.mac_address.startswith("fa:16:3e:")
    [fixed_ip] = port.fixed_ips
    assert fixed_ip["subnet_id"] == subnet.id
    assert ipaddress.ip_address(fixed_ip["ip_address"]) in ipaddress.ip_network(subnet.cidr)
    assert in_pool(fixed_ip["ip_address"], subnet)

    # list, find by name, show
    assert net.id in {n.id for n in conn.network.networks()}
    listed = {p.id: p.device_owner for p in conn.network.ports(network_id=net.id)}
    # the port, and the metadata port the subnet made (reference C.4)
    assert listed.pop(port.id) == "" and list(listed.values()) == ["network:distributed"]
    assert conn.network.find_network("sdk-net").id == net.id
    assert conn.network.find_subnet("sdk-subnet").id == subnet.id
    assert conn.network.find_port("sdk-port").id == port.id
    shown = conn.network.get_network(net.id)
    assert shown.subnet_ids == [subnet.id]
    assert conn.network.get_port(port.id).fixed_ips == port.fixed_ips

    # update: revision_number increases (the SDK updates the object passed in)
    before = conn.network.get_network(net.id).revision_number
    port_before = port.revision_number
    net2 = conn.network.update_network(net, name="sdk-net2", admin_state_up=False)
    assert net2.name == "sdk-net2" and net2.is_admin_state_up is False
    assert net2.revision_number > before
    assert conn.network.find_network("sdk-net") is None
    port2 = conn.network.update_port(port, name="sdk-port2", admin_state_up=False)
    assert port2.name == "sdk-port2" and port2.is_admin_state_up is False
    assert port2.revision_number > port_before

    # tags
    conn.network.set_tags(net2, ["blue", "red"])
    assert sorted(conn.network.get_network(net.id).tags) == ["blue", "red"]
    conn.network.set_tags(net2, [])
    assert conn.network.get_network(net.id).tags == []

    # delete
    conn.network.delete_port(port)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)
    assert conn.network.find_network("sdk-net2") is None
    with pytest.raises(exceptions.NotFoundException):
        conn.network.get_port(port.id)
    with pytest.raises(exceptions.NotFoundException):
        conn.network.get_network(net.id)


def test_sdk_find_missing_network_returns_none(conn):
    assert conn.network.find_network("no-such-network") is None
    with pytest.raises(exceptions.NotFoundException):
        conn.network.find_network("no-such-network", ignore_missing=False)


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):
    """Run ``openstack ARGS`` against the server; JSON output is parsed."""
    return noauth_openstack(neutrino_sqlite, tmp_path)


def test_cli_network_subnet_port_lifecycle(cli):
    net = cli("network", "create", "cli-net", "-f", "json")
    assert net["name"] == "cli-net" and net["admin_state_up"] is True
    subnet = cli("subnet", "create", "--network", "cli-net",
                 "--subnet-range", "10.1.0.0/24", "cli-subnet", "-f", "json")
    assert subnet["network_id"] == net["id"] and subnet["cidr"] == "10.1.0.0/24"
    assert subnet["gateway_ip"] == "10.1.0.1" and subnet["ip_version"] == 4
    port = cli("port", "create", "--network", "cli-net",
               "--fixed-ip", "subnet=cli-subnet,ip-address=10.1.0.50", "cli-port", "-f", "json")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.1.0.50"}]
    assert port["network_id"] == net["id"] and port["status"] == "DOWN"
    assert port["mac_address"].startswith("fa:16:3e:")

    listed = {n["Name"]: n for n in cli("network", "list", "-f", "json")}
    assert listed["cli-net"]["ID"] == net["id"]
    assert listed["cli-net"]["Subnets"] == [subnet["id"]]

    shown = cli("port", "show", "cli-port", "-f", "json")
    assert shown["id"] == port["id"] and shown["fixed_ips"] == port["fixed_ips"]

    assert cli("port", "set", "--name", "cli-port2", "cli-port") == ""
    renamed = cli("port", "show", port["id"], "-f", "json")
    assert renamed["name"] == "cli-port2"
    assert renamed["revision_number"] > port["revision_number"]

    cli("port", "delete", "cli-port2")
    cli("subnet", "delete", "cli-subnet")
    cli("network", "delete", "cli-net")
    assert "cli-net" not in {n["Name"] for n in cli("network", "list", "-f", "json")}
    assert port["id"] not in {p["ID"] for p in cli("port", "list", "-f", "json")}


def test_cli_trunks(cli, conn):
    """``openstack network trunk`` create/set, ``network subport list`` and delete
    (networks and ports made with the SDK: each CLI call costs seconds)."""
    nets = [conn.network.create_network(name=n) for n in ("cli-trunk-a", "cli-trunk-b")]
    parent = conn.network.create_port(network_id=nets[0].id, name="cli-parent")
    p101, p102 = (conn.network.create_port(network_id=nets[1].id, name=n)
                  for n in ("cli-p101", "cli-p102"))
    trunk = cli("network", "trunk", "create", "--parent-port", "cli-parent", "--subport",
                "port=cli-p101,segmentation-type=vlan,segmentation-id=101", "cli-t1", "-f", "json")
    assert trunk["port_id"] == parent.id
    cli("network", "trunk", "set", "--subport",
        "port=cli-p102,segmentation-type=vlan,segmentation-id=102", "cli-t1")
    subs = cli("network", "subport", "list", "--trunk", "cli-t1", "-f", "json")
    assert sorted((s["Segmentation ID"], s["Port"]) for s in subs) == [
        (101, p101.id), (102, p102.id)]
    assert conn.network.get_port(parent.id).trunk_details["trunk_id"] == trunk["id"]
    cli("network", "trunk", "delete", "cli-t1")
    assert list(conn.network.trunks()) == []
    assert conn.network.get_port(p101.id).device_owner == ""
    for port in (parent, p101, p102):
        conn.network.delete_port(port)
    for net in nets:
        conn.network.delete_network(net)



def test_cli_floating_ip_port_forwarding_lifecycle(conn, cli):
    """``openstack floating ip port forwarding create/list/delete`` (extension
    floating-ip-port-forwarding; the topology made with openstacksdk, which is quicker),
    and the floating IP showing its forwardings."""
    public = conn.network.create_network(name="pf-public", is_router_external=True,
                                         provider_network_type="flat",
                                         provider_physical_network="physnet1")
    conn.network.create_subnet(network_id=public.id, cidr="172.30.0.0/24", ip_version=4,
                               is_dhcp_enabled=False)
    net = conn.network.create_network(name="pf-net")
    sub = conn.network.create_subnet(network_id=net.id, cidr="10.30.0.0/24", ip_version=4)
    router = conn.network.create_router(name="pf-r",
                                        external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=sub.id)
    port = conn.network.create_port(network_id=net.id)
    fip = conn.network.create_ip(floating_network_id=public.id)
    ip = port.fixed_ips[0]["ip_address"]
    pf = cli("floating", "ip", "port", "forwarding", "create", fip.floating_ip_address,
             "--internal-ip-address", ip, "--port", port.id, "--internal-protocol-port", "22",
             "--external-protocol-port", "2222", "--protocol", "tcp", "--description", "ssh",
             "-f", "json")
    assert (pf["external_port"], pf["internal_port"], pf["description"]) == (2222, 22, "ssh")
    listed = cli("floating", "ip", "port", "forwarding", "list", fip.id, "-f", "json")
    assert [p["ID"] for p in listed] == [pf["id"]]
    shown = conn.network.get_ip(fip.id)
    assert [p["external_port"] for p in shown.port_forwardings] == [2222]
    assert shown.router_id == router.id
    cli("floating", "ip", "port", "forwarding", "delete", fip.id, pf["id"])
    assert list(conn.network.floating_ip_port_forwardings(fip.id)) == []
    conn.network.delete_ip(fip.id)

"""The real ``openstack`` CLI on DNS names, extra DHCP options, subnet service types
and IP availability details, against a ``neutrino server`` on SQLite whose
``dns_domain`` is ``example.org.`` (with the default ``openstacklocal.`` Neutron
keeps no port names). The CLI runs as in ``test_openstack_clients.py``: noauth, a
clean environment with its own HOME.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from neutrino_server import OPENSTACK_CLI, NeutrinoServer, noauth_openstack


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NeutrinoServer]:
    with NeutrinoServer(tmp_path_factory.mktemp("neutrino-dns"),
                        settings={"dns_domain": "example.org."}) as running:
        yield running
    running.assert_no_tracebacks()


@pytest.fixture
def cli(server: NeutrinoServer, tmp_path: Path):
    return noauth_openstack(server, tmp_path)


def failing(server: NeutrinoServer, home: Path, *args: str) -> str:
    """Run the CLI expecting it to fail; its error output."""
    res = subprocess.run([str(OPENSTACK_CLI), "--os-auth-type", "none", "--os-endpoint",
                          server.url, *args], env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                                                   "LANG": "C.UTF-8"},
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode != 0, res.stdout
    return res.stderr


def test_cli_dns_names_and_domains(cli, server, tmp_path):
    net = cli("network", "create", "--dns-domain", "corp.example.", "dns-net", "-f", "json")
    assert net["dns_domain"] == "corp.example."
    cli("network", "set", "--dns-domain", "other.example.", "dns-net")
    assert cli("network", "show", "dns-net", "-f", "json")["dns_domain"] == "other.example."
    cli("subnet", "create", "--network", "dns-net", "--subnet-range", "10.3.0.0/24",
        "--dns-publish-fixed-ip", "dns-sub", "-f", "json")
    assert cli("subnet", "show", "dns-sub", "-f", "json")["dns_publish_fixed_ip"] is True

    port = cli("port", "create", "--network", "dns-net", "--dns-name", "vm1",
               "--dns-domain", "port.example.", "--extra-dhcp-option", "name=mtu,value=1400",
               "--extra-dhcp-option", "name=bootfile-name,value=pxelinux.0,ip-version=4",
               "dns-port", "-f", "json")
    ip = port["fixed_ips"][0]["ip_address"]
    assert port["dns_name"] == "vm1" and port["dns_domain"] == "port.example."
    assert port["dns_assignment"] == [{"hostname": "vm1", "ip_address": ip,
                                       "fqdn": "vm1.example.org."}]
    assert port["extra_dhcp_opts"] == [
        {"opt_name": "mtu", "opt_value": "1400", "ip_version": 4},
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4}]

    cli("port", "set", "--dns-name", "vm2", "--extra-dhcp-option", "name=mtu,value=1300",
        "dns-port")
    shown = cli("port", "show", "dns-port", "-f", "json")
    assert shown["dns_name"] == "vm2" and shown["dns_assignment"][0]["fqdn"] == "vm2.example.org."
    assert {o["opt_name"]: o["opt_value"] for o in shown["extra_dhcp_opts"]} == {
        "mtu": "1300", "bootfile-name": "pxelinux.0"}

    # Neutron's 400s reach the CLI user
    err = failing(server, tmp_path, "port", "create", "--network", "dns-net",
                  "--dns-name", "vm_1", "bad-port")
    assert "Invalid input for dns_name" in err
    err = failing(server, tmp_path, "port", "create", "--network", "dns-net",
                  "--extra-dhcp-option", "name=no-such-option,value=1", "bad-port")
    assert "not supported by OVN" in err
    assert cli("port", "list", "--network", "dns-net", "--name", "bad-port", "-f", "json") == []

    cli("port", "delete", "dns-port")
    cli("subnet", "delete", "dns-sub")
    cli("network", "delete", "dns-net")


def test_cli_subnet_service_types(cli, server, tmp_path):
    cli("network", "create", "--external", "svc-net", "-f", "json")
    plain = cli("subnet", "create", "--network", "svc-net", "--subnet-range", "10.4.0.0/24",
                "svc-plain", "-f", "json")
    typed = cli("subnet", "create", "--network", "svc-net", "--subnet-range", "10.4.1.0/24",
                "--service-type", "network:floatingip", "--service-type", "compute:nova",
                "svc-typed", "-f", "json")
    assert plain["service_types"] == []
    assert sorted(typed["service_types"]) == ["compute:nova", "network:floatingip"]
    cli("subnet", "unset", "--service-type", "compute:nova", "svc-typed")
    assert cli("subnet", "show", "svc-typed", "-f", "json")["service_types"] == [
        "network:floatingip"]
    cli("subnet", "set", "--service-type", "network:router_gateway", "svc-typed")
    assert sorted(cli("subnet", "show", "svc-typed", "-f", "json")["service_types"]) == [
        "network:floatingip", "network:router_gateway"]
    err = failing(server, tmp_path, "subnet", "create", "--network", "svc-net",
                  "--subnet-range", "10.4.2.0/24", "--service-type", "foo", "svc-bad")
    assert "does not correspond to a valid device owner" in err

    # a floating IP takes its address from the subnet open to floating IPs
    fip = cli("floating", "ip", "create", "svc-net", "-f", "json")
    assert fip["floating_ip_address"].startswith("10.4.1.")
    port = cli("port", "create", "--network", "svc-net", "--device-owner", "compute:nova",
               "svc-port", "-f", "json")
    assert port["fixed_ips"][0]["subnet_id"] == plain["id"]

    avail = cli("ip", "availability", "show", "svc-net", "-f", "json")
    details = avail["ip_availability_details"]
    assert details["total_ips_in_allocation_pool"] == 2 * 253
    assert details["used_ips_in_allocation_pool"] == details["used_ips_in_subnet"]

    cli("floating", "ip", "delete", fip["id"])
    cli("port", "delete", "svc-port")
    cli("network", "delete", "svc-net")

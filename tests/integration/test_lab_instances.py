"""Lab instances (neutrino.lab.instances) against real OVN: DHCP, routes, ping, cleanup.

The logical switch, its DHCP_Options row and the ports are written into the NB by hand
(``ovn-nbctl``), so these tests do not depend on neutrino's NB sync.  Everything is named
with the session's run prefix and removed at the end: the ``ovn_lab`` deployment is
shared with other test modules.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ovnlab import TCP_CLIENT, TCP_ECHO_SERVER, OvnLab

from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.host.process import pid_alive
from neutrino.lab import instances
from neutrino.lab.daemons import wait_until
from neutrino.lab.instances import Instance, InstanceError

pytestmark = pytest.mark.ovn

RESOLV_CONF = Path("/etc/resolv.conf")
CIDR = "10.77.0.0/24"
GATEWAY = "10.77.0.1"
DNS = "10.77.0.53"
MTU = 1442
STATIC_ROUTE = ("10.99.0.0/16", "10.77.0.254")
ADDRESSES = ["10.77.0.5", "10.77.0.6"]


def _root_snapshot() -> tuple[bytes, str]:
    """The host's resolv.conf bytes and the root namespace's ``ip route`` output."""
    routes = subprocess.run(["ip", "route", "show"], capture_output=True, text=True,
                            check=True).stdout
    return RESOLV_CONF.read_bytes(), routes


_ROOT_BEFORE = _root_snapshot()



@dataclass(frozen=True)
class DhcpNetwork:
    """What the fixture wrote into the NB: one switch, one DHCP_Options row, two LSPs."""

    switch: str
    dhcp_options: str
    ports: list[dict]


def _port(network_id: str, subnet_id: str, ip: str, mac: str) -> dict:
    """A Neutron port dict as the API would return it."""
    return {"id": str(uuid.uuid4()), "mac_address": mac, "network_id": network_id,
            "device_id": str(uuid.uuid4()), "project_id": uuid.uuid4().hex,
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": ip}]}


@pytest.fixture(scope="module")
def dhcp_network(ovn_lab: OvnLab) -> Iterator[DhcpNetwork]:
    """A logical switch with DHCP for 10.77.0.0/24 and two ports (.5 and .6), by hand."""
    central = ovn_lab.deployment.central
    network_id, subnet_id = str(uuid.uuid4()), str(uuid.uuid4())
    switch = f"neutron-{network_id}"
    tag = f"external_ids:neutrino-test={ovn_lab.prefix}"
    central.nbctl("ls-add", switch, "--", "set", "Logical_Switch", switch, tag)
    dhcp = central.nbctl("create", "DHCP_Options", f'cidr="{CIDR}"',
                         f'external_ids:subnet_id="{subnet_id}"', tag).strip()
    try:
        central.nbctl(
            "dhcp-options-set-options", dhcp, f"server_id={GATEWAY}",
            "server_mac=fa:16:3e:77:00:01", "lease_time=3600", f"router={GATEWAY}",
            f"classless_static_route={{{STATIC_ROUTE[0]},{STATIC_ROUTE[1]}, 0.0.0.0/0,{GATEWAY}}}",
            f"mtu={MTU}", f"dns_server={{{DNS}}}")
        ports = [_port(network_id, subnet_id, ip, f"fa:16:3e:77:00:{i + 5:02x}")
                 for i, ip in enumerate(ADDRESSES)]
        for port in ports:
            lsp, entry = port["id"], f"{port['mac_address']} {port['fixed_ips'][0]['ip_address']}"
            central.nbctl("lsp-add", switch, lsp, "--", "lsp-set-addresses", lsp, entry,
                          "--", "lsp-set-port-security", lsp, entry,
                          "--", "lsp-set-dhcpv4-options", lsp, dhcp)
        yield DhcpNetwork(switch, dhcp, ports)
    finally:
        central.nbctl("--if-exists", "ls-del", switch)
        central.nbctl("--if-exists", "destroy", "DHCP_Options", dhcp)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def _boot(lab: OvnLab, state_dir: Path, name: str, port: dict, **kwargs) -> Instance:
    return instances.boot_instance(state_dir, name, port, lab.netns, lab.ovs_connection,
                                   **kwargs)


def _sh(state_dir: Path, name: str, *argv: str) -> str:
    return instances.exec_in_instance(state_dir, name, list(argv), check=True).stdout


def _assert_gone(lab: OvnLab, state_dir: Path, inst: Instance) -> None:
    """Nothing of ``inst`` is left: namespace, /etc/netns, veth, OVS port, udhcpc, state."""
    assert not host_netns.netns_exists(inst.netns)
    assert not (host_netns.NETNS_ETC / inst.netns).exists()
    assert not host_netns.link_exists(inst.host_if, lab.netns)
    assert inst.host_if not in host_ovs.bridge_ports(lab.ovs_connection, "br-int")
    assert inst.dhcp_pid is None or not pid_alive(inst.dhcp_pid)
    assert not list(instances.instances_dir(state_dir).glob(f"{inst.name}.*"))


@pytest.fixture
def boot(ovn_lab: OvnLab, state_dir: Path) -> Iterator:
    """``boot(suffix, port, **kw)`` -> Instance; every instance is deleted afterwards."""
    booted: list[str] = []

    def _do(suffix: str, port: dict, **kwargs) -> Instance:
        name = f"{ovn_lab.prefix}-{suffix}"
        booted.append(name)
        return _boot(ovn_lab, state_dir, name, port, **kwargs)

    yield _do
    for name in booted:
        instances.delete_instance(state_dir, name, ovn_lab.ovs_connection)


def test_two_instances_lease_their_address_routes_mtu_dns_and_reach_each_other(
        ovn_lab: OvnLab, dhcp_network: DhcpNetwork, state_dir: Path, boot):
    root_before = _root_snapshot()
    vm1 = boot("vm1", dhcp_network.ports[0])
    vm2 = boot("vm2", dhcp_network.ports[1])

    for inst, ip in [(vm1, ADDRESSES[0]), (vm2, ADDRESSES[1])]:
        assert inst.state == "active" and inst.addresses == [f"{ip}/24"]
        assert inst.lease.dns_servers == (DNS,) and inst.lease.mtu == MTU
        assert inst.lease.static_routes == (STATIC_ROUTE, ("0.0.0.0/0", GATEWAY))
        addrs = _sh(state_dir, inst.name, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
        assert [line.split()[3] for line in addrs.splitlines()] == [f"{ip}/24"]
        routes = _sh(state_dir, inst.name, "ip", "-4", "route", "show").splitlines()
        assert f"{STATIC_ROUTE[0]} via {STATIC_ROUTE[1]} dev eth0 proto dhcp" in \
            [r.strip() for r in routes]
        assert f"default via {GATEWAY} dev eth0 proto dhcp" in [r.strip() for r in routes]
        assert _sh(state_dir, inst.name, "cat", "/sys/class/net/eth0/mtu").strip() == str(MTU)
        assert _sh(state_dir, inst.name, "cat", "/sys/class/net/eth0/address").strip() == inst.mac
        resolv = host_netns.resolv_conf_path(inst.netns).read_text()
        assert f"nameserver {DNS}" in resolv.splitlines()
        assert _sh(state_dir, inst.name, "cat", "/etc/resolv.conf") == resolv  # bind mount
        assert pid_alive(inst.dhcp_pid)

    ping = _sh(state_dir, vm1.name, "busybox", "ping", "-c", "2", "-W", "2", ADDRESSES[1])
    assert "2 packets received" in ping
    _sh(state_dir, vm2.name, "busybox", "ping", "-c", "1", "-W", "2", ADDRESSES[0])

    # TCP too: only works because TX checksum offload is off on the veths.
    server = subprocess.Popen(["ip", "netns", "exec", vm2.netns, sys.executable, "-c",
                               TCP_ECHO_SERVER, ADDRESSES[1]],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        assert _sh(state_dir, vm1.name, sys.executable, "-c", TCP_CLIENT,
                   ADDRESSES[1]).strip() == "neutrino"
    finally:
        server.kill()
        server.wait()

    # The background DHCP client renews (unicast DHCPREQUEST to the server id).
    renewed = instances.renew_lease(state_dir, vm1.name)
    assert renewed.lease == vm1.lease and renewed.dhcp_pid == vm1.dhcp_pid
    vm1 = renewed

    central = ovn_lab.deployment.central
    chassis = central.sbctl("--bare", "--columns=_uuid", "find", "Chassis",
                            f"name={ovn_lab.chassis_name}").strip()
    for inst in (vm1, vm2):
        bound = central.sbctl("--bare", "--columns=chassis", "find", "Port_Binding",
                              f"logical_port={inst.port_id}").strip()
        assert bound == chassis

    # State survives the process: it is read back from the JSON files.
    assert instances.list_instances(state_dir) == [vm1, vm2]
    assert instances.get_instance(state_dir, vm1.name) == vm1

    for inst in (vm1, vm2):
        assert instances.delete_instance(state_dir, inst.name, ovn_lab.ovs_connection)
        _assert_gone(ovn_lab, state_dir, inst)
        assert not instances.delete_instance(state_dir, inst.name, ovn_lab.ovs_connection)
    assert _root_snapshot() == root_before


def test_boot_is_idempotent_and_reports_lease_time(
        ovn_lab: OvnLab, dhcp_network: DhcpNetwork, state_dir: Path, boot):
    timings = []
    for _ in range(5):
        inst = boot("vm1", dhcp_network.ports[0])
        again = boot("vm1", dhcp_network.ports[0])
        assert again == inst  # same DHCP client, nothing redone
        timings.append(inst.boot_seconds)
        assert instances.delete_instance(state_dir, inst.name, ovn_lab.ovs_connection)
        _assert_gone(ovn_lab, state_dir, inst)
    p50 = {key: statistics.median(t[key] for t in timings) for key in timings[0]}
    print(f"\nlab instance boot over {len(timings)} boots, p50 seconds: "
          + ", ".join(f"{k}={v:.3f}" for k, v in p50.items())
          + f"; plug_to_lease all: {[t['plug_to_lease'] for t in timings]}")


def test_boot_with_another_port_under_a_taken_name_fails(
        ovn_lab: OvnLab, dhcp_network: DhcpNetwork, state_dir: Path, boot):
    inst = boot("vm1", dhcp_network.ports[0])
    with pytest.raises(InstanceError, match="exists for port"):
        boot("vm1", dhcp_network.ports[1])
    assert pid_alive(inst.dhcp_pid)  # the existing instance is left alone


def test_boot_without_logical_port_fails_fast_and_leaves_nothing(
        ovn_lab: OvnLab, dhcp_network: DhcpNetwork, state_dir: Path, boot):
    port = _port(str(uuid.uuid4()), str(uuid.uuid4()), "10.77.0.9", "fa:16:3e:77:00:09")
    with pytest.raises(InstanceError, match="did not bind port"):
        boot("vm9", port, dhcp_timeout=2)
    name = f"{ovn_lab.prefix}-vm9"
    never_booted = Instance(name, port["id"], port["mac_address"], instances.netns_name(name),
                            instances.host_ifname(port["id"]), "eth0", ovn_lab.netns, "", "", "")
    _assert_gone(ovn_lab, state_dir, never_booted)


def test_delete_removes_leftovers_of_an_interrupted_boot(
        ovn_lab: OvnLab, dhcp_network: DhcpNetwork, state_dir: Path):
    # A boot that crashed after plugging, before DHCP: JSON "booting", netns, veth, OVS port.
    port = dhcp_network.ports[1]
    name = f"{ovn_lab.prefix}-vm7"
    inst = Instance(name, port["id"], port["mac_address"], instances.netns_name(name),
                    instances.host_ifname(port["id"]), "eth0", ovn_lab.netns,
                    port["device_id"], port["project_id"], port["network_id"])
    try:
        (state_dir / "lab" / "instances").mkdir(parents=True)
        (state_dir / "lab" / "instances" / f"{name}.json").write_text(inst.to_json())
        assert host_netns.ensure_netns(inst.netns)
        assert not host_netns.ensure_netns(inst.netns)  # may_exist
        assert host_netns.ensure_veth(inst.host_if, ovn_lab.netns, "eth0", inst.netns, inst.mac)
        assert not host_netns.ensure_veth(inst.host_if, ovn_lab.netns, "eth0", inst.netns,
                                          inst.mac)
        host_ovs.plug_into_bridge(ovn_lab.ovs_connection, "br-int", inst.host_if,
                                  inst.port_id, inst.mac)
        wait_until(lambda: (host_ovs.interface_external_ids(
            ovn_lab.ovs_connection, inst.host_if) or {}).get("ovn-installed"), 10,
            "ovn-installed on the interrupted instance's port")
        assert [i.state for i in instances.list_instances(state_dir)] == ["booting"]

        assert instances.delete_instance(state_dir, name, ovn_lab.ovs_connection)
        _assert_gone(ovn_lab, state_dir, inst)
        assert not instances.delete_instance(state_dir, name, ovn_lab.ovs_connection)

        # Only a namespace left (no JSON at all): still removed.
        host_netns.ensure_netns(inst.netns)
        assert instances.delete_instance(state_dir, name, ovn_lab.ovs_connection)
        _assert_gone(ovn_lab, state_dir, inst)
    finally:
        instances.delete_instance(state_dir, name, ovn_lab.ovs_connection)
        host_ovs.unplug(ovn_lab.ovs_connection, "br-int", inst.host_if)
        host_netns.remove_netns(inst.netns)


def test_host_resolv_conf_and_root_routes_are_untouched():
    assert _root_snapshot() == _ROOT_BEFORE

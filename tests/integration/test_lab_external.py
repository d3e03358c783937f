"""The lab's external world (neutrino.lab.external) against real OVN.

An upstream namespace on the chassis' physnet bridge (``physnet1`` -> ``br-ex`` in the
shared ``ovn_lab``), a logical switch with a ``localnet`` port for that physnet, and a
namespace plugged as an instance on that switch: the instance reaches the upstream's
gateway and its outside address. That proves bridge mapping + localnet + upstream.
The switch is written with ``ovn-nbctl`` (named with the run prefix, removed at the end),
and once more through neutrino's services and NB sync (a flat ``router:external`` network).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import wire
from ovnlab import PHYSNET, PHYSNET_BRIDGE, TCP_CLIENT, TCP_ECHO_SERVER, OvnLab, plugged_port

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.lab import external
from neutrino.lab.daemons import run, wait_until
from neutrino.ovn import idl
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = pytest.mark.ovn

GATEWAY = "172.24.4.1/24"
OUTSIDE = "203.0.113.10"
INSTANCE_IP = "172.24.4.50"
INSTANCE_MAC = "fa:16:3e:24:04:32"


@pytest.fixture(scope="module")
def external_switch(ovn_lab: OvnLab) -> Iterator[str]:
    """A flat "external network" by hand: switch + localnet port + one VIF LSP; yields
    the VIF's LSP name."""
    central = ovn_lab.deployment.central
    switch, localnet, vif = (f"{ovn_lab.prefix}-public", f"{ovn_lab.prefix}-provnet",
                             str(uuid.uuid4()))
    central.nbctl("ls-add", switch,
                  "--", "lsp-add", switch, localnet, "--", "lsp-set-type", localnet, "localnet",
                  "--", "lsp-set-addresses", localnet, "unknown",
                  "--", "lsp-set-options", localnet, f"network_name={PHYSNET}",
                  "--", "lsp-add", switch, vif,
                  "--", "lsp-set-addresses", vif, f"{INSTANCE_MAC} {INSTANCE_IP}")
    try:
        yield vif
    finally:
        central.nbctl("--if-exists", "ls-del", switch)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def upstream(ovn_lab: OvnLab, state_dir: Path) -> Iterator[external.Upstream]:
    up = external.create_upstream(state_dir, PHYSNET, PHYSNET_BRIDGE, ovn_lab.netns,
                                  ovn_lab.ovs_connection, GATEWAY, [OUTSIDE])
    try:
        yield up
    finally:
        external.remove_upstream(state_dir, PHYSNET, ovn_lab.ovs_connection)


def _ping(ns: str, address: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, "ping", "-c1", "-W2", address],
                          capture_output=True, text=True)


def _assert_gone(lab: OvnLab, up: external.Upstream) -> None:
    assert not host_netns.netns_exists(up.netns)
    assert not (host_netns.NETNS_ETC / up.netns).exists()
    assert not host_netns.link_exists(up.host_if, lab.netns)
    assert up.host_if not in host_ovs.bridge_ports(lab.ovs_connection, PHYSNET_BRIDGE)


def test_chassis_registers_bridge_mappings_and_gateway_capability(ovn_lab: OvnLab):
    central = ovn_lab.deployment.central
    other = central.sbctl("--bare", "--columns=other_config", "find", "Chassis",
                          f"name={ovn_lab.chassis_name}")
    assert f"ovn-bridge-mappings={PHYSNET}:{PHYSNET_BRIDGE}" in other.split()
    assert "ovn-cms-options=enable-chassis-as-gw" in other.split()
    datapath = ovn_lab.deployment.chassis[0].vsctl("get", "Bridge", PHYSNET_BRIDGE,
                                                   "datapath_type")
    assert datapath.strip() == "netdev"


def test_instance_on_localnet_switch_reaches_upstream_gateway_and_outside_host(
        ovn_lab: OvnLab, external_switch: str, upstream: external.Upstream, state_dir: Path):
    assert upstream.netns == f"{ovn_lab.netns}-ext-{PHYSNET}"
    assert len(upstream.host_if) <= 15
    assert external.is_plumbed(upstream)
    addrs = external.exec_in_upstream(state_dir, PHYSNET, ["ip", "-4", "-o", "addr", "show",
                                                           "dev", "eth0"], check=True).stdout
    assert [line.split()[3] for line in addrs.splitlines()] == [GATEWAY, f"{OUTSIDE}/32"]
    ids = host_ovs.interface_external_ids(ovn_lab.ovs_connection, upstream.host_if)
    assert ids[external.OVS_MARK] == PHYSNET

    with plugged_port(ovn_lab, "xv", external_switch, INSTANCE_MAC,
                      f"{INSTANCE_IP}/24") as ns:
        run(["ip", "-n", ns, "route", "add", "default", "via", upstream.gateway_ip])
        wait_until(lambda: _ping(ns, upstream.gateway_ip).returncode == 0, 15,
                   "the instance to ping the upstream gateway through localnet and br-ex")
        assert _ping(ns, OUTSIDE).returncode == 0  # via the default route
        # and back: the upstream reaches the instance on the external subnet
        assert external.exec_in_upstream(state_dir, PHYSNET,
                                         ["ping", "-c1", "-W2", INSTANCE_IP]).returncode == 0
        # TCP too (needs TX checksum offload off on the upstream veth)
        server = subprocess.Popen(["ip", "netns", "exec", upstream.netns, sys.executable,
                                   "-c", TCP_ECHO_SERVER, OUTSIDE],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout.readline().strip() == "listening"
            reply = run(["ip", "netns", "exec", ns, sys.executable, "-c", TCP_CLIENT, OUTSIDE],
                        timeout=15)
        finally:
            server.kill()
            server.wait()
        assert reply.strip() == "neutrino"


def test_create_is_idempotent_and_converges_addresses(
        ovn_lab: OvnLab, upstream: external.Upstream, state_dir: Path):
    again = external.create_upstream(state_dir, PHYSNET, PHYSNET_BRIDGE, ovn_lab.netns,
                                     ovn_lab.ovs_connection, GATEWAY, [OUTSIDE])
    assert again == upstream == external.get_upstream(state_dir, PHYSNET)
    assert external.list_upstreams(state_dir) == [upstream]

    changed = external.create_upstream(state_dir, PHYSNET, PHYSNET_BRIDGE, ovn_lab.netns,
                                       ovn_lab.ovs_connection, "172.24.5.1/24",
                                       ["198.51.100.7"])
    addrs = external.exec_in_upstream(state_dir, PHYSNET, ["ip", "-4", "-o", "addr", "show",
                                                           "dev", "eth0"], check=True).stdout
    assert [line.split()[3] for line in addrs.splitlines()] == ["172.24.5.1/24",
                                                                "198.51.100.7/32"]
    assert changed.outside_ips == ["198.51.100.7"]


def test_remove_and_restore(ovn_lab: OvnLab, external_switch: str,
                            upstream: external.Upstream, state_dir: Path):
    with plugged_port(ovn_lab, "xr", external_switch, INSTANCE_MAC, f"{INSTANCE_IP}/24") as ns:
        wait_until(lambda: _ping(ns, upstream.gateway_ip).returncode == 0, 15,
                   "the instance to ping the upstream")
        # the veth vanishes behind OVS' back (a chassis namespace deleted under a killed
        # neutrino up): its stale port row must not keep the restored upstream deaf
        host_netns.remove_link(upstream.host_if, ovn_lab.netns)
        assert upstream.host_if in host_ovs.bridge_ports(ovn_lab.ovs_connection, PHYSNET_BRIDGE)
        assert _ping(ns, upstream.gateway_ip).returncode != 0
        external.restore_upstream(state_dir, PHYSNET, ovn_lab.netns, ovn_lab.ovs_connection)
        wait_until(lambda: _ping(ns, upstream.gateway_ip).returncode == 0, 15,
                   "the instance to ping the re-plumbed upstream")

    # what neutrino down does: the namespace goes, the JSON stays
    assert external.remove_upstream(state_dir, PHYSNET, ovn_lab.ovs_connection, forget=False)
    _assert_gone(ovn_lab, upstream)
    assert not external.is_plumbed(upstream)
    with pytest.raises(external.UpstreamNotFound, match="gone"):
        external.exec_in_upstream(state_dir, PHYSNET, ["true"])

    # what neutrino up does with it
    restored = external.restore_upstream(state_dir, PHYSNET, ovn_lab.netns,
                                         ovn_lab.ovs_connection)
    assert restored == upstream and external.is_plumbed(restored)
    with plugged_port(ovn_lab, "xr", external_switch, INSTANCE_MAC, f"{INSTANCE_IP}/24") as ns:
        wait_until(lambda: _ping(ns, upstream.gateway_ip).returncode == 0, 15,
                   "the instance to ping the restored upstream")

    assert external.remove_upstream(state_dir, PHYSNET, ovn_lab.ovs_connection)
    _assert_gone(ovn_lab, upstream)
    assert external.list_upstreams(state_dir) == []
    assert not external.remove_upstream(state_dir, PHYSNET, ovn_lab.ovs_connection)
    with pytest.raises(external.UpstreamNotFound):
        external.get_upstream(state_dir, PHYSNET)


def test_bad_addresses_and_names_are_refused(ovn_lab: OvnLab, state_dir: Path):
    with pytest.raises(ValueError, match="inside the external subnet"):
        external.create_upstream(state_dir, PHYSNET, PHYSNET_BRIDGE, ovn_lab.netns,
                                 ovn_lab.ovs_connection, GATEWAY, ["172.24.4.200"])
    with pytest.raises(ValueError, match="physical network name"):
        external.create_upstream(state_dir, "../etc", PHYSNET_BRIDGE, ovn_lab.netns,
                                 ovn_lab.ovs_connection, GATEWAY)
    with pytest.raises(external.UpstreamError, match="chassis namespace"):
        external.create_upstream(state_dir, "physnet9", PHYSNET_BRIDGE,
                                 f"{ovn_lab.prefix}-nochassis", ovn_lab.ovs_connection)
    external.remove_upstream(state_dir, "physnet9", ovn_lab.ovs_connection)
    assert external.list_upstreams(state_dir) == []


@pytest.fixture
def env(sqlite_template: Path, tmp_path: Path) -> Iterator[Env]:
    path = tmp_path / "neutrino.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield Env(db=db, settings=Settings(state_dir=tmp_path, database_url=f"sqlite:///{path}"))
    db.dispose()


@pytest.fixture
def nb(ovn_lab: OvnLab) -> Iterator[object]:
    yield idl.nb_api(ovn_lab.nb_connection, timeout=30)
    idl.disconnect_all()


def test_flat_external_network_from_the_services_reaches_upstream(
        ovn_lab: OvnLab, env: Env, nb, upstream: external.Upstream, state_dir: Path):
    """Services -> NB sync -> localnet ``provnet-*`` -> ovn-bridge-mappings -> upstream."""
    admin = Context.admin("admin")
    net = wire.create("network", env, admin, [{
        "name": f"{ovn_lab.prefix}-public", "router_external": True,
        "provider_network_type": "flat", "provider_physical_network": PHYSNET}])[0]
    try:
        subnets.create_subnets(env, admin, [{
            "network_id": net["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
            "gateway_ip": upstream.gateway_ip, "enable_dhcp": False}])
        # no port security: the upstream's ping is not one a security group admits
        port = wire.create("port", env, admin, [{"network_id": net["id"],
                                                "port_security_enabled": False}])[0]
        sync = NorthboundSync(env, nb, audit_interval=0)
        while sync.run_once():
            pass
        central = ovn_lab.deployment.central
        names = [line.split("(")[1].rstrip(")") for line in
                 central.nbctl("lsp-list", f"neutron-{net['id']}").splitlines()]
        [localnet] = [n for n in names if n.startswith("provnet-")]
        assert central.nbctl("lsp-get-type", localnet).strip() == "localnet"
        assert f"network_name={PHYSNET}" in central.nbctl("lsp-get-options", localnet).split()
        address = port["fixed_ips"][0]["ip_address"]
        with plugged_port(ovn_lab, "xs", port["id"], port["mac_address"],
                          f"{address}/24") as ns:
            wait_until(lambda: _ping(ns, upstream.gateway_ip).returncode == 0, 15,
                       "the port's namespace to ping the upstream through the localnet port")
            assert external.exec_in_upstream(
                state_dir, PHYSNET, ["ping", "-c1", "-W2", address]).returncode == 0
    finally:
        ovn_lab.deployment.central.nbctl("--if-exists", "ls-del", f"neutron-{net['id']}")

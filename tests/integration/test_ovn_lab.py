"""The private OVS/OVN deployment (neutrino.lab.daemons) with real daemons."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovnlab import TCP_CLIENT, TCP_ECHO_SERVER, OvnLab, plugged_port, skip_reason

from neutrino.lab import daemons
from neutrino.host.netns import NETNS_ETC
from neutrino.lab.daemons import (
    DaemonError,
    check_prerequisites,
    missing_packages,
    netns_exists,
    run,
    wait_until,
)
from neutrino.lab.deployment import Central, OvnDeployment

pytestmark = pytest.mark.ovn

RESOLV_CONF = Path("/etc/resolv.conf")
_RESOLV_BEFORE = (RESOLV_CONF.read_bytes(), RESOLV_CONF.stat().st_mtime_ns)


@pytest.fixture(scope="module")
def nb_api(ovn_lab: OvnLab) -> Iterator[object]:
    """ovsdbapp's NB API over the lab's NB socket."""
    from ovsdbapp.backend.ovs_idl import connection
    from ovsdbapp.schema.ovn_northbound import impl_idl

    idl = connection.OvsdbIdl.from_server(ovn_lab.nb_connection, "OVN_Northbound")
    conn = connection.Connection(idl, timeout=10)
    api = impl_idl.OvnNbApiIdlImpl(conn)
    yield api
    conn.stop()


@pytest.fixture
def logical_switch(ovn_lab: OvnLab, nb_api) -> Iterator[str]:
    """A logical switch named ``<prefix>-ls1``, deleted afterwards."""
    name = f"{ovn_lab.prefix}-ls1"
    nb_api.ls_add(name).execute(check_error=True)
    yield name
    nb_api.ls_del(name, if_exists=True).execute(check_error=True)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (pid 1 reaps detached daemons late)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X", "x")


def _sb_find(lab: OvnLab, table: str, column: str, *conditions: str) -> str:
    central = lab.deployment.central
    return central.sbctl("--bare", f"--columns={column}", "find", table, *conditions).strip()


def test_chassis_registers_in_sb(ovn_lab: OvnLab):
    name = _sb_find(ovn_lab, "Chassis", "name", f"name={ovn_lab.chassis_name}")
    hostname = _sb_find(ovn_lab, "Chassis", "hostname", f"name={ovn_lab.chassis_name}")

    assert (name, hostname) == (ovn_lab.chassis_name, ovn_lab.chassis_name)
    assert all(s.running for s in ovn_lab.deployment.status()), ovn_lab.deployment.status()


def test_br_int_uses_netdev_datapath_in_private_db(ovn_lab: OvnLab):
    chassis = ovn_lab.deployment.chassis[0]

    assert chassis.vsctl("get", "Bridge", "br-int", "datapath_type").strip() == "netdev"
    system_id = chassis.vsctl("get", "Open_vSwitch", ".", "external_ids:system-id")
    assert system_id.strip().strip('"') == ovn_lab.chassis_name
    links = chassis.vsctl("--columns=name", "--bare", "list", "Interface").split()
    assert "br-int" in links
    assert not Path("/var/run/openvswitch/db.sock").exists()


def test_logical_switch_appears_as_datapath_binding(ovn_lab: OvnLab, logical_switch: str):
    found = wait_until(
        lambda: _sb_find(ovn_lab, "Datapath_Binding", "tunnel_key",
                         f"external_ids:name={logical_switch}"),
        timeout=10, what=f"SB Datapath_Binding for {logical_switch}")

    assert int(found) > 0


def test_plugged_port_is_claimed_by_chassis_and_up(ovn_lab: OvnLab, nb_api, logical_switch: str):
    lsp, mac = f"{ovn_lab.prefix}-p1", "fa:16:3e:00:00:01"
    nb_api.lsp_add(logical_switch, lsp, addresses=[f"{mac} 10.0.0.5"]).execute(check_error=True)
    chassis_uuid = _sb_find(ovn_lab, "Chassis", "_uuid", f"name={ovn_lab.chassis_name}")

    with plugged_port(ovn_lab, "p1", iface_id=lsp, mac=mac):
        claimed = wait_until(
            lambda: _sb_find(ovn_lab, "Port_Binding", "chassis", f"logical_port={lsp}"),
            timeout=15, what=f"SB Port_Binding {lsp} to get a chassis")
        up = wait_until(lambda: nb_api.lsp_get(lsp).execute(check_error=True).up == [True],
                        timeout=15, what=f"NB LSP {lsp} up=true")

    assert claimed == chassis_uuid
    assert up


def test_two_plugged_ports_exchange_tcp_over_netdev_br_int(ovn_lab: OvnLab, nb_api,
                                                           logical_switch: str):
    ports = {"a": ("fa:16:3e:00:00:0a", "10.0.0.10"), "b": ("fa:16:3e:00:00:0b", "10.0.0.11")}
    for suffix, (mac, ip) in ports.items():
        nb_api.lsp_add(logical_switch, f"{ovn_lab.prefix}-{suffix}",
                       addresses=[f"{mac} {ip}"]).execute(check_error=True)
    plug = {s: plugged_port(ovn_lab, s, f"{ovn_lab.prefix}-{s}", mac, f"{ip}/24")
            for s, (mac, ip) in ports.items()}

    with plug["a"] as ns_a, plug["b"] as ns_b:
        for suffix in ports:
            wait_until(lambda s=suffix: nb_api.lsp_get(f"{ovn_lab.prefix}-{s}")
                       .execute(check_error=True).up == [True], 15, f"LSP {suffix} up")
        server = subprocess.Popen(["ip", "netns", "exec", ns_b, sys.executable, "-c",
                                   TCP_ECHO_SERVER, "10.0.0.11"], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout.readline().strip() == "listening"
            reply = run(["ip", "netns", "exec", ns_a, sys.executable, "-c", TCP_CLIENT,
                         "10.0.0.11"], timeout=15)
        finally:
            server.kill()
            server.wait()

    assert reply.strip() == "neutrino"


def test_start_failure_names_component_and_log(tmp_path_factory):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    central = Central(tmp_path_factory.mktemp("bad"))
    (central.state_dir / "ovnnb_db.db").write_text("not an ovsdb file\n")
    try:
        with pytest.raises(DaemonError) as failure:
            central.start(timeout=10)
    finally:
        central.stop()

    assert failure.value.component == "ovsdb-server-nb"
    assert str(central.daemons[0].log_file) in str(failure.value)
    assert not any(s.running for s in central.status())


def test_start_is_idempotent_and_stop_leaves_nothing(run_prefix: str, tmp_path_factory):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    provider_bridge = f"{run_prefix}-ex"
    deployment = OvnDeployment(tmp_path_factory.mktemp("own"), f"{run_prefix}-x1",
                               netns=f"{run_prefix}-x1",
                               bridge_mappings={"physnet1": provider_bridge})
    try:
        first = deployment.start()
        second_chassis = deployment.add_chassis(f"{run_prefix}-x2", netns=f"{run_prefix}-x2")
        again = deployment.start()
        daemons = [d for part in (deployment.central, *deployment.chassis) for d in part.daemons]
        pids = {f"{d.run_dir.name}/{d.name}": d.pid() for d in daemons}
        registered = second_chassis.registered()
        provider_datapath = deployment.chassis[0].vsctl("get", "Bridge", provider_bridge,
                                                        "datapath_type")
        mappings = deployment.central.sbctl("get", "Chassis", f"{run_prefix}-x1",
                                            "other_config:ovn-bridge-mappings")
    finally:
        deployment.stop()

    assert "central/ovn-northd" in first and f"{run_prefix}-x1/ovn-controller" in first
    assert again == []
    assert registered
    assert provider_datapath.strip() == "netdev"
    assert mappings.strip().strip('"') == f"physnet1:{provider_bridge}"
    assert all(pids.values()), pids
    assert [pid for pid in pids.values() if _alive(pid)] == []
    assert not any(s.running for s in deployment.status() if s.component.endswith("netns"))
    for ns in (f"{run_prefix}-x1", f"{run_prefix}-x2"):
        assert not netns_exists(ns)
        assert not (NETNS_ETC / ns).exists()


def test_prerequisites_are_installed_here():
    assert check_prerequisites() == []


def test_missing_programs_are_reported_with_their_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(daemons, "_SEARCH_PATH", str(tmp_path))  # an empty PATH

    missing = dict(check_prerequisites())

    assert missing["ovn-controller"] == "ovn-host"
    assert missing["ovs-vswitchd"] == "openvswitch-switch"
    assert {"ovn-central", "openvswitch-common"} <= set(missing_packages(check_prerequisites()))


def test_host_resolv_conf_is_untouched():
    assert (RESOLV_CONF.read_bytes(), RESOLV_CONF.stat().st_mtime_ns) == _RESOLV_BEFORE

"""Metadata readiness across processes (issue 17), on the real NB and SB of the shared
``ovn_lab``: each chassis' ``neutrino metadata-agent`` reports the networks it serves
in its SB ``Chassis_Private`` row, and the port-status watcher of another process
holds ACTIVE back until the port's network is reported on the port's chassis.

The agent runs as a process of its own on the lab chassis, with namespaces named
``<run prefix>m-<network id>`` (``--netns-prefix``), so nothing it makes can collide
with another agent's; the gate's cases use made-up chassis (``<run prefix>-fk<n>``:
SB ``Chassis`` and ``Chassis_Private`` rows written here, ports bound to them with
``lsp_bind`` as an ovn-controller would). Every SB row, report key and namespace a
test makes is removed after it, so the lab's chassis is left ungated.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import wire
from neutrino_server import NEUTRINO
from ovnlab import OvnLab, plugged_port

from neutrino.host import netns as host_netns
from neutrino.lab.daemons import wait_until
from neutrino.lab.deployment import Chassis
from neutrino.metadata.namespaces import remove_recorded
from neutrino.ovn import status
from neutrino.ovn.status import PortStatusWatcher
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")
AGENT, NETWORKS = "neutrino:metadata-agent", "neutrino:metadata-networks"
_FAKE = itertools.count(1)


# --- helpers --------------------------------------------------------------------------

def network_with_ports(env: Env, nb, sb, count: int = 1, cidr: str = "10.0.0.0/24"
                       ) -> tuple[dict, list[dict]]:
    """A network with an IPv4 subnet (so a metadata port) and ``count`` compute
    ports, synced to the NB; returns once the SB has their bindings."""
    net = wire.create("network", env, ADMIN, [{"name": "md"}])[0]
    subnets.create_subnets(env, ADMIN, [{"network_id": net["id"], "cidr": cidr,
                                         "ip_version": 4}])
    made = wire.create("port", env, ADMIN, [{"network_id": net["id"],
                                            "device_owner": "compute:nova"}] * count)
    sync = NorthboundSync(env, nb, audit_interval=0)
    while sync.run_once():
        pass
    wait_until(lambda: all(sb.lookup("Port_Binding", p["id"], default=None) for p in made)
               and _has_metadata_binding(sb, net["id"]), 10, "the ports' SB bindings")
    return net, made


def _has_metadata_binding(sb, network_id: str) -> bool:
    with sb.ovsdb_connection.lock:
        return any(r.type == "localport" and status.metadata_network(r) == network_id
                   for r in sb.tables["Port_Binding"].rows.values())


def port_status(env: Env, port_id: str) -> str:
    return wire.show(env, ADMIN, "port", port_id)["status"]


def report(sb, chassis: str) -> dict[str, str] | None:
    """Our keys of ``chassis``' Chassis_Private row (None: no row)."""
    with sb.ovsdb_connection.lock:
        for row in sb.tables["Chassis_Private"].rows.values():
            if row.name == chassis:
                return {k: v for k, v in row.external_ids.items() if k in (AGENT, NETWORKS)}
    return None


def start_agent(lab: OvnLab, state: Path, chassis: str, ovs_connection: str, netns: str,
                prefix: str, log: Path) -> subprocess.Popen:
    """``neutrino metadata-agent`` for ``chassis`` (its output appended to ``log``)."""
    with log.open("a") as out:
        return subprocess.Popen(
            [str(NEUTRINO), "metadata-agent", "--state-dir", str(state),
             "--ovn-sb-connection", lab.sb_connection, "--chassis-name", chassis,
             "--ovs-connection", ovs_connection, "--chassis-netns", netns,
             "--netns-prefix", prefix],
            stdout=out, stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("NEUTRINO_")})


def agent_id(agent: subprocess.Popen) -> str:
    return f"{socket.gethostname()}:{agent.pid}"


def stop_agent(agent: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    """Signal ``agent`` (ours, by its pid) and return its exit status."""
    if agent.poll() is None:
        agent.send_signal(sig)
    return agent.wait(30)


def set_report(sb, chassis: str, **keys: str) -> None:
    sb.db_set("Chassis_Private", chassis, ("external_ids", keys)).execute(check_error=True)


def listening(netns: str) -> bool:
    out = subprocess.run(["ip", "netns", "exec", netns, "ss", "-Hltn", "src",
                          "169.254.169.254:80"], capture_output=True, text=True, check=False).stdout
    return "169.254.169.254:80" in out


@pytest.fixture
def watcher(env: Env, sb) -> Iterator[PortStatusWatcher]:
    w = PortStatusWatcher(env, sb)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def lab_report_cleanup(sb, ovn_lab: OvnLab) -> Iterator[str]:
    """The lab chassis' name; our keys leave its Chassis_Private row afterwards."""
    yield ovn_lab.chassis_name
    sb.db_remove("Chassis_Private", ovn_lab.chassis_name, "external_ids", AGENT, NETWORKS,
                 if_exists=True).execute(check_error=True)


@pytest.fixture
def fake_chassis(sb, run_prefix: str) -> Iterator:
    """``make(registered_keys or None) -> chassis name``: an SB Chassis (hostname
    ``<name>-host``) and its Chassis_Private row with those external_ids (None: no
    Chassis_Private row); all removed afterwards."""
    made: list[str] = []

    def make(keys: dict[str, str] | None) -> str:
        n = next(_FAKE)
        name = f"{run_prefix}-fk{n}"
        with sb.transaction(check_error=True) as txn:
            txn.add(sb.chassis_add(name, ["geneve"], f"192.0.2.{n}", hostname=f"{name}-host"))
            if keys is not None:
                txn.add(sb.db_create("Chassis_Private", name=name, external_ids=keys))
        made.append(name)
        return name
    yield make
    with sb.transaction(check_error=True) as txn:
        for name in made:  # ovsdbapp's chassis_del takes the Chassis_Private row too
            txn.add(sb.chassis_del(name, if_exists=True))


def bind(sb, port_id: str, chassis: str) -> None:
    """Claim ``port_id`` for ``chassis`` with its flows installed (``up``), as
    ovn-controller does."""
    with sb.transaction(check_error=True) as txn:
        txn.add(sb.lsp_bind(port_id, chassis))
        txn.add(sb.db_set("Port_Binding", port_id, ("up", [True])))


# --- the agent process -------------------------------------------------------------------

def test_the_agent_process_reports_what_it_serves_and_nothing_once_stopped(
        env, nb, sb, ovn_lab: OvnLab, run_prefix, tmp_path: Path, watcher, lab_report_cleanup):
    chassis = lab_report_cleanup
    net, [port] = network_with_ports(env, nb, sb)
    prefix = f"{run_prefix}m-"
    ns = prefix + net["id"]
    state = tmp_path / "state"
    neutron_key = {"neutron:ovn-metadata-id": "another agent's"}
    set_report(sb, chassis, **neutron_key)
    agent = start_agent(ovn_lab, state, chassis, ovn_lab.ovs_connection, ovn_lab.netns, prefix,
                        tmp_path / "agent.log")
    try:
        wait_until(lambda: report(sb, chassis) == {AGENT: agent_id(agent), NETWORKS: ""}, 30,
                   "the agent registered, serving nothing")
        with plugged_port(ovn_lab, "mv1", port["id"], port["mac_address"]):
            wait_until(lambda: port_status(env, port["id"]) == "ACTIVE", 30, "the port ACTIVE",
                       interval=0.01)
            # at the moment it is ACTIVE, its network is reported and listening
            assert report(sb, chassis) == {AGENT: agent_id(agent), NETWORKS: net["id"]}
            assert listening(ns)
        # its last local port gone, the namespace goes and the report follows
        wait_until(lambda: report(sb, chassis)[NETWORKS] == "", 20, "the network unreported")
        wait_until(lambda: not host_netns.netns_exists(ns), 10, f"{ns} removed")
        with plugged_port(ovn_lab, "mv1", port["id"], port["mac_address"]):
            wait_until(lambda: report(sb, chassis)[NETWORKS] == net["id"], 30,
                       "the network reported again")
            assert stop_agent(agent) == 0
            assert report(sb, chassis) == {AGENT: agent_id(agent), NETWORKS: ""}  # still registered
            with sb.ovsdb_connection.lock:
                row = next(r for r in sb.tables["Chassis_Private"].rows.values()
                           if r.name == chassis)
                assert row.external_ids["neutron:ovn-metadata-id"] == "another agent's"
            assert host_netns.netns_exists(ns)  # kept for the next agent to adopt
        assert remove_recorded(state, chassis=chassis,
                               ovs_connection=ovn_lab.ovs_connection) == [ns]
        assert not host_netns.netns_exists(ns)
    finally:
        stop_agent(agent, signal.SIGKILL)
        remove_recorded(state, chassis=chassis, ovs_connection=ovn_lab.ovs_connection)
        sb.db_remove("Chassis_Private", chassis, "external_ids", *neutron_key,
                     if_exists=True).execute(check_error=True)


def _plug(chassis: Chassis, ifname: str, port_id: str) -> None:
    """An OVS internal port of ``chassis``' br-int for ``port_id``: ovn-controller claims it."""
    chassis.vsctl("--may-exist", "add-port", "br-int", ifname, "--", "set", "Interface", ifname,
                  "type=internal", f"external_ids:iface-id={port_id}")


def test_agents_of_two_chassis_on_one_machine_keep_apart(
        env, nb, sb, ovn_lab: OvnLab, run_prefix, tmp_path: Path, watcher, lab_report_cleanup):
    """Two chassis in namespaces of one host serve the same network, each agent with
    its own namespace prefix and records: each reports in its own Chassis_Private; one
    killed, restarted (it adopts its namespace), stopped and cleaned up by
    ``remove_recorded(chassis=...)`` leaves the other's namespace alone."""
    ch1 = ovn_lab.deployment.chassis[0]
    ch2_dir = Path(tempfile.mkdtemp(prefix=f"{run_prefix}-ch2-"))  # short socket paths
    ch2 = Chassis(ch2_dir, f"{run_prefix}-ch2", ovn_lab.sb_connection, f"{run_prefix}-ch2",
                  encap_ip="127.0.0.2")
    net, [p1, p2] = network_with_ports(env, nb, sb, 2)
    state, log = tmp_path / "state", tmp_path / "agents.log"
    ns1, ns2 = f"{run_prefix}m-{net['id']}", f"{run_prefix}n-{net['id']}"
    agents: list[subprocess.Popen] = []
    try:
        ch2.start()
        agents += [start_agent(ovn_lab, state, ch1.name, ch1.ovs_connection, ch1.netns,
                               f"{run_prefix}m-", log),
                   start_agent(ovn_lab, state, ch2.name, ch2.ovs_connection, ch2.netns,
                               f"{run_prefix}n-", log)]
        # a chassis is gated only once its agent registered: wait for both
        for agent, chassis in zip(agents, (ch1.name, ch2.name)):
            registered = {AGENT: agent_id(agent), NETWORKS: ""}
            wait_until(lambda c=chassis, r=registered: report(sb, c) == r, 30,
                       f"the agent of {chassis} registered")
        _plug(ch1, f"{run_prefix}v1", p1["id"])
        _plug(ch2, f"{run_prefix}v2", p2["id"])
        wait_until(lambda: all(port_status(env, p["id"]) == "ACTIVE" for p in (p1, p2)), 30,
                   "both ports ACTIVE")
        for agent, chassis, ns in zip(agents, (ch1.name, ch2.name), (ns1, ns2)):
            assert report(sb, chassis) == {AGENT: agent_id(agent), NETWORKS: net["id"]}
            assert listening(ns)
            assert (state / "metadata-agent" / chassis / "netns" / ns).read_text() == net["id"]
        # the second chassis' agent killed: its report stays as it was (nobody clears it)
        stop_agent(agents[1], signal.SIGKILL)
        assert report(sb, ch2.name)[NETWORKS] == net["id"]
        agents[1] = start_agent(ovn_lab, state, ch2.name, ch2.ovs_connection, ch2.netns,
                                f"{run_prefix}n-", log)
        wait_until(lambda: report(sb, ch2.name) == {AGENT: agent_id(agents[1]),
                                                     NETWORKS: net["id"]}, 30,
                   "the restarted agent's report")
        wait_until(lambda: listening(ns2), 10, "the adopted namespace listening")
        assert stop_agent(agents[1]) == 0
        assert report(sb, ch2.name) == {AGENT: agent_id(agents[1]), NETWORKS: ""}
        assert remove_recorded(state, chassis=ch2.name, ovs_connection=ch2.ovs_connection) == \
            [ns2]
        assert not host_netns.netns_exists(ns2)
        assert listening(ns1) and report(sb, ch1.name)[NETWORKS] == net["id"]
    finally:
        for agent in agents:
            stop_agent(agent, signal.SIGKILL)
        remove_recorded(state, chassis=ch1.name, ovs_connection=ch1.ovs_connection)
        remove_recorded(state, chassis=ch2.name, ovs_connection=ch2.ovs_connection)
        ch1.vsctl("--if-exists", "del-port", "br-int", f"{run_prefix}v1")
        ch2.stop()
        sb.chassis_del(ch2.name, if_exists=True).execute(check_error=True)
        shutil.rmtree(ch2_dir, ignore_errors=True)


# --- the gate -------------------------------------------------------------------------

def test_a_port_is_down_until_its_chassis_agent_reports_its_network(
        env, nb, sb, fake_chassis, watcher, monkeypatch):
    monkeypatch.setattr(status, "RETRY_DELAY", 60.0)  # only the report's event releases it
    chassis = fake_chassis({AGENT: "elsewhere:1", NETWORKS: ""})
    net, [port] = network_with_ports(env, nb, sb)
    bind(sb, port["id"], chassis)
    with pytest.raises(TimeoutError):
        wait_until(lambda: port_status(env, port["id"]) == "ACTIVE", 2, "held")
    set_report(sb, chassis, **{NETWORKS: f"{net['id']}"})
    wait_until(lambda: port_status(env, port["id"]) == "ACTIVE", 5, "released by the report",
               interval=0.01)
    got = wire.show(env, ADMIN, "port", port["id"])
    assert got["binding:host_id"] == f"{chassis}-host"


def test_a_chassis_without_an_agent_is_not_gated(env, nb, sb, fake_chassis, watcher):
    bare = fake_chassis(None)  # no Chassis_Private row at all
    other = fake_chassis({"neutron:ovn-metadata-id": "x"})  # Neutron's agent, not ours
    _, made = network_with_ports(env, nb, sb, 2)
    for port, chassis in zip(made, (bare, other)):
        bind(sb, port["id"], chassis)
    wait_until(lambda: all(port_status(env, p["id"]) == "ACTIVE" for p in made), 10,
               "both ports ACTIVE")


def test_deleting_the_chassis_turns_its_ports_down(env, nb, sb, fake_chassis, watcher):
    chassis = fake_chassis({AGENT: "elsewhere:1"})
    net, [port] = network_with_ports(env, nb, sb)
    set_report(sb, chassis, **{NETWORKS: net["id"]})
    bind(sb, port["id"], chassis)
    wait_until(lambda: port_status(env, port["id"]) == "ACTIVE", 10, "the port ACTIVE")
    sb.chassis_del(chassis).execute(check_error=True)
    wait_until(lambda: port_status(env, port["id"]) == "DOWN", 10, "the port DOWN")
    assert not sb.lookup("Port_Binding", port["id"]).chassis

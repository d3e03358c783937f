"""pytest helpers for tests that need real OVS/OVN daemons.

A plain module (import it after putting ``tests/`` on ``sys.path``, as conftests do):

* :func:`run_prefix` (session fixture): ``"nt" + 4 hex digits``, part of every namespace,
  veth and bridge name a run creates, so names fit IFNAMSIZ (15) and runs never collide.
* :func:`ovn_lab` (session fixture): a private :class:`~neutrino.lab.deployment.OvnDeployment`
  (NB/SB ovsdb-server, ovn-northd, one chassis with ovsdb-server, ovs-vswitchd on the
  netdev datapath and ovn-controller inside the ``<prefix>-ch1`` namespace; ``physnet1``
  mapped to its ``br-ex``, gateway capable), under the
  test run's tmp dir, yielded as an :class:`OvnLab` and stopped by pid at the end of the
  session, whatever the tests did.  Skips when not root or when binaries are missing.
* :func:`ovn_lab_running`: the same as a context manager, for use outside pytest.
* :func:`plugged_port`: a namespace standing in for an instance, wired into ``br-int``
  by a veth with ``external_ids:iface-id``, removed on exit.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from neutrino.host.netns import NETNS_ETC
from neutrino.lab.daemons import (
    check_prerequisites,
    missing_packages,
    netns_exists,
    run,
)
from neutrino.lab.deployment import OvnDeployment

IFNAMSIZ = 15
# The lab chassis' physical network (ovn-bridge-mappings; the bridge lives in the chassis
# namespace) and its gateway capability (SB Chassis other_config:ovn-cms-options).
PHYSNET, PHYSNET_BRIDGE = "physnet1", "br-ex"
GATEWAY_CHASSIS = {"ovn-cms-options": "enable-chassis-as-gw"}
# A one-shot TCP echo server and its client, run with `python -c` inside namespaces
# to prove TCP (not only ICMP) crosses br-int.
TCP_ECHO_SERVER = """
import socket, sys
server = socket.create_server((sys.argv[1], 8080))
server.settimeout(10)
print("listening", flush=True)
conn, _ = server.accept()
conn.sendall(conn.recv(100))
"""
TCP_CLIENT = """
import socket, sys
conn = socket.create_connection((sys.argv[1], 8080), timeout=5)
conn.sendall(b"neutrino")
print(conn.recv(100).decode())
"""


@dataclass(frozen=True)
class OvnLab:
    """A running private deployment, as tests see it."""

    prefix: str
    state_dir: Path
    deployment: OvnDeployment

    @property
    def nb_connection(self) -> str:
        return self.deployment.nb_connection

    @property
    def sb_connection(self) -> str:
        return self.deployment.sb_connection

    @property
    def ovs_connection(self) -> str:
        return self.deployment.ovs_connection

    @property
    def chassis_name(self) -> str:
        return self.deployment.chassis[0].name

    @property
    def netns(self) -> str:
        """The chassis namespace: where br-int and ovs-netdev live."""
        return self.deployment.chassis[0].netns

    def name(self, suffix: str) -> str:
        """``<prefix><suffix>``, checked to fit an interface name (15 characters)."""
        name = f"{self.prefix}{suffix}"
        if len(name) > IFNAMSIZ:
            raise ValueError(f"{name!r} is longer than {IFNAMSIZ} characters")
        return name


def new_run_prefix() -> str:
    """A fresh run prefix: ``"nt"`` and 4 hex digits (``"nt3fa0"``)."""
    return "nt" + secrets.token_hex(2)


def skip_reason() -> str | None:
    """Why real daemons cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "OVN lab needs root (network namespaces, tap devices)"
    missing = check_prerequisites()
    if missing:
        return ("OVN lab needs " + ", ".join(m.what for m in missing)
                + "; apt-get install " + " ".join(missing_packages(missing)))
    if not Path("/dev/net/tun").exists():
        return "OVN lab needs /dev/net/tun for the netdev datapath"
    return None


@contextmanager
def ovn_lab_running(base_dir: Path, prefix: str, timeout: float = 30) -> Iterator[OvnLab]:
    """Start a central and one chassis under ``base_dir``; stop them on exit, even on error.

    A ``DaemonError`` from start names the component and its log; what was started before
    the failure is stopped again.  Logs stay in ``base_dir`` for post-mortems.
    """
    state_dir = base_dir / "ovn"
    if len(str(state_dir.resolve())) > 60:  # unix socket paths must stay under 108 bytes
        state_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-ovn-"))
    chassis = f"{prefix}-ch1"
    deployment = OvnDeployment(state_dir, chassis, netns=chassis,
                               bridge_mappings={PHYSNET: PHYSNET_BRIDGE},
                               external_ids=GATEWAY_CHASSIS)
    atexit.register(deployment.stop)  # interpreter exit without teardown (Ctrl-C twice)
    try:
        deployment.start(timeout)
        yield OvnLab(prefix, state_dir, deployment)
    finally:
        try:
            deployment.stop()
        finally:
            atexit.unregister(deployment.stop)


@pytest.fixture(scope="session")
def run_prefix() -> str:
    """The session's run prefix, see :func:`new_run_prefix`."""
    return new_run_prefix()


@pytest.fixture(scope="session")
def ovn_lab(run_prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvnLab]:
    """A private OVN deployment for the whole session (see the module docstring)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with ovn_lab_running(tmp_path_factory.mktemp("ovnlab"), run_prefix) as lab:
        yield lab


def ensure_netns(name: str) -> bool:
    """Create namespace ``name`` with lo up, resolv.conf written first; True if created."""
    etc = NETNS_ETC / name
    etc.mkdir(parents=True, exist_ok=True)
    if not (etc / "resolv.conf").exists():
        (etc / "resolv.conf").write_text(f"# neutrino test namespace {name}\n")
    if netns_exists(name):
        return False
    run(["ip", "netns", "add", name])
    run(["ip", "-n", name, "link", "set", "lo", "up"])
    return True


def remove_netns(name: str) -> None:
    """Delete namespace ``name`` (its veths go with it) and its /etc/netns dir, if there."""
    if netns_exists(name):
        run(["ip", "netns", "delete", name])
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)


_TX_CSUM_OFF = """
import sys
from pyroute2.ethtool import Ethtool
ethtool = Ethtool()
features = ethtool.get_features(sys.argv[1])
features.features["tx-checksum-ip-generic"].enable = False
ethtool.set_features(sys.argv[1], features)
"""


def disable_tx_checksum(netns: str, ifname: str) -> None:
    """Turn TX checksum offload off on ``ifname`` inside ``netns``.

    Needed on the instance side of a veth plugged into a netdev (userspace) bridge: the
    kernel hands TCP/UDP packets over with a partial checksum, ovs-vswitchd forwards them
    as they are and the receiver drops them (``InCsumErrors``).
    """
    run(["ip", "netns", "exec", netns, sys.executable, "-c", _TX_CSUM_OFF, ifname])


@contextmanager
def plugged_port(lab: OvnLab, suffix: str, iface_id: str, mac: str,
                 cidr: str | None = None) -> Iterator[str]:
    """A namespace ``<prefix>-<suffix>`` whose ``eth0`` (with ``mac``) is plugged into br-int.

    The veth's outer end ``<prefix><suffix>`` lives in the chassis namespace, is a br-int
    port with ``external_ids:iface-id=<iface_id>``, and goes away with the namespace.
    ``eth0`` gets ``cidr`` (``"10.0.0.5/24"``) if given and TX checksum offload off.
    Yields the namespace name.
    """
    ns, outer = lab.name(f"-{suffix}"), lab.name(suffix)
    chassis = lab.deployment.chassis[0]
    ensure_netns(ns)
    try:
        run(["ip", "-n", lab.netns, "link", "add", outer, "type", "veth",
             "peer", "name", "eth0", "netns", ns])
        run(["ip", "-n", ns, "link", "set", "eth0", "address", mac, "up"])
        disable_tx_checksum(ns, "eth0")
        if cidr:
            run(["ip", "-n", ns, "addr", "add", cidr, "dev", "eth0"])
        run(["ip", "-n", lab.netns, "link", "set", outer, "up"])
        chassis.vsctl("add-port", "br-int", outer, "--", "set", "Interface", outer,
                      f"external_ids:iface-id={iface_id}")
        yield ns
    finally:
        try:
            chassis.vsctl("--if-exists", "del-port", "br-int", outer)
        finally:
            remove_netns(ns)

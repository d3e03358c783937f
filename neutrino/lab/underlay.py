"""The lab's underlay: the network between chassis that geneve tunnels cross.

A cloud's hypervisors reach each other over a data-centre network; ovn-controller builds a
geneve tunnel to every other chassis' ``ovn-encap-ip`` (ovn-architecture(7), "Tunnel
Encapsulations"). In the lab that network is one namespace ``<base>-ul`` holding a Linux
bridge ``underlay``; chassis ``k`` joins it with a veth ``ul<k>`` (bridge side) /
``ul0`` (chassis side) and owns ``198.18.0.<k>/24``. 198.18.0.0/15 is the benchmarking
range (RFC 2544): these addresses exist only inside the lab's namespaces, never on the
host.

On the userspace (netdev) datapath a tunnel's outer packet is routed and ARPed by
ovs-vswitchd itself, through an OVS bridge that owns the local address (OVS
"Userspace Tunneling" documentation): so ``ul0`` is a port of the chassis' OVS bridge
``br-phy`` and the address sits on ``br-phy``'s internal interface, not on ``ul0``.
ovs-vswitchd recreates that interface when it restarts: :func:`attach` is idempotent and
is run again after a chassis restart.

Typical use::

    attach(chassis, 2, "ntc-1a2b3c4d")   # 198.18.0.2 on br-phy of chassis 2
    encap_ip(2)                          # "198.18.0.2"
    remove("ntc-1a2b3c4d")               # True: the namespace (and every ul<k>) is gone

Errors: those of ``neutrino.host`` (``NetlinkError``, ``HostError``, ``OvsError``) and
``daemons.CommandError`` from ``ovs-vsctl``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import subprocess

from neutrino.host import netns as host_netns
from neutrino.lab import deployment
from neutrino.lab.daemons import wait_until

UNDERLAY_CIDR = ipaddress.ip_network("198.18.0.0/24")
BRIDGE = "underlay"          # the Linux bridge in the underlay namespace
PHYS_BRIDGE = "br-phy"       # the chassis' OVS bridge carrying the encap address
CHASSIS_IF = "ul0"           # the chassis' end of its veth


def underlay_netns(base: str) -> str:
    """``"<base>-ul"``: the underlay namespace of the lab whose first chassis is ``base``."""
    return host_netns.check_netns_name(f"{base}-ul")


def encap_ip(index: int) -> str:
    """The underlay address of chassis ``index`` (1-based): ``"198.18.0.<index>"``."""
    if not 1 <= index < UNDERLAY_CIDR.num_addresses - 2:
        raise ValueError(f"chassis index {index} out of range")
    return str(UNDERLAY_CIDR.network_address + index)


def attach(chassis: deployment.Chassis, index: int, base: str, timeout: float = 30) -> None:
    """Join ``chassis`` (running, in its own namespace) to the underlay of ``base`` as
    chassis ``index``: veth, ``br-phy`` with ``ul0``, ``encap_ip(index)`` on ``br-phy``.
    Creates the underlay namespace and bridge when missing; idempotent."""
    if chassis.netns is None:
        raise ValueError("a lab chassis on the underlay runs in its own namespace")
    ns = underlay_netns(base)
    host_netns.ensure_netns(ns)
    host_netns.ensure_bridge(ns, BRIDGE)
    peer = f"ul{index}"
    host_netns.ensure_veth(peer, ns, CHASSIS_IF, chassis.netns, _mac(chassis.netns))
    host_netns.enslave(ns, peer, BRIDGE)
    chassis.vsctl("--may-exist", "add-br", PHYS_BRIDGE,
                  "--", "set", "Bridge", PHYS_BRIDGE, f"datapath_type={chassis.datapath_type}",
                  "--", "--may-exist", "add-port", PHYS_BRIDGE, CHASSIS_IF, timeout=timeout)
    wait_until(lambda: host_netns.link_exists(PHYS_BRIDGE, chassis.netns), timeout,
               f"{PHYS_BRIDGE} in {chassis.netns}")
    host_netns.set_addresses(chassis.netns, PHYS_BRIDGE,
                             [f"{encap_ip(index)}/{UNDERLAY_CIDR.prefixlen}"])
    host_netns.set_up(chassis.netns, PHYS_BRIDGE)


def warm(chassis: list[tuple[str, int]], timeout: float = 2) -> None:
    """Have every chassis ``(netns, index)`` ping every other's encap address once.

    The userspace datapath drops the first packet it tunnels to a peer whose MAC it does
    not know yet, and resolves it meanwhile (OVS "Userspace Tunneling": the tunnel
    neighbour cache, ``ovs-appctl tnl/neigh/show``); ARP exchanged here fills that
    cache, so an instance's first packet to another chassis is not the one lost."""
    procs = [subprocess.Popen(["ip", "netns", "exec", ns, "ping", "-n", "-c1",
                               f"-W{int(timeout)}", encap_ip(k)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for ns, i in chassis for _, k in chassis if k != i]
    for proc in procs:
        proc.wait(timeout + 5)


def detach(chassis_netns: str, index: int, base: str) -> bool:
    """Cut chassis ``index`` off the underlay (its veth deleted); True if it was joined.
    The way to make a chassis vanish from its peers without stopping it."""
    return host_netns.remove_link(f"ul{index}", underlay_netns(base))


def remove(base: str) -> bool:
    """Delete the underlay namespace of ``base`` (its veths go with it); True if it existed."""
    return host_netns.remove_netns(underlay_netns(base))


def _mac(netns: str) -> str:
    """A locally administered unicast MAC derived from the chassis namespace."""
    digest = hashlib.sha256(f"underlay:{netns}".encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])

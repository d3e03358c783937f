"""The lab's data centre switch: provider VLANs behind an OVS "upstream switch".

A VLAN provider network's localnet port puts its frames, tagged, on the OVS bridge
its physical network is mapped to (``bridge_mappings``, reference D.2). In a data
centre that bridge's uplink is a trunk to a switch whose access ports lead to the
VLANs' gateways. Here, inside the chassis namespace and its ovs-vswitchd:

    localnet (tag 100) -> physnet bridge (br-eth1) -- trunk: veth tp<h> | tu<h>, every VLAN
      -> upstream switch up<h> (an OVS bridge, NORMAL switching)
      -> access port vl<h'> (tag=100) | eth0 in ``<chassis netns>-vlan-<physnet>-100``
         holding the gateway, 10.10.100.1/24

Tags are pushed and popped by OVS only (the localnet port, the access ports' ``tag``):
the kernel has no 802.1Q module and no VLAN interface is ever made. The trunk is a
veth pair so a raw socket on its physnet end sees the tagged frames (the kernel
hands the tag over as packet auxdata); see :func:`trunk_ifname`.

State: ``<state_dir>/lab/vlans/<physnet>-<vlan>.json`` (:class:`VlanGateway`), written
before anything is made. Veths die with the chassis namespace (``neutrino down``):
:func:`remove_vlan` with ``forget=False`` takes the namespace away and keeps the JSON,
:func:`restore_vlan` plumbs it again after the next ``neutrino up``. The upstream
switch and trunk of a physical network go with its last VLAN (:func:`remove_switch`).

Typical use::

    gw = create_vlan(state_dir, "default", 100, "br-eth1", "ntc-1a2b3c4d", "unix:/…/db.sock",
                     gateway="10.10.100.1/24")
    exec_in_vlan(state_dir, "default", 100, ["ping", "-c1", "10.10.100.5"]).returncode
    remove_vlan(state_dir, "default", 100, "unix:/…/db.sock")      # True; again: False

Errors: ``ValueError`` for a bad physnet, VLAN or address, :class:`VlanNotFound`,
:class:`VlanError` (the chassis namespace is missing), and those of ``neutrino.host``.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path


from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.lab.daemons import netns_argv
from neutrino.lab.external import _check_physnet

NS_IF = "eth0"
#: Interface external_ids key marking the lab's VLAN ports.
OVS_MARK = "neutrino-vlan"


class VlanError(RuntimeError):
    """A VLAN gateway could not be created or used."""


class VlanNotFound(VlanError, LookupError):
    """No VLAN gateway saved for that physical network and VLAN."""


@dataclass(frozen=True)
class VlanGateway:
    """A VLAN's gateway as persisted in ``<state_dir>/lab/vlans/<physnet>-<vlan>.json``.

    ``bridge`` is the physnet's OVS bridge, ``switch`` the upstream switch, both in
    ``chassis_netns``; ``host_if`` the access port (``tag=vlan``) on ``switch``, ``ns_if``
    its peer in ``netns`` (MAC ``mac``) holding ``gateway`` (``"10.10.100.1/24"``).
    """

    physnet: str
    vlan: int
    bridge: str
    switch: str
    netns: str
    chassis_netns: str
    host_if: str
    ns_if: str
    mac: str
    gateway: str

    @property
    def gateway_ip(self) -> str:
        """``"10.10.100.1"``."""
        return str(ipaddress.ip_interface(self.gateway).ip)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> VlanGateway:
        return cls(**json.loads(text))


def switch_name(physnet: str) -> str:
    """The upstream switch bridge of ``physnet``: ``up`` + 10 hex digits."""
    return "up" + _hash(_check_physnet(physnet))


def trunk_ifnames(physnet: str) -> tuple[str, str]:
    """The trunk veth's ends: (on the physnet bridge, on the upstream switch)."""
    h = _hash(_check_physnet(physnet))
    return "tp" + h, "tu" + h


def trunk_ifname(physnet: str) -> str:
    """The trunk end on the physnet bridge, in the chassis namespace: every frame
    between the localnet ports and the upstream switch passes it, tagged."""
    return trunk_ifnames(physnet)[0]


def vlan_netns(chassis_netns: str, physnet: str, vlan: int) -> str:
    """``"<chassis_netns>-vlan-<physnet>-<vlan>"``."""
    return host_netns.check_netns_name(f"{chassis_netns}-vlan-{_check_physnet(physnet)}-"
                                       f"{_check_vlan(vlan)}")


def vlans_dir(state_dir: Path) -> Path:
    """``<state_dir>/lab/vlans``, absolute."""
    return Path(state_dir).absolute() / "lab" / "vlans"


def get_vlan(state_dir: Path, physnet: str, vlan: int) -> VlanGateway:
    """The saved gateway of (``physnet``, ``vlan``); :class:`VlanNotFound` if none."""
    try:
        return VlanGateway.from_json(_path(state_dir, physnet, vlan).read_text())
    except FileNotFoundError:
        raise VlanNotFound(f"no lab VLAN {vlan} on physical network {physnet!r} "
                           f"under {state_dir}") from None


def list_vlans(state_dir: Path) -> list[VlanGateway]:
    """Every saved VLAN gateway, by physnet and VLAN (unreadable files are skipped)."""
    found = []
    for path in vlans_dir(state_dir).glob("*.json"):
        with contextlib.suppress(OSError, ValueError, TypeError):
            found.append(VlanGateway.from_json(path.read_text()))
    return sorted(found, key=lambda g: (g.physnet, g.vlan))


def create_vlan(state_dir: Path, physnet: str, vlan: int, bridge: str, chassis_netns: str,
                ovs_connection: str, gateway: str) -> VlanGateway:
    """Create (or complete, or bring in line) the gateway of VLAN ``vlan`` on ``physnet``.

    ``bridge`` is the OVS bridge ``physnet`` is mapped to, in ``chassis_netns`` whose
    ovs-vswitchd uses ``ovs_connection``; the upstream switch and its trunk to ``bridge``
    are made if missing. ``gateway`` is an IPv4 interface address (``"10.10.100.1/24"``).
    Idempotent. ``ValueError`` for bad input, :class:`VlanError` when the chassis
    namespace does not exist, ``OvsError`` when ``bridge`` does not.
    """
    gw = ipaddress.ip_interface(gateway)
    if gw.version != 4 or gw.network.prefixlen >= 31:
        raise ValueError(f"gateway {gateway!r} must be an IPv4 address with a prefix, "
                         "like 10.10.100.1/24")
    ns = vlan_netns(chassis_netns, physnet, vlan)
    up = VlanGateway(physnet=physnet, vlan=vlan, bridge=bridge, switch=switch_name(physnet),
                     netns=ns, chassis_netns=chassis_netns,
                     host_if="vl" + _hash(f"{physnet}:{vlan}"), ns_if=NS_IF, mac=_mac(ns),
                     gateway=str(gw))
    with contextlib.suppress(VlanNotFound):
        old = get_vlan(state_dir, physnet, vlan)
        if (old.chassis_netns, old.bridge) != (chassis_netns, bridge):
            remove_vlan(state_dir, physnet, vlan, ovs_connection, forget=False)
    path = _path(state_dir, physnet, vlan)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(up.to_json())
    os.replace(tmp, path)
    _plumb(up, ovs_connection)
    return up


def restore_vlan(state_dir: Path, physnet: str, vlan: int, chassis_netns: str,
                 ovs_connection: str, bridge: str | None = None) -> VlanGateway:
    """Plumb a saved VLAN gateway again (``neutrino up`` after ``down``) into
    ``chassis_netns``, onto ``bridge`` (default: the saved one)."""
    gw = get_vlan(state_dir, physnet, vlan)
    return create_vlan(state_dir, physnet, vlan, bridge or gw.bridge, chassis_netns,
                       ovs_connection, gw.gateway)


def remove_vlan(state_dir: Path, physnet: str, vlan: int, ovs_connection: str,
                forget: bool = True) -> bool:
    """Remove the gateway of (``physnet``, ``vlan``); True if anything of it was there.

    Unplugs its access port (``--no-wait``; a stopped OVS is no error), deletes the veth
    and the namespace with ``/etc/netns/<ns>``. With ``forget`` also its JSON, and the
    upstream switch and trunk when it was the physnet's last VLAN.
    """
    path = _path(state_dir, physnet, vlan)
    try:
        gw: VlanGateway | None = get_vlan(state_dir, physnet, vlan)
    except (VlanNotFound, ValueError, TypeError):
        gw = None
    found = forget and path.exists()
    if gw is not None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            if gw.host_if in host_ovs.bridge_ports(ovs_connection, gw.switch, timeout=5):
                host_ovs.unplug(ovs_connection, gw.switch, gw.host_if, timeout=5)
                found = True
        with contextlib.suppress(FileNotFoundError):
            found |= host_netns.remove_link(gw.host_if, gw.chassis_netns)
        found |= host_netns.remove_netns(gw.netns)
    if forget:
        path.unlink(missing_ok=True)
        if gw is not None and not any(g.physnet == physnet for g in list_vlans(state_dir)):
            found |= remove_switch(gw, ovs_connection)
    return found


def remove_switch(gw: VlanGateway, ovs_connection: str) -> bool:
    """Remove the upstream switch and trunk of ``gw``'s physnet; True if there."""
    physnet_end, switch_end = trunk_ifnames(gw.physnet)
    found = False
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        if physnet_end in host_ovs.bridge_ports(ovs_connection, gw.bridge, timeout=5):
            found = True
        host_ovs.vsctl(ovs_connection, "--no-wait", "--", "--if-exists", "del-port", gw.bridge,
                       physnet_end, "--", "--if-exists", "del-br", gw.switch, timeout=5)
    with contextlib.suppress(FileNotFoundError):
        found |= host_netns.remove_link(physnet_end, gw.chassis_netns)
    return found


def remove_all(state_dir: Path, ovs_connection: str) -> None:
    """``neutrino down``: every gateway namespace, access port, switch and trunk goes;
    the JSON stays for the next ``up``."""
    gateways = list_vlans(state_dir)
    for gw in gateways:
        remove_vlan(state_dir, gw.physnet, gw.vlan, ovs_connection, forget=False)
    for gw in {g.physnet: g for g in gateways}.values():
        remove_switch(gw, ovs_connection)


def exec_in_vlan(state_dir: Path, physnet: str, vlan: int, argv: list[str], *,
                 timeout: float = 30, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in the gateway namespace of (``physnet``, ``vlan``), output captured.
    :class:`VlanNotFound` when there is none or its namespace is gone."""
    gw = get_vlan(state_dir, physnet, vlan)
    if not host_netns.netns_exists(gw.netns):
        raise VlanNotFound(f"lab VLAN {vlan} on {physnet!r}: namespace {gw.netns} is gone "
                           "(is neutrino up running?)")
    return subprocess.run(netns_argv(gw.netns, argv), capture_output=True, text=True,
                          timeout=timeout, check=check)


def is_plumbed(gw: VlanGateway) -> bool:
    """True when the namespace exists and ``eth0`` is up holding the gateway address."""
    return host_netns.holds_address(gw.netns, gw.ns_if, gw.gateway)


# --- internals --------------------------------------------------------------------

def _plumb(gw: VlanGateway, ovs_connection: str) -> None:
    if not host_netns.netns_exists(gw.chassis_netns):
        raise VlanError(f"chassis namespace {gw.chassis_netns} does not exist "
                        "(is the chassis running?)")
    _ensure_switch(gw, ovs_connection)
    host_netns.ensure_netns(gw.netns)
    if host_netns.ensure_veth(gw.host_if, gw.chassis_netns, gw.ns_if, gw.netns, gw.mac):
        # a port row left from an earlier veth of that name would keep the dead device
        host_ovs.vsctl(ovs_connection, "--if-exists", "del-port", gw.host_if)
    host_ovs.vsctl(ovs_connection, "--", "--may-exist", "add-port", gw.switch, gw.host_if,
                   "--", "set", "Port", gw.host_if, f"tag={gw.vlan}",
                   "--", "set", "Interface", gw.host_if,
                   f"external_ids:{OVS_MARK}={json.dumps(f'{gw.physnet}:{gw.vlan}')}")
    host_netns.set_addresses(gw.netns, gw.ns_if, [gw.gateway])


def _ensure_switch(gw: VlanGateway, ovs_connection: str) -> None:
    """The upstream switch (same datapath type as the physnet bridge) and the trunk."""
    physnet_end, switch_end = trunk_ifnames(gw.physnet)
    datapath = host_ovs.vsctl(ovs_connection, "get", "Bridge", gw.bridge,
                              "datapath_type").strip().strip('"') or "system"
    if host_netns.ensure_veth(physnet_end, gw.chassis_netns, switch_end, gw.chassis_netns,
                              _mac(switch_end)):
        host_ovs.vsctl(ovs_connection, "--if-exists", "del-port", physnet_end,
                       "--", "--if-exists", "del-port", switch_end)
    mark = f"external_ids:{OVS_MARK}={json.dumps(gw.physnet + ':trunk')}"
    host_ovs.vsctl(ovs_connection,
                   "--", "--may-exist", "add-br", gw.switch,
                   "--", "set", "Bridge", gw.switch, f"datapath_type={datapath}",
                   "--", "--may-exist", "add-port", gw.bridge, physnet_end,
                   "--", "set", "Interface", physnet_end, mark,
                   "--", "--may-exist", "add-port", gw.switch, switch_end,
                   "--", "set", "Interface", switch_end, mark)


def _check_vlan(vlan: int) -> int:
    if not isinstance(vlan, int) or not 1 <= vlan <= 4094:
        raise ValueError(f"VLAN {vlan!r} is not 1-4094")
    return vlan


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _mac(name: str) -> str:
    """A locally administered unicast MAC derived from ``name``."""
    digest = hashlib.sha256(name.encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])


def _path(state_dir: Path, physnet: str, vlan: int) -> Path:
    return vlans_dir(state_dir) / f"{_check_physnet(physnet)}-{_check_vlan(vlan)}.json"

"""The lab's external world: one "upstream" namespace per physical network.

Neutron's external (``router:external``) networks are flat or VLAN provider networks:
OVN gives each a ``localnet`` port whose traffic ovn-controller patches onto the OVS
bridge named for that physical network in ``ovn-bridge-mappings`` (reference D.2). In a
data centre a physical router sits on that bridge's uplink; here a namespace does:

    instance -> router (SNAT / floating IP) -> localnet -> br-ex (chassis netns)
      -> veth ``ext<10 hex>`` | ``c<k>`` -> bridge ``eth0`` in ``<chassis netns>-ext-<physnet>``

With several chassis mapping the physical network (gateway chassis, and hypervisors for
distributed floating IPs), each has its own veth ``ext<10 hex>`` | ``c<k>`` into the
upstream's Linux bridge ``eth0``: one L2 segment, as a data centre's external VLAN is, so
a gateway that moves to another chassis is found again by its gratuitous ARP. A
capture on ``c<k>`` shows what chassis ``k`` sends to the outside.

The upstream namespace owns the external subnet's gateway address (``172.24.4.1/24``,
what the subnet's ``gateway_ip`` and so a router's default route point at) and "outside
host" addresses that are *not* in that subnet (``203.0.113.10/32``), so reaching them
from a router exercises its default route. Both sit on ``eth0``; the outside addresses
are /32, so the namespace has no route beyond the external subnet (no back route to
project networks: replies only find instances through SNAT or floating IPs).

The namespace name derives from the chassis namespace, itself unique per state dir, so
two all-in-ones or test runs never share one. State lives in
``<state_dir>/lab/external/<physnet>.json`` (:class:`Upstream`), written before anything
is created. The veth dies with the chassis namespace (``neutrino down``):
:func:`restore_upstream` plumbs a saved upstream again after a restart, and
:func:`remove_upstream` with ``forget=False`` takes the namespace away but keeps the JSON.

Typical use::

    up = create_upstream(state_dir, "physnet1", "br-ex", "ntc-1a2b3c4d", "unix:/…/db.sock",
                         gateway="172.24.4.1/24", outside=("203.0.113.10/32",))
    up.netns                                                 # "ntc-1a2b3c4d-ext-physnet1"
    exec_in_upstream(state_dir, "physnet1", ["ping", "-c1", "172.24.4.10"]).returncode
    remove_upstream(state_dir, "physnet1", "unix:/…/db.sock")   # True; again: False

Errors: ``ValueError`` for a bad physnet name or addresses, :class:`UpstreamNotFound`,
:class:`UpstreamError` (the chassis namespace is missing), and those of
``neutrino.host`` (``OvsError``, pyroute2's ``NetlinkError``).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.lab.daemons import netns_argv

NS_IF = "eth0"
DEFAULT_OUTSIDE = ("203.0.113.10/32",)  # TEST-NET-3 (RFC 5737): never a real host
_PHYSNET = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
#: Interface external_ids key marking the upstream's port on the physnet bridge.
OVS_MARK = "neutrino-upstream"


class UpstreamError(RuntimeError):
    """An upstream namespace could not be created or used."""


class UpstreamNotFound(UpstreamError, LookupError):
    """No upstream saved for that physical network under the state directory."""


@dataclass(frozen=True)
class Upstream:
    """An upstream as persisted in ``<state_dir>/lab/external/<physnet>.json``.

    ``gateway`` is the interface address (``"172.24.4.1/24"``), ``outside`` the outside
    host addresses (``("203.0.113.10/32",)``), both on the Linux bridge ``ns_if`` in
    ``netns`` (MAC ``mac``); ``host_if`` is the veth end plugged into ``bridge`` inside
    ``chassis_netns`` (and inside each of ``extra_chassis``: ``(netns, ovs connection)``
    pairs), its peer ``c<k>`` (:meth:`port_of`) a port of ``ns_if``.
    ``network_id``/``subnet_id`` name the Neutron external network and subnet it serves,
    when it was made through the API ("" otherwise).
    """

    physnet: str
    bridge: str
    netns: str
    chassis_netns: str
    host_if: str
    ns_if: str
    mac: str
    gateway: str
    outside: tuple[str, ...] = DEFAULT_OUTSIDE
    network_id: str = ""
    subnet_id: str = ""
    extra_chassis: tuple[tuple[str, str], ...] = ()

    @property
    def chassis_namespaces(self) -> list[str]:
        """Every chassis namespace plugged in, the first one first."""
        return [self.chassis_netns, *(ns for ns, _ in self.extra_chassis)]

    def port_of(self, chassis_netns: str) -> str:
        """The upstream-side veth end of a chassis: ``"c<k>"`` (1-based, in
        :attr:`chassis_namespaces` order). ``ValueError`` for a chassis not plugged in."""
        return f"c{self.chassis_namespaces.index(chassis_netns) + 1}"

    @property
    def gateway_ip(self) -> str:
        """``"172.24.4.1"``: the gateway address without its prefix length."""
        return str(ipaddress.ip_interface(self.gateway).ip)

    @property
    def outside_ips(self) -> list[str]:
        """``["203.0.113.10"]``."""
        return [str(ipaddress.ip_interface(a).ip) for a in self.outside]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Upstream:
        data = json.loads(text)
        return cls(**{**data, "outside": tuple(data.get("outside", ())),
                      "extra_chassis": tuple(tuple(c) for c in data.get("extra_chassis", ()))})


def upstream_netns(chassis_netns: str, physnet: str) -> str:
    """``"<chassis_netns>-ext-<physnet>"``, e.g. ``"ntc-1a2b3c4d-ext-physnet1"``."""
    return host_netns.check_netns_name(f"{chassis_netns}-ext-{_check_physnet(physnet)}")


def host_ifname(physnet: str) -> str:
    """The veth end on the physnet bridge: ``ext`` + 10 hex digits of sha256(physnet)."""
    return "ext" + hashlib.sha256(_check_physnet(physnet).encode()).hexdigest()[:10]


def external_dir(state_dir: Path) -> Path:
    """``<state_dir>/lab/external``, absolute."""
    return Path(state_dir).absolute() / "lab" / "external"


def get_upstream(state_dir: Path, physnet: str) -> Upstream:
    """The saved upstream of ``physnet``; :class:`UpstreamNotFound` if there is none."""
    try:
        return Upstream.from_json(_path(state_dir, physnet).read_text())
    except FileNotFoundError:
        raise UpstreamNotFound(f"no lab upstream for physical network {physnet!r} "
                               f"under {state_dir}") from None


def list_upstreams(state_dir: Path) -> list[Upstream]:
    """Every saved upstream, sorted by physnet (unreadable files are skipped)."""
    found = []
    for path in sorted(external_dir(state_dir).glob("*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError):
            found.append(Upstream.from_json(path.read_text()))
    return found


def create_upstream(state_dir: Path, physnet: str, bridge: str, chassis_netns: str,
                    ovs_connection: str, gateway: str = "172.24.4.1/24",
                    outside: Iterable[str] = DEFAULT_OUTSIDE, network_id: str = "",
                    subnet_id: str = "",
                    extra_chassis: Iterable[tuple[str, str]] = ()) -> Upstream:
    """Create (or complete, or bring in line) the upstream of ``physnet`` and return it.

    ``bridge`` is the OVS bridge ``physnet`` is mapped to on the chassis whose
    ovs-vswitchd runs in ``chassis_netns`` with database ``ovs_connection``; it must
    exist (``OvsError`` otherwise); ``extra_chassis`` are more ``(namespace, ovs
    connection)`` pairs of chassis with the same bridge.  ``gateway`` is an interface address
    (``"172.24.4.1/24"``); ``outside`` are addresses outside that subnet (a bare
    address means /32).  Idempotent: an existing upstream is re-plumbed and its
    addresses set to exactly these.  ``ValueError`` for a bad physnet or addresses,
    :class:`UpstreamError` when ``chassis_netns`` does not exist.
    """
    gw = ipaddress.ip_interface(gateway)
    if gw.version != 4 or gw.network.prefixlen >= 31:
        raise ValueError(f"gateway {gateway!r} must be an IPv4 address with a prefix, "
                         f"like 172.24.4.1/24")
    outs = tuple(str(ipaddress.ip_interface(a if "/" in a else f"{a}/32")) for a in outside)
    for addr in outs:
        if ipaddress.ip_interface(addr).ip in gw.network:
            raise ValueError(f"outside address {addr} is inside the external subnet "
                             f"{gw.network}: it must be reached through the gateway")
    ns = upstream_netns(chassis_netns, physnet)
    up = Upstream(physnet=physnet, bridge=bridge, netns=ns, chassis_netns=chassis_netns,
                  host_if=host_ifname(physnet), ns_if=NS_IF, mac=_mac(ns), gateway=str(gw),
                  outside=outs, network_id=network_id, subnet_id=subnet_id,
                  extra_chassis=tuple(tuple(c) for c in extra_chassis))
    path = _path(state_dir, physnet)
    with contextlib.suppress(UpstreamNotFound):
        old = get_upstream(state_dir, physnet)
        if (old.chassis_netns, old.bridge, old.extra_chassis) != \
                (chassis_netns, bridge, up.extra_chassis):
            remove_upstream(state_dir, physnet, ovs_connection, forget=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(path, up)
    _plumb(up, ovs_connection)
    return up


def restore_upstream(state_dir: Path, physnet: str, chassis_netns: str, ovs_connection: str,
                     bridge: str | None = None,
                     extra_chassis: Iterable[tuple[str, str]] = ()) -> Upstream:
    """Plumb a saved upstream again (``neutrino up`` after ``down``), into
    ``chassis_netns`` (and ``extra_chassis``) and onto ``bridge`` (default: the saved
    one); see :func:`create_upstream`.  :class:`UpstreamNotFound` if none is saved."""
    up = get_upstream(state_dir, physnet)
    return create_upstream(state_dir, physnet, bridge or up.bridge, chassis_netns,
                           ovs_connection, up.gateway, up.outside, up.network_id, up.subnet_id,
                           extra_chassis)


def remove_upstream(state_dir: Path, physnet: str, ovs_connection: str,
                    forget: bool = True) -> bool:
    """Remove the upstream of ``physnet``; True if anything of it was there.

    Unplugs its port from the bridge (``--no-wait``; a stopped OVS is no error), deletes
    the veth and the namespace with ``/etc/netns/<ns>``; with ``forget`` also the JSON
    (``neutrino down`` keeps it, to restore on the next ``up``).
    """
    path = _path(state_dir, physnet)
    try:
        up: Upstream | None = get_upstream(state_dir, physnet)
    except (UpstreamNotFound, ValueError, TypeError):
        up = None
    found = forget and path.exists()
    if up is not None:
        for netns, ovs in ((up.chassis_netns, ovs_connection), *up.extra_chassis):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                if up.host_if in host_ovs.bridge_ports(ovs, up.bridge, timeout=5):
                    host_ovs.unplug(ovs, up.bridge, up.host_if, timeout=5)
                    found = True
            found |= host_netns.remove_link(up.host_if, netns)
        found |= host_netns.remove_netns(up.netns)
    if forget:
        path.unlink(missing_ok=True)
    return found


def exec_in_upstream(state_dir: Path, physnet: str, argv: list[str], *, timeout: float = 30,
                     check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside the upstream of ``physnet`` (``ip netns exec``), output captured.

    ``CalledProcessError`` on a non-zero exit when ``check``; ``subprocess.TimeoutExpired``
    after ``timeout``; :class:`UpstreamNotFound` when there is none or its namespace is
    gone (``neutrino up`` is not running).
    """
    up = get_upstream(state_dir, physnet)
    if not host_netns.netns_exists(up.netns):
        raise UpstreamNotFound(f"lab upstream {physnet!r}: namespace {up.netns} is gone "
                               f"(is neutrino up running?)")
    return subprocess.run(netns_argv(up.netns, argv), capture_output=True, text=True,
                          timeout=timeout, check=check)


def is_plumbed(up: Upstream) -> bool:
    """True when the namespace exists and ``eth0`` is up holding the gateway address."""
    return host_netns.holds_address(up.netns, up.ns_if, up.gateway)


def _plumb(up: Upstream, ovs_connection: str) -> None:
    chassis = [(up.chassis_netns, ovs_connection), *up.extra_chassis]
    for netns, _ in chassis:
        if not host_netns.netns_exists(netns):
            raise UpstreamError(f"chassis namespace {netns} does not exist "
                                f"(is the chassis running?)")
    host_netns.ensure_netns(up.netns)
    if host_netns.link_kind(up.netns, up.ns_if) not in (None, "bridge"):  # an older lab's veth
        host_netns.remove_link(up.ns_if, up.netns)
    host_netns.ensure_bridge(up.netns, up.ns_if, mac=up.mac)
    for netns, ovs in chassis:
        peer = up.port_of(netns)
        created = host_netns.ensure_veth(up.host_if, netns, peer, up.netns,
                                         _mac(f"{up.netns}/{peer}"))
        host_netns.enslave(up.netns, peer, up.ns_if)
        if created:
            # A port row left from an earlier veth of that name (deleted with the chassis
            # namespace, OVS not told) keeps receiving from the dead device on the netdev
            # datapath: remove it first, in its own transaction, so ovs-vswitchd reopens.
            host_ovs.vsctl(ovs, "--if-exists", "del-port", up.host_if)
        host_ovs.vsctl(ovs, "--", "--may-exist", "add-port", up.bridge, up.host_if,
                       "--", "set", "Interface", up.host_if,
                       f"external_ids:{OVS_MARK}={json.dumps(up.physnet)}")
    host_netns.set_addresses(up.netns, up.ns_if, [up.gateway, *up.outside])


def _mac(netns: str) -> str:
    """A locally administered unicast MAC derived from the namespace name."""
    digest = hashlib.sha256(netns.encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])


def _check_physnet(physnet: str) -> str:
    if not _PHYSNET.match(physnet):
        raise ValueError(f"physical network name {physnet!r} is not usable for a lab "
                         f"upstream ([A-Za-z0-9_.-], up to 64)")
    return physnet


def _path(state_dir: Path, physnet: str) -> Path:
    return external_dir(state_dir) / f"{_check_physnet(physnet)}.json"


def _save(path: Path, up: Upstream) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(up.to_json())
    os.replace(tmp, path)

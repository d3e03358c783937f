"""Network namespaces and veth pairs, on pyroute2's synchronous ``IPRoute``.

A namespace created here always gets ``/etc/netns/<name>/resolv.conf`` *before* it exists,
so ``ip netns exec <name> …`` bind-mounts that file over ``/etc/resolv.conf`` and nothing
run inside can read or rewrite the host's.  Everything mirrors ovsdbapp's flags:
``ensure_*`` are ``may_exist`` (calling twice is harmless), ``remove_*`` are ``if_exists``.

Typical use::

    ensure_netns("lab-vm1")                                   # True: created
    ensure_veth("tap1a2b3c4d5e", "nt3fa0-ch1", "eth0", "lab-vm1", "fa:16:3e:00:00:05")
    disable_tx_checksum("lab-vm1", "eth0")                    # done by ensure_veth already
    remove_link("tap1a2b3c4d5e", "nt3fa0-ch1")                # True: the pair is gone
    remove_netns("lab-vm1")                                   # True: removed

Errors: ``ValueError`` for a bad namespace or interface name, ``FileNotFoundError`` when
a namespace that must exist does not, pyroute2's ``NetlinkError`` (``.code`` is the
errno) for a refused netlink request, and :class:`HostError` for an inconsistent leftover
that is not ours to guess about.
"""

from __future__ import annotations

import errno
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyroute2 import IPRoute
from pyroute2 import netns as pr_netns
from pyroute2.ethtool.ioctl import IoctlEthtool
from pyroute2.netlink.exceptions import NetlinkError

NETNS_RUN = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")
IFNAMSIZ = 15
#: ``ethtool -k`` name of the offload that leaves TCP/UDP checksums to the NIC on a veth.
TX_CHECKSUM_FEATURE = "tx-checksum-ip-generic"

_NETNS_NAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,127}$")
_IFNAME = re.compile(r"^[^\s/:]{1,15}$")


class HostError(RuntimeError):
    """Host state that contradicts what was asked and is not ours to repair silently."""


def check_netns_name(name: str) -> str:
    """Return ``name`` if usable as a namespace name (``[A-Za-z0-9_.-]``, ≤ 128), else raise
    ``ValueError``.  ``"."``/``".."`` and names starting with ``-`` are refused."""
    if not _NETNS_NAME.match(name) or name in (".", ".."):
        raise ValueError(f"invalid network namespace name {name!r}")
    return name


def check_ifname(name: str) -> str:
    """Return ``name`` if usable as an interface name (1..15 chars, no space, ``/``, ``:``)."""
    if not _IFNAME.match(name):
        raise ValueError(f"invalid interface name {name!r} (1..{IFNAMSIZ} characters)")
    return name


def netns_exists(name: str) -> bool:
    """True when ``ip netns`` knows a namespace called ``name``."""
    return (NETNS_RUN / check_netns_name(name)).exists()


def resolv_conf_path(name: str) -> Path:
    """``/etc/netns/<name>/resolv.conf``: what ``ip netns exec <name>`` sees as resolv.conf."""
    return NETNS_ETC / check_netns_name(name) / "resolv.conf"


def ensure_resolv_conf(name: str) -> None:
    """Write ``/etc/netns/<name>/resolv.conf`` (a comment only, unless it already exists:
    DNS servers written there by a DHCP client are kept) before namespace ``name`` is
    made, so ``ip netns exec`` never shows it the host's. Raises HostError for a symlink."""
    resolv = resolv_conf_path(name)
    resolv.parent.mkdir(parents=True, exist_ok=True)
    if resolv.is_symlink():
        raise HostError(f"{resolv} is a symlink; refusing to use it")
    if not resolv.exists():
        resolv.write_text(f"# neutrino: resolv.conf of network namespace {name}\n")


def ensure_netns(name: str) -> bool:
    """Create namespace ``name`` with ``lo`` up; True if it was created, False if it existed.

    Its resolv.conf is written first (:func:`ensure_resolv_conf`), so the namespace never
    exists without it.  ``lo`` is brought up in either case.
    """
    ensure_resolv_conf(name)
    created = False
    if not netns_exists(name):
        try:
            pr_netns.create(name)
            created = True
        except FileExistsError:  # created concurrently
            pass
    with _iproute(name) as ipr:
        (lo,) = ipr.link_lookup(ifname="lo")
        ipr.link("set", index=lo, state="up")
    return created


def remove_netns(name: str) -> bool:
    """Delete namespace ``name`` and ``/etc/netns/<name>``; True if the namespace existed.

    Interfaces inside go with it (a veth takes its peer along), unless a process still
    runs inside: the namespace then lives on, unnamed, until that process exits, so stop
    the processes you started there first.
    """
    existed = netns_exists(name)
    if existed:
        try:
            pr_netns.remove(name)
        except FileNotFoundError:  # removed concurrently
            existed = False
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
    return existed


def link_exists(ifname: str, netns: str | None = None) -> bool:
    """True when ``ifname`` exists in ``netns`` (None: this process' namespace).

    A missing namespace counts as "no such link".
    """
    if netns is not None and not netns_exists(netns):
        return False
    with _iproute(netns) as ipr:
        return bool(ipr.link_lookup(ifname=check_ifname(ifname)))


def ensure_veth(host_if: str, host_netns: str | None, ns_if: str, netns: str, mac: str) -> bool:
    """A veth pair ``host_if`` (in ``host_netns``, None: here) <-> ``ns_if`` (in ``netns``).

    The pair is created with its peer directly inside ``netns`` (never visible in
    ``host_netns`` under a colliding name), ``mac`` is set on ``ns_if``, both ends are up
    and have TX checksum offload off (see :func:`disable_tx_checksum`).  Returns True if
    the pair was created, False if an existing, matching pair was reused (MAC, state and
    offload are enforced again).  Both namespaces must exist (``FileNotFoundError``).
    A ``host_if`` whose peer is not ``ns_if`` in ``netns`` (say, left over from an earlier
    namespace of the same name) is deleted and recreated; an ``ns_if`` that exists but is
    not the peer of ``host_if`` raises :class:`HostError`.
    """
    check_ifname(host_if), check_ifname(ns_if)
    for ns in (host_netns, netns):
        if ns is not None and not netns_exists(ns):
            raise FileNotFoundError(errno.ENOENT, "no such network namespace", ns)
    created = False
    with _iproute(host_netns) as outer, _iproute(netns) as inner:
        out_idx = _lookup(outer, host_if)
        in_idx = _lookup(inner, ns_if)
        if out_idx is not None and not _is_pair(outer, out_idx, inner, in_idx):
            outer.link("del", index=out_idx)
            out_idx = None
            in_idx = _lookup(inner, ns_if)
        if out_idx is None:
            if in_idx is not None:
                raise HostError(f"{ns_if} already exists in namespace {netns} and is not "
                                f"the peer of {host_if}")
            outer.link("add", ifname=host_if, kind="veth",
                       peer={"ifname": ns_if, "net_ns_fd": netns})
            created = True
            out_idx = _lookup(outer, host_if)
            in_idx = _lookup(inner, ns_if)
            if out_idx is None or in_idx is None:
                raise HostError(f"veth {host_if}/{ns_if} vanished right after creation")
        inner.link("set", index=in_idx, address=mac)
        inner.link("set", index=in_idx, state="up")
        outer.link("set", index=out_idx, state="up")
    disable_tx_checksum(netns, ns_if)
    disable_tx_checksum(host_netns, host_if)
    return created


def ensure_bridge(netns: str | None, name: str, addresses: tuple[str, ...] = (),
                  mac: str | None = None) -> bool:
    """A Linux bridge ``name`` in ``netns`` (None: here), up, with ``mac`` (when given)
    and at least ``addresses`` (``"198.18.0.254/24"``); True if it was created.

    The lab's shared L2 segments (underlay, a physical network's upstream) are such
    bridges: every chassis plugs one veth end into them (:func:`enslave`).
    """
    check_ifname(name)
    created = False
    with _iproute(netns) as ipr:
        index = _lookup(ipr, name)
        if index is None:
            ipr.link("add", ifname=name, kind="bridge")
            created = True
            index = _lookup(ipr, name)
        if mac is not None:
            ipr.link("set", index=index, address=mac)
        ipr.link("set", index=index, state="up")
        have = {f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}" for a in ipr.get_addr(index=index)}
        for cidr in addresses:
            if cidr not in have:
                address, prefix = cidr.split("/")
                ipr.addr("add", index=index, address=address, prefixlen=int(prefix))
    return created


def enslave(netns: str | None, ifname: str, bridge: str) -> None:
    """Attach ``ifname`` to the Linux bridge ``bridge``, both in ``netns``, and bring it up."""
    with _iproute(netns) as ipr:
        index, master = _lookup(ipr, check_ifname(ifname)), _lookup(ipr, check_ifname(bridge))
        if index is None or master is None:
            raise HostError(f"{ifname} or {bridge} missing in namespace {netns}")
        ipr.link("set", index=index, master=master, state="up")


def remove_link(ifname: str, netns: str | None = None) -> bool:
    """Delete ``ifname`` in ``netns`` (a veth takes its peer along); True if it existed."""
    if netns is not None and not netns_exists(netns):
        return False
    with _iproute(netns) as ipr:
        index = _lookup(ipr, ifname)
        if index is None:
            return False
        try:
            ipr.link("del", index=index)
        except NetlinkError as exc:
            if exc.code != errno.ENODEV:
                raise
            return False
    return True


def disable_tx_checksum(netns: str | None, ifname: str) -> None:
    """Turn TX checksum offload (``ethtool -K <if> tx off``) off on ``ifname`` in ``netns``.

    A veth plugged into a userspace (netdev) OVS bridge needs it: the kernel hands TCP and
    UDP packets to the veth with a partial checksum, ovs-vswitchd reads them from an
    AF_PACKET socket and forwards them as they are, and a receiving kernel drops them as
    corrupt (``InCsumErrors``: TCP between two lab instances times out).  DHCP is no
    symptom: udhcpc computes its checksums itself (raw socket) and ovn-controller, which
    answers DHCP, does not verify UDP checksums.  Raises ``HostError`` if the kernel kept
    the offload on.
    """
    sock = (pr_netns.create_socket(netns, socket.AF_INET, socket.SOCK_DGRAM, flags=0)
            if netns is not None else socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    ethtool = IoctlEthtool()
    ethtool.sock.close()
    ethtool.sock = sock
    try:
        ethtool.change_ifname(check_ifname(ifname))
        features = ethtool.get_features()
        if features.is_active(TX_CHECKSUM_FEATURE):
            features.set_value(TX_CHECKSUM_FEATURE, False)
            ethtool.set_features(features)
            if ethtool.get_features().is_active(TX_CHECKSUM_FEATURE):
                raise HostError(f"{ifname} in {netns}: {TX_CHECKSUM_FEATURE} stayed on")
    finally:
        ethtool.close()


@contextmanager
def _iproute(netns: str | None) -> Iterator[IPRoute]:
    """An ``IPRoute`` in ``netns`` (never creating it: ``flags=0``), closed on exit."""
    ipr = IPRoute(netns=netns, flags=0) if netns is not None else IPRoute()
    try:
        yield ipr
    finally:
        ipr.close()


def _lookup(ipr: IPRoute, ifname: str) -> int | None:
    found = ipr.link_lookup(ifname=ifname)
    return found[0] if found else None


def _is_pair(outer: IPRoute, out_idx: int, inner: IPRoute, in_idx: int | None) -> bool:
    """True when ``out_idx`` and ``in_idx`` are the two ends of one veth."""
    if in_idx is None:
        return False
    (out_link,) = outer.link("get", index=out_idx)
    (in_link,) = inner.link("get", index=in_idx)
    kinds = {_kind(out_link), _kind(in_link)}
    return (kinds == {"veth"} and out_link.get("link") == in_idx
            and in_link.get("link") == out_idx)


def _kind(link) -> str | None:
    info = link.get("linkinfo")
    return info.get("kind") if info is not None else None

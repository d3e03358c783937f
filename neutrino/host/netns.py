"""Network namespaces, veths, bridges, addresses and listening sockets, on pyroute2.

One layer for every caller, the lab's one-shot commands and the long-running metadata
agent alike. It never forks: pyroute2's ``netns=`` arguments fork a helper process, and
forking a process that runs other threads (an IDL connection, event loops) can leave the
child stuck on a lock another thread held, or deaf to the SIGTERM pyroute2 then sends it.
Here a namespace is entered on a short-lived thread instead (``setns(2)`` changes only
the calling thread: :func:`in_netns`) and pyroute2 is used there without ``netns=``; a
namespace itself is made by ``ip netns add`` (fork and exec at once).

A namespace created here always gets ``/etc/netns/<name>/resolv.conf`` *before* it exists,
so ``ip netns exec <name> …`` bind-mounts that file over ``/etc/resolv.conf`` and nothing
run inside can read or rewrite the host's. Flags mirror ovsdbapp's: ``ensure_*`` are
``may_exist`` (calling twice is harmless), ``remove_*`` are ``if_exists``.

A socket belongs to the namespace it was created in, whichever thread uses it later:
:func:`listen_tcp` creates and binds one inside and hands it back, listening and
non-blocking, to be served by any event loop of this process.

Typical use::

    ensure_netns("lab-vm1")                                   # True: created
    ensure_veth("tap1a2b3c4d5e", "ntc-1a2b3c4d", "eth0", "lab-vm1", "fa:16:3e:00:00:05")
    set_addresses("lab-vm1", "eth0", ["10.0.0.5/24"])         # exactly these
    sock = listen_tcp("ovnmeta-5f0c…", "169.254.169.254", 80)
    remove_link("tap1a2b3c4d5e", "ntc-1a2b3c4d")              # True: the pair is gone
    remove_netns("lab-vm1")                                   # True: removed

Errors: ``ValueError`` for a bad namespace or interface name, ``FileNotFoundError`` when
a namespace or interface that must exist does not, ``OSError`` from ``setns``/``bind``,
pyroute2's ``NetlinkError`` (``.code`` is the errno) for a refused netlink request,
``subprocess.CalledProcessError`` from ``ip netns add``, and :class:`HostError` for host
state that is not ours to guess about.
"""

from __future__ import annotations

import ctypes
import contextlib
import errno
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pyroute2 import IPRoute
from pyroute2 import netns as pr_netns
from pyroute2.ethtool.ioctl import IoctlEthtool
from pyroute2.netlink.exceptions import NetlinkError

NETNS_RUN = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")
IFNAMSIZ = 15
#: ``ethtool -k`` name of the offload that leaves TCP/UDP checksums to the NIC on a veth.
TX_CHECKSUM_FEATURE = "tx-checksum-ip-generic"
CLONE_NEWNET = 0x40000000
IFA_F_NODAD = 0x02

T = TypeVar("T")
_NETNS_NAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,127}$")
_IFNAME = re.compile(r"^[^\s/:]{1,15}$")
_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_LIBC = ctypes.CDLL(None, use_errno=True)


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


def in_netns(netns: str | None, fn: Callable[[], T]) -> T:
    """Run ``fn()`` on a new thread that has entered namespace ``netns`` (None: just
    call it here); return its result or raise its exception. The thread ends with
    ``fn``, so nothing else of this process ever runs in ``netns`` by accident."""
    if netns is None:
        return fn()
    path = NETNS_RUN / check_netns_name(netns)
    outcome: list = []

    def run() -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _LIBC.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns into {netns}: {os.strerror(err)}")
            finally:
                os.close(fd)
            outcome.append((True, fn()))
        except BaseException as exc:  # handed to the caller
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name=f"in-{netns}"[:15], daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def ensure_netns(name: str) -> bool:
    """Create namespace ``name`` with ``lo`` up; True if it was created, False if it existed.

    Its resolv.conf is written first (:func:`ensure_resolv_conf`), so the namespace never
    exists without it.  ``lo`` is brought up in either case.
    """
    ensure_resolv_conf(name)
    created = False
    if not netns_exists(name):
        ip = shutil.which("ip", path=_SEARCH_PATH) or "ip"
        proc = subprocess.run([ip, "netns", "add", name], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0 and not netns_exists(name):
            raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout,
                                                proc.stderr)
        created = proc.returncode == 0

    def lo_up() -> None:
        with _iproute() as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
    in_netns(name, lo_up)
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
            pr_netns.remove(name)  # umount and unlink: no fork
        except FileNotFoundError:  # removed concurrently
            existed = False
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
    return existed


def link_exists(ifname: str, netns: str | None = None) -> bool:
    """True when ``ifname`` exists in ``netns`` (None: this process' namespace).
    A missing namespace counts as "no such link"."""
    if netns is not None and not netns_exists(netns):
        return False
    return in_netns(netns, lambda: _lookup(check_ifname(ifname)) is not None)


def link_up(netns: str | None, ifname: str) -> bool:
    """True when ``ifname`` in ``netns`` exists and its operstate is UP."""
    if netns is not None and not netns_exists(netns):
        return False

    def state() -> bool:
        with _iproute() as ipr:
            found = ipr.link_lookup(ifname=check_ifname(ifname))
            return bool(found) and ipr.link("get", index=found[0])[0].get("operstate") == "UP"
    return in_netns(netns, state)


def set_up(netns: str | None, ifname: str) -> None:
    """Bring ``ifname`` in ``netns`` up (``FileNotFoundError`` when it does not exist)."""
    def up() -> None:
        index = _lookup(check_ifname(ifname))
        if index is None:
            raise FileNotFoundError(errno.ENODEV, "no such interface", f"{netns}/{ifname}")
        with _iproute() as ipr:
            ipr.link("set", index=index, state="up")
    in_netns(netns, up)


def link_kind(netns: str | None, ifname: str) -> str | None:
    """``"veth"``, ``"bridge"``, ... of ``ifname`` in ``netns`` ("" for a plain device);
    None when there is no such link."""
    def kind() -> str | None:
        with _iproute() as ipr:
            found = ipr.link_lookup(ifname=check_ifname(ifname))
            if not found:
                return None
            info = ipr.link("get", index=found[0])[0].get("linkinfo")
            return (info.get("kind") if info is not None else None) or ""
    return in_netns(netns, kind)


def ensure_veth(host_if: str, host_netns: str | None, ns_if: str, netns: str, mac: str) -> bool:
    """A veth pair ``host_if`` (in ``host_netns``, None: here) <-> ``ns_if`` (in ``netns``).

    The pair is created with its peer directly inside ``netns`` (never visible in
    ``host_netns`` under a colliding name), ``mac`` is set on ``ns_if``, both ends are up
    and have TX checksum offload off (see :func:`disable_tx_checksum`).  Returns True if
    the pair was (re)made, False if an existing, matching pair was kept (MAC, state and
    offload are enforced again).  Both namespaces must exist (``FileNotFoundError``).
    A lone or mismatched end (say, left over from an earlier namespace of the same
    name) is deleted and the pair made again.
    """
    check_ifname(host_if), check_ifname(ns_if)
    for ns in (host_netns, netns):
        if ns is not None and not netns_exists(ns):
            raise FileNotFoundError(errno.ENOENT, "no such network namespace", ns)
    have_outer = in_netns(host_netns, lambda: _link_and_peer(host_if))
    have_inner = in_netns(netns, lambda: _link_and_peer(ns_if))
    paired = (have_outer is not None and have_inner is not None
              and have_outer[1] == have_inner[0] and have_inner[1] == have_outer[0])
    if not paired:
        if have_inner is not None:
            in_netns(netns, lambda: _remove_here(ns_if))
        if have_outer is not None:
            in_netns(host_netns, lambda: _remove_here(host_if))

        def create() -> None:
            fd = os.open(NETNS_RUN / netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                with _iproute() as ipr:
                    ipr.link("add", ifname=host_if, kind="veth",
                             peer={"ifname": ns_if, "net_ns_fd": fd})
            finally:
                os.close(fd)
        in_netns(host_netns, create)

    def bring_up(ifname: str, address: str | None) -> None:
        with _iproute() as ipr:
            found = ipr.link_lookup(ifname=ifname)
            if not found:
                raise HostError(f"{ifname} vanished right after creation")
            if address is not None:
                ipr.link("set", index=found[0], address=address)
            ipr.link("set", index=found[0], state="up")
        _disable_tx_checksum_here(ifname)
    in_netns(netns, lambda: bring_up(ns_if, mac))
    in_netns(host_netns, lambda: bring_up(host_if, None))
    return not paired


def remove_link(ifname: str, netns: str | None = None) -> bool:
    """Delete ``ifname`` in ``netns`` (None: here; a veth takes its peer along); True if
    it existed. A missing namespace counts as "no such link"."""
    if netns is not None and not netns_exists(netns):
        return False
    return in_netns(netns, lambda: _remove_here(check_ifname(ifname)))


def ensure_bridge(netns: str | None, name: str, addresses: Iterable[str] = (),
                  mac: str | None = None) -> bool:
    """A Linux bridge ``name`` in ``netns`` (None: here), up, with ``mac`` (when given)
    and at least ``addresses`` (``"198.18.0.254/24"``); True if it was created.

    The lab's shared L2 segments (underlay, a physical network's upstream) are such
    bridges: every chassis plugs one veth end into them (:func:`enslave`).
    """
    check_ifname(name)
    wanted = [ipaddress.ip_interface(a) for a in addresses]

    def ensure() -> bool:
        created = False
        with _iproute() as ipr:
            if not ipr.link_lookup(ifname=name):
                ipr.link("add", ifname=name, kind="bridge")
                created = True
            index = ipr.link_lookup(ifname=name)[0]
            if mac is not None:
                ipr.link("set", index=index, address=mac)
            ipr.link("set", index=index, state="up")
            have = set(_interfaces(ipr, index))
            for iface in wanted:
                if iface not in have:
                    ipr.addr("add", index=index, address=str(iface.ip),
                             prefixlen=iface.network.prefixlen)
        return created
    return in_netns(netns, ensure)


def enslave(netns: str | None, ifname: str, bridge: str) -> None:
    """Attach ``ifname`` to the Linux bridge ``bridge``, both in ``netns``, and bring it up."""
    def attach() -> None:
        index, master = _lookup(check_ifname(ifname)), _lookup(check_ifname(bridge))
        if index is None or master is None:
            raise HostError(f"{ifname} or {bridge} missing in namespace {netns}")
        with _iproute() as ipr:
            ipr.link("set", index=index, master=master, state="up")
    in_netns(netns, attach)


def holds_address(netns: str, ifname: str, address: str) -> bool:
    """True when ``ifname`` in ``netns`` is UP and holds ``address`` (an IPv4 interface
    address, ``"172.24.4.1/24"``); False when either is missing."""
    if not link_up(netns, ifname):
        return False
    with contextlib.suppress(OSError):
        return address in addresses(netns, ifname, 4)
    return False


def addresses(netns: str | None, ifname: str, version: int | None = None) -> list[str]:
    """The addresses on ``ifname`` in ``netns`` as ``["172.24.4.1/24", ...]`` (of IP
    ``version`` 4 or 6 only, when given), in the kernel's order. ``FileNotFoundError``
    when the interface does not exist."""
    def read() -> list[str]:
        index = _lookup(check_ifname(ifname))
        if index is None:
            raise FileNotFoundError(errno.ENODEV, "no such interface", f"{netns}/{ifname}")
        with _iproute() as ipr:
            return [str(i) for i in _interfaces(ipr, index)
                    if version is None or i.version == version]
    return in_netns(netns, read)


def set_addresses(netns: str, ifname: str, wanted: Iterable[str]) -> bool:
    """Make ``ifname`` in ``netns`` carry exactly the addresses ``wanted``
    (``"10.0.0.2/24"``, ``"fe80::a9fe:a9fe/64"``); True if anything changed.

    Every IPv4 address not wanted is removed, and every IPv6 one not wanted except
    link-local addresses the kernel made itself (``fe80::/10`` not in ``wanted``).
    Addresses are added in the order given (the first of a subnet is its primary);
    IPv6 ones without duplicate address detection (``nodad``), so a socket can bind
    them at once.
    """
    want = list(dict.fromkeys(ipaddress.ip_interface(a) for a in wanted))
    if not netns_exists(netns):
        raise FileNotFoundError(errno.ENOENT, "no such network namespace", netns)
    return in_netns(netns, lambda: _set_addresses(netns, check_ifname(ifname), want))


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
    in_netns(netns, lambda: _disable_tx_checksum_here(check_ifname(ifname)))


def listen_tcp(netns: str, address: str, port: int, *, ifname: str | None = None,
               backlog: int = 128) -> socket.socket:
    """A TCP socket of namespace ``netns`` bound to ``address``:``port`` and listening,
    non-blocking, ``SO_REUSEADDR`` set. An IPv6 link-local ``address`` needs ``ifname``
    (its scope). The caller owns (and closes) the socket."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.is_link_local and ifname is None:
        raise ValueError(f"link-local {address} needs the interface it is on")

    def make() -> socket.socket:
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if ip.version == 6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                scope = socket.if_nametoindex(check_ifname(ifname)) if ifname else 0
                sock.bind((address, port, 0, scope))
            else:
                sock.bind((address, port))
            sock.listen(backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock
    return in_netns(netns, make)


# -- in the calling thread's namespace ------------------------------------------------

@contextmanager
def _iproute() -> Iterator[IPRoute]:
    """An ``IPRoute`` of the calling thread's namespace, closed on exit."""
    ipr = IPRoute()
    try:
        yield ipr
    finally:
        ipr.close()


def _lookup(ifname: str) -> int | None:
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
    return found[0] if found else None


def _remove_here(ifname: str) -> bool:
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            return False
        try:
            ipr.link("del", index=found[0])
        except NetlinkError as exc:
            if exc.code != errno.ENODEV:
                raise
            return False
    return True


def _link_and_peer(ifname: str) -> tuple[int, int | None] | None:
    """(index, peer index) of ``ifname`` here (a veth's peer, else None), or None when
    there is no such link."""
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            return None
        (link,) = ipr.link("get", index=found[0])
        info = link.get("linkinfo")
        kind = info.get("kind") if info is not None else None
        return found[0], link.get("link") if kind == "veth" else None


def _interfaces(ipr: IPRoute, index: int) -> list:
    return [ipaddress.ip_interface(f"{m.get_attr('IFA_ADDRESS')}/{m['prefixlen']}")
            for m in ipr.get_addr(index=index)]


def _set_addresses(netns: str, ifname: str, want: list) -> bool:
    changed = False
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            raise FileNotFoundError(errno.ENODEV, "no such interface", f"{netns}/{ifname}")
        index = found[0]
        have = _interfaces(ipr, index)
        for iface in have:
            kernel_link_local = iface.version == 6 and iface.ip.is_link_local
            if iface not in want and not kernel_link_local:
                ipr.addr("del", index=index, address=str(iface.ip),
                         prefixlen=iface.network.prefixlen)
                changed = True
        for iface in want:
            if iface not in have:
                extra = {"flags": IFA_F_NODAD} if iface.version == 6 else {}
                ipr.addr("add", index=index, address=str(iface.ip),
                         prefixlen=iface.network.prefixlen, **extra)
                changed = True
    return changed


def _disable_tx_checksum_here(ifname: str) -> None:
    ethtool = IoctlEthtool(ifname)
    try:
        features = ethtool.get_features()
        if features.is_active(TX_CHECKSUM_FEATURE):
            features.set_value(TX_CHECKSUM_FEATURE, False)
            ethtool.set_features(features)
            if ethtool.get_features().is_active(TX_CHECKSUM_FEATURE):
                raise HostError(f"{ifname}: {TX_CHECKSUM_FEATURE} stayed on")
    finally:
        ethtool.close()

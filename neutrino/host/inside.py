"""Namespaces, veths, addresses and listening sockets for a multi-threaded process.

``host.netns`` reaches into a namespace through pyroute2's ``netns=`` arguments, which
fork a child process. Forking a process that runs other threads (an IDL connection,
event loops) can leave the child stuck on a lock some other thread held, and a child
that inherited Python signal handlers ignores the SIGTERM pyroute2 then sends it: the
caller waits forever. Everything here instead enters a namespace on a short-lived
thread (``setns(2)`` changes only the calling thread, :func:`in_netns`) and uses
pyroute2 without ``netns=`` there; the namespace itself is made by ``ip netns add``
(fork and exec at once). The metadata agent uses this module; the names and flags
mirror ``host.netns`` (``ensure_*`` may_exist, ``remove_*`` if_exists).

A socket belongs to the namespace it was created in, whichever thread uses it later:
:func:`listen_tcp` creates and binds one inside and hands it back, listening and
non-blocking, to be served by any event loop of this process.

Typical use (the metadata agent)::

    ensure_netns("ovnmeta-5f0c…")
    ensure_veth("tap5f0c1a2b3c0", "ntc-1a2b3c4d", "tap5f0c1a2b3c1", "ovnmeta-5f0c…", mac)
    set_addresses("ovnmeta-5f0c…", "tap5f0c1a2b3c1",
                  ["10.0.0.2/24", "169.254.169.254/32", "fe80::a9fe:a9fe/64"])
    sock = listen_tcp("ovnmeta-5f0c…", "169.254.169.254", 80)
    await loop.create_server(protocol_factory, sock=sock)

Errors: ``FileNotFoundError`` when the namespace or interface does not exist,
``OSError`` from ``setns``/``bind`` (``EADDRINUSE``, ``EADDRNOTAVAIL``), pyroute2's
``NetlinkError`` for a refused netlink request, ``subprocess.CalledProcessError`` from
``ip netns add``, ``host.netns.HostError`` for an inconsistent leftover.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pyroute2 import IPRoute

from neutrino.host.netns import (NETNS_RUN, HostError, check_ifname, check_netns_name,
                                 disable_tx_checksum, ensure_resolv_conf, netns_exists,
                                 remove_netns)

__all__ = ["ensure_netns", "ensure_veth", "in_netns", "listen_tcp", "remove_link",
           "remove_netns", "set_addresses"]
_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
IFA_F_NODAD = 0x02
_LIBC = ctypes.CDLL(None, use_errno=True)


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


def ensure_netns(name: str) -> bool:
    """Namespace ``name`` with ``lo`` up, ``/etc/netns/<name>/resolv.conf`` written first
    (as ``host.netns.ensure_netns``); True if it was created."""
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


def ensure_veth(outer: str, outer_netns: str | None, inner: str, netns: str, mac: str) -> bool:
    """A veth pair ``outer`` (in ``outer_netns``, None: this one) <-> ``inner`` (in
    ``netns``, which must exist), ``mac`` on ``inner``, both up with TX checksum
    offload off (``host.netns.disable_tx_checksum``). True if the pair was (re)made;
    an existing pair is kept; a lone or mismatched end is replaced."""
    check_ifname(outer), check_ifname(inner)
    if not netns_exists(netns):
        raise FileNotFoundError(errno.ENOENT, "no such network namespace", netns)
    have_outer = in_netns(outer_netns, lambda: _link_and_peer(outer))
    have_inner = in_netns(netns, lambda: _link_and_peer(inner))
    paired = (have_outer is not None and have_inner is not None
              and have_outer[1] == have_inner[0] and have_inner[1] == have_outer[0])
    if not paired:
        if have_inner is not None:
            in_netns(netns, lambda: remove_link(inner))
        if have_outer is not None:
            in_netns(outer_netns, lambda: remove_link(outer))

        def create() -> None:
            fd = os.open(NETNS_RUN / netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                with _iproute() as ipr:
                    ipr.link("add", ifname=outer, kind="veth",
                             peer={"ifname": inner, "net_ns_fd": fd})
            finally:
                os.close(fd)
        in_netns(outer_netns, create)

    def bring_up(ifname: str, address: str | None) -> None:
        with _iproute() as ipr:
            found = ipr.link_lookup(ifname=ifname)
            if not found:
                raise HostError(f"{ifname} vanished right after creation")
            if address is not None:
                ipr.link("set", index=found[0], address=address)
            ipr.link("set", index=found[0], state="up")
        disable_tx_checksum(None, ifname)  # this thread's namespace: no fork
    in_netns(netns, lambda: bring_up(inner, mac))
    in_netns(outer_netns, lambda: bring_up(outer, None))
    return not paired


def remove_link(ifname: str, netns: str | None = None) -> bool:
    """Delete ``ifname`` in ``netns`` (None: here; a veth takes its peer along); True
    if it existed. A missing namespace counts as "no such link"."""
    if netns is not None and not netns_exists(netns):
        return False

    def remove() -> bool:
        with _iproute() as ipr:
            found = ipr.link_lookup(ifname=check_ifname(ifname))
            if not found:
                return False
            ipr.link("del", index=found[0])
            return True
    return in_netns(netns, remove)


def set_addresses(netns: str, ifname: str, wanted: Iterable[str]) -> bool:
    """Make ``ifname`` in ``netns`` carry exactly the addresses ``wanted``
    (``"10.0.0.2/24"``, ``"fe80::a9fe:a9fe/64"``); True if anything changed.

    Every IPv4 address not wanted is removed, and every IPv6 one not wanted except
    link-local addresses the kernel made itself (``fe80::/10`` not in ``wanted``).
    IPv6 addresses are added without duplicate address detection (``nodad``), so a
    socket can bind them at once.
    """
    want = {ipaddress.ip_interface(a) for a in wanted}
    if not netns_exists(netns):
        raise FileNotFoundError(errno.ENOENT, "no such network namespace", netns)
    return in_netns(netns, lambda: _set_addresses(netns, check_ifname(ifname), want))


def _set_addresses(netns: str, ifname: str, want: set) -> bool:
    changed = False
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            raise FileNotFoundError(errno.ENODEV, "no such interface", f"{netns}/{ifname}")
        index = found[0]
        have = set()
        for msg in ipr.get_addr(index=index):
            iface = ipaddress.ip_interface(f"{msg.get_attr('IFA_ADDRESS')}/{msg['prefixlen']}")
            have.add(iface)
            kernel_link_local = iface.version == 6 and iface.ip.is_link_local
            if iface not in want and not kernel_link_local:
                ipr.addr("del", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)
                changed = True
        for iface in sorted(want - have, key=lambda i: (i.version, int(i.ip))):
            extra = {"flags": IFA_F_NODAD} if iface.version == 6 else {}
            ipr.addr("add", index=index, address=str(iface.ip),
                     prefixlen=iface.network.prefixlen, **extra)
            changed = True
    return changed


@contextmanager
def _iproute() -> Iterator[IPRoute]:
    """An ``IPRoute`` of the calling thread's namespace, closed on exit."""
    ipr = IPRoute()
    try:
        yield ipr
    finally:
        ipr.close()


def _link_and_peer(ifname: str) -> tuple[int, int | None] | None:
    """(index, peer index) of ``ifname`` here (a veth's peer, else ``IFLA_LINK``), or
    None when there is no such link."""
    with _iproute() as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            return None
        (link,) = ipr.link("get", index=found[0])
        info = link.get("linkinfo")
        kind = info.get("kind") if info is not None else None
        return found[0], link.get("link") if kind == "veth" else None

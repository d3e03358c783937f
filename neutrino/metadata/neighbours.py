"""The neighbour table of a metadata namespace, as the agent reads it per request
(ARCHITECTURE "Metadata path": identity by network, address and MAC).

A guest's TCP handshake with the agent's listening socket can only complete once the
``ovnmeta-<network>`` namespace has resolved the guest's source address (ARP or IPv6
neighbour discovery): the kernel's neighbour entry for that address holds the MAC the
namespace answers to. :class:`NeighbourTable` keeps a copy of those entries for one
namespace: one ``NETLINK_ROUTE`` socket, opened inside the namespace
(``host.netns.in_netns``) and subscribed to ``RTMGRP_NEIGH``, is dumped once and then
read for changes. A lookup first drains the changes already queued on the socket (a
non-blocking ``recv``, ``EAGAIN`` in the common case), so it never answers from a copy
older than the request: the kernel queues a change on the socket when it makes it,
before the handshake it takes part in. A lost notification (``ENOBUFS``: the socket's
buffer overflowed) makes the next lookup dump the table again. Messages are decoded by
pyroute2 (``MarshalRtnl``); nothing forks.

Only entries of the namespace's interface (``ifname``) with a link-layer address count,
in any state but ``INCOMPLETE``, ``FAILED`` and ``NOARP`` (reference: rtnetlink(7), ``ndmsg``).
"""

from __future__ import annotations

import errno
import logging
import socket
import threading

from pyroute2.netlink import NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR
from pyroute2.netlink.rtnl import RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH, RTMGRP_NEIGH
from pyroute2.netlink.rtnl.marshal import MarshalRtnl
from pyroute2.netlink.rtnl.ndmsg import ndmsg

from neutrino.host import netns as host_netns
from neutrino.metadata.index import canonical

LOG = logging.getLogger(__name__)

NUD_INCOMPLETE = 0x01
NUD_FAILED = 0x20
NUD_NOARP = 0x40  # multicast and other entries no guest resolves to
_NO_ADDRESS = NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP
_BUFFER = 1 << 20  # SO_RCVBUF asked for: a burst of ARP/ND changes fits
_DUMP_TIMEOUT = 5.0


class NeighbourTable:
    """The neighbour entries (address -> MAC) of interface ``ifname`` in namespace
    ``netns``, kept current from netlink.

    Create it on any thread (it enters the namespace on a short-lived thread); call
    :meth:`mac_of` from one thread at a time (the agent's event loop); :meth:`close`
    when the namespace goes. Raises ``FileNotFoundError`` when the namespace or
    interface does not exist, ``OSError`` from the socket calls.

    ::

        table = NeighbourTable("ovnmeta-5f0c…", "tap5f0c1a2b3c1")
        table.mac_of("10.0.0.5")          # "fa:16:3e:12:34:56", or None: no entry
        table.close()
    """

    def __init__(self, netns: str, ifname: str) -> None:
        self.netns = netns
        self.ifname = ifname
        self._entries: dict[str, str] = {}
        self._marshal = MarshalRtnl()
        self._lock = threading.Lock()
        self._stale = False

        def open_inside() -> tuple[socket.socket, int]:
            try:
                index = socket.if_nametoindex(host_netns.check_ifname(ifname))
            except OSError as exc:
                raise FileNotFoundError(f"no interface {ifname} in namespace {netns}") from exc
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER)
                sock.bind((0, RTMGRP_NEIGH))
            except BaseException:
                sock.close()
                raise
            return sock, index

        self._sock, self.ifindex = host_netns.in_netns(netns, open_inside)
        try:
            self._dump()
        except BaseException:
            self._sock.close()
            raise

    def mac_of(self, address: str) -> str | None:
        """The MAC (lower case) of ``address``'s neighbour entry (IPv4, IPv6, with or
        without ``%scope``), or None when the namespace has no usable entry for it.
        Changes queued since the last call are applied first; when they cannot be
        read (a socket error, a dump that failed), None: the caller is unknown and
        the next call reads the table again."""
        with self._lock:
            try:
                self._drain()
            except OSError as exc:
                self._stale = True
                LOG.warning("namespace %s: neighbour table unreadable: %s", self.netns, exc)
                return None
            # a dotted IPv4 address, as the kernel reports peers, is already canonical
            key = address if ":" not in address else canonical(address)
            return self._entries.get(key) if key else None

    def entries(self) -> dict[str, str]:
        """A copy of the current table, address -> MAC (for logs and tests)."""
        with self._lock:
            self._drain()
            return dict(self._entries)

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self._sock.close()

    # -- netlink --

    def _drain(self) -> None:
        if self._stale:
            self._dump()
            return
        while True:
            try:
                data = self._sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                LOG.warning("namespace %s: neighbour notifications lost, reading the table "
                            "again", self.netns)
                self._dump()
                return
            self._apply(data)

    def _dump(self) -> None:
        """Read the whole table again (the changes queued meanwhile come along, in
        order). Blocking, bounded by a timeout."""
        self._stale = True
        request = ndmsg()
        request["family"] = socket.AF_UNSPEC
        request["ifindex"] = self.ifindex
        request["header"]["type"] = RTM_GETNEIGH
        request["header"]["flags"] = NLM_F_REQUEST | NLM_F_DUMP
        request["header"]["sequence_number"] = seq = id(request) & 0x7FFFFFFF
        request.encode()
        self._sock.settimeout(_DUMP_TIMEOUT)
        fresh: dict[str, str] = {}
        try:
            self._sock.send(request.data)
            done = False
            while not done:
                data = self._sock.recv(65536)
                for msg in self._marshal.parse(data):
                    kind, msg_seq = msg["header"]["type"], msg["header"]["sequence_number"]
                    if msg_seq == seq and kind in (NLMSG_DONE, NLMSG_ERROR):
                        done = True
                    else:  # an entry, or a change queued before or during the dump
                        self._entry(msg, fresh)
        finally:
            self._sock.setblocking(False)
        self._entries = fresh
        self._stale = False

    def _apply(self, data: bytes) -> None:
        for msg in self._marshal.parse(data):
            self._entry(msg, self._entries)

    def _entry(self, msg, table: dict[str, str]) -> None:
        kind = msg["header"]["type"]
        if kind not in (RTM_NEWNEIGH, RTM_DELNEIGH) or msg["ifindex"] != self.ifindex:
            return
        address = msg.get_attr("NDA_DST")
        key = canonical(address) if address else None
        if key is None:
            return
        mac = msg.get_attr("NDA_LLADDR")
        if kind == RTM_DELNEIGH or not mac or msg["state"] & _NO_ADDRESS:
            table.pop(key, None)
        else:
            table[key] = mac.lower()


__all__ = ["NeighbourTable", "canonical"]

"""Packet capture on a lab link, with geneve decoded: what crossed the underlay.

``Capture(netns, ifname)`` runs this module as a program inside ``netns`` (``ip netns
exec``): it binds an ``AF_PACKET`` socket to ``ifname`` (every frame the link sends or
receives) and prints one JSON line per IPv4 frame until stopped. A geneve frame (UDP
destination port 6081, RFC 8926) is decoded: its VNI and the inner frame's addresses and
protocol, so a test can tell a tunnelled ping from one in clear.

Typical use::

    with Capture("ntc-1a2b3c4d-ul", "ul1") as cap:
        ...ping...
    cap.frames  # [Frame(src="198.18.0.1", dst="198.18.0.2", proto=17, dport=6081,
                #        vni=1001, inner_src="10.0.0.5", inner_dst="10.0.0.6", inner_proto=1)]

Errors: ``RuntimeError`` when the capture could not start (its stderr is in the message).
"""

from __future__ import annotations

import json
import select
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass

GENEVE_PORT = 6081  # RFC 8926, section 3.3
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Frame:
    """One IPv4 frame: outer addresses, IP protocol, UDP/TCP destination port (0
    otherwise) and, for geneve, the VNI and the inner IPv4 packet's addresses and
    protocol (None when not geneve or not IPv4 inside)."""

    src: str
    dst: str
    proto: int
    dport: int = 0
    vni: int | None = None
    inner_src: str | None = None
    inner_dst: str | None = None
    inner_proto: int | None = None


def parse(frame: bytes) -> Frame | None:
    """The :class:`Frame` of an Ethernet frame, or None when it is not IPv4."""
    if len(frame) < 34 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    proto = ip[9]
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    l4 = ip[ihl:]
    dport = struct.unpack("!H", l4[2:4])[0] if proto in (6, 17) and len(l4) >= 4 else 0
    if proto != 17 or dport != GENEVE_PORT or len(l4) < 16:
        return Frame(src, dst, proto, dport)
    geneve = l4[8:]
    options = (geneve[0] & 0x3F) * 4
    vni = int.from_bytes(geneve[4:7], "big")
    inner = parse(geneve[8 + options:])
    if inner is None:
        return Frame(src, dst, proto, dport, vni)
    return Frame(src, dst, proto, dport, vni, inner.src, inner.dst, inner.proto)


class Capture:
    """A running capture of ``ifname`` in ``netns``; a context manager. ``frames`` holds
    what was seen once :meth:`stop` returned (leaving the ``with`` block stops it)."""

    def __init__(self, netns: str, ifname: str) -> None:
        self.netns, self.ifname = netns, ifname
        self.frames: list[Frame] = []
        self._proc: subprocess.Popen | None = None

    def start(self) -> "Capture":
        """Start capturing; returns once the socket is bound."""
        self._proc = subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-m", "neutrino.lab.capture",
             self.ifname], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self._proc.stdout], [], [], START_TIMEOUT)
        line = self._proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            self._proc.kill()
            raise RuntimeError(f"capture on {self.netns}/{self.ifname} did not start: "
                               f"{self._proc.communicate()[1]}")
        return self

    def stop(self) -> list[Frame]:
        """Stop capturing and return every frame seen."""
        if self._proc is not None:
            self._proc.terminate()
            out, _ = self._proc.communicate(timeout=10)
            self.frames = [Frame(**json.loads(line)) for line in out.splitlines() if line]
            self._proc = None
        return self.frames

    def __enter__(self) -> "Capture":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _main(ifname: str) -> None:
    import signal
    from dataclasses import asdict

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((ifname, 0))
    sock.settimeout(0.2)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    print("ready", flush=True)
    while not stopping:
        try:
            data = sock.recv(65535)
        except (socket.timeout, InterruptedError):
            continue
        frame = parse(data)
        if frame is not None:
            print(json.dumps(asdict(frame)), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1])

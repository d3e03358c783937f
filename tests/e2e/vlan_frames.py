"""Tagged (802.1Q) or untagged ARP and ICMP from inside an instance with an AF_PACKET
raw socket: no VLAN sub-interface, no 8021q module (the kernel moves a received tag
into the packet's metadata, given back as PACKET_AUXDATA; it is read from there or
from the frame itself).

    python vlan_frames.py IFACE VLAN|none MAC IP TARGET_IP [--ping] [--wait=SECONDS]

ARPs for TARGET_IP from MAC/IP (tagged with VLAN unless "none") until a reply comes
(``--wait``, 5 s); with ``--ping`` then sends an ICMP echo to the MAC that answered and waits for
the reply, answering ARP requests for IP on that VLAN meanwhile (the peer resolves us).
Prints one JSON object: ``arp_mac``/``arp_vlan`` (the reply's sender MAC and tag,
None if none came), ``echo_mac``/``echo_vlan`` likewise for the echo reply.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL, ETH_P_IP, ETH_P_ARP, ETH_P_8021Q = 0x0003, 0x0800, 0x0806, 0x8100
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 0x10
PACKET_OUTGOING = 4
BROADCAST = b"\xff" * 6


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(dst: bytes, src: bytes, vlan: int | None, ethertype: int, payload: bytes) -> bytes:
    head = dst + src + (struct.pack("!HH", ETH_P_8021Q, vlan) if vlan is not None else b"")
    data = head + struct.pack("!H", ethertype) + payload
    return data + b"\0" * max(0, 60 - len(data))


def arp(op: int, sha: bytes, spa: str, tha: bytes, tpa: str) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, sha, socket.inet_aton(spa),
                       tha, socket.inet_aton(tpa))


def echo(src: str, dst: str, ident: int) -> bytes:
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"neutrino-trunk"
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), ident, 0x4000, 64, 1, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + icmp


def receive(sock: socket.socket, until: float):
    """Yield (vlan or None, frame without its tag) of frames received before ``until``."""
    while (left := until - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            return
        data, ancillary, _, addr = sock.recvmsg(65535, socket.CMSG_SPACE(20))
        if addr[2] == PACKET_OUTGOING:
            continue
        vlan = None
        for level, kind, cdata in ancillary:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
                status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", cdata[:20])
                if status & TP_STATUS_VLAN_VALID:
                    vlan = tci & 0x0FFF
        if data[12:14] == struct.pack("!H", ETH_P_8021Q):
            vlan = struct.unpack("!H", data[14:16])[0] & 0x0FFF
            data = data[:12] + data[16:]
        yield vlan, data


def main() -> None:
    iface, vlan_arg, mac, ip, target = sys.argv[1:6]
    vlan = None if vlan_arg == "none" else int(vlan_arg)
    ping = "--ping" in sys.argv[6:]
    wait = next((float(a.split("=", 1)[1]) for a in sys.argv[6:] if a.startswith("--wait=")), 5)
    own = mac_bytes(mac)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((iface, 0))
    result = {"arp_mac": None, "arp_vlan": None, "echo_mac": None, "echo_vlan": None}
    deadline = time.monotonic() + wait
    request = frame(BROADCAST, own, vlan, ETH_P_ARP, arp(1, own, ip, b"\0" * 6, target))
    while result["arp_mac"] is None and time.monotonic() < deadline:
        sock.send(request)
        for tag, data in receive(sock, min(deadline, time.monotonic() + 0.3)):
            if (data[12:14] == struct.pack("!H", ETH_P_ARP) and data[20:22] == b"\0\2"
                    and data[28:32] == socket.inet_aton(target) and data[0:6] == own):
                result["arp_mac"], result["arp_vlan"] = mac_text(data[22:28]), tag
                break
    if ping and result["arp_mac"]:
        peer = mac_bytes(result["arp_mac"])
        request = frame(peer, own, vlan, ETH_P_IP, echo(ip, target, 0x4E54))
        deadline = time.monotonic() + 5
        while result["echo_mac"] is None and time.monotonic() < deadline:
            sock.send(request)
            for tag, data in receive(sock, min(deadline, time.monotonic() + 0.5)):
                kind = data[12:14]
                if (kind == struct.pack("!H", ETH_P_ARP) and data[20:22] == b"\0\1"
                        and data[38:42] == socket.inet_aton(ip) and tag == vlan):
                    sock.send(frame(data[6:12], own, vlan, ETH_P_ARP,
                                    arp(2, own, ip, data[22:28], socket.inet_ntoa(data[28:32]))))
                elif (kind == struct.pack("!H", ETH_P_IP) and data[0:6] == own
                      and data[23] == 1 and data[26:30] == socket.inet_aton(target)
                      and data[14 + (data[14] & 15) * 4] == 0):
                    result["echo_mac"], result["echo_vlan"] = mac_text(data[6:12]), tag
                    break
    print(json.dumps(result))


if __name__ == "__main__":
    main()

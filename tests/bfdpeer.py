"""A minimal single-hop BFD peer (RFC 5880 asynchronous mode, RFC 5881 over UDP/IPv4)
for the lab's upstream router, so a router's default route with BFD
(``enable_default_route_bfd``) has a live session and OVN keeps the route.

    ip netns exec <upstream netns> python bfdpeer.py <local address>

Answers every peer that sends control packets to ``<local address>``:3784: one session
per peer address, its state Down -> Init -> Up as the peer's state moves (RFC 5880
6.8.6), a control packet to it every 300 ms from a source port in 49152-65535 with TTL
255 (RFC 5881 5, 4). Desired/required intervals 300 ms, detect multiplier 3. No
authentication, no echo, no demand mode. Runs until killed (SIGTERM).
"""

from __future__ import annotations

import random
import select
import socket
import struct
import sys
import time

PORT = 3784
DOWN, INIT, UP = 1, 2, 3
INTERVAL_US = 300_000


def packet(state: int, my_disc: int, your_disc: int) -> bytes:
    """A 24-byte control packet: version 1, no diagnostic, ``state``, multiplier 3."""
    return struct.pack("!BBBBIIIII", 1 << 5, state << 6, 3, 24, my_disc, your_disc,
                       INTERVAL_US, INTERVAL_US, 0)


def next_state(local: int, remote: int) -> int:
    """RFC 5880 6.8.6 for a received packet with state ``remote``."""
    if remote == DOWN:
        return INIT if local == DOWN else (DOWN if local == UP else local)
    if remote in (INIT, UP) and local in (INIT, UP):
        return UP
    if remote == INIT and local == DOWN:
        return UP
    return local


def main(address: str) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind((address, PORT))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
    tx.bind((address, random.randint(49152, 65535)))
    sessions: dict[str, dict[str, float]] = {}  # peer -> state, discriminators, times
    while True:
        ready, _, _ = select.select([rx], [], [], 0.05)
        now = time.monotonic()
        if ready:
            data, (peer, _) = rx.recvfrom(64)
            if len(data) >= 24:
                flags, their_disc = data[1], struct.unpack("!I", data[4:8])[0]
                s = sessions.setdefault(peer, {"state": DOWN, "mine": random.getrandbits(31) + 1,
                                               "theirs": 0, "heard": now, "sent": 0.0})
                before = s["state"]
                s["theirs"], s["heard"] = their_disc, now
                s["state"] = next_state(int(before), flags >> 6)
                if s["state"] != before:
                    s["sent"] = 0.0  # tell the peer at once
        for peer, s in sessions.items():
            if now - s["heard"] > 3 * 1.0:
                s["state"] = DOWN  # peer silent past its detection time (1 s x 3)
            if now - s["sent"] >= INTERVAL_US / 1e6:
                tx.sendto(packet(int(s["state"]), int(s["mine"]), int(s["theirs"])), (peer, PORT))
                s["sent"] = now

if __name__ == "__main__":
    main(sys.argv[1])

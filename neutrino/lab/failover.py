"""Gateway failover as an operator sees it: pings that stop, and come back.

:func:`measure` runs ``ping -D -i 0.05`` (iputils: every reply stamped with the wall
clock) from each probe's namespace, waits until every probe is answered, calls
``kill``, and waits until every probe is answered again (then a little longer). A
probe's *outage* is its longest silence from its last reply before the kill on: about
the ping interval (50 ms) when nothing was lost, the time traffic stood still otherwise.

Typical use::

    outages = measure(lambda: runtime.kill_chassis(settings, "vm-3"),
                      [("ntc-1a2b3c4d-ext-physnet1", "172.24.4.235"),   # outside -> FIP
                       ("lab-vm2", "203.0.113.10")])                    # instance -> outside
    outages  # [1.43, 1.41] (seconds)

Errors: ``TimeoutError`` when a probe gets no answer before the kill, or none within
``timeout`` seconds after it.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from neutrino.lab.daemons import wait_until

INTERVAL = 0.05  # seconds between echo requests (root may go below 0.2 s)
_REPLY = re.compile(rb"^\[(\d+\.\d+)\] \d+ bytes from ", re.M)


class _Probe:
    """``ping`` from ``netns`` to ``target``, its output in a file read as it grows."""

    def __init__(self, netns: str, target: str, log: Path) -> None:
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, "ping", "-D", "-n", "-i", str(INTERVAL), "-W", "1",
             target], stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def replies(self) -> list[float]:
        """Wall-clock times of the replies so far."""
        return [float(m.group(1)) for m in _REPLY.finditer(self.log.read_bytes())]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def outage(replies: Sequence[float], at: float) -> float | None:
    """The longest silence, in seconds, from the last reply before ``at`` on: the gap
    to the first reply after it, or a later one (a flap); None when there is no reply
    after ``at`` (or none before)."""
    before = [t for t in replies if t <= at]
    after = sorted(t for t in replies if t > at)
    if not before or not after:
        return None
    times = [before[-1], *after]
    return max(b - a for a, b in zip(times, times[1:]))


def measure(kill: Callable[[], object], probes: Sequence[tuple[str, str]], work_dir: Path,
            timeout: float = 30.0, settle: float = 1.0) -> list[float]:
    """Outage of each ``(netns, target)`` probe across ``kill()``, in seconds, in order
    (see the module docstring). Logs go to ``work_dir``. Waits ``settle`` seconds of
    answered pings before the kill, and as long after the first answer following it,
    so a flap after the failover counts too."""
    work_dir.mkdir(parents=True, exist_ok=True)
    running = [_Probe(ns, target, work_dir / f"ping-{i}.log")
               for i, (ns, target) in enumerate(probes)]
    try:
        wait_until(lambda: all(len(p.replies()) >= settle / INTERVAL / 2 for p in running),
                   timeout, "every probe answered before the kill", interval=INTERVAL)
        at = time.time()
        kill()
        wait_until(lambda: all(outage(p.replies(), at) is not None for p in running),
                   timeout, "every probe answered again after the kill", interval=INTERVAL)
        time.sleep(settle)
        return [outage(p.replies(), at) for p in running]
    finally:
        for probe in running:
            probe.stop()


def active_gateway(sb_connection: str, gateway_port_id: str) -> str | None:
    """The chassis (SB ``Chassis.name``) that claimed a router's gateway port
    (``cr-lrp-<port id>``, ovn-northd's chassisredirect port), or None when none has."""
    sbctl = ["ovn-sbctl", f"--db={sb_connection}", "--bare", "--columns=chassis", "find",
             "Port_Binding", f"logical_port=cr-lrp-{gateway_port_id}"]
    uuid = subprocess.run(sbctl, capture_output=True, text=True, check=True).stdout.strip()
    if not uuid:
        return None
    return subprocess.run(["ovn-sbctl", f"--db={sb_connection}", "get", "Chassis", uuid, "name"],
                          capture_output=True, text=True, check=True).stdout.strip().strip('"')

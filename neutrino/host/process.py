"""Processes we started, identified by pid *and* command line, stopped by pid only.

A pid read from a pid file may have been reused by an unrelated process since; every
function here therefore checks ``/proc/<pid>/cmdline`` against what we started before
signalling anything.  Zombies count as gone: a daemon that detached itself is reparented
to pid 1, which may reap it late.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X", "x")


def cmdline(pid: int) -> list[str]:
    """``/proc/<pid>/cmdline`` as a list ([] when the process is gone or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def pid_matches(pid: int, needles: Sequence[str]) -> bool:
    """True if ``pid`` is alive and every string in ``needles`` is one of its argv words."""
    argv = cmdline(pid)
    return pid_alive(pid) and bool(argv) and all(n in argv for n in needles)


def read_pid_file(path: Path) -> int | None:
    """The pid in ``path``, or None when the file is missing, empty or not a number."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def terminate(pid: int, needles: Sequence[str], timeout: float = 5) -> bool:
    """Stop ``pid`` if it still runs the program described by ``needles``; True if it did.

    SIGTERM, then SIGKILL after ``timeout`` seconds; returns once the process is gone (or
    a zombie).  A pid that is gone or now runs something else is left alone.
    """
    if not pid_matches(pid, needles):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not pid_alive(pid):
                return True
            time.sleep(0.02)
    raise TimeoutError(f"pid {pid} ({' '.join(needles)}) survived SIGKILL for {timeout}s")


def _reap(pid: int) -> None:
    """Collect ``pid`` if it is our own child (it is not when it daemonized)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass

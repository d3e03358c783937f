"""Processes we started, identified by pid *and* command line, stopped by pid only (psutil).

A pid read from a pid file may have been reused by an unrelated process since; every
function here therefore checks the process' command line against what we started before
signalling anything.  Zombies count as gone: a daemon that detached itself is reparented
to pid 1, which may reap it late.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import psutil

POLL = 0.02  # seconds between checks while a process stops


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def cmdline(pid: int) -> list[str]:
    """The argv of ``pid`` ([] when the process is gone or a zombie)."""
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ValueError):
        return []


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

    A pid that is gone or now runs something else is left alone; otherwise as
    :func:`stop`.
    """
    if not pid_matches(pid, needles):
        return False
    stop(pid, timeout)
    return True


def stop(pid: int, timeout: float = 5) -> None:
    """SIGTERM ``pid``, then SIGKILL after ``timeout`` seconds; return once it is gone (or
    a zombie; our own children are reaped). The caller has checked that ``pid`` is the
    process it started. ``TimeoutError`` if it survives SIGKILL for ``timeout`` seconds.
    """
    try:
        proc = psutil.Process(pid)
        for signal_it in (proc.terminate, proc.kill):
            signal_it()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    proc.wait(POLL)  # reaps it when it is our child
                    return
                except psutil.TimeoutExpired:
                    if not pid_alive(pid):  # a zombie nobody reaps yet: gone for us
                        return
    except psutil.NoSuchProcess:
        return
    raise TimeoutError(f"pid {pid} survived SIGKILL for {timeout}s")

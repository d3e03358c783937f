"""What the benchmarks share: progress lines on stderr and a free loopback port
(``bench/idle.py``, ``bench/failover.py``); for ``bench/scale.py`` and ``bench/soak.py``
the running ``neutrino up`` they measure (its ``runtime.json``), the resources of its
process tree (psutil), the size of its database, its NB sync's backlog and the rows of
its OVN northbound database.

Used as a module beside the scripts (``python bench/scale.py`` puts ``bench/`` first on
``sys.path``); HTTP conventions are ``bench/api.py``'s (httpx, noauth headers).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

# The NB tables whose rows neutrino writes (docs/architecture.md, "Ownership"), counted
# by the scripts; the lab's NB holds nothing else, so emptying them empties it.
NB_TABLES = ("Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port",
             "Logical_Router_Static_Route", "Logical_Router_Policy", "NAT", "Gateway_Chassis",
             "ACL", "Port_Group", "Address_Set", "DHCP_Options", "DNS", "Load_Balancer",
             "QoS", "Meter", "BFD")
# Their root tables (OVN NB schema ``isRoot``): destroying these rows garbage-collects
# every other row above.
NB_ROOT_TABLES = ("Logical_Switch", "Logical_Router", "Port_Group", "Address_Set",
                  "DHCP_Options", "DNS", "Load_Balancer", "Meter", "BFD")


def log(message: str) -> None:
    """Print one progress line on stderr (stdout carries the figures)."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the kernel's pick; another process may take it
    before the caller binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def runtime(state_dir: Path) -> dict:
    """The running all-in-one's ``<state_dir>/runtime.json`` (pid, api_url,
    nb_connection, ...). Raises SystemExit when none runs there."""
    path = Path(state_dir) / "runtime.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"no neutrino up on {state_dir} ({exc}); start one with "
                         f"'neutrino up --state-dir {state_dir}'") from exc
    if not psutil.pid_exists(info["pid"]):
        raise SystemExit(f"neutrino up on {state_dir} (pid {info['pid']}) is gone")
    return info


def process_tree(pid: int) -> list[dict]:
    """``pid`` and its descendants: ``[{"pid", "name", "rss_mb", "fds"}, ...]``, the
    root first (RSS in MiB, VmRSS; fds: open file descriptors). Processes that vanish
    while read are left out."""
    out = []
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for p in procs:
        try:
            with p.oneshot():
                cmd = p.cmdline()
                name = " ".join(a.rsplit("/", 1)[-1] for a in cmd[:4]) or p.name()
                out.append({"pid": p.pid, "name": name,
                            "rss_mb": round(p.memory_info().rss / 2**20, 1),
                            "fds": p.num_fds()})
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


class PeakRss:
    """Samples a process tree's RSS on a thread-free schedule: call ``sample()`` as
    often as convenient; ``peak`` is the highest RSS (MiB) seen per pid."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, {}

    def sample(self) -> None:
        for p in process_tree(self.pid):
            key = f"{p['pid']} {p['name']}"
            self.peak[key] = max(self.peak.get(key, 0.0), p["rss_mb"])


def run_sampled(argv: list[str], period: float = 0.2, timeout: float = 1800) -> dict:
    """Run ``argv`` (its output to temporary files, so a long report never blocks it),
    sampling its RSS every ``period`` s; return ``{"seconds", "returncode",
    "peak_rss_mb", "stdout_tail", "stderr_tail"}`` (the last 3 lines of each)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as errout:
        proc = subprocess.Popen(argv, stdout=out, stderr=errout, text=True,
                                env={**os.environ, "COLUMNS": "200"})
        peak = PeakRss(proc.pid)
        try:
            while proc.poll() is None:
                peak.sample()
                if time.perf_counter() - t0 > timeout:
                    proc.kill()
                time.sleep(period)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        seconds = time.perf_counter() - t0
        tails = []
        for f in (out, errout):
            f.seek(0)
            tails.append(f.read().strip().splitlines()[-3:])
    return {"seconds": round(seconds, 2), "returncode": proc.returncode,
            "peak_rss_mb": max(peak.peak.values(), default=None),
            "stdout_tail": tails[0], "stderr_tail": tails[1]}


def database_bytes(state_dir: Path) -> int | None:
    """Bytes of the all-in-one's SQLite database with its WAL (None: not SQLite here)."""
    base = Path(state_dir) / "neutrino.db"
    if not base.exists():
        return None
    return sum(p.stat().st_size for p in (base, base.with_name("neutrino.db-wal"))
               if p.exists())


def nb_counts(nb_connection: str, tables=NB_TABLES) -> dict[str, int]:
    """Rows per NB table, read in one ``ovsdb-client transact`` of selects (only
    ``_uuid``: cheap even with tens of thousands of rows)."""
    remote = nb_connection.split(",")[0]
    ops = ["OVN_Northbound"] + [{"op": "select", "table": t, "where": [], "columns": ["_uuid"]}
                                for t in tables]
    res = subprocess.run(["ovsdb-client", "transact", remote, json.dumps(ops)],
                         capture_output=True, text=True, timeout=120, check=True)
    return {t: len(r.get("rows", [])) for t, r in zip(tables, json.loads(res.stdout))}


def empty_nb(nb_connection: str) -> None:
    """Delete every row of ``NB_ROOT_TABLES`` (and so every row neutrino owns) from the
    lab's NB, in one transaction. Only for a lab NB: it deletes what is not neutrino's too."""
    remote = nb_connection.split(",")[0]
    ops = ["OVN_Northbound"] + [{"op": "delete", "table": t, "where": []}
                                for t in NB_ROOT_TABLES]
    subprocess.run(["ovsdb-client", "transact", remote, json.dumps(ops)],
                   capture_output=True, text=True, timeout=300, check=True)


def outbox_depth(client) -> int:
    """The NB sync's backlog (``GET /healthz``: outbox rows not yet applied)."""
    return client.get("/healthz").json()["outbox"]["depth"]


def wait_synced(client, timeout: float, log=lambda msg: None) -> float:
    """Wait until the outbox is empty; return the seconds waited. Raises TimeoutError."""
    t0 = time.perf_counter()
    last = -1
    while True:
        depth = outbox_depth(client)
        if depth == 0:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"the NB sync still has {depth} outbox rows after {timeout:.0f}s")
        if depth != last and int(time.perf_counter() - t0) % 10 == 0:
            log(f"  outbox: {depth} rows")
            last = depth
        time.sleep(0.5)


def arguments(description: str, project_id: str, purpose: str) -> argparse.ArgumentParser:
    """The options every script against a running ``neutrino up`` has: ``--state-dir``
    (its state dir, ``NEUTRINO_STATE_DIR`` or /var/lib/neutrino; ``purpose`` says what
    the script does to it), ``--endpoint`` and ``--project-id`` (default ``project_id``)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--state-dir", type=Path, default=Path(os.environ.get(
        "NEUTRINO_STATE_DIR", "/var/lib/neutrino")), help=f"the neutrino up to {purpose}")
    p.add_argument("--endpoint", help="API (default: runtime.json's api_url)")
    p.add_argument("--project-id", default=project_id)
    return p


def lift_quotas(client, project_id: str, resources) -> dict[str, int]:
    """Make ``project_id``'s quotas of ``resources`` unlimited (-1); returns the old
    ones for :func:`restore_quotas`. RuntimeError when the API refuses."""
    got = client.get(f"/v2.0/quotas/{project_id}")
    if got.status_code != 200:
        raise RuntimeError(f"GET quotas -> {got.status_code}: {got.text[:300]}")
    old = {k: got.json()["quota"][k] for k in resources}
    restore_quotas(client, project_id, {k: -1 for k in resources})
    return old


def restore_quotas(client, project_id: str, quotas: dict[str, int]) -> None:
    """Set ``project_id``'s quotas to ``quotas``. RuntimeError when the API refuses."""
    put = client.put(f"/v2.0/quotas/{project_id}", json={"quota": quotas})
    if put.status_code != 200:
        raise RuntimeError(f"PUT quotas -> {put.status_code}: {put.text[:300]}")

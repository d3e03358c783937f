"""What an idle ``neutrino up`` costs, and how fast a commit reaches the OVN NB.

    python bench/idle.py [--idle 60] [--networks 50] [--postgres] [--workers 4]
        [--state-dir DIR] [--keep-state]

Starts ``neutrino up`` in a state dir of its own (a temporary one by default: its
own OVS/OVN daemons, chassis namespace and SQLite database), waits until it
serves and its start-up audit is done, then prints one JSON document on stdout
(progress on stderr):

1. ``idle``: the CPU used over ``--idle`` seconds (60) in which nothing is
   asked of it, as a percentage of one core: ``neutrino`` is the ``up`` process
   and its descendants (the API, the controller and metadata service threads,
   one metadata agent per chassis), ``servers`` the ``neutrino server`` process
   trees (``--postgres``), ``ovn`` the OVS/OVN daemons of the state dir,
   ``postgres`` the private PostgreSQL's processes; ``top`` lists the busiest
   processes and threads. psutil's cumulative CPU times, read at both ends.
2. ``commit_to_nb``: ``--networks`` networks, then as many ports, created one
   at a time through the API; for each the time from the API's response (and
   from the request) until the bench's own NB IDL sees its ``Logical_Switch``
   / ``Logical_Switch_Port`` row (an ovsdbapp row event on the IDL's update
   stream: the NB server pushes each commit as it happens, nothing is polled).
   p50/p99 in milliseconds. The next create starts once the row is there, so
   every change is its own NB transaction. Negative "after response" figures
   mean the NB had the row before the response reached the client.

3. ``wake``: the part of 2. that is the wake-up alone, on a scratch database of
   the same kind: the time from ``Database.run`` returning from a commit that
   wrote an outbox row until a ``db.outbox_wake.Listener``'s event is set and a
   waiting thread runs (what the NB sync does), ``--wakes`` times (200), p50/p99
   in ms: ``same_process`` (the API and the controller in one process, as in
   ``neutrino up``), ``other_process`` (a writer process: the datagram socket on
   SQLite, ``NOTIFY``/``LISTEN`` on PostgreSQL). Both processes read
   CLOCK_MONOTONIC (``time.perf_counter``), one clock for the host.

With ``--postgres``: a private PostgreSQL (``lab.postgres``) is the database, and
``neutrino server --workers N`` (4) runs beside ``up`` on it; the creates go to
those worker processes, so the change crosses processes (the controller's
``LISTEN neutrino_outbox``) before it reaches the NB.

Everything started is stopped at the end (``neutrino down``), also on failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import psutil
from ovsdbapp.backend.ovs_idl import event as row_event

from cloud import free_port, log  # bench/cloud.py

from neutrino.lab.daemons import wait_until
from neutrino.ovn import idl

NEUTRINO = Path(sys.executable).with_name("neutrino")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUTRINO_", "OS_"))}
    return {**env, **extra}


def ok(resp: httpx.Response) -> dict:
    if resp.status_code >= 400:
        raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: "
                           f"{resp.status_code} {resp.text}")
    return resp.json() if resp.content else {}


# --- CPU -----------------------------------------------------------------------

def tree(pid: int) -> list[psutil.Process]:
    """The process ``pid`` and its descendants ([] once it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def state_dir_daemons(state_dir: Path, exclude: set[int]) -> list[psutil.Process]:
    """The processes whose command line names ``state_dir`` (the OVS/OVN daemons)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.pid not in exclude and str(state_dir) in " ".join(proc.info["cmdline"] or ()):
            found.append(proc)
    return found


def cpu_seconds(proc: psutil.Process) -> tuple[float, dict[str, float]]:
    """(process CPU seconds, {thread id: CPU seconds}); (0, {}) once gone."""
    try:
        with proc.oneshot():
            times = proc.cpu_times()
            threads = {str(t.id): t.user_time + t.system_time for t in proc.threads()}
        return times.user + times.system, threads
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0, {}


def thread_name(pid: int, tid: str) -> str:
    try:
        return Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
    except OSError:
        return "?"


def measure_idle(groups: dict[str, list[psutil.Process]], seconds: float) -> dict:
    """CPU% of one core per group over ``seconds``, and the busiest processes/threads."""
    names = {}
    for procs in groups.values():
        for proc in list(procs):
            try:
                names[proc.pid] = " ".join(proc.cmdline()[:3])
            except psutil.Error:  # gone already
                procs.remove(proc)
    before = {g: {p.pid: cpu_seconds(p) for p in procs} for g, procs in groups.items()}
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    result: dict = {"seconds": round(elapsed, 1)}
    busiest = []
    for group, procs in groups.items():
        total = 0.0
        for proc in procs:
            was, was_threads = before[group][proc.pid]
            if not proc.is_running():
                continue  # gone meanwhile (a PostgreSQL backend): not counted
            now, now_threads = cpu_seconds(proc)
            used = max(0.0, now - was)
            total += used
            busiest.append((used, f"{names[proc.pid][:70]} (pid {proc.pid})"))
            for tid, spent in now_threads.items():
                if tid in was_threads and spent - was_threads[tid] > 0.05 * elapsed / 100:
                    busiest.append((spent - was_threads[tid],
                                    f"  thread {thread_name(proc.pid, tid)} of pid {proc.pid}"))
        result[group] = {"processes": len(procs), "cpu_percent": round(100 * total / elapsed, 2)}
    busiest.sort(reverse=True)
    result["top"] = [f"{100 * used / elapsed:.2f}% {what}" for used, what in busiest[:15]]
    return result


# --- commit to NB ----------------------------------------------------------------

class Appeared(row_event.RowEvent):
    """Records when a row of ``table`` named in ``wanted`` is created."""

    def __init__(self, table: str) -> None:
        super().__init__((self.ROW_CREATE,), table, None)
        self.event_name = f"BenchAppeared{table}"
        self.seen: dict[str, float] = {}
        self.cond = threading.Condition()

    def match_fn(self, event, row, old=None) -> bool:
        return True

    def run(self, event, row, old) -> None:
        at = time.perf_counter()
        with self.cond:
            self.seen[row.name] = at
            self.cond.notify_all()

    def wait(self, name: str, timeout: float) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: name in self.seen, timeout):
                raise TimeoutError(f"{name} did not appear in the NB within {timeout}s")
            return self.seen.pop(name)


def ms_percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"count": len(ordered), "p50_ms": round(1000 * statistics.median(ordered), 2),
            "p99_ms": round(1000 * p99, 2), "max_ms": round(1000 * ordered[-1], 2)}


def commit_to_nb(api_url: str, nb, count: int) -> dict:
    switches, ports = Appeared("Logical_Switch"), Appeared("Logical_Switch_Port")
    for ev in (switches, ports):
        nb.idl.notify_handler.watch_event(ev)
    after, since = {"network": [], "port": []}, {"network": [], "port": []}
    run = uuid.uuid4().hex[:6]
    made: list[str] = []
    try:
        with httpx.Client(base_url=api_url + "/v2.0", timeout=30) as client:
            for i in range(count):
                sent = time.perf_counter()
                net = ok(client.post("/networks", json={"network": {"name": f"idle-{run}-{i}"}}))
                answered = time.perf_counter()
                made.append(net["network"]["id"])
                at = switches.wait(f"neutron-{net['network']['id']}", 30)
                after["network"].append(at - answered)
                since["network"].append(at - sent)
            for net_id in made:
                sent = time.perf_counter()
                port = ok(client.post("/ports", json={"port": {"network_id": net_id}}))
                answered = time.perf_counter()
                at = ports.wait(port["port"]["id"], 30)
                after["port"].append(at - answered)
                since["port"].append(at - sent)
            log(f"deleting {len(made)} networks")
            for net_id in made:
                for port in ok(client.get("/ports", params={"network_id": net_id}))["ports"]:
                    client.delete(f"/ports/{port['id']}")
                client.delete(f"/networks/{net_id}")
    finally:
        for ev in (switches, ports):
            nb.idl.notify_handler.unwatch_event(ev)
    return {kind: {"after_response": ms_percentiles(after[kind]),
                   "after_request": ms_percentiles(since[kind])} for kind in after}


# --- wake-up alone -----------------------------------------------------------------

_WRITER = """
import sys, time
from neutrino.db.session import Database
from neutrino.services import common
db = Database(sys.argv[1])
for line in sys.stdin:
    db.run(lambda s: common.enqueue_ovn(s, "network", "wake"))
    print(time.perf_counter(), flush=True)
"""


def wake_latency(url: str, rounds: int) -> dict:
    """Commit -> listener's event seen by a waiting thread, in this process and from
    another one (see the module docstring, 3.)."""
    from neutrino.db import outbox_wake
    from neutrino.db.session import Database
    from neutrino.services import common

    db = Database(url)
    db.upgrade()
    wake = threading.Event()
    listener = outbox_wake.Listener(url, wake).start()
    seen: list[float] = []
    woken = threading.Semaphore(0)

    def waiter() -> None:  # the sync thread's part: wait, note the time
        while True:
            wake.wait()
            wake.clear()
            seen.append(time.perf_counter())
            woken.release()
    try:
        if not listener.listening.wait(10):
            raise RuntimeError("the outbox listener does not listen")
        wake.clear()
        threading.Thread(target=waiter, daemon=True).start()
        same = []
        for _ in range(rounds):
            db.run(lambda s: common.enqueue_ovn(s, "network", "wake"))
            done = time.perf_counter()
            if not woken.acquire(timeout=5):
                raise RuntimeError("no wake-up within 5 s (same process)")
            same.append(seen[-1] - done)
        # another process: it has no listener of its own, so it sends the
        # datagram (SQLite) or NOTIFY (PostgreSQL)
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, url], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        other = []
        try:
            for _ in range(rounds):
                writer.stdin.write("go\n")
                writer.stdin.flush()
                done = float(writer.stdout.readline())
                if not woken.acquire(timeout=5):
                    raise RuntimeError("no wake-up within 5 s (other process)")
                other.append(seen[-1] - done)
        finally:
            writer.stdin.close()
            writer.wait(30)
        return {"same_process": ms_percentiles(same), "other_process": ms_percentiles(other)}
    finally:
        listener.close()
        db.dispose()


# --- the run --------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=60, help="idle seconds measured")
    parser.add_argument("--settle", type=float, default=10,
                        help="seconds after start-up before the idle measure")
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL, and neutrino server --workers N beside up")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--wakes", type=int, default=200)
    parser.add_argument("--state-dir", type=Path)
    parser.add_argument("--keep-state", action="store_true")
    args = parser.parse_args()

    state_dir = (args.state_dir or Path(tempfile.mkdtemp(prefix="neutrino-idle-"))).absolute()
    port, metadata_port = free_port(), free_port()
    figures: dict = {"database": "postgresql" if args.postgres else "sqlite"}
    with ExitStack() as stack:
        if not args.keep_state and args.state_dir is None:
            stack.callback(shutil.rmtree, state_dir, True)
        extra = []
        pg_procs: list[psutil.Process] = []
        state_dir.mkdir(parents=True, exist_ok=True)
        scratch = f"sqlite:///{state_dir}/wake.db"
        if args.postgres:
            from neutrino.lab.postgres import PostgresServer
            log("starting a private PostgreSQL")
            server = stack.enter_context(PostgresServer())
            url = server.create_database("idle")
            scratch = server.create_database("wake")
            extra = ["--database-url", url]
            pg_procs = tree(server.pid)
        if importlib.util.find_spec("neutrino.db.outbox_wake") is not None:  # (older trees)
            log(f"wake-up alone, {args.wakes} commits in this process and from another one")
            figures["wake"] = wake_latency(scratch, args.wakes)
            log(f"wake: {json.dumps(figures['wake'])}")
        log(f"starting neutrino up in {state_dir}")
        logfile = open(state_dir.parent / f"{state_dir.name}-up.log", "w")
        log(f"its output (and the servers'): {logfile.name}")
        stack.callback(logfile.close)
        up = subprocess.Popen([str(NEUTRINO), "up", "--state-dir", str(state_dir), "--port",
                               str(port), "--metadata-port", str(metadata_port), *extra],
                              stdout=logfile, stderr=subprocess.STDOUT, env=clean_env())
        stack.callback(lambda: subprocess.run(
            [str(NEUTRINO), "down", "--state-dir", str(state_dir)], env=clean_env(),
            capture_output=True, timeout=120))
        wait_until(lambda: (state_dir / "runtime.json").exists() or up.poll() is not None,
                   120, "neutrino up to serve")
        if up.poll() is not None:
            raise RuntimeError(f"neutrino up exited: see {logfile.name}")
        info = json.loads((state_dir / "runtime.json").read_text())
        api_url = info["api_url"]
        servers = []
        if args.postgres:
            api_port = free_port()
            log(f"starting neutrino server --workers {args.workers}")
            srv = subprocess.Popen(
                [str(NEUTRINO), "server", "--workers", str(args.workers), "--port",
                 str(api_port), "--state-dir", str(state_dir), *extra],
                stdout=logfile, stderr=subprocess.STDOUT, env=clean_env())
            stack.callback(lambda: (srv.terminate(), srv.wait(30)))
            api_url = f"http://127.0.0.1:{api_port}"
            wait_until(lambda: _answers(api_url), 180, "neutrino server to answer")  # 4 workers, busy host
            servers = [srv.pid]
        log(f"settling {args.settle:.0f}s (start-up audit)")
        time.sleep(args.settle)
        if args.postgres:
            pg_procs = tree(server.pid)  # its backends now serve up and the servers
        ours = tree(up.pid)
        server_procs = [p for pid in servers for p in tree(pid)]
        known = {p.pid for p in ours + server_procs + pg_procs}
        groups = {"neutrino": ours, "servers": server_procs,
                  "ovn": state_dir_daemons(state_dir, known), "postgres": pg_procs}
        log(f"idle for {args.idle:.0f}s")
        figures["idle"] = measure_idle({g: p for g, p in groups.items() if p}, args.idle)
        log(f"idle: {figures['idle']['neutrino']['cpu_percent']}% of a core (neutrino)")
        nb = idl.nb_api(info["nb_connection"])
        stack.callback(idl.disconnect_all)
        log(f"creating {args.networks} networks and {args.networks} ports, one at a time")
        figures["commit_to_nb"] = commit_to_nb(api_url, nb, args.networks)
    print(json.dumps(figures, indent=2))
    return 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The write path's figures: statements and round trips per port create, then
bench/api.py against ``neutrino server`` (issue 22).

1. Count (in this process, the API app served by Starlette's TestClient on the same
   database): after --warmup port creates (the project's default security group is
   made by its first request), --count sequential ``POST /v2.0/ports``; per create
   the SQL statements SQLAlchemy sends (``before_cursor_execute``), the transaction
   ends, and on PostgreSQL the client/server round trips, read from libpq's protocol
   trace (``db.pg_pipeline.RoundTripCounter``: pipelined statements count once);
   and the wall time and CPU time per create of this process (app and client) and
   of the database server's processes: what one create costs the machine, so the
   ceiling of an idle host's cores follows (cores / CPU per create).
2. Unless --count-only: start ``neutrino server --workers N`` on the database (API
   only, no controller: the outbox rows wait) and run ``bench/api.py`` against it
   (--ports, --concurrency, --list); its JSON report is printed under ``api``.

Databases: ``--database postgres`` (default) starts a private PostgreSQL
(``neutrino.lab.postgres``; stopped at exit), ``--database sqlite`` uses a file in a
temporary state directory. Every process started is stopped by its pid at exit.

Run:
    python bench/write_path.py [--database postgres|sqlite] [--workers 4]
        [--ports 500] [--concurrency 8] [--list 1000] [--count 100] [--count-only]

Progress on stderr, one JSON document on stdout.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
NEUTRINO = Path(sys.executable).with_name("neutrino")
PROJECT = uuid.uuid5(uuid.NAMESPACE_DNS, "neutrino-write-path").hex


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, seconds) of these processes and their children."""
    import psutil
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for p in [root, *root.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def count(url: str, args, state_dir: Path, db_pids: list[int]) -> dict:
    """Statements (and round trips on PostgreSQL) per port create, in this process."""
    from starlette.testclient import TestClient

    from neutrino.api.app import create_app
    from neutrino.config import Settings
    from neutrino.db import pg_pipeline
    from neutrino.db.session import Database
    from neutrino.services.env import Env

    db = Database(url)
    statements, ends = [], []
    event.listen(db.engine, "before_cursor_execute",
                 lambda *a: statements.append(a[2].split(None, 1)[0].upper()))
    for name in ("commit", "rollback"):
        event.listen(db.engine, name, lambda conn, name=name: ends.append(name))
    tracer = None if db.is_sqlite else pg_pipeline.RoundTripCounter(db.engine, state_dir)
    settings = Settings(database_url=url, state_dir=state_dir)
    headers = {"X-Project-Id": PROJECT, "X-Roles": "admin,member"}
    per_create = []
    with TestClient(create_app(Env(db=db, settings=settings)), headers=headers) as client:
        net = client.post("/v2.0/networks", json={"network": {"name": "wp"}}).json()["network"]
        client.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.98.0.0/16"}}).raise_for_status()
        for i in range(args.warmup + args.count):
            if i == args.warmup:
                cpu0 = (time.process_time(), cpu_seconds(db_pids), time.perf_counter())
            del statements[:], ends[:]
            if tracer:
                tracer.mark()
            r = client.post("/v2.0/ports", json={"port": {"network_id": net["id"],
                                                          "name": f"wp-{i}"}})
            r.raise_for_status()
            if i >= args.warmup:
                per_create.append({"statements": len(statements), "kinds": list(statements),
                                   "commits": ends.count("commit"),
                                   "round_trips": tracer.round_trips() if tracer else None})
    app_cpu, db_cpu = time.process_time() - cpu0[0], cpu_seconds(db_pids) - cpu0[1]
    wall = time.perf_counter() - cpu0[2]
    db.dispose()
    if tracer:
        tracer.close()
    median = lambda key: statistics.median(p[key] for p in per_create)  # noqa: E731
    return {"creates": len(per_create), "statements": median("statements"),
            "round_trips": median("round_trips") if tracer else None,
            "commits": median("commits"),
            # one client, one at a time: CPU per create of this process (the app, its
            # client, Starlette's test transport) and of the database server
            "ms_wall": round(wall * 1000 / len(per_create), 2),
            "ms_cpu_app": round(app_cpu * 1000 / len(per_create), 2),
            "ms_cpu_database": round(db_cpu * 1000 / len(per_create), 2),
            "statement_kinds": per_create[-1]["kinds"]}


def server_env(tree: Path | None = None) -> dict[str, str]:
    """The environment of a ``neutrino`` command: this one without ``NEUTRINO_*``
    settings; with ``tree``, that checkout's ``neutrino`` package is imported first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUTRINO_")}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def serve_and_bench(url: str, args, state_dir: Path, stack: contextlib.ExitStack,
                    tree: Path | None = None) -> dict:
    """Start ``neutrino server`` on ``url`` (from ``tree``, a checkout, when given);
    run bench/api.py against it; its report."""
    port = free_port()
    logfile = open(state_dir / "server.log", "w")
    stack.callback(logfile.close)
    env = server_env(tree)
    srv = subprocess.Popen([str(NEUTRINO), "server", "--workers", str(args.workers), "--port",
                            str(port), "--state-dir", str(state_dir), "--database-url", url],
                           stdout=logfile, stderr=subprocess.STDOUT, env=env)

    def stop():
        srv.terminate()
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    stack.callback(stop)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(endpoint + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if srv.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"neutrino server did not answer: see {logfile.name}")
        time.sleep(0.3)
    log(f"neutrino server --workers {args.workers} on {endpoint}; bench/api.py")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "api.py"), "--endpoint", endpoint,
                          "--ports", str(args.ports), "--concurrency", str(args.concurrency),
                          "--list", str(args.list)], stdout=subprocess.PIPE, text=True)
    report = json.loads(out.stdout)
    steps = report["steps"]
    report["summary"] = {
        "port_create_p50_ms": steps.get("port_create_sequential", {}).get("p50"),
        "port_create_concurrent_p50_ms": steps.get("port_create_concurrent", {}).get("p50"),
        "ports_per_second": steps.get("port_create_concurrent", {}).get("ports_per_second"),
        "port_list_p50_ms": steps.get("port_list", {}).get("p50"),
        "ip_availability_p50_ms": steps.get("ip_availability", {}).get("p50"),
        "ok": report["ok"]}
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--ports", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--list", type=int, default=1000)
    p.add_argument("--count", type=int, default=100, help="port creates counted")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--count-only", action="store_true", help="skip the server and bench/api.py")
    args = p.parse_args(argv)
    report: dict = {"database": args.database, "workers": args.workers,
                    "loadavg": os.getloadavg()}
    with contextlib.ExitStack() as stack:
        state_dir = Path(tempfile.mkdtemp(prefix="neutrino-write-path-"))
        stack.callback(shutil.rmtree, state_dir, True)
        if args.database == "postgres":
            from neutrino.lab.postgres import PostgresServer
            log("starting a private PostgreSQL")
            server = stack.enter_context(PostgresServer())
            url = server.create_database("write_path")
            db_pids = [server.pid]
        else:
            url, db_pids = f"sqlite:///{state_dir}/neutrino.db", []
        subprocess.run([str(NEUTRINO), "db", "upgrade", "--database-url", url], check=True,
                       env=server_env(), stdout=subprocess.DEVNULL)
        log(f"counting statements per port create ({args.count} creates)")
        report["per_port_create"] = count(url, args, state_dir, db_pids)
        log(f"per port create: {json.dumps({k: v for k, v in report['per_port_create'].items() if k != 'statement_kinds'})}")
        if not args.count_only:
            report["api"] = serve_and_bench(url, args, state_dir, stack)
            log(f"summary: {json.dumps(report['api']['summary'])}")
        report["loadavg_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    return 0 if args.count_only or report["api"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench/api.py against two trees of neutrino, one right after the other (issue 23's
"no figure worse by more than 10%"): ``--before REV`` (a commit, checked out in a
temporary git worktree) and this checkout, each served by ``neutrino server --workers
N`` on a fresh database of its own migrations, in turns (before, after, before,
after ... for ``--rounds``), so a change of the machine's load hits both alike.

Databases as bench/write_path.py: ``--database postgres`` starts one private
PostgreSQL (a database per run), ``sqlite`` a file per run. Every process started is
stopped by its pid, the worktree removed, also on failure.

Run:
    python bench/compare.py --before d5ddd30 [--database postgres|sqlite] [--workers 4]
        [--rounds 2] [--ports 500] [--concurrency 8] [--list 1000]

Progress on stderr; on stdout one JSON document: each run's ``summary`` (as
write_path.py prints it) and, per tree, the median of each figure over its rounds.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from write_path import NEUTRINO, ROOT, log, serve_and_bench, server_env  # noqa: E402

FIGURES = ("port_create_p50_ms", "port_create_concurrent_p50_ms", "ports_per_second",
           "port_list_p50_ms", "ip_availability_p50_ms")


def worktree(rev: str, stack: contextlib.ExitStack) -> Path:
    """A detached checkout of ``rev`` in a temporary directory (removed at exit)."""
    path = Path(tempfile.mkdtemp(prefix="neutrino-before-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(subprocess.run, ["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(path)], stdout=subprocess.DEVNULL)
    return path


def one_run(tree: Path, url: str, args, stack: contextlib.ExitStack, state_dir: Path) -> dict:
    """Migrate ``url`` with ``tree``'s code, serve it from ``tree``, run bench/api.py."""
    subprocess.run([str(NEUTRINO), "db", "upgrade", "--database-url", url], check=True,
                   env=server_env(tree), stdout=subprocess.DEVNULL)
    with contextlib.ExitStack() as run_stack:
        return serve_and_bench(url, args, state_dir, run_stack, tree)["summary"]


def _median(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--before", required=True, help="the commit to compare this checkout with")
    p.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--ports", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--list", type=int, default=1000)
    args = p.parse_args(argv)
    report: dict = {"before": args.before, "database": args.database, "workers": args.workers,
                    "loadavg": os.getloadavg(), "runs": []}
    with contextlib.ExitStack() as stack:
        trees = {"before": worktree(args.before, stack), "after": ROOT}
        state_dir = Path(tempfile.mkdtemp(prefix="neutrino-compare-"))
        stack.callback(shutil.rmtree, state_dir, True)
        server = None
        if args.database == "postgres":
            from neutrino.lab.postgres import PostgresServer
            server = stack.enter_context(PostgresServer())
        for i in range(args.rounds):
            for name, tree in trees.items():
                url = (server.create_database(f"compare_{name}_{i}") if server
                       else f"sqlite:///{state_dir}/{name}-{i}.db")
                log(f"round {i + 1}: {name} ({tree})")
                summary = one_run(tree, url, args, stack, state_dir)
                log(f"  {json.dumps(summary)}")
                report["runs"].append({"tree": name, "round": i + 1, **summary})
        report["median"] = {name: {f: _median([r[f] for r in report["runs"]
                                               if r["tree"] == name]) for f in FIGURES}
                            for name in trees}
        report["loadavg_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    return 0 if all(r["ok"] for r in report["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())

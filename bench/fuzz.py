#!/usr/bin/env python3
"""The long fuzz run: every operation of ``/openapi.json`` against live servers.

For each database asked for (``sqlite``, ``postgres``) this starts a ``neutrino server``
of its own (``tests/neutrino_server.py``; PostgreSQL: a private server from
``neutrino.lab.postgres``), fuzzes it with ``tests/fuzzing.py`` (schemathesis' positive
and negative modes, ``--examples`` per operation and mode) and prints the counts per
status class, per status, and every failure (a 5xx, or a 4xx without a NeutronError
body). With ``--allinone`` the SQLite run is against ``neutrino up`` instead (private
OVS/OVN daemons, ``tests/allinone.py``): after the fuzz it waits for the NB sync to drain
its outbox and runs ``neutrino sync``, which must report no DB<->NB drift.

Run (as root for --allinone):
    .venv/bin/python bench/fuzz.py [--examples 25] [--databases sqlite,postgres]
        [--allinone] [--only 'POST /v2.0/ports'] [--seed 0]

Progress to stderr, one JSON document to stdout. Exit status: 0 no failure and no
drift, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import Report, fuzz  # noqa: E402
from neutrino_server import NeutrinoServer  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def postgres_url(workdir: Path):
    from neutrino.lab.postgres import PostgresServer, available
    reason = available()
    if reason:
        raise RuntimeError(f"PostgreSQL: {reason}")
    server = PostgresServer().start()
    try:
        yield server.create_database("fuzz")
    finally:
        server.stop()


def drift(state_dir: Path, timeout: float = 120) -> dict:
    """Wait for the all-in-one's outbox to drain, then ``neutrino sync``'s verdict."""
    import sqlalchemy
    from allinone import neutrino
    engine = sqlalchemy.create_engine(f"sqlite:///{state_dir / 'neutrino.db'}")
    deadline, left = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            left = conn.execute(sqlalchemy.text("SELECT count(*) FROM ovn_outbox")).scalar()
        if not left:
            break
        time.sleep(1)
    engine.dispose()
    res = neutrino("sync", "--state-dir", str(state_dir), check=False, timeout=300)
    return {"outbox_left": left, "sync_exit": res.returncode,
            "sync_output": (res.stdout + res.stderr)[-4000:]}


def summarise(name: str, report: Report) -> dict:
    failures = [f.__dict__ for f in report.failures]
    log(f"{name}: {report.summary()}")
    for f in report.failures:
        log(f"  FAIL {f.method} {f.path} {f.status} {f.rule}\n    {f.request[:300]}\n"
            f"    -> {f.answer[:300]}")
    return {"operations": report.operations, "requests": report.requests,
            "seconds": round(report.seconds, 1), "classes": dict(report.classes),
            "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
            "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=25,
                        help="requests per operation and generation mode")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--allinone", action="store_true",
                        help="SQLite through neutrino up, then neutrino sync (drift)")
    parser.add_argument("--only", help="regex on 'METHOD path'")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results: dict = {}
    ok = True
    for database in args.databases.split(","):
        with tempfile.TemporaryDirectory(prefix="neutrino-fuzz-") as tmp:
            work = Path(tmp)
            log(f"{database}: starting")
            if database == "sqlite" and args.allinone:
                from allinone import running_allinone
                with running_allinone(work, "fz") as aio:
                    report = fuzz(aio.url.removesuffix("/v2.0"), examples=args.examples,
                                  seed=args.seed, only=args.only)
                    result = summarise("sqlite (neutrino up)", report)
                    result["drift"] = drift(work)
                    log(f"drift: outbox left {result['drift']['outbox_left']}, "
                        f"neutrino sync exit {result['drift']['sync_exit']}")
                    ok &= result["drift"]["sync_exit"] == 0
            else:
                with contextlib.ExitStack() as stack:
                    url = stack.enter_context(postgres_url(work)) if database == "postgres" \
                        else None
                    server = stack.enter_context(NeutrinoServer(work, database_url=url))
                    report = fuzz(server.url, examples=args.examples, seed=args.seed,
                                  only=args.only)
                    result = summarise(database, report)
            ok &= not report.failures
            results[database] = result
    print(json.dumps(results, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A SQLite write lock held by another process must not freeze the API's reads.

The other process here is this test, holding ``BEGIN IMMEDIATE`` on the server's
database file for a few seconds, as ``neutrino sync --repair``, a CLI command or a
migration would. Reads keep answering meanwhile; a write waits for the lock (busy
timeout) and succeeds once it is released.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx

from neutrino_server import NeutrinoServer

HOLD = 4.0  # seconds the other process keeps the write lock
HEADERS = {"X-Project-Id": "p1", "X-Roles": "admin,member"}


def test_reads_answer_while_another_process_holds_the_write_lock(tmp_path: Path):
    with NeutrinoServer(tmp_path) as server, httpx.Client(
            base_url=server.url, headers=HEADERS, timeout=30) as client:
        assert client.post("/v2.0/networks", json={"network": {"name": "before"}}
                           ).status_code == 201
        db_file = next(server.state_dir.glob("*.db"))
        holder = sqlite3.connect(db_file, timeout=30, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        held_at = time.monotonic()
        write: dict[str, object] = {}

        def create() -> None:
            resp = client.post("/v2.0/networks", json={"network": {"name": "during"}})
            write.update(status=resp.status_code, at=time.monotonic() - held_at)

        writer = threading.Thread(target=create)
        writer.start()
        slowest = 0.0
        reads = 0
        try:
            time.sleep(0.3)  # the write is now waiting for the lock
            while time.monotonic() - held_at < HOLD:
                started = time.monotonic()
                resp = client.get("/v2.0/networks")
                slowest = max(slowest, time.monotonic() - started)
                assert resp.status_code == 200
                reads += 1
                time.sleep(0.05)
            assert "status" not in write, "the write did not wait for the lock"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        writer.join(timeout=30)
        print(f"{reads} reads while the lock was held, slowest {slowest * 1000:.1f} ms; "
              f"the write answered {write.get('at', 0):.2f}s after the lock was taken")
        # a frozen event loop would hold every read for the whole HOLD
        assert reads >= 10 and slowest < 1.0
        assert write["status"] == 201 and write["at"] >= HOLD
        names = {n["name"] for n in client.get("/v2.0/networks").json()["networks"]}
        assert {"before", "during"} <= names

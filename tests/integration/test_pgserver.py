"""Integration test of neutrino.lab.postgres (through tests/pgserver.py): a private PostgreSQL server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pgserver
from pgserver import PostgresServer, available

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres


def _children_of(pid: int) -> set[int]:
    kids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                kids.add(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(autouse=True)
def _need_postgres():
    reason = available()
    if reason is not None:
        pytest.skip(reason)


def test_server_lifecycle():
    server = PostgresServer()
    try:
        server.start()
        pid, tmpdir, port = server.pid, server.tmpdir, server.port
        assert pid and _alive(pid)
        assert tmpdir.is_dir() and (tmpdir / "data" / "PG_VERSION").exists()
        print(f"\nPostgreSQL {server.bindir} started in {server.startup_seconds:.2f}s "
              f"on port {port}")

        urls = [server.create_database(n) for n in ("alpha", "beta")]
        assert urls == [
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/alpha",
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/beta",
        ]

        # Connect to both; keep the connections open so the drop has to FORCE.
        conns = []
        for name in ("alpha", "beta"):
            conn = psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                                   dbname=name, autocommit=True)
            conns.append(conn)
            row = conn.execute(
                "SELECT current_database(), current_setting('fsync'), "
                "current_setting('max_connections')::int, "
                "current_setting('unix_socket_directories'), 1 + 1"
            ).fetchone()
            assert row == (name, "off", 200, str(tmpdir), 2)
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (41), (1)")
            assert conn.execute("SELECT sum(x) FROM t").fetchone() == (42,)

        # The unix socket lives in the temp dir, not /var/run/postgresql.
        assert (tmpdir / f".s.PGSQL.{port}").exists()

        children = _children_of(pid)
        assert children, "expected postmaster auxiliary/backend processes"

        server.drop_database("alpha")
        server.drop_database("beta")
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                             dbname="postgres") as conn:
            names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        assert not names & {"alpha", "beta"}
        for conn in conns:
            conn.close()
    finally:
        server.stop()

    assert not _alive(pid), "postmaster still running"
    assert not [c for c in children if _alive(c)], "postmaster children still running"
    assert not tmpdir.exists(), "temp dir not removed"
    assert server.pid is None and not server.running
    server.stop()  # idempotent


def test_start_failure_cleans_up(tmp_path, monkeypatch):
    # An impossible setting makes postgres exit during startup: the error
    # must carry the log tail and leave nothing behind.
    monkeypatch.setitem(pgserver.SERVER_SETTINGS, "shared_buffers", "bogus")
    server = PostgresServer(start_timeout=30)
    created = []
    orig = server._make_tmpdir

    def spy():
        orig()
        created.append(server.tmpdir)

    server._make_tmpdir = spy
    with pytest.raises(pgserver.PostgresServerError) as info:
        server.start()
    assert "shared_buffers" in str(info.value)
    assert created and not created[0].exists()
    assert server.pid is None


def test_pg_url_fixture(pg_url, pg_server):
    assert pg_url.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/t_")
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_server.conninfo(dbname)) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (dbname,)


def test_sqlalchemy_url(pg_url):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT 7")).scalar() == 7
    finally:
        engine.dispose()

"""The leader lock (neutrino.control.leader) on a real PostgreSQL and on SQLite files,
and the health the controllers' reports make (neutrino.services.health)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from neutrino.control.leader import FileLeaderLock, PostgresLeaderLock, leader_lock
from neutrino.db.models import ControllerReport, OvnOutbox
from neutrino.db.session import Database
from neutrino.services import common, health


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgres
def test_postgres_lock_is_exclusive_and_dies_with_its_session(pg_url: str):
    a, b = PostgresLeaderLock(pg_url, "a"), PostgresLeaderLock(pg_url, "b")
    try:
        assert a.try_acquire() and a.held()
        assert not b.try_acquire() and not b.held()
        with psycopg.connect(_conninfo(pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = %s", (a.application_name,))
        assert not a.held()  # it asks the database, not a flag
        assert b.try_acquire() and b.held()
        assert not a.try_acquire()  # a fresh session, but b holds it now
        b.release()
        assert a.try_acquire()
    finally:
        a.release()
        b.release()


@pytest.mark.postgres
def test_postgres_lock_is_released_when_the_holder_is_killed(pg_url: str):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from neutrino.control.leader import PostgresLeaderLock as L; "
        f"l = L({pg_url!r}, 'victim'); assert l.try_acquire(); print('held', flush=True); "
        "time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    waiter = PostgresLeaderLock(pg_url, "waiter")
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not waiter.try_acquire()
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 5
        while not waiter.try_acquire():
            assert time.monotonic() < deadline, "the lock outlived its SIGKILLed holder"
            time.sleep(0.05)
    finally:
        holder.kill()
        waiter.release()


def test_file_lock_is_exclusive_and_follows_the_file(tmp_path: Path):
    path = tmp_path / "neutrino.db.controller-lock"
    a, b = FileLeaderLock(path), FileLeaderLock(path)
    assert a.try_acquire() and a.held()
    assert not b.try_acquire()
    os.unlink(path)  # a new file at the path would be a second lock: a steps down
    assert not a.held()
    assert b.try_acquire()
    b.release()
    assert isinstance(leader_lock(f"sqlite:///{tmp_path}/x.db", tmp_path, "n"), FileLeaderLock)
    assert leader_lock(f"sqlite:///{tmp_path}/x.db", tmp_path, "n").path == Path(
        f"{tmp_path}/x.db.controller-lock")


def _report(db: Database, name: str, role: str, age: float, ready: bool = True) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age))
    conn = {"remote": "tcp:127.0.0.1:6641", "connected": ready, "ready": ready}
    db.run(lambda s: s.add(ControllerReport(
        id=name, host="h", pid=1, role=role, started_at=stamp, heartbeat_at=stamp,
        leader_since=stamp if role == "leader" else None,
        report={"nb": conn, "sb": conn, "raft": {}, "sync": {}})))


def test_health_names_the_live_leader_and_the_backlog(database_url: str):
    db = Database(database_url)
    try:
        state = health.health(db)
        assert state["status"] == "degraded" and state["leader"] is None
        _report(db, "dead", "leader", age=60)
        _report(db, "live", "leader", age=0)
        _report(db, "spare", "standby", age=1)
        state = health.health(db)
        assert state["leader"] == "live" and state["status"] == "ok", state
        assert {c["id"]: c["alive"] for c in state["controllers"]} == {
            "dead": False, "live": True, "spare": True}
        old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
        db.run(lambda s: s.add_all([OvnOutbox(resource_type="network", resource_id="x",
                                              created_at=old),
                                    OvnOutbox(resource_type="network", resource_id="y",
                                              created_at=common.now())]))
        state = health.health(db)
        assert state["outbox"]["depth"] == 2 and state["outbox"]["oldest_age"] >= 119
        assert state["status"] == "degraded" and "outbox" in state["problems"][0]
    finally:
        db.dispose()


def test_a_controller_that_cannot_start_its_duties_gives_the_lead_up(tmp_path: Path):
    """A term that fails to start (here: the SB copy cannot be read) releases the lock
    for another controller and the loop goes on standing by."""
    import threading

    from neutrino.config import Settings
    from neutrino.control.controller import Controller
    from neutrino.services.env import Env

    class BrokenSb:  # what NorthboundSync and the watcher touch first, failing
        class idl:
            class notify_handler:
                @staticmethod
                def watch_event(event):
                    raise ConnectionError("SB gone")

                @staticmethod
                def unwatch_event(event):
                    pass
        tables: dict = {}

    url = f"sqlite:///{tmp_path}/n.db"
    db = Database(url)
    db.upgrade()
    lock = FileLeaderLock(tmp_path / "lock")
    controller = Controller(Env(db=db, settings=Settings(state_dir=tmp_path, database_url=url)),
                            nb_api=None, sb_api=BrokenSb(), lock=lock, poll_interval=0.05)
    controller.report = lambda: {}  # no OVN to report on
    stop = threading.Event()
    runner = threading.Thread(target=controller.run, args=(stop,))
    runner.start()
    try:
        time.sleep(0.5)
        assert runner.is_alive() and not controller.is_leader
        other = FileLeaderLock(tmp_path / "lock")
        deadline = time.monotonic() + 2
        while not other.try_acquire():  # free between its attempts
            assert time.monotonic() < deadline, "the lock was never given up"
            time.sleep(0.01)
        other.release()
    finally:
        stop.set()
        runner.join(10)
        db.dispose()

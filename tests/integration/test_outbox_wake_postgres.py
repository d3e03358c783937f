"""Waking the NB sync across processes on a real PostgreSQL (neutrino.db.outbox_wake):
``NOTIFY neutrino_outbox`` from another session wakes the listener, a commit that
wrote outbox rows sends it (a rollback does not), and a listener whose session is
terminated listens again. No OVN needed."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from neutrino.db import outbox_wake
from neutrino.db.session import Database
from neutrino.services import common

pytestmark = pytest.mark.postgres


@pytest.fixture
def migrated_url(pg_server, pg_template):
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_server._admin_execute(f"CREATE DATABASE {{}} TEMPLATE {pg_template}", name)
    yield pg_server.url(name)
    pg_server.drop_database(name)


def conninfo(pg_server, url: str) -> str:
    return pg_server.conninfo(url.rsplit("/", 1)[1])


def listening(url: str, wake: threading.Event) -> outbox_wake.Listener:
    """A started listener, once LISTENing (its first wake-up consumed)."""
    listener = outbox_wake.Listener(url, wake, application_name="test-outbox-listener").start()
    assert listener.listening.wait(10) and wake.wait(10)
    wake.clear()
    return listener


def test_a_notify_from_another_session_wakes_the_listener(pg_server, pg_url):
    wake = threading.Event()
    listener = listening(pg_url, wake)
    try:
        with psycopg.connect(conninfo(pg_server, pg_url), autocommit=True) as other:
            other.execute("NOTIFY neutrino_outbox")
            assert wake.wait(5), "the NOTIFY did not wake the listener"
            wake.clear()
            with other.transaction():  # delivered at commit only
                other.execute("NOTIFY neutrino_outbox")
                assert not wake.wait(0.3)
            assert wake.wait(5)
    finally:
        listener.close()


def test_a_commit_that_wrote_outbox_rows_notifies_and_a_rollback_does_not(pg_server,
                                                                           migrated_url):
    db = Database(migrated_url, pool_size=1)
    try:
        with psycopg.connect(conninfo(pg_server, migrated_url), autocommit=True) as sync_side:
            sync_side.execute("LISTEN neutrino_outbox")

            def fail(session) -> None:
                common.enqueue_ovn(session, "network", "n1")
                raise RuntimeError("rolled back")
            with pytest.raises(RuntimeError):
                db.run(fail)
            db.run(lambda s: None)
            assert list(sync_side.notifies(timeout=0.3)) == []
            db.run(lambda s: common.enqueue_ovn(s, "network", "n1"))
            got = list(sync_side.notifies(timeout=5, stop_after=1))
            assert [n.channel for n in got] == ["neutrino_outbox"]
    finally:
        db.dispose()


def test_a_listener_whose_session_is_terminated_listens_again(pg_server, pg_url):
    wake = threading.Event()
    listener = listening(pg_url, wake)
    try:
        with psycopg.connect(conninfo(pg_server, pg_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'test-outbox-listener'")
            assert wake.wait(10), "no wake-up after the reconnect"
            assert listener.listening.wait(10)
            wake.clear()
            admin.execute("NOTIFY neutrino_outbox")
            assert wake.wait(5), "the new session does not LISTEN"
    finally:
        listener.close()

"""Waking the NB sync on commit (neutrino.db.outbox_wake) on SQLite files: the
in-process event, and the datagram another process's commit sends."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading

import pytest

from neutrino.db import outbox_wake
from neutrino.db.session import Database
from neutrino.services import common


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "neutrino.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(sqlite_url):
    db = Database(sqlite_url)
    yield db
    db.dispose()


def enqueue(session) -> None:
    common.enqueue_ovn(session, "network", "n1")


def test_a_commit_that_wrote_outbox_rows_sets_the_listeners_event(db):
    wake = threading.Event()
    with outbox_wake.Listener(db.url, wake):
        assert wake.wait(5)  # once listening: whatever was missed before
        wake.clear()
        db.run(lambda s: None)
        assert not wake.is_set()  # no outbox row: nothing to wake for
        db.run(enqueue)
        assert wake.is_set()  # set by the commit itself, before run returns


def test_a_rolled_back_transaction_wakes_nobody(db):
    wake = threading.Event()
    with outbox_wake.Listener(db.url, wake):
        assert wake.wait(5)
        wake.clear()

        def fail(session) -> None:
            enqueue(session)
            raise RuntimeError("rolled back")
        with pytest.raises(RuntimeError):
            db.run(fail)
        assert not wake.is_set()


def test_a_closed_listener_is_woken_no_more(db):
    wake = threading.Event()
    listener = outbox_wake.Listener(db.url, wake).start()
    listener.close()
    wake.clear()
    db.run(enqueue)
    assert not wake.is_set()


def test_another_processs_commit_wakes_the_listener_through_its_socket(db, sqlite_url):
    wake = threading.Event()
    with outbox_wake.Listener(db.url, wake) as listener:
        assert listener.listening.wait(5) and wake.wait(5)
        wake.clear()
        writer = subprocess.run([sys.executable, "-c", (
            "from neutrino.db.session import Database; from neutrino.services import common; "
            f"Database({sqlite_url!r}).run(lambda s: common.enqueue_ovn(s, 'network', 'n2'))")],
            capture_output=True, text=True, timeout=60)
        assert writer.returncode == 0, writer.stderr
        assert wake.wait(5), "the other process's commit did not wake the listener"


def test_each_sqlite_file_has_its_own_address_and_memory_none(tmp_path):
    a = outbox_wake.sqlite_address(f"sqlite:///{tmp_path}/a.db")
    assert a.startswith(b"\0neutrino-outbox-")
    assert a != outbox_wake.sqlite_address(f"sqlite:///{tmp_path}/b.db")
    assert outbox_wake.sqlite_address("sqlite:///:memory:") is None
    assert outbox_wake.sqlite_address("postgresql+psycopg://u@h/d") is None

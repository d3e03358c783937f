"""The test run's private PostgreSQL server (``neutrino.lab.postgres``) as pytest
fixtures.

``pg_server`` is session-scoped and skips (with the reason from
:func:`~neutrino.lab.postgres.available`) when PostgreSQL is not installed; all
modules that import it share one server per process.  ``pg_url`` creates a fresh
database for each test and drops it ``WITH (FORCE)`` afterwards::

    from pgserver import pg_server, pg_url  # noqa: F401  (pytest fixtures)

    @pytest.mark.postgres
    def test_something(pg_url):
        engine = sqlalchemy.create_engine(pg_url)
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Iterator

import pytest

from neutrino.lab.postgres import (SERVER_SETTINGS, PostgresServer,  # noqa: F401 (re-exported)
                                   PostgresServerError, available, find_bindir)


# --------------------------------------------------------------------------
# pytest fixtures
#
# Every test module that imports ``pg_server`` gets its own pytest FixtureDef,
# so the server itself is a per-process singleton with a reference count:
# the first session fixture to run starts it, the last teardown stops it.

_shared_lock = threading.Lock()
_shared_server: PostgresServer | None = None
_shared_users = 0
_shared_error: BaseException | None = None


def _acquire_shared() -> PostgresServer:
    global _shared_server, _shared_users, _shared_error
    with _shared_lock:
        if _shared_error is not None:
            raise PostgresServerError(
                f"private PostgreSQL server failed to start earlier: {_shared_error}"
            )
        if _shared_server is None:
            try:
                _shared_server = PostgresServer().start()
            except Exception as e:
                _shared_error = e
                raise
        _shared_users += 1
        return _shared_server


def _release_shared() -> None:
    global _shared_server, _shared_users
    with _shared_lock:
        _shared_users -= 1
        if _shared_users == 0 and _shared_server is not None:
            server, _shared_server = _shared_server, None
            server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """Session-wide private PostgreSQL server; skips if PostgreSQL is missing."""
    reason = available()
    if reason is not None:
        pytest.skip(reason)
    server = _acquire_shared()
    try:
        yield server
    finally:
        _release_shared()


@pytest.fixture
def pg_url(pg_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database for this test, dropped afterwards."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")
    name = f"t_{stem[:45]}_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    try:
        yield url
    finally:
        pg_server.drop_database(name)

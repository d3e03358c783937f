"""PostgreSQL write transactions in psycopg's pipeline mode: statements whose answer
nobody reads ride along with the next one that must be answered.

A write transaction on PostgreSQL costs one client/server round trip per statement,
plus ``BEGIN`` and ``COMMIT``; on a busy host each round trip is two wake-ups, and the
port create path (``services.ports``) spends most of its time in them. In pipeline
mode (psycopg "Pipeline mode", libpq ``PQenterPipelineMode``) the client sends
commands without waiting, and reads the answers at a sync point. This module puts
every write transaction of an engine (``Database``'s writer sessions; never the
autocommit readers, never a savepoint's statements) in pipeline mode:

* ``BEGIN`` is sent with the transaction's first statement (psycopg queues it);
* a statement executed with the execution option ``DEFERRED`` (``{DEFERRED: True}``:
  an ``INSERT`` or ``NOTIFY`` whose result — rows, ``rowcount`` — nobody reads) is
  queued, not answered; callers opt in statement by statement;
* every other statement syncs the pipeline: the queued statements and it go out
  together, and their answers come back together, so its result is complete when
  SQLAlchemy reads it;
* ``COMMIT`` is queued too and the pipeline left: the last queued writes go out
  with it.

Errors: a queued statement that fails (a unique key taken by a concurrent
transaction) raises at the next sync, i.e. from the next answered statement or from
the commit, as the same psycopg error wrapped by SQLAlchemy (``IntegrityError`` with
the constraint's name), so ``Database.run`` re-runs the transaction exactly as when
it raised at once. Inside a savepoint (``session.begin_nested()``, whose caller
catches the error of its own statements) nothing is queued; a failure queued before
the savepoint raises from its ``SAVEPOINT``, inside the caller's ``try``: so only
statements that cannot fail but by a race the re-run settles (new rows' keys) are
DEFERRED, never in a transaction whose savepoint's caller reads the error.

The pipeline is left at the commit (``COMMIT`` queued, then one sync: the last
queued writes, the commit and their answers are one round trip) or the rollback,
and at the latest when the connection returns to the pool. Install once per engine
with :func:`install`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

LOG = logging.getLogger(__name__)

#: Execution option: the statement's result is never read; it may wait in the pipeline.
DEFERRED = "neutrino_deferred"
_KEY = "neutrino_pipeline"  # DBAPI connection info: the open pipeline's context manager


def install(engine: Engine) -> None:
    """Run the write transactions of ``engine`` (psycopg) in pipeline mode (see the
    module docstring). Idempotent per engine; nothing with a libpq older than 14 (no
    pipeline mode: statements then go one round trip each, as before)."""
    if event.contains(engine, "begin", _begin) or not psycopg.Pipeline.is_supported():
        return
    event.listen(engine, "begin", _begin)
    event.listen(engine, "do_execute", _do_execute)
    event.listen(engine, "do_executemany", _do_executemany)
    event.listen(engine, "commit", _commit)
    event.listen(engine, "rollback", _rollback)
    event.listen(engine.pool, "checkin", _checkin)
    event.listen(engine.pool, "invalidate", _forget)


def _begin(conn: Any) -> None:
    """A transaction begins on ``conn``: enter pipeline mode unless it autocommits."""
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT" or \
            conn.dialect.server_version_info is None:  # (the engine's first connection)
        return
    info = conn.connection.info
    if _KEY in info:
        return
    driver = conn.connection.driver_connection
    if driver.autocommit:
        return
    cm = driver.pipeline()
    info[_KEY] = (cm, cm.__enter__())


def _do_execute(cursor: Any, statement: str, parameters: Any, context: Any, *,
                many: bool = False) -> bool:
    """Execute in the open pipeline, if any: queue a DEFERRED statement, sync after
    any other. Returns False (SQLAlchemy executes as usual) without a pipeline."""
    conn = context.root_connection
    try:
        entry = conn.connection.info.get(_KEY)
    except NotImplementedError:  # the engine's first connection (no pool record yet)
        return False
    if entry is None:
        return False
    (cursor.executemany if many else cursor.execute)(statement, parameters)
    if not (context.execution_options.get(DEFERRED) and not conn.in_nested_transaction()):
        entry[1].sync()
    return True


def _do_executemany(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """``executemany`` rides an open pipeline (psycopg); sync after it unless DEFERRED,
    so that its ``rowcount`` (the ORM checks it after a flush) is complete."""
    return _do_execute(cursor, statement, parameters, context, many=True)


def _commit(conn: Any) -> None:
    """Just before SQLAlchemy commits: queue ``COMMIT`` and leave pipeline mode, which
    sends it with the queued statements in one round trip (the DBAPI's commit then
    finds no transaction and sends nothing). An error of any of them is raised as
    SQLAlchemy's wrapper of it (``IntegrityError``, ``OperationalError``...), as the
    commit itself would raise it."""
    entry = _pop(conn)
    if entry is None:
        return
    error = None
    try:  # queued; raises here if a queued statement's failure has arrived already
        conn.connection.driver_connection.execute("COMMIT")
    except psycopg.Error as exc:
        error = exc
    try:
        entry[0].__exit__(None, None, None)
    except psycopg.Error as exc:  # the first failure, or the commands it aborted
        error = error or exc
    if error is not None:
        raise DBAPIError.instance("COMMIT", None, error, psycopg.Error) from error


def _rollback(conn: Any) -> None:
    """Just before SQLAlchemy rolls back: leave pipeline mode; the error of a queued
    statement, already raised or moot now, is dropped."""
    entry = _pop(conn)
    if entry is None:
        return
    try:
        entry[0].__exit__(None, None, None)
    except psycopg.Error as exc:
        LOG.debug("leaving pipeline mode before a rollback: %s", exc)


def _pop(conn: Any) -> Any:
    try:
        return conn.connection.info.pop(_KEY, None)
    except NotImplementedError:  # the engine's first connection
        return None


def _checkin(dbapi_conn: Any, record: Any) -> None:
    """The connection is back in the pool (committed or rolled back): leave pipeline
    mode; a connection that cannot is closed by the pool's invalidation."""
    entry = record.info.pop(_KEY, None)
    if entry is None or dbapi_conn is None:
        return
    try:
        entry[0].__exit__(None, None, None)
    except Exception as exc:  # a broken connection: the pool will notice at checkout
        LOG.debug("leaving pipeline mode: %s", exc)
        record.invalidate(exc)


def _forget(dbapi_conn: Any, record: Any, _exc: Any) -> None:
    record.info.pop(_KEY, None)


class RoundTripCounter:
    """Client/server round trips of the psycopg connections an engine opens from now on
    (``bench/write_path.py`` and the tests count the write path's with it), read from
    libpq's protocol trace (``PGconn.trace``) into one file per connection under
    ``directory``: a round trip is a run of messages the client sends ("F" lines)
    followed by the server's answer ("B"), so pipelined statements count once.
    :meth:`mark` starts a count, :meth:`round_trips` returns it; :meth:`close` the files."""

    def __init__(self, engine: Engine, directory: Any) -> None:
        self.directory, self.files, self.offsets = directory, [], {}
        event.listen(engine, "connect", self._connect)

    def _connect(self, dbapi_conn: Any, _record: Any) -> None:
        f = open(f"{self.directory}/trace-{len(self.files)}.log", "w+")
        self.files.append(f)
        dbapi_conn.pgconn.trace(f.fileno())

    def mark(self) -> None:
        self.offsets = {f.name: os.path.getsize(f.name) for f in self.files}

    def round_trips(self) -> int:
        turns = 0
        for f in self.files:
            with open(f.name) as r:
                r.seek(self.offsets.get(f.name, 0))
                last = None
                for line in r:
                    parts = line.split("\t")
                    direction = parts[1] if len(parts) > 2 else None
                    if direction == "B" and last == "F":
                        turns += 1
                    if direction in ("F", "B"):
                        last = direction
        return turns

    def close(self) -> None:
        for f in self.files:
            f.close()

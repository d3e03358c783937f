"""Engine, transactions with retry, and migrations.

``Database.run`` is the one transaction boundary of the service layer: it
begins, calls the function, commits, and re-runs the whole function when the
database reports a race it can settle by retrying (a unique address or MAC
taken by a concurrent transaction, a deadlock, a busy SQLite file). Uniqueness
is guaranteed by constraints, never by a process-local lock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import orjson
import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from neutrino.db import outbox_wake, pg_pipeline

if TYPE_CHECKING:
    from alembic.config import Config

LOG = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MAX_ATTEMPTS = 20

# Constraints whose violation means "a concurrent transaction took it first":
# name (PostgreSQL reports it) -> columns (SQLite reports these).
RETRYABLE_CONSTRAINTS = {
    "pk_ipallocations": "ipallocations.subnet_id, ipallocations.ip_key",
    "pk_ipallocation_blocks": "ipallocation_blocks.subnet_id, ipallocation_blocks.block",
    "uq_ports_network_id_mac_address": "ports.network_id, ports.mac_address",
    "uq_network_segments_segmentation_key": "network_segments.segmentation_key",
    "uq_floatingips_fixed": ("floatingips.floating_network_id, floatingips.fixed_port_id, "
                             "floatingips.fixed_ip_address"),
    # a project's default statefulness setting: the retry finds the winner's (409)
    "uq_securitygroupdefaultstatefulness_project_key":
        "securitygroupdefaultstatefulness.project_key",
    # a project's default security group, made by its first request (two may race)
    "pk_default_security_groups": "default_security_groups.project_id",
    # a new port bound to its project's default group as read with its network
    # (services.ports), which a concurrent request deleted: the re-run makes a new one
    # (PostgreSQL only; SQLite's one writer never races here)
    "fk_securitygroupportbindings_security_group_id_securitygroups":
        "fk_securitygroupportbindings_security_group_id_securitygroups",
    # the same rule created twice at once: the retry reports SecurityGroupRuleExists
    "uq_securitygrouprules_security_group_id_rule_key": (
        "securitygrouprules.security_group_id, securitygrouprules.rule_key"),
    # subnet pools: the next generation of a prefix space claimed by a concurrent
    # allocation (services/subnetpools.py); a second default pool of an IP version;
    # a subnet from (a pool in) a pool (scope) a concurrent request deleted (PostgreSQL
    # reports these by name; SQLite never races here): the re-run answers 404
    "pk_prefix_generations": "prefix_generations.owner_id, prefix_generations.generation",
    "uq_subnetpools_default_ip_version": "subnetpools.default_ip_version",
    "fk_subnets_subnetpool_id_subnetpools": "subnets.subnetpool_id",
    "fk_subnetpools_address_scope_id_address_scopes": "subnetpools.address_scope_id",
    # two API servers writing the same default segment range at start-up, or two equal
    # ranges created at once (the re-run finds the first: nothing to do, or Overlaps)
    "pk_network_segment_ranges": "network_segment_ranges.id",
    "uq_network_segment_ranges": ("network_segment_ranges.default, "
                                  "network_segment_ranges.network_type"),
    # trunks: a port made parent or subport, or a VLAN taken on a trunk, by a concurrent
    # request; the re-run reports ParentPortInUse / TrunkPortInUse / DuplicateSubPort
    "uq_trunks_port_id": "trunks.port_id",
    "pk_subports": "subports.port_id",
    "uq_subports_trunk_segmentation": ("subports.trunk_id, subports.segmentation_type, "
                                       "subports.segmentation_id"),
    # the same port forwarding created twice at once: the re-run reports the collision (400)
    "uq_portforwardings_external": ("portforwardings.floatingip_id, portforwardings.protocol, "
                                    "portforwardings.external_port_start, "
                                    "portforwardings.external_port_end"),
    "uq_portforwardings_internal": ("portforwardings.protocol, "
                                    "portforwardings.internal_neutron_port_id, "
                                    "portforwardings.internal_ip_address, "
                                    "portforwardings.internal_port_start, "
                                    "portforwardings.internal_port_end"),
}
# PostgreSQL SQLSTATEs for serialization failure and deadlock.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}


#: Seconds after which a PostgreSQL connection treats a silent server as gone.
DEAD_PEER_SECONDS = 10


class NotMigrated(Exception):
    """The database schema is not at the latest migration."""


class Database:
    """Owns the engine and the session factories for one database URL."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"check_same_thread": False,
                                                           "timeout": 30},
                                        json_deserializer=json_loads)
            _sqlite_setup(self.engine)
        else:
            # Keepalives and a TCP user timeout make a vanished database host an
            # error within DEAD_PEER_SECONDS instead of a kernel retransmission
            # (~15 min) that would freeze a request, or a controller's heartbeat.
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size * 2, json_deserializer=json_loads,
                connect_args={"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1,
                              "keepalives_count": DEAD_PEER_SECONDS - 2,
                              "tcp_user_timeout": DEAD_PEER_SECONDS * 1000})
            # write transactions in pipeline mode: fewer round trips (db.pg_pipeline)
            pg_pipeline.install(self.engine)
        # SQLite has one writer at a time. Threads of this process queue on a
        # lock instead of SQLite's busy handler, which sleeps up to 100 ms
        # between retries; other processes still wait through busy_timeout.
        # (Uniqueness never depends on this lock: the constraints decide.)
        self._sqlite_writer_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        # Writers on SQLite take the write lock when they begin (BEGIN IMMEDIATE),
        # so two writers never deadlock upgrading read locks.
        writer = self.engine.execution_options(sqlite_immediate=True)
        self._writer = sessionmaker(writer, expire_on_commit=False, autoflush=False)
        # Readers on PostgreSQL run in autocommit: under READ COMMITTED every
        # statement takes its own snapshot anyway, so BEGIN/COMMIT would only
        # add two round trips to each read.
        reader = self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="AUTOCOMMIT")
        self._reader = sessionmaker(reader, expire_on_commit=False, autoflush=False)

    def run(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``fn(session)`` in one transaction and commit; retry races.

        A race (see :func:`_is_race`) re-runs the whole of ``fn`` in a new
        transaction, up to MAX_ATTEMPTS attempts in all, after a random pause of
        0 to 2 ms times the number of attempts made so far. Raises whatever
        ``fn`` raises (the transaction is rolled back), or the last database
        error after MAX_ATTEMPTS races. A transaction that wrote outbox rows
        (``outbox_wake.mark``) wakes the NB sync as it commits
        (``db.outbox_wake``).
        """
        factory = self._writer if write else self._reader
        lock = self._sqlite_writer_lock if write else contextlib.nullcontext()

        def attempt() -> T:
            with lock, factory() as session:
                with session.begin():
                    result = fn(session)
                    wrote = outbox_wake.marked(session)
                    if wrote:
                        outbox_wake.before_commit(session, self.url)
                if wrote:
                    outbox_wake.committed(self.url)
                return result

        # The first attempt runs without tenacity: this is on the path of every
        # request, races are rare, and tenacity's bookkeeping costs ~10 us a call.
        try:
            return attempt()
        except DBAPIError as exc:
            if not _is_race(exc):
                raise
            _log_race(1, exc)
            time.sleep(_race_pause(1))
        return _retry_races(attempt)

    def check_migrated(self) -> None:
        """Raise NotMigrated unless the schema is at the newest migration."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(self.url)).get_current_head()
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current != head:
            raise NotMigrated(
                f"database {self.engine.url.render_as_string(hide_password=True)} is at "
                f"migration {current or 'none'}, expected {head}: run 'neutrino db upgrade'")

    def upgrade(self) -> None:
        """Apply all migrations (``alembic upgrade head``)."""
        from alembic import command

        command.upgrade(alembic_config(self.url, engine=self.engine), "head")

    def dispose(self) -> None:
        self.engine.dispose()


def dedicated_pg_connection(url: str, application_name: str, *,
                            dead_peer_seconds: int = DEAD_PEER_SECONDS,
                            connect_timeout: float = 5) -> psycopg.Connection:
    """A psycopg connection of its own (autocommit, outside any pool) to the
    PostgreSQL of SQLAlchemy ``url``, for a session that must notice a vanished peer:
    client-side keepalives and ``tcp_user_timeout`` make a dead server an error,
    and the same settings on the server's side (``SET tcp_keepalives_*``) make the
    server end the session of a dead client host, both within ``dead_peer_seconds``
    (also the ``statement_timeout``). ``application_name`` shows in
    ``pg_stat_activity``. Raises ``psycopg.Error``."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(
        conninfo, autocommit=True, connect_timeout=connect_timeout,
        application_name=application_name[:63], keepalives=1, keepalives_idle=1,
        keepalives_interval=1, keepalives_count=dead_peer_seconds - 1,
        tcp_user_timeout=dead_peer_seconds * 1000)
    try:
        conn.execute("SET tcp_keepalives_idle = 1")
        conn.execute("SET tcp_keepalives_interval = 1")
        conn.execute(f"SET tcp_keepalives_count = {dead_peer_seconds - 1}")
        conn.execute(f"SET tcp_user_timeout = {dead_peer_seconds * 1000}")
        conn.execute(f"SET statement_timeout = {dead_peer_seconds * 1000}")
    except BaseException:
        conn.close()
        raise
    return conn


def json_loads(text: str | bytes) -> Any:
    """A JSON column's value: orjson (3-4x the standard library's speed on the small
    objects stored, which a list of 1,000 ports decodes thousands of), or ``json``
    for what orjson refuses (integers beyond 64 bits, NaN). Raises ValueError for
    text that is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    """An alembic Config for our migrations against ``url``.

    alembic is imported here and in the two methods above, not at module level: it
    is a second of start-up for every CLI command that never migrates."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _retry_races(attempt: Callable[[], T]) -> T:
    """Attempts 2..MAX_ATTEMPTS of :meth:`Database.run`, after attempt 1 raced
    (and its pause was taken): ``attempt()`` again while it races, with the same
    pauses and log lines. tenacity numbers these attempts from 1, one behind
    ours. Raises what the last attempt raised."""
    def pause(state: RetryCallState) -> float:
        return _race_pause(state.attempt_number + 1)

    def log(state: RetryCallState) -> None:
        _log_race(state.attempt_number + 1, state.outcome.exception())

    # A new Retrying per use: tenacity keeps the state of a run on the object.
    return Retrying(stop=stop_after_attempt(MAX_ATTEMPTS - 1), retry=retry_if_exception(_is_race),
                    wait=pause, before_sleep=log, reraise=True)(attempt)


def _is_race(exc: BaseException) -> bool:
    """Whether re-running the transaction can settle ``exc``: a race (see
    :func:`_is_retryable`), or a connection the server closed (restart, idle
    timeout), which the pool invalidated so that the retry gets a fresh one."""
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_retryable(exc))


def _race_pause(attempts: int) -> float:
    """The pause, in seconds, after ``attempts`` attempts that raced: uniform in
    [0, 0.002 * attempts]."""
    return random.uniform(0, 0.002 * attempts)


def _log_race(attempt: int, exc: DBAPIError) -> None:
    LOG.debug("retrying transaction after race (attempt %d): %s", attempt, exc.orig)


def _is_retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    if isinstance(exc, IntegrityError):
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        if name:
            return name in RETRYABLE_CONSTRAINTS
        text = str(orig)
        return any(cols in text for cols in RETRYABLE_CONSTRAINTS.values())
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(orig)

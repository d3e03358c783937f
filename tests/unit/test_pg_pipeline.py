"""The write path's round trips and statements (``db.pg_pipeline``,
``services.port_create_reads``), and what a statement deferred in the pipeline does
when it fails: the race is raised at the next sync and the transaction re-run."""

from __future__ import annotations

from sqlalchemy import event, select, text

from neutrino.db import pg_pipeline
from neutrino.db.models import IPAllocation
from neutrino.ipam import allocator


def _count_statements(engine):
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: statements.append(statement))
    return statements


def test_a_port_create_is_nine_statements_and_on_postgres_four_round_trips(api, tmp_path):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/16")
    api.port(net["id"])  # the project's first port makes its default security group
    engine = api.env.db.engine
    engine.dispose()  # new connections, traced from the start
    counter = None if api.env.db.is_sqlite else pg_pipeline.RoundTripCounter(engine, tmp_path)
    statements = _count_statements(engine)
    if counter:
        api.port(net["id"])  # a connection to trace
        counter.mark()
    del statements[:]
    port = api.port(net["id"])
    assert len(port["fixed_ips"]) == 1 and len(port["security_groups"]) == 1
    assert port["qos_network_policy_id"] is None
    # network+quota+group+QoS+subnets, port, blocks, block's addresses, address, group
    # binding, outbox, block counters; + NOTIFY on PostgreSQL, + BEGIN IMMEDIATE on SQLite
    assert len(statements) == 9, statements
    if counter:
        # BEGIN + the reads; the port + the blocks; the block's addresses; the rest +
        # COMMIT
        assert counter.round_trips() == 4
        counter.close()


def _race_on_an_allocation(api, then_sync: bool) -> list[int]:
    """Re-insert a port's allocation (deferred) in a transaction that, the first time,
    also runs a statement answered after it (``then_sync``) or goes straight to COMMIT;
    returns the attempts made."""
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"])
    attempts: list[int] = []

    def run(session):
        attempts.append(1)
        if len(attempts) == 1:
            row = session.execute(select(IPAllocation.__table__).where(
                IPAllocation.port_id == port["id"])).one()
            session.execute(allocator._INSERT, dict(row._mapping))
            if then_sync:
                session.execute(text("SELECT 1"))
        return len(attempts)

    assert api.env.db.run(run) == 2
    return attempts


def test_a_deferred_insert_that_races_is_raised_at_the_next_statement_and_rerun(api):
    assert len(_race_on_an_allocation(api, then_sync=True)) == 2


def test_a_deferred_insert_that_races_is_raised_at_commit_and_rerun(api):
    assert len(_race_on_an_allocation(api, then_sync=False)) == 2
    # the connection left pipeline mode: reads and writes go on
    net = api.network()
    api.subnet(net["id"])
    api.port(net["id"])

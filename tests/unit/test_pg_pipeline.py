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


MISSING = "00000000-0000-4000-8000-000000000000"


def test_a_one_port_create_checks_quota_then_network_as_before(api):
    from conftest import error_type
    api.put("/v2.0/quotas/p1", {"quota": {"port": 2}}, admin=True, expect=200)
    net = api.network()
    api.subnet(net["id"])  # its metadata port counts too
    api.port(net["id"])
    assert error_type(api.post("/v2.0/ports", {"port": {"network_id": net["id"]}},
                               expect=409)) == "OverQuota"
    # over quota on a network that does not exist: the quota is reported first
    assert error_type(api.post("/v2.0/ports", {"port": {"network_id": MISSING}},
                               expect=409)) == "OverQuota"
    api.put("/v2.0/quotas/p1", {"quota": {"port": 5}}, admin=True, expect=200)
    assert error_type(api.post("/v2.0/ports", {"port": {"network_id": MISSING}},
                               expect=404)) == "NetworkNotFound"
    hidden = api.network(project="p2")
    assert error_type(api.post("/v2.0/ports", {"port": {"network_id": hidden["id"]}},
                               expect=404)) == "NetworkNotFound"


def test_a_one_port_create_takes_an_address_of_each_kind_from_the_subnets_read(api):
    net = api.network()
    v4 = api.subnet(net["id"], "10.1.0.0/24")
    v6 = api.subnet(net["id"], "2001:db8::/64", ipv6_address_mode="slaac",
                    ipv6_ra_mode="slaac")
    port = api.port(net["id"])
    assert [f["subnet_id"] for f in port["fixed_ips"]] == [v4["id"], v6["id"]]
    shown = api.get(f"/v2.0/ports/{port['id']}", expect=200).json()["port"]
    assert shown["fixed_ips"] == port["fixed_ips"]
    assert shown["security_groups"] == port["security_groups"]

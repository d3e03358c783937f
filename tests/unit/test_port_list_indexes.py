"""The port list filters a large cloud leans on (``?mac_address=``, ``?name=``,
``?fixed_ips=ip_address=``, ``?network_id=``, ``?device_id=``) search an index in every
statement of the list, never scan ``ports`` or ``ipallocations`` (bench/scale.py: a scan
cost 0.2-0.8 s per filtered list at 10,000 ports; migration 0027)."""

import shutil

import pytest
import wire
from sqlalchemy import event

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services import listing
from neutrino.services.context import Context
from neutrino.services.env import Env

FILTERS = {
    "mac_address": ["fa:16:3e:00:00:01"],
    "name": ["vm-1-port"],
    "fixed_ips": ["ip_address=10.0.0.5"],
    "network_id": ["8d7c1f7e-0000-4000-8000-000000000001"],
    "device_id": ["8d7c1f7e-0000-4000-8000-000000000002"],
}


@pytest.fixture
def sqlite_env(sqlite_template, tmp_path):
    path = tmp_path / "neutrino.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield Env(db=db, settings=Settings(state_dir=tmp_path, database_url=f"sqlite:///{path}"))
    db.dispose()


@pytest.mark.parametrize("key", sorted(FILTERS))
def test_filtered_port_list_never_scans(sqlite_env, key):
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = sqlite_env.db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        wire.listed(sqlite_env, Context.admin(), "port",
                    listing.ListQuery(filters={key: FILTERS[key]}))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert statements
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = [row[-1] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)]
            scans = [step for step in plan
                     if step.startswith(("SCAN ports", "SCAN ipallocations"))]
            assert not scans, f"{key}: {statement}\n{plan}"

"""Fixtures of the NB sync integration tests (``tests/integration/test_nb_*.py``), on
the real NB and SB of the shared ``ovn_lab``; ``tests/conftest.py`` imports them.

* ``env``: the services' Env on the run's fresh database (SQLite and PostgreSQL);
* ``nb`` / ``sb`` (module): this process's IDL APIs (``neutrino.ovn.idl``);
* ``sb_sync``: a ``NorthboundSync`` on both (``env_with`` makes a module's own ``env``);
* ``nb_cleanup``: removes every neutron-owned NB row that appeared during a test
  (a module uses it with ``pytest.mark.usefixtures("nb_cleanup")``);
* ``only_our_rows``: empties the NB of neutron-owned rows before a test whose audit
  must see its own rows only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ovnlab import OvnLab

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.ovn import idl
from neutrino.ovn.sync import NorthboundSync
from neutrino.services.env import Env


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    yield from env_with(database_url, tmp_path)


def env_with(database_url: str, tmp_path: Path, **settings: object) -> Iterator[Env]:
    """An Env on ``database_url`` whose Settings also take ``settings`` (for a module's
    own ``env`` fixture: ``yield from env_with(...)``); its database disposed after."""
    db = Database(database_url)
    yield Env(db=db, settings=Settings(state_dir=tmp_path, database_url=database_url,
                                       **settings))
    db.dispose()


@pytest.fixture
def sb_sync(env: Env, nb, sb) -> Iterator[NorthboundSync]:
    """A NorthboundSync with the SB (gateway chassis placed), no periodic audit."""
    sync = NorthboundSync(env, nb, sb_api=sb, audit_interval=0)
    yield sync
    sync.close()


@pytest.fixture(scope="module")
def nb(ovn_lab: OvnLab) -> Iterator[object]:
    api = idl.nb_api(ovn_lab.nb_connection, timeout=30)
    yield api
    idl.disconnect_all()


@pytest.fixture(scope="module")
def sb(ovn_lab: OvnLab, nb) -> object:
    return idl.sb_api(ovn_lab.sb_connection, timeout=30)  # disconnected with nb


def owned_rows(api) -> dict[str, set]:
    """``{table: uuids}`` of the NB rows neutrino owns: security group port groups
    (``neutron_pg_drop`` is shared and stays), routers, switches, DHCP options, DNS rows,
    address groups' address sets, the network logs' meters, BFD rows of router ports,
    port forwardings' load balancers."""
    with api.ovsdb_connection.lock:
        tables = api.tables
        return {
            "Port_Group": {r.uuid for r in tables["Port_Group"].rows.values()
                           if r.name.startswith("pg_")},
            "Logical_Router": {r.uuid for r in tables["Logical_Router"].rows.values()
                               if r.name.startswith("neutron-")},
            "Logical_Switch": {r.uuid for r in tables["Logical_Switch"].rows.values()
                               if r.name.startswith("neutron-")},
            "DHCP_Options": {r.uuid for r in tables["DHCP_Options"].rows.values()
                             if "subnet_id" in r.external_ids},
            "DNS": {r.uuid for r in tables["DNS"].rows.values()
                    if r.external_ids.get("ls_name", "").startswith("neutron-")},
            "Address_Set": {r.uuid for r in tables["Address_Set"].rows.values()
                            if "neutron:address_group_id" in r.external_ids},
            "Meter": {r.uuid for r in tables["Meter"].rows.values()
                      if r.external_ids.get("neutron:device_owner") == "logging-plugin"},
            "BFD": {r.uuid for r in tables["BFD"].rows.values()
                    if r.logical_port.startswith("lrp-")},
            "Load_Balancer": {r.uuid for r in tables["Load_Balancer"].rows.values()
                              if r.external_ids.get("neutron:device_owner")
                              == "port_forwarding_plugin"},
        }


def delete_rows(nb, rows: dict[str, set]) -> None:
    """Delete the NB rows ``{table: uuids}`` (as :func:`owned_rows` gives them)."""
    with nb.transaction(check_error=True) as txn:
        for u in rows["Port_Group"]:
            txn.add(nb.pg_del(u, if_exists=True))
        for u in rows["Logical_Router"]:
            txn.add(nb.lr_del(u, if_exists=True))
        for u in rows["Logical_Switch"]:
            txn.add(nb.ls_del(u, if_exists=True))
        for u in rows["DHCP_Options"]:
            txn.add(nb.db_destroy("DHCP_Options", u))
        for u in rows.get("DNS", ()):
            txn.add(nb.db_destroy("DNS", u))
        for u in rows.get("Address_Set", ()):
            txn.add(nb.address_set_del(u, if_exists=True))
        for u in rows.get("Meter", ()):
            txn.add(nb.meter_del(u, if_exists=True))
        for u in rows.get("BFD", ()):
            txn.add(nb.db_destroy("BFD", u))
        for u in rows.get("Load_Balancer", ()):
            txn.add(nb.lb_del(u, if_exists=True))


@pytest.fixture
def nb_cleanup(nb) -> Iterator[None]:
    """Remove every neutron-owned NB row that appeared during the test."""
    before = owned_rows(nb)
    yield
    delete_rows(nb, {table: uuids - before[table] for table, uuids in owned_rows(nb).items()})


@pytest.fixture
def only_our_rows(nb) -> None:
    """Audits look at the whole NB: start the test on an NB without neutron-owned rows
    (what earlier tests left is removed), so its audit sees its own rows only."""
    if any(owned_rows(nb).values()):
        delete_rows(nb, owned_rows(nb))

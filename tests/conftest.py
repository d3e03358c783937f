"""Fixtures shared by every test layer.

``database_url`` gives each test a fresh, migrated database, on SQLite (a copy
of a migrated template file) and on PostgreSQL (a clone of a migrated
template database).

``tests/`` is on sys.path (pytest's rootdir conftest), so helper modules such
as ``pgserver`` import by their plain name.
"""

import shutil
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from nbfixtures import env, nb, nb_cleanup, only_our_rows, sb, sb_sync  # noqa: F401  (fixtures)
from ovncluster import ovn_cluster  # noqa: F401  (fixture)
from ovnlab import ovn_lab, run_prefix  # noqa: F401  (fixtures)
from pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

from neutrino.db.session import Database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:  # noqa: F811  (the fixture)
    pg_server.create_database("neutrino_template")
    db = Database(pg_server.url("neutrino_template"))
    db.upgrade()
    db.dispose()
    return "neutrino_template"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "neutrino.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    server._admin_execute(f"CREATE DATABASE {{}} TEMPLATE {template}", name)
    yield server.url(name)
    server.drop_database(name)



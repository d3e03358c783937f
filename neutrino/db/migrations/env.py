"""Alembic environment: runs our migrations on the engine neutrino passes in."""

from alembic import context
from sqlalchemy import create_engine

from neutrino.db.base import Base
from neutrino.db import models  # noqa: F401  (registers the tables)

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()

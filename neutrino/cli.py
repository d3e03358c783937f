"""The ``neutrino`` command. Parses, calls, renders; nothing else lives here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from neutrino.config import ConfigError, Settings, load_settings
from neutrino.db.session import Database, NotMigrated

app = typer.Typer(help="neutrino: OpenStack Networking API v2.0 on OVN", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema management", no_args_is_help=True)
app.add_typer(db_app, name="db")
err = Console(stderr=True)

ConfigOpt = typer.Option(None, "--config", envvar="NEUTRINO_CONFIG", help="INI config file")
StateDirOpt = typer.Option(None, "--state-dir", envvar="NEUTRINO_STATE_DIR",
                           help="State directory (default /var/lib/neutrino)")
DbOpt = typer.Option(None, "--database-url", help="SQLAlchemy URL (default SQLite in the state dir)")


def _settings(config: Optional[str], **flags) -> Settings:
    try:
        return load_settings(config, **flags)
    except ConfigError as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(2)


@app.command()
def server(config: Optional[str] = ConfigOpt,
           host: Optional[str] = typer.Option(None, "--host", help="Listen address (127.0.0.1)"),
           port: Optional[int] = typer.Option(None, "--port", help="Listen port (9696)"),
           workers: Optional[int] = typer.Option(None, "--workers", help="API worker processes (1)"),
           database_url: Optional[str] = DbOpt,
           state_dir: Optional[Path] = StateDirOpt) -> None:
    """Serve the Networking API v2.0."""
    settings = _settings(config, host=host, port=port, workers=workers,
                         database_url=database_url, state_dir=state_dir)
    db = Database(settings.database_url)
    try:
        db.check_migrated()
    except NotMigrated as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    finally:
        db.dispose()
    from neutrino.server import serve
    serve(settings)


@db_app.command("upgrade")
def db_upgrade(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
               state_dir: Optional[Path] = StateDirOpt) -> None:
    """Apply all database migrations."""
    settings = _settings(config, database_url=database_url, state_dir=state_dir)
    db = Database(settings.database_url)
    try:
        db.upgrade()
    finally:
        db.dispose()
    err.print(f"database {db.engine.url.render_as_string(hide_password=True)} is up to date")


def main() -> None:
    app(prog_name="neutrino")


if __name__ == "__main__":
    sys.exit(main())

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


NbOpt = typer.Option(None, "--ovn-nb-connection",
                     help="OVN northbound DB, e.g. unix:/run/ovn/ovnnb_db.sock or tcp:10.0.0.5:6641")


@app.command()
def sync(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
         state_dir: Optional[Path] = StateDirOpt, ovn_nb_connection: Optional[str] = NbOpt,
         repair: bool = typer.Option(False, "--repair", help="Fix the drift found")) -> None:
    """Compare the database with the OVN northbound DB and report drift.

    Exit status: 0 no drift (or all of it repaired), 1 drift left, 2 could not check.
    """
    from rich.table import Table

    from neutrino.ovn import idl
    from neutrino.ovn.sync import NorthboundSync
    from neutrino.services.env import Env

    settings = _settings(config, database_url=database_url, state_dir=state_dir,
                         ovn_nb_connection=ovn_nb_connection)
    if not settings.ovn_nb_connection:
        err.print("[red]neutrino: no OVN NB connection: set ovn_nb_connection or pass "
                  "--ovn-nb-connection[/red]")
        raise typer.Exit(2)
    db = Database(settings.database_url)
    try:
        db.check_migrated()
        nb_sync = NorthboundSync(Env(db=db, settings=settings),
                                 idl.nb_api(settings.ovn_nb_connection))
        report = nb_sync.audit(repair=repair)
        left = nb_sync.audit(repair=False) if report.repaired else report
    except (NotMigrated, idl.OvnUnavailable, idl.IdlNotReady) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(2)
    finally:
        idl.disconnect_all()
        db.dispose()
    out = Console()
    if report.has_drift:
        table = Table(title="OVN northbound drift" + (" (repaired)" if report.repaired else ""))
        for column in ("drift", "table", "row", "resource", "differing columns"):
            table.add_column(column)
        for change in report.changes:
            table.add_row(change.drift, change.table, change.key, change.resource,
                          ", ".join(change.columns))
        out.print(table)
    checked = ", ".join(f"{n} {t}" for t, n in report.checked.items())
    if not left.has_drift:
        out.print(f"no drift ({checked})" if not report.has_drift else
                  f"repaired {len(report.changes)} row(s); no drift left ({checked})")
        return
    out.print(f"[red]{len(left.changes)} row(s) drifted[/red] ({checked})"
              + ("" if repair else "; run 'neutrino sync --repair' to fix them"))
    raise typer.Exit(1)


def main() -> None:
    app(prog_name="neutrino")


if __name__ == "__main__":
    sys.exit(main())

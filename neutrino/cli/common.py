"""What every ``neutrino`` subcommand shares: the Typer app, the common options, settings
loading and the migrated-database check."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
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


@contextlib.contextmanager
def exit_on(*errors: type[BaseException], code: int = 1) -> Iterator[None]:
    """Within: one of ``errors`` ends the command with exit ``code`` and its message on
    stderr, no traceback (how a subcommand reports a refusal)."""
    try:
        yield
    except errors as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(code) from None


def require_migrated(settings: Settings) -> None:
    """Exit 1 with the reason unless the database is at the newest migration."""
    db = Database(settings.database_url)
    try:
        db.check_migrated()
    except NotMigrated as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    finally:
        db.dispose()


def settings_or_exit(config: Optional[str], **flags) -> Settings:
    """The settings from ``config`` and the flags given (None: not given); exit 2 with
    the reason when they are invalid."""
    try:
        return load_settings(config, **flags)
    except ConfigError as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(2)


"""``neutrino logs security-groups``: the security group logs (extension ``logging``)
that ovn-controller wrote on the chassis, in Neutron terms (``ovn/acl_log.py``).

Reads the ``acl_log`` lines of ovn-controller's log file: every lab chassis'
``<state_dir>/ovn/<chassis>/ovn-controller.log`` (``--chassis`` picks one), or the
files given with ``--log-file`` (a real chassis: ``/var/log/ovn/ovn-controller.log``),
and the database of the settings to name ports, groups, rules and logs.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from neutrino.cli.common import ConfigOpt, DbOpt, StateDirOpt, app, err, settings_or_exit
from neutrino.db.session import Database, NotMigrated

logs_app = typer.Typer(help="Network logs written on the chassis", no_args_is_help=True)
app.add_typer(logs_app, name="logs")


def since_of(value: str | None, now: datetime | None = None) -> datetime | None:
    """``--since``: ``90s``, ``10m``, ``2h`` ago, or an ISO time (UTC when naive).
    Returns a naive UTC datetime; ValueError for anything else."""
    if not value:
        return None
    now = now or datetime.now(timezone.utc)
    m = re.fullmatch(r"(\d+)([smh])", value)
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours"}[m[2]]
        return (now - timedelta(**{unit: int(m[1])})).replace(tzinfo=None)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc)
    return parsed.replace(tzinfo=None)


def _files(state_dir: Path, chassis: str | None, given: list[Path]) -> list[tuple[str, Path]]:
    if given:
        return [(str(p), p) for p in given]
    from neutrino.lab import fleet
    lab = fleet.load(state_dir / "ovn") or []
    return [(c.name, Path(c.dir) / "ovn-controller.log") for c in lab
            if chassis is None or c.name == chassis]


@logs_app.command("security-groups")
def security_groups_cmd(
        chassis: Optional[str] = typer.Option(None, "--chassis",
                                              help="Only this lab chassis (SB name)"),
        since: Optional[str] = typer.Option(None, "--since",
                                            help="Only lines since: 90s, 10m, 2h or an ISO time"),
        log_file: List[Path] = typer.Option([], "--log-file",
                                            help="ovn-controller log file(s) to read instead"),
        as_json: bool = typer.Option(False, "--json", help="Print entries and counts as JSON"),
        config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
        state_dir: Optional[Path] = StateDirOpt) -> None:
    """Security group log lines (ACL logs) and their counts per rule.

    Exit status: 0 (also when nothing was logged), 2 on bad options or no log file."""
    from neutrino.ovn import acl_log

    settings = settings_or_exit(config, database_url=database_url, state_dir=state_dir)
    try:
        start = since_of(since)
    except ValueError:
        err.print(f"[red]neutrino: --since {since!r}: use 90s, 10m, 2h or an ISO time[/red]")
        raise typer.Exit(2)
    files = _files(settings.state_dir, chassis, log_file)
    if not files:
        err.print("[red]neutrino: no ovn-controller log file (no lab chassis here; "
                  "give --log-file)[/red]")
        raise typer.Exit(2)
    entries = []
    for where, path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError as exc:
            err.print(f"[yellow]neutrino: {where}: {exc}[/yellow]")
            continue
        entries += [(where, e) for e in acl_log.parse(text, start)]
    db = Database(settings.database_url)
    try:
        db.check_migrated()
        named = db.run(lambda s: acl_log.attribute(s, [e for _, e in entries]), write=False)
    except NotMigrated as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(2)
    finally:
        db.dispose()
    rows = [(where, e) for (where, _), e in zip(entries, named)]
    counts = acl_log.summary(named)
    if as_json:
        typer.echo(json.dumps({
            "entries": [{"chassis": w, "time": e.time, "log_id": e.log_id, "logs": list(e.logs),
                         "verdict": e.verdict, "direction": e.direction, "port_id": e.port_id,
                         "security_groups": list(e.security_groups), "rule": e.rule,
                         "protocol": e.protocol, "src": e.src, "sport": e.sport, "dst": e.dst,
                         "dport": e.dport} for w, e in rows],
            "counts": [{"log_id": c[0], "security_groups": c[1], "rule": c[2], "verdict": c[3],
                        "count": c[4]} for c in counts]}))
        return
    out = Console()
    lines = Table("time", "chassis", "log", "verdict", "port", "security group", "rule",
                  "packet", box=None)
    for where, e in rows:
        lines.add_row(e.time, where, e.log, e.verdict, e.port_id or "?",
                      ",".join(e.security_groups) or "-", e.rule or "-", e.five_tuple)
    out.print(lines)
    table = Table("log", "security group", "rule", "verdict", "count", box=None)
    for c in counts:
        table.add_row(*c[:4], str(c[4]))
    out.print(table)

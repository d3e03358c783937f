"""The all-in-one on one machine: ``up``, ``down``, ``status`` and ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from neutrino.cli.common import (
    ConfigOpt,
    DbOpt,
    StateDirOpt,
    settings_or_exit,
    app,
    err,
    exit_on,
)
from neutrino.db.session import Database


@app.command()
def up(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt,
       host: Optional[str] = typer.Option(None, "--host", help="API listen address (127.0.0.1)"),
       port: Optional[int] = typer.Option(None, "--port", help="API listen port (9696)"),
       metadata_port: Optional[int] = typer.Option(
           None, "--metadata-port", help="Metadata service listen port (8775)"),
       database_url: Optional[str] = DbOpt,
       chassis: Optional[int] = typer.Option(
           None, "--chassis", help="Lab chassis to run, joined by geneve (default: as last "
                                   "time, else 1)"),
       gateways: Optional[int] = typer.Option(
           None, "--gateways", help="How many of them host router gateways (default: 1, "
                                    "2 from 3 chassis)")) -> None:
    """Run the all-in-one service in the foreground: OVS/OVN daemons (one or several
    chassis), database, northbound sync, metadata service and one agent per chassis,
    port status and the API. Ctrl-C (or 'neutrino down') stops exactly what it started."""
    from neutrino.lab import daemons, runtime

    settings = settings_or_exit(config, state_dir=state_dir, host=host, port=port,
                         metadata_port=metadata_port, database_url=database_url)
    out = Console()
    try:
        with out.status("starting") as spinner:
            def progress(step: str) -> None:
                serving = step.startswith("serving")
                out.print(f"[green]✓[/green] {step}" if serving else f"  {step}")
                spinner.update(step)
                if serving:  # its refresh thread would wake 12 times a second while idle
                    spinner.stop()
            runtime.up(settings, progress, chassis_count=chassis, gateways=gateways)
    except runtime.MissingPrerequisites as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    except (daemons.DaemonError, RuntimeError, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    out.print("stopped")


@app.command()
def down(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Stop the all-in-one service of this state dir (what 'neutrino up' started, only that)."""
    from neutrino.lab import runtime

    settings = settings_or_exit(config, state_dir=state_dir)
    Console().print("stopped" if runtime.down(settings) else "nothing was running")


@app.command()
def status(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt,
           database_url: Optional[str] = DbOpt) -> None:
    """Show the health of each component: the all-in-one's own (when it runs here),
    then the control plane's (controllers and which leads, outbox, NB/SB connections
    and RAFT roles, last audit); exit 1 if any is down."""
    from rich.table import Table

    from neutrino.lab import runtime
    from neutrino.services import health

    settings = settings_or_exit(config, state_dir=state_dir, database_url=database_url)
    rows = [tuple(r) for r in runtime.status(settings)]
    lab_down = not settings.ovn_nb_connection and runtime.RuntimeInfo.load(
        settings.state_dir) is None
    if not lab_down:  # (a lab that is down has no control plane to ask about)
        db = Database(settings.database_url)
        try:
            rows += _health_rows(health.health(db))
        except Exception as exc:  # noqa: BLE001 - shown, not raised
            rows.append(("database", False, f"{type(exc).__name__}: {exc}"))
        finally:
            db.dispose()
    table = Table(title=f"neutrino ({settings.state_dir})")
    for column in ("component", "state", "detail"):
        table.add_column(column, overflow="fold")
    for component, running, detail in rows:
        table.add_row(component, "[green]up[/green]" if running else "[red]down[/red]", detail)
    Console().print(table)
    if not all(r[1] for r in rows):
        raise typer.Exit(1)


def _health_rows(state: dict) -> list[tuple[str, bool, str]]:
    """``services.health.health`` as (component, ok, detail) rows."""
    rows = []
    for c in state["controllers"]:
        role = f"leader since {c['leader_since']}" if c["role"] == "leader" else "standby"
        rows.append((f"controller {c['id']}", c["alive"],
                     f"{role}, heartbeat {c['heartbeat_age']:.0f}s ago" if c["alive"]
                     else f"silent for {c['heartbeat_age']:.0f}s (was {c['role']})"))
    rows.append(("leader", state["leader"] is not None, state["leader"] or "none"))
    out = state["outbox"]
    rows.append(("nb-sync outbox", not any("outbox" in p for p in state["problems"]),
                 f"{out['depth']} change(s) pending" + (
                     f", oldest {out['oldest_age']:.0f}s" if out["oldest_age"] is not None else "")))
    leader = next((c for c in state["controllers"] if c["id"] == state["leader"]), None)
    if leader is None:
        return rows
    for db in ("nb", "sb"):
        conn = leader[db]
        rows.append((f"{db} connection", bool(conn.get("ready")),
                     f"{conn.get('remote', '?')}" + ("" if conn.get("ready") else " (not ready)")))
        for remote in leader["raft"].get(db, []):
            rows.append((f"{db} {remote['remote']}", remote["role"] != "unreachable",
                         remote["role"] + (f": {remote['error']}" if remote["error"] else "")))
    audit = leader["sync"].get("last_audit") or {}
    if audit:
        rows.append(("last audit", audit["ok"], f"{audit['at']}: " + (
            f"repaired {audit['missing']} missing, {audit['different']} different, "
            f"{audit['extra']} extra" if audit["ok"] else audit.get("error", ""))))
    return rows


@app.command()
def demo(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt,
         port: Optional[int] = typer.Option(None, "--port",
                                            help="API port of a service the demo starts (9696)"),
         metadata_port: Optional[int] = typer.Option(
             None, "--metadata-port", help="Metadata port of a service the demo starts (8775)"),
         prefix: str = typer.Option("demo-", "--prefix", help="Lab instance name prefix"),
         keep: bool = typer.Option(False, "--keep", help="Leave the instances running too"),
         clean: bool = typer.Option(False, "--clean", help="Remove what the demo built"),
         chassis: int = typer.Option(3, "--chassis",
                                     help="Lab chassis of a service the demo starts")) -> None:
    """Build the field reports' scenarios on the all-in-one (started in the background
    if it is not running) and check them end to end; exit 1 if any check fails."""
    from rich.table import Table

    from neutrino.lab import demo as scenario
    from neutrino.lab.commands import LabError

    settings = settings_or_exit(config, state_dir=state_dir)
    out = Console()
    with exit_on(scenario.DemoError, LabError):
        with out.status("neutrino demo") as spinner:
            if clean:
                done = scenario.clean(settings, prefix=prefix if prefix != "demo-" else None,
                                      port=port, metadata_port=metadata_port,
                                      progress=spinner.update)
                out.print("removed: " + ", ".join(done) if done else "nothing to clean")
                return

            def progress(step: str) -> None:
                out.print(f"  {step}")
                spinner.update(step)

            def on_check(check) -> None:
                mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
                out.print(f"{mark} {check.name}: {check.figure}")
            checks, info = scenario.run(settings, prefix=prefix, keep=keep, port=port,
                                        metadata_port=metadata_port, chassis=chassis,
                                        progress=progress,
                                        on_check=on_check)
    table = Table(title="neutrino demo")
    for column in ("check", "result", "measured"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, "[green]pass[/green]" if check.ok else "[red]FAIL[/red]",
                      check.figure if check.ok else f"{check.figure} {check.detail}".strip())
    out.print(table)
    if info is not None:
        out.print(scenario.explore_hint(settings, info, prefix, keep))
    failed = [c for c in checks if not c.ok]
    out.print(f"[red]{len(failed)} of {len(checks)} checks failed[/red]" if failed
              else f"[green]all {len(checks)} checks passed[/green]")
    if failed:
        raise typer.Exit(1)



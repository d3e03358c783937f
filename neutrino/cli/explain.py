"""``neutrino explain --from A --to B``: why A can or cannot reach B (``ovn/explain.py``).

Runs in-process against the database and the OVN SB of the settings (or of the
all-in-one on the state directory, as ``neutrino sync`` does), as the operator
(admin). ``--from`` is a port UUID, a lab instance name or a port name; ``--to`` an
address, a port UUID, a lab instance or a port name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from neutrino.cli.common import ConfigOpt, DbOpt, StateDirOpt, app, err, settings_or_exit
from neutrino.db.session import Database, NotMigrated


@app.command("explain")
def explain_cmd(
        source: str = typer.Option(..., "--from", help="Port UUID, lab instance or port name"),
        destination: str = typer.Option(..., "--to",
                                        help="IP address, port UUID, lab instance or port name"),
        protocol: str = typer.Option("icmp", "--protocol", help="icmp, tcp or udp"),
        port: Optional[int] = typer.Option(None, "--port", help="Destination port (tcp, udp)"),
        raw: bool = typer.Option(False, "--raw", help="Also print ovn-trace's output"),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON answer"),
        config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
        state_dir: Optional[Path] = StateDirOpt,
        ovn_sb_connection: Optional[str] = typer.Option(
            None, "--ovn-sb-connection",
            help="OVN southbound DB ovn-trace reads (default: the settings', else the "
                 "all-in-one's on the state dir)")) -> None:
    """Explain whether a port can reach an address or port, and why (ovn-trace).

    Exit status: 0 allowed, 1 dropped, 2 could not explain."""
    from neutrino import errors
    from neutrino.ovn import explain
    from neutrino.ovn.explain_facts import ExplainRequest
    from neutrino.services.context import Context
    from neutrino.services.env import Env

    settings = settings_or_exit(config, database_url=database_url, state_dir=state_dir,
                                ovn_sb_connection=ovn_sb_connection)
    if not settings.ovn_sb_connection:
        from neutrino.lab.runtime import RuntimeInfo
        info = RuntimeInfo.load(settings.state_dir)  # the all-in-one's own OVN
        if info is not None:
            settings = settings.model_copy(update={"ovn_sb_connection": info.sb_connection})
    db = Database(settings.database_url)
    try:
        db.check_migrated()
        env = Env(db=db, settings=settings)
        src = _port_id(env, settings.state_dir, source, address_ok=False)
        dst = _port_id(env, settings.state_dir, destination, address_ok=True)
        req = ExplainRequest.from_body({"destination": dst, "protocol": protocol,
                                        "port": port, "raw": raw})
        result = explain.explain(env, Context.admin(), src, req)
    except (NotMigrated, errors.NeutronError) as exc:
        err.print(f"[red]neutrino: {getattr(exc, 'message', exc)}[/red]")
        raise typer.Exit(2)
    finally:
        db.dispose()
    out = Console()
    if as_json:
        out.print_json(json.dumps({"explain": result}))
    else:
        colour = "green" if result["verdict"] == "allowed" else "red"
        out.print(f"[bold {colour}]{result['verdict'].upper()}[/bold {colour}] "
                  f"{result['reason']}", highlight=False)
        for n, step in enumerate(result["steps"], 1):
            out.print(f"{n:>2}. [bold]{step['kind']}[/bold]: {step['summary']}", highlight=False)
            ids = "  ".join(f"{k}={v}" for k, v in step["ids"].items())
            if ids:
                out.print(f"    [dim]{ids}[/dim]", highlight=False)
        if raw:
            out.rule("ovn-trace")
            typer.echo(result["raw"])  # as ovn-trace printed it, never re-wrapped
    raise typer.Exit(0 if result["verdict"] == "allowed" else 1)


def _port_id(env, state_dir: Path, value: str, *, address_ok: bool) -> str:
    """A port UUID or address as given; a lab instance's port; a port by name.
    Raises PortNotFound."""
    import ipaddress

    from sqlalchemy import select

    from neutrino import errors
    from neutrino.db.models import Port
    from neutrino.services.common import is_uuid

    if is_uuid(value):
        return value
    if address_ok:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    from neutrino.lab import instances
    try:
        return instances.get_instance(state_dir, value).port_id
    except (instances.InstanceError, OSError, ValueError):
        pass
    ids = env.db.run(lambda s: list(s.scalars(select(Port.id).where(Port.name == value))),
                     write=False)
    if len(ids) != 1:
        raise errors.PortNotFound(value)
    return ids[0]

"""The long-running services and the operator's one-shot commands: ``server``,
``db upgrade``, ``sync``, ``controller``, ``metadata-server``, ``metadata-agent``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from neutrino.cli.common import (
    ConfigOpt,
    DbOpt,
    StateDirOpt,
    require_migrated,
    settings_or_exit,
    app,
    db_app,
    err,
    exit_on,
)
from neutrino.config import ConfigError
from neutrino.db.session import Database, NotMigrated

MetricsOpt = typer.Option(None, "--metrics-listen",
                          help="Serve Prometheus metrics on host:port (setting metrics_listen)")


@app.command()
def server(config: Optional[str] = ConfigOpt,
           host: Optional[str] = typer.Option(None, "--host", help="Listen address (127.0.0.1)"),
           port: Optional[int] = typer.Option(None, "--port", help="Listen port (9696)"),
           workers: Optional[int] = typer.Option(None, "--workers", help="API worker processes (1)"),
           database_url: Optional[str] = DbOpt,
           state_dir: Optional[Path] = StateDirOpt,
           metrics_listen: Optional[str] = MetricsOpt) -> None:
    """Serve the Networking API v2.0 (and GET /metrics, unless metrics_listen moves it)."""
    settings = settings_or_exit(config, host=host, port=port, workers=workers,
                         database_url=database_url, state_dir=state_dir,
                         metrics_listen=metrics_listen)
    require_migrated(settings)
    from neutrino.server import serve
    with exit_on(OSError):
        serve(settings)


@db_app.command("upgrade")
def db_upgrade(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
               state_dir: Optional[Path] = StateDirOpt) -> None:
    """Apply all database migrations."""
    settings = settings_or_exit(config, database_url=database_url, state_dir=state_dir)
    db = Database(settings.database_url)
    try:
        db.upgrade()
    finally:
        db.dispose()
    err.print(f"database {db.engine.url.render_as_string(hide_password=True)} is up to date")


NbOpt = typer.Option(None, "--ovn-nb-connection",
                     help="OVN northbound DB, e.g. unix:/run/ovn/ovnnb_db.sock or tcp:10.0.0.5:6641")
SbOpt = typer.Option(None, "--ovn-sb-connection",
                     help="OVN southbound DB, for the chassis of router gateways; without it "
                          "Gateway_Chassis rows are not checked")


@app.command()
def sync(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
         state_dir: Optional[Path] = StateDirOpt, ovn_nb_connection: Optional[str] = NbOpt,
         ovn_sb_connection: Optional[str] = SbOpt,
         repair: bool = typer.Option(False, "--repair", help="Fix the drift found")) -> None:
    """Compare the database with the OVN northbound DB and report drift.

    Exit status: 0 no drift (or all of it repaired), 1 drift left, 2 could not check.
    """
    from ovsdbapp.exceptions import TimeoutException
    from rich.table import Table

    from neutrino.ovn import idl
    from neutrino.ovn.sync import NorthboundSync
    from neutrino.services.env import Env

    settings = settings_or_exit(config, database_url=database_url, state_dir=state_dir,
                         ovn_nb_connection=ovn_nb_connection, ovn_sb_connection=ovn_sb_connection)
    if not settings.ovn_nb_connection:
        from neutrino.lab.runtime import RuntimeInfo
        info = RuntimeInfo.load(settings.state_dir)  # the all-in-one's own OVN
        if info is not None:
            settings = settings.model_copy(update={"ovn_nb_connection": info.nb_connection,
                                                   "ovn_sb_connection": info.sb_connection})
    if not settings.ovn_nb_connection:
        err.print("[red]neutrino: no OVN NB connection: set ovn_nb_connection or pass "
                  "--ovn-nb-connection[/red]")
        raise typer.Exit(2)
    db = Database(settings.database_url)
    try:
        db.check_migrated()
        sb = (idl.sb_api(settings.ovn_sb_connection, tables=idl.SB_CHASSIS_TABLES)
              if settings.ovn_sb_connection else None)
        nb_sync = NorthboundSync(Env(db=db, settings=settings),
                                 idl.nb_api(settings.ovn_nb_connection), sb_api=sb)
        report = nb_sync.audit(repair=repair)
        left = nb_sync.audit(repair=False) if report.repaired else report
    except (NotMigrated, idl.OvnUnavailable, idl.IdlNotReady) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(2)
    except TimeoutException as exc:  # the repair's NB transaction (ovn.apply.execute)
        err.print(f"[red]neutrino: {type(exc).__name__}: the NB did not answer the repair in time; "
                  "it may still commit it: run 'neutrino sync' again to see[/red]")
        raise typer.Exit(2)
    finally:
        idl.disconnect_all()
        db.dispose()
    out = Console()
    if report.has_drift:
        table = Table(title="OVN northbound drift" + (" (repaired)" if report.repaired else ""))
        for column in ("drift", "table", "row", "resource", "differing columns"):
            table.add_column(column, overflow="fold")
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


@app.command()
def controller(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
               state_dir: Optional[Path] = StateDirOpt, ovn_nb_connection: Optional[str] = NbOpt,
               ovn_sb_connection: Optional[str] = typer.Option(
                   None, "--ovn-sb-connection",
                   help="OVN southbound DB (comma-separated for a cluster)"),
               metrics_listen: Optional[str] = MetricsOpt) -> None:
    """Run the NB sync, the SB port-status watcher and Nova's event sender in the
    foreground, logging to stderr, until SIGTERM or Ctrl-C. Any number may run
    against one database and OVN: one leads (a lock in the database), the others
    stand by and take over within seconds. With metrics_listen, serves its metrics
    (NB sync, audits, leadership) there."""
    import signal
    import threading

    from neutrino import logs
    from neutrino.control import controller as control

    settings = settings_or_exit(config, database_url=database_url, state_dir=state_dir,
                         ovn_nb_connection=ovn_nb_connection, ovn_sb_connection=ovn_sb_connection,
                         metrics_listen=metrics_listen)
    if not settings.ovn_nb_connection or not settings.ovn_sb_connection:
        err.print("[red]neutrino: set ovn_nb_connection and ovn_sb_connection (or pass "
                  "--ovn-nb-connection and --ovn-sb-connection)[/red]")
        raise typer.Exit(2)
    require_migrated(settings)
    logs.configure(settings.log_level)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    listener = _metrics_listener(settings)
    try:
        control.serve(settings, stop)
    finally:
        if listener is not None:
            listener.shutdown()


def _metrics_listener(settings):
    """This process's metrics served on ``metrics_listen`` (None when unset); exit 1
    when the address cannot be bound."""
    address = settings.metrics_address()
    if address is None:
        return None
    from neutrino.metrics import exposition
    try:
        return exposition.listen(address, exposition.registry())
    except OSError as exc:
        err.print(f"[red]neutrino: metrics_listen {settings.metrics_listen}: {exc}[/red]")
        raise typer.Exit(1)


@app.command("metadata-server")
def metadata_server(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
                    state_dir: Optional[Path] = StateDirOpt,
                    host: Optional[str] = typer.Option(None, "--host", help="Listen address (127.0.0.1)"),
                    port: Optional[int] = typer.Option(None, "--port", help="Listen port (8775)")) -> None:
    """Serve instance metadata (OpenStack and EC2 formats, IMDSv2) to the metadata agents."""
    settings = settings_or_exit(config, database_url=database_url, state_dir=state_dir,
                         metadata_host=host, metadata_port=port)
    if settings.nova_metadata_url:
        err.print(f"[red]neutrino: nova_metadata_url is set: the agents forward to Nova at "
                  f"{settings.nova_metadata_url}, not to this service[/red]")
        raise typer.Exit(2)
    require_migrated(settings)
    from neutrino.metadata.service import serve
    with exit_on(ConfigError, OSError):
        serve(settings)


@app.command("metadata-agent")
def metadata_agent(
        config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt,
        ovn_sb_connection: Optional[str] = typer.Option(
            None, "--ovn-sb-connection", help="OVN southbound DB, e.g. tcp:10.0.0.5:6642"),
        chassis_name: Optional[str] = typer.Option(
            None, "--chassis-name",
            help="This chassis' SB Chassis name (default: OVS external_ids:system-id, "
                 "as ovn-controller registers it; else the hostname)"),
        ovs_connection: str = typer.Option("unix:/var/run/openvswitch/db.sock",
                                           "--ovs-connection", help="This host's OVS database"),
        chassis_netns: Optional[str] = typer.Option(
            None, "--chassis-netns", help="Namespace ovs-vswitchd runs in (default: this one)"),
        netns_prefix: str = typer.Option(
            "ovnmeta-", "--netns-prefix",
            help="Metadata namespaces are <prefix><network id>; another chassis' agent on "
                 "the same machine needs another prefix (e.g. ovnmeta2-)"),
        metrics_listen: Optional[str] = MetricsOpt
) -> None:
    """Serve 169.254.169.254 on this chassis' networks, forwarding to the metadata
    service (or nova_metadata_url), in the foreground until Ctrl-C, and report the
    networks served in the chassis' SB Chassis_Private row (external_ids
    neutrino:metadata-agent, neutrino:metadata-networks), which the controller waits
    for before a port bound here is ACTIVE. 'neutrino up' runs one per lab chassis."""
    import signal
    import socket
    import threading

    from neutrino import logs
    from neutrino.host import ovs as host_ovs
    from neutrino.metadata import auth
    from neutrino.metadata.agent import MetadataAgent
    from neutrino.ovn import idl

    settings = settings_or_exit(config, state_dir=state_dir, ovn_sb_connection=ovn_sb_connection,
                         chassis_name=chassis_name, metrics_listen=metrics_listen)
    if not settings.ovn_sb_connection:
        err.print("[red]neutrino: no OVN SB connection: set ovn_sb_connection or pass "
                  "--ovn-sb-connection[/red]")
        raise typer.Exit(2)
    logs.configure(settings.log_level)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    listener = _metrics_listener(settings)
    try:
        chassis = (settings.chassis_name or host_ovs.system_id(ovs_connection)
                   or socket.gethostname())
        agent = MetadataAgent(idl.sb_api(settings.ovn_sb_connection), chassis=chassis,
                              ovs_connection=ovs_connection, chassis_netns=chassis_netns,
                              forward_url=auth.forward_url(settings),
                              secret=auth.ensure_shared_secret(settings),
                              state_dir=settings.state_dir, netns_prefix=netns_prefix)
        agent.run_until(stop)
    except (ConfigError, idl.OvnUnavailable, OSError, host_ovs.OvsError, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    finally:
        idl.disconnect_all()
        if listener is not None:
            listener.shutdown()
        from neutrino.metrics import exposition
        exposition.process_exit()  # under neutrino up: its live gauges go now



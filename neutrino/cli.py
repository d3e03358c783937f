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


def _require_migrated(settings: Settings) -> None:
    """Exit 1 with the reason unless the database is at the newest migration."""
    db = Database(settings.database_url)
    try:
        db.check_migrated()
    except NotMigrated as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    finally:
        db.dispose()


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
    _require_migrated(settings)
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
    from rich.table import Table

    from neutrino.ovn import idl
    from neutrino.ovn.sync import NorthboundSync
    from neutrino.services.env import Env

    settings = _settings(config, database_url=database_url, state_dir=state_dir,
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
        sb = idl.sb_api(settings.ovn_sb_connection) if settings.ovn_sb_connection else None
        nb_sync = NorthboundSync(Env(db=db, settings=settings),
                                 idl.nb_api(settings.ovn_nb_connection), sb_api=sb)
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
                   help="OVN southbound DB (comma-separated for a cluster)")) -> None:
    """Run the NB sync, the SB port-status watcher and Nova's event sender in the
    foreground, logging to stderr, until SIGTERM or Ctrl-C. Any number may run
    against one database and OVN: one leads (a lock in the database), the others
    stand by and take over within seconds."""
    import logging
    import signal
    import threading

    from neutrino.control import controller as control

    settings = _settings(config, database_url=database_url, state_dir=state_dir,
                         ovn_nb_connection=ovn_nb_connection, ovn_sb_connection=ovn_sb_connection)
    if not settings.ovn_nb_connection or not settings.ovn_sb_connection:
        err.print("[red]neutrino: set ovn_nb_connection and ovn_sb_connection (or pass "
                  "--ovn-nb-connection and --ovn-sb-connection)[/red]")
        raise typer.Exit(2)
    _require_migrated(settings)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    control.serve(settings, stop)


@app.command("metadata-server")
def metadata_server(config: Optional[str] = ConfigOpt, database_url: Optional[str] = DbOpt,
                    state_dir: Optional[Path] = StateDirOpt,
                    host: Optional[str] = typer.Option(None, "--host", help="Listen address (127.0.0.1)"),
                    port: Optional[int] = typer.Option(None, "--port", help="Listen port (8775)")) -> None:
    """Serve instance metadata (OpenStack and EC2 formats, IMDSv2) to the metadata agents."""
    settings = _settings(config, database_url=database_url, state_dir=state_dir,
                         metadata_host=host, metadata_port=port)
    if settings.nova_metadata_url:
        err.print(f"[red]neutrino: nova_metadata_url is set: the agents forward to Nova at "
                  f"{settings.nova_metadata_url}, not to this service[/red]")
        raise typer.Exit(2)
    _require_migrated(settings)
    from neutrino.metadata.service import serve
    try:
        serve(settings)
    except (ConfigError, OSError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)


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
                 "the same machine needs another prefix (e.g. ovnmeta2-)")
) -> None:
    """Serve 169.254.169.254 on this chassis' networks, forwarding to the metadata
    service (or nova_metadata_url), in the foreground until Ctrl-C, and report the
    networks served in the chassis' SB Chassis_Private row (external_ids
    neutrino:metadata-agent, neutrino:metadata-networks), which the controller waits
    for before a port bound here is ACTIVE. 'neutrino up' runs one per lab chassis."""
    import logging
    import signal
    import socket
    import threading

    from neutrino.host import ovs as host_ovs
    from neutrino.metadata import auth
    from neutrino.metadata.agent import MetadataAgent
    from neutrino.ovn import idl

    settings = _settings(config, state_dir=state_dir, ovn_sb_connection=ovn_sb_connection,
                         chassis_name=chassis_name)
    if not settings.ovn_sb_connection:
        err.print("[red]neutrino: no OVN SB connection: set ovn_sb_connection or pass "
                  "--ovn-sb-connection[/red]")
        raise typer.Exit(2)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
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

    settings = _settings(config, state_dir=state_dir, host=host, port=port,
                         metadata_port=metadata_port, database_url=database_url)
    out = Console()
    try:
        with out.status("starting") as spinner:
            def progress(step: str) -> None:
                out.print(f"[green]✓[/green] {step}" if step.startswith("serving") else f"  {step}")
                spinner.update(step)
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

    settings = _settings(config, state_dir=state_dir)
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

    settings = _settings(config, state_dir=state_dir, database_url=database_url)
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

    settings = _settings(config, state_dir=state_dir)
    out = Console()
    try:
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
    except (scenario.DemoError, LabError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
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


lab_app = typer.Typer(help="Lab instances: namespaces that behave like VMs", no_args_is_help=True)
app.add_typer(lab_app, name="lab")


@lab_app.command("boot")
def lab_boot(name: str, network: Optional[str] = typer.Option(
                 None, "--network", help="Name or id (default: chosen by the network scheduler)"),
             project: Optional[str] = typer.Option(None, "--project", help="Project (noauth)"),
             user_data: Optional[Path] = typer.Option(None, "--user-data", help="User data file"),
             key: list[str] = typer.Option([], "--key", help="SSH key NAME=PUBKEY (repeatable)"),
             security_group: list[str] = typer.Option(
                 [], "--security-group",
                 help="Security group name or id (repeatable; instead of the default group)"),
             no_port_security: bool = typer.Option(False, "--no-port-security",
                                                   help="No port security and no groups"),
             subnet: Optional[str] = typer.Option(
                 None, "--subnet", help="Take the address from this subnet (name or id)"),
             fixed_ip: Optional[str] = typer.Option(None, "--fixed-ip",
                                                    help="Ask for this address"),
             chassis: Optional[str] = typer.Option(
                 None, "--chassis", help="Lab chassis to place it on (default: spread over "
                                         "the hypervisors)"),
             config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Create a port and an instance on it (its metadata registered); print the address
    it leased by DHCP."""
    from neutrino.lab import commands, instances

    settings = _settings(config, state_dir=state_dir)
    keys = [tuple(k.split("=", 1)) for k in key]
    if any(len(k) != 2 or not k[0] or not k[1] for k in keys):
        err.print("[red]neutrino: --key must be NAME=PUBKEY[/red]")
        raise typer.Exit(2)
    try:
        data = user_data.read_bytes() if user_data is not None else None
    except OSError as exc:
        err.print(f"[red]neutrino: {user_data}: {exc.strerror}[/red]")
        raise typer.Exit(2)
    try:
        inst = commands.boot(settings.state_dir, name, network, project, user_data=data, keys=keys,
                             on_scheduled=lambda net: Console().print(
                                 f"{name}: scheduled on network {net['name'] or '-'} ({net['id']})"),
                             security_groups=security_group or None,
                             port_security=not no_port_security, subnet=subnet,
                             fixed_ip=fixed_ip, chassis=chassis)
    except (commands.LabError, instances.InstanceError, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"{inst.name}: {inst.lease.address} (port {inst.port_id}; leased "
                    f"{inst.boot_seconds['plug_to_lease']:.2f} s after plugging)")


@lab_app.command("list")
def lab_list(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """List lab instances."""
    from rich.table import Table

    from neutrino.lab import instances, runtime

    settings = _settings(config, state_dir=state_dir)
    chassis = {c.netns: c.name for c in runtime.lab_fleet(settings)}
    table = Table()
    for column in ("name", "address", "port", "chassis", "namespace", "state"):
        table.add_column(column)
    for inst in instances.list_instances(settings.state_dir):
        table.add_row(inst.name, inst.lease.address if inst.lease else "-", inst.port_id,
                      chassis.get(inst.chassis_netns or "", "-"), inst.netns, inst.state)
    Console().print(table)


chassis_app = typer.Typer(help="The lab's chassis", no_args_is_help=True)
lab_app.add_typer(chassis_app, name="chassis")


@chassis_app.command("list")
def chassis_list(config: Optional[str] = ConfigOpt,
                 state_dir: Optional[Path] = StateDirOpt) -> None:
    """List the lab's chassis: roles, encap address, namespace, metadata agent."""
    from rich.table import Table

    from neutrino.lab import fleet, runtime

    settings = _settings(config, state_dir=state_dir)
    table = Table("chassis", "roles", "encap ip", "namespace", "metadata agent")
    for c in runtime.lab_fleet(settings):
        pid = fleet.agent_pid(c)
        table.add_row(c.name, c.roles, c.encap_ip, c.netns, f"pid {pid}" if pid else "-")
    Console().print(table)


@chassis_app.command("kill")
def chassis_kill(name: str, config: Optional[str] = ConfigOpt,
                 state_dir: Optional[Path] = StateDirOpt) -> None:
    """SIGKILL a lab chassis' ovs-vswitchd and ovn-controller, as a host that dies."""
    from neutrino.lab import runtime

    try:
        pids = runtime.kill_chassis(_settings(config, state_dir=state_dir), name)
    except ValueError as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"{name}: killed {', '.join(map(str, pids)) or 'nothing (not running)'}")


@chassis_app.command("start")
def chassis_start(name: str, config: Optional[str] = ConfigOpt,
                  state_dir: Optional[Path] = StateDirOpt) -> None:
    """Start again what is not running of a lab chassis (after 'kill')."""
    from neutrino.lab import daemons, runtime

    try:
        runtime.revive_chassis(_settings(config, state_dir=state_dir), name)
    except (ValueError, daemons.DaemonError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"{name}: running")


@lab_app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab_exec(ctx: typer.Context, name: str, config: Optional[str] = ConfigOpt,
             state_dir: Optional[Path] = StateDirOpt) -> None:
    """Run a command inside an instance: neutrino lab exec NAME -- CMD..."""
    from neutrino.lab import instances

    settings = _settings(config, state_dir=state_dir)
    try:
        res = instances.exec_in_instance(settings.state_dir, name, list(ctx.args), timeout=3600)
    except instances.InstanceNotFound as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    raise typer.Exit(res.returncode)


@lab_app.command("delete")
def lab_delete(name: str, config: Optional[str] = ConfigOpt,
               state_dir: Optional[Path] = StateDirOpt) -> None:
    """Remove an instance: namespace, veth, OVS port, DHCP client and its port."""
    from neutrino.lab import commands, instances

    settings = _settings(config, state_dir=state_dir)
    try:
        commands.delete(settings.state_dir, name)
    except (commands.LabError, instances.InstanceError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"{name} deleted")


@lab_app.command("cluster")
def lab_cluster(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt,
                controllers: int = typer.Option(2, "--controllers", help="neutrino controller processes"),
                servers: int = typer.Option(2, "--servers", help="neutrino server processes"),
                port: int = typer.Option(9696, "--port", help="First API server's port"),
                size: int = typer.Option(3, "--ovn-cluster", help="Members of each OVN RAFT cluster")
                ) -> None:
    """Run the control plane of several hosts on this machine, in the foreground: OVN
    NB and SB as RAFT clusters, PostgreSQL, controllers and API servers, each its own
    process reading one config file (README, "Several hosts"). Ctrl-C stops it all."""
    from neutrino.lab import controlplane, daemons
    from neutrino.lab.postgres import PostgresServerError

    settings = _settings(config, state_dir=state_dir)
    lab = controlplane.LabCluster(settings.state_dir, size=size, controllers=controllers,
                                  servers=servers, port=port)
    out = Console()
    try:
        lab.run(lambda step: out.print(f"  {step}", highlight=False))
    except (daemons.DaemonError, PostgresServerError, RuntimeError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    out.print("stopped")


external_app = typer.Typer(help="The lab's external network and its upstream namespace "
                                "(gateway and outside host)", no_args_is_help=True)
lab_app.add_typer(external_app, name="external")
PhysnetOpt = typer.Option("physnet1", "--physnet", help="Physical network (in bridge_mappings)")


@external_app.command("create")
def external_create(
        physnet: str = PhysnetOpt,
        cidr: str = typer.Option("172.24.4.0/24", "--cidr", help="External subnet"),
        gateway_ip: Optional[str] = typer.Option(None, "--gateway-ip",
                                                 help="Upstream's address (first of --cidr)"),
        outside_ip: str = typer.Option("203.0.113.10", "--outside-ip",
                                       help="An outside host's address, not in --cidr"),
        network_name: str = typer.Option("public", "--network-name"),
        config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Create (idempotently) the flat router:external network, its subnet (DHCP off) and
    the upstream namespace owning the gateway and outside addresses."""
    from neutrino.host.ovs import OvsError
    from neutrino.lab import commands, external

    settings = _settings(config, state_dir=state_dir)
    try:
        up, net, subnet = commands.external_create(settings.state_dir, physnet, cidr,
                                                   gateway_ip, outside_ip, network_name)
    except (commands.LabError, external.UpstreamError, OvsError, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"{net['name']} ({net['id']}): subnet {subnet['cidr']}, gateway "
                    f"{up.gateway_ip} and outside host {', '.join(up.outside_ips)} in "
                    f"namespace {up.netns} on {up.bridge}")


@external_app.command("delete")
def external_delete(physnet: str = PhysnetOpt,
                    keep_network: bool = typer.Option(False, "--keep-network",
                                                      help="Remove only the namespace"),
                    config: Optional[str] = ConfigOpt,
                    state_dir: Optional[Path] = StateDirOpt) -> None:
    """Remove the upstream namespace and the external network made with it."""
    from neutrino.lab import commands

    settings = _settings(config, state_dir=state_dir)
    try:
        up = commands.external_delete(settings.state_dir, physnet, keep_network)
    except commands.LabError as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"upstream of {up.physnet} deleted")


@external_app.command("exec", context_settings={"allow_extra_args": True,
                                                "ignore_unknown_options": True})
def external_exec(ctx: typer.Context, physnet: str = PhysnetOpt,
                  config: Optional[str] = ConfigOpt,
                  state_dir: Optional[Path] = StateDirOpt) -> None:
    """Run a command in the upstream namespace: neutrino lab external exec -- CMD..."""
    from neutrino.lab import external

    settings = _settings(config, state_dir=state_dir)
    try:
        res = external.exec_in_upstream(settings.state_dir, physnet, list(ctx.args),
                                        timeout=3600)
    except (external.UpstreamNotFound, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    raise typer.Exit(res.returncode)


vlan_app = typer.Typer(help="Provider VLANs: gateways behind the lab's upstream switch, "
                            "trunked to a physical network's bridge", no_args_is_help=True)
lab_app.add_typer(vlan_app, name="vlan")
VlanPhysnetOpt = typer.Option("default", "--physnet", help="Physical network (in bridge_mappings)")
VlanOpt = typer.Option(..., "--vlan", min=1, max=4094, help="VLAN id")


@vlan_app.command("create")
def vlan_create(physnet: str = VlanPhysnetOpt, vlan: int = VlanOpt,
                cidr: str = typer.Option(..., "--cidr", help="The VLAN's subnet, e.g. 10.10.100.0/24"),
                gateway_ip: Optional[str] = typer.Option(
                    None, "--gateway-ip", help="The gateway's address (first of --cidr)"),
                config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Create (idempotently) the gateway namespace of a VLAN on the upstream switch: an
    access port tagged --vlan, the switch trunked to the physnet's bridge. The provider
    network itself is made through the API (admin)."""
    from neutrino.host.ovs import OvsError
    from neutrino.lab import commands, vlans

    settings = _settings(config, state_dir=state_dir)
    try:
        gw = commands.vlan_create(settings.state_dir, physnet, vlan, cidr, gateway_ip)
    except (commands.LabError, vlans.VlanError, OvsError, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"VLAN {gw.vlan} on {gw.physnet}: gateway {gw.gateway} in namespace "
                    f"{gw.netns}, access port {gw.host_if} on {gw.switch}, trunked to {gw.bridge}")


@vlan_app.command("delete")
def vlan_delete(physnet: str = VlanPhysnetOpt, vlan: int = VlanOpt,
                config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Remove a VLAN's gateway (the upstream switch goes with the physnet's last VLAN)."""
    from neutrino.lab import commands

    settings = _settings(config, state_dir=state_dir)
    try:
        gw = commands.vlan_delete(settings.state_dir, physnet, vlan)
    except commands.LabError as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    Console().print(f"VLAN {gw.vlan} on {gw.physnet} deleted")


@vlan_app.command("list")
def vlan_list(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """List the lab's VLAN gateways."""
    from rich.table import Table

    from neutrino.lab import vlans

    settings = _settings(config, state_dir=state_dir)
    table = Table()
    for column in ("physnet", "vlan", "gateway", "namespace", "state"):
        table.add_column(column)
    for gw in vlans.list_vlans(settings.state_dir):
        table.add_row(gw.physnet, str(gw.vlan), gw.gateway, gw.netns,
                      "up" if vlans.is_plumbed(gw) else "down")
    Console().print(table)


@vlan_app.command("exec", context_settings={"allow_extra_args": True,
                                            "ignore_unknown_options": True})
def vlan_exec(ctx: typer.Context, physnet: str = VlanPhysnetOpt, vlan: int = VlanOpt,
              config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Run a command in a VLAN's gateway namespace: neutrino lab vlan exec --vlan 100 -- CMD..."""
    from neutrino.lab import vlans

    settings = _settings(config, state_dir=state_dir)
    try:
        res = vlans.exec_in_vlan(settings.state_dir, physnet, vlan, list(ctx.args), timeout=3600)
    except (vlans.VlanNotFound, ValueError) as exc:
        err.print(f"[red]neutrino: {exc}[/red]")
        raise typer.Exit(1)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    raise typer.Exit(res.returncode)


def main() -> None:
    app(prog_name="neutrino")


if __name__ == "__main__":
    sys.exit(main())

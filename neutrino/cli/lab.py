"""``neutrino lab``: instances, chassis, the external world, VLANs and the several-hosts
control plane on one machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from neutrino.cli.common import (
    ConfigOpt,
    StateDirOpt,
    settings_or_exit,
    app,
    err,
    exit_on,
)

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
             no_dhcp: bool = typer.Option(
                 False, "--no-dhcp", help="No DHCP client: the port's IPv4 addresses set "
                                          "statically, no route"),
             config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Create a port and an instance on it (its metadata registered); print the address
    it leased by DHCP."""
    from neutrino.lab import commands, instances

    settings = settings_or_exit(config, state_dir=state_dir)
    keys = [tuple(k.split("=", 1)) for k in key]
    if any(len(k) != 2 or not k[0] or not k[1] for k in keys):
        err.print("[red]neutrino: --key must be NAME=PUBKEY[/red]")
        raise typer.Exit(2)
    try:
        data = user_data.read_bytes() if user_data is not None else None
    except OSError as exc:
        err.print(f"[red]neutrino: {user_data}: {exc.strerror}[/red]")
        raise typer.Exit(2)
    with exit_on(commands.LabError, instances.InstanceError, ValueError):
        inst = commands.boot(settings.state_dir, name, network, project, user_data=data, keys=keys,
                             on_scheduled=lambda net: Console().print(
                                 f"{name}: scheduled on network {net['name'] or '-'} ({net['id']})"),
                             security_groups=security_group or None,
                             port_security=not no_port_security, subnet=subnet,
                             fixed_ip=fixed_ip, chassis=chassis, dhcp=not no_dhcp)
    if inst.lease is None:
        Console().print(f"{inst.name}: {' '.join(inst.addresses) or 'no address'} "
                        f"(port {inst.port_id}; static, no DHCP)")
        return
    Console().print(f"{inst.name}: {inst.lease.address} (port {inst.port_id}; leased "
                    f"{inst.boot_seconds['plug_to_lease']:.2f} s after plugging)")


@lab_app.command("list")
def lab_list(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """List lab instances."""
    from rich.table import Table

    from neutrino.lab import instances, runtime

    settings = settings_or_exit(config, state_dir=state_dir)
    chassis = {c.netns: c.name for c in runtime.lab_fleet(settings)}
    table = Table()
    for column in ("name", "address", "port", "chassis", "namespace", "state"):
        table.add_column(column)
    for inst in instances.list_instances(settings.state_dir):
        table.add_row(inst.name, " ".join(inst.addresses) or "-", inst.port_id,
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

    settings = settings_or_exit(config, state_dir=state_dir)
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

    with exit_on(ValueError):
        pids = runtime.kill_chassis(settings_or_exit(config, state_dir=state_dir), name)
    Console().print(f"{name}: killed {', '.join(map(str, pids)) or 'nothing (not running)'}")


@chassis_app.command("start")
def chassis_start(name: str, config: Optional[str] = ConfigOpt,
                  state_dir: Optional[Path] = StateDirOpt) -> None:
    """Start again what is not running of a lab chassis (after 'kill')."""
    from neutrino.lab import daemons, runtime

    with exit_on(ValueError, daemons.DaemonError):
        runtime.revive_chassis(settings_or_exit(config, state_dir=state_dir), name)
    Console().print(f"{name}: running")


@lab_app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def lab_exec(ctx: typer.Context, name: str, config: Optional[str] = ConfigOpt,
             state_dir: Optional[Path] = StateDirOpt) -> None:
    """Run a command inside an instance: neutrino lab exec NAME -- CMD..."""
    from neutrino.lab import instances

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(instances.InstanceNotFound):
        res = instances.exec_in_instance(settings.state_dir, name, list(ctx.args), timeout=3600)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    raise typer.Exit(res.returncode)


@lab_app.command("delete")
def lab_delete(name: str, config: Optional[str] = ConfigOpt,
               state_dir: Optional[Path] = StateDirOpt) -> None:
    """Remove an instance: namespace, veth, OVS port, DHCP client and its port."""
    from neutrino.lab import commands, instances

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(commands.LabError, instances.InstanceError):
        commands.delete(settings.state_dir, name)
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

    settings = settings_or_exit(config, state_dir=state_dir)
    lab = controlplane.LabCluster(settings.state_dir, size=size, controllers=controllers,
                                  servers=servers, port=port)
    out = Console()
    with exit_on(daemons.DaemonError, PostgresServerError, RuntimeError):
        lab.run(lambda step: out.print(f"  {step}", highlight=False))
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

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(commands.LabError, external.UpstreamError, OvsError, ValueError):
        up, net, subnet = commands.external_create(settings.state_dir, physnet, cidr,
                                                   gateway_ip, outside_ip, network_name)
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

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(commands.LabError):
        up = commands.external_delete(settings.state_dir, physnet, keep_network)
    Console().print(f"upstream of {up.physnet} deleted")


@external_app.command("exec", context_settings={"allow_extra_args": True,
                                                "ignore_unknown_options": True})
def external_exec(ctx: typer.Context, physnet: str = PhysnetOpt,
                  config: Optional[str] = ConfigOpt,
                  state_dir: Optional[Path] = StateDirOpt) -> None:
    """Run a command in the upstream namespace: neutrino lab external exec -- CMD..."""
    from neutrino.lab import external

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(external.UpstreamNotFound, ValueError):
        res = external.exec_in_upstream(settings.state_dir, physnet, list(ctx.args),
                                        timeout=3600)
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

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(commands.LabError, vlans.VlanError, OvsError, ValueError):
        gw = commands.vlan_create(settings.state_dir, physnet, vlan, cidr, gateway_ip)
    Console().print(f"VLAN {gw.vlan} on {gw.physnet}: gateway {gw.gateway} in namespace "
                    f"{gw.netns}, access port {gw.host_if} on {gw.switch}, trunked to {gw.bridge}")


@vlan_app.command("delete")
def vlan_delete(physnet: str = VlanPhysnetOpt, vlan: int = VlanOpt,
                config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """Remove a VLAN's gateway (the upstream switch goes with the physnet's last VLAN)."""
    from neutrino.lab import commands

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(commands.LabError):
        gw = commands.vlan_delete(settings.state_dir, physnet, vlan)
    Console().print(f"VLAN {gw.vlan} on {gw.physnet} deleted")


@vlan_app.command("list")
def vlan_list(config: Optional[str] = ConfigOpt, state_dir: Optional[Path] = StateDirOpt) -> None:
    """List the lab's VLAN gateways."""
    from rich.table import Table

    from neutrino.lab import vlans

    settings = settings_or_exit(config, state_dir=state_dir)
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

    settings = settings_or_exit(config, state_dir=state_dir)
    with exit_on(vlans.VlanNotFound, ValueError):
        res = vlans.exec_in_vlan(settings.state_dir, physnet, vlan, list(ctx.args), timeout=3600)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    raise typer.Exit(res.returncode)



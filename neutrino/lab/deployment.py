"""Start and stop a private OVS/OVN deployment.

A deployment is one :class:`Central` (NB and SB ovsdb-server, ovn-northd) plus one or more
:class:`Chassis` (ovsdb-server holding ``conf.db``, ovs-vswitchd, ovn-controller).
:class:`OvnDeployment` ties one of each together and can add more chassis.

Everything is private to a state directory: database files, unix sockets, control
sockets, pid files and logs, with ``OVS_RUNDIR``/``OVS_LOGDIR``/``OVS_DBDIR``/``OVN_RUNDIR``
(and friends) pointing at it, so the system's ``/var/run/openvswitch``, ``/var/run/ovn`` and
``/etc/openvswitch/conf.db`` are never read or written and no systemd unit is involved.
Nothing listens on TCP: every ovsdb remote is ``punix:``.

ovs-vswitchd and ovn-controller create kernel devices (``ovs-netdev``, ``br-int``, tap
devices) in the network namespace they run in, so a chassis normally runs inside its own
namespace (``ip netns exec``). ``/etc/netns/<ns>/resolv.conf`` is written before anything
runs there, so the host's ``/etc/resolv.conf`` is never the one a lab process sees or edits.
Unix sockets are reached by path, which works across network namespaces, so ``ovs-vsctl``,
``ovn-sbctl`` and ovsdbapp work from the root namespace.

Each process is a ``lab.daemons.Daemon``; what Central and Chassis share (state
directory, environment, start/stop bookkeeping) is ``lab.components.Components``.
Waits poll a condition under a timeout and fail with ``DaemonError`` naming the
component and its log file.

Typical use::

    lab = OvnDeployment(Path("/var/lib/neutrino/lab"), "chassis-1", netns="nt-chassis-1")
    lab.start()        # ["central/ovsdb-server-nb", ..., "chassis-1/ovn-controller"]
    lab.nb_connection  # "unix:/var/lib/neutrino/lab/central/nb.sock"
    lab.status()       # [ComponentStatus("central/ovsdb-server-nb", True, "pid 812"), ...]
    lab.stop()         # what start() started, in reverse order; removes the namespace
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from neutrino.host.netns import NETNS_ETC
from neutrino.lab.components import Components, await_daemon, ensure_db
from neutrino.lab.daemons import (
    NB_SCHEMA, OVS_SCHEMA, SB_SCHEMA, CommandError, ComponentStatus, Daemon, DaemonError,
    netns_argv, netns_exists, ovsdb_ready, program_path, run)

#: BFD timers of the tunnels between gateway chassis and the chassis they serve
#: (ovn-nb(5) NB_Global ``options:bfd-*``, applied by every ovn-controller to its
#: tunnel interfaces). OVS' default min_rx of 1000 ms x 3 detects a dead gateway after
#: 3 s; 200 ms x 3 detects it after 0.6 s, which the lab's failover target needs.
BFD_OPTIONS = {"bfd-min-rx": "200", "bfd-min-tx": "200", "bfd-mult": "3"}

class Central(Components):
    """NB and SB ovsdb-servers and ovn-northd, in the root namespace, on unix sockets only.

    Files under ``state_dir``: ``ovnnb_db.db``, ``ovnsb_db.db``, ``nb.sock``, ``sb.sock`` and
    ``<component>.{pid,log,ctl}`` for the components ``ovsdb-server-nb``,
    ``ovsdb-server-sb`` and ``ovn-northd``.
    """

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.started: list[str] = []
        env = self._env()
        nb_db, sb_db = self.state_dir / "ovnnb_db.db", self.state_dir / "ovnsb_db.db"
        self._databases = [(nb_db, NB_SCHEMA), (sb_db, SB_SCHEMA)]
        self.daemons = [
            Daemon("ovsdb-server-nb", "ovsdb-server",
                   [str(nb_db), f"--remote=p{self.nb_connection}"], self.state_dir, env),
            Daemon("ovsdb-server-sb", "ovsdb-server",
                   [str(sb_db), f"--remote=p{self.sb_connection}"], self.state_dir, env),
            Daemon("ovn-northd", "ovn-northd",
                   [f"--ovnnb-db={self.nb_connection}", f"--ovnsb-db={self.sb_connection}"],
                   self.state_dir, env),
        ]

    @property
    def nb_connection(self) -> str:
        """``"unix:<state_dir>/nb.sock"``, for ovsdbapp and ``ovn-nbctl --db``."""
        return f"unix:{self.state_dir / 'nb.sock'}"

    @property
    def sb_connection(self) -> str:
        """``"unix:<state_dir>/sb.sock"``, for ovsdbapp, ``ovn-sbctl --db`` and ovn-remote."""
        return f"unix:{self.state_dir / 'sb.sock'}"

    def start(self, timeout: float = 30) -> list[str]:
        """Create missing databases, start the components not already running, wait for them.

        Idempotent: components running from this state dir's pid files are left alone.
        Returns the names of the components started by this call (also kept in
        ``self.started``).  Raises ``DaemonError`` naming the failing component.
        """
        self._prepare_state_dir()
        nb, sb, northd = self.daemons
        for daemon, (db, schema) in zip((nb, sb), self._databases):
            ensure_db(daemon, db, schema)
        started: list[str] = []
        for daemon, connection in ((nb, self.nb_connection), (sb, self.sb_connection)):
            self._ensure_running(daemon, timeout, started)
            await_daemon(daemon, lambda c=connection: ovsdb_ready(c), timeout, "answer list-dbs")
        self._ensure_running(northd, timeout, started)
        await_daemon(northd, self._northd_active, timeout, "report status active")
        self.nbctl("set", "NB_Global", ".",
                   *(f"options:{k}={v}" for k, v in BFD_OPTIONS.items()))
        return started

    def stop(self, started_only: bool = True, timeout: float = 10) -> list[str]:
        """Stop components by pid, northd first; return the names stopped.

        With ``started_only`` (the default) only what this object's :meth:`start` started;
        otherwise every component running from this state dir (``neutrino down``).
        """
        return self._stop_daemons(started_only, timeout)

    def nbctl(self, *args: str, timeout: float = 30) -> str:
        """Run ``ovn-nbctl --db=<nb> args...`` and return stdout."""
        return run([program_path("ovn-nbctl"), f"--db={self.nb_connection}", *args], timeout=timeout)

    def sbctl(self, *args: str, timeout: float = 30) -> str:
        """Run ``ovn-sbctl --db=<sb> args...`` and return stdout."""
        return run([program_path("ovn-sbctl"), f"--db={self.sb_connection}", *args], timeout=timeout)

    def _northd_active(self) -> bool:
        out = run([program_path("ovn-appctl"), "-t", str(self.daemons[2].ctl_file), "status"], timeout=10)
        return "active" in out


class Chassis(Components):
    """ovsdb-server (``conf.db``), ovs-vswitchd and ovn-controller for one OVN chassis.

    ``netns`` is the network namespace the three daemons run in; it is created (with ``lo``
    up and ``/etc/netns/<netns>/resolv.conf`` written first) if missing, and removed by
    :meth:`stop` only if this object created it.  ``netns=None`` runs in the caller's
    namespace (a real hypervisor; never in the lab).

    Registration sets ``Open_vSwitch`` ``external_ids``: ``system-id`` and ``hostname`` =
    ``name``, ``ovn-remote`` = ``sb_connection``, ``ovn-encap-type``, ``ovn-encap-ip``,
    ``ovn-bridge-mappings`` (``"physnet1:br-ex,..."``), ``ovn-bridge-datapath-type`` plus
    any ``external_ids`` given.  ``br-int`` and every bridge in ``bridge_mappings`` are
    created with ``datapath_type``.  With several chassis, tunnels only come up when the
    ``encap_ip`` addresses are reachable from each other's namespaces.
    """

    def __init__(
        self,
        state_dir: Path,
        name: str,
        sb_connection: str,
        netns: str | None,
        bridge_mappings: Mapping[str, str] | None = None,
        encap_ip: str = "127.0.0.1",
        encap_type: str = "geneve",
        datapath_type: str = "netdev",
        external_ids: Mapping[str, str] | None = None,
    ):
        self.state_dir = Path(state_dir)
        self.name = name
        self.sb_connection = sb_connection
        self.netns = netns
        self.bridge_mappings = dict(bridge_mappings or {})
        self.encap_ip = encap_ip
        self.encap_type = encap_type
        self.datapath_type = datapath_type
        self.external_ids = dict(external_ids or {})
        self.started: list[str] = []
        self.created_netns = False
        self._created_resolv_conf = False
        self._env_vars = env = self._env()
        self._conf_db = self.state_dir / "conf.db"
        ovs = [str(self._conf_db), f"--remote=p{self.ovs_connection}"]
        vswitchd = [self.ovs_connection]
        if datapath_type == "netdev":
            vswitchd.append("--disable-system")  # never probe the kernel datapath module
        self.daemons = [
            Daemon("ovsdb-server", "ovsdb-server", ovs, self.state_dir, env, netns),
            Daemon("ovs-vswitchd", "ovs-vswitchd", vswitchd, self.state_dir, env, netns),
            Daemon("ovn-controller", "ovn-controller", [self.ovs_connection],
                   self.state_dir, env, netns, unixctl=False),
        ]

    @property
    def ovs_connection(self) -> str:
        """``"unix:<state_dir>/db.sock"``: the chassis' Open_vSwitch database."""
        return f"unix:{self.state_dir / 'db.sock'}"

    @property
    def vswitchd(self) -> Daemon:
        return self.daemons[1]

    @property
    def controller(self) -> Daemon:
        return self.daemons[2]

    def start(self, timeout: float = 30) -> list[str]:
        """Prepare the namespace, start missing components, register, wait for the SB row.

        Idempotent: running components are left alone and registration is re-applied.
        Returns the names of what this call started (``"netns"`` first if it created the
        namespace).  Raises ``DaemonError`` naming the failing component.
        """
        self._prepare_state_dir()
        started = []
        if self.netns is not None and self._ensure_netns():
            started.append("netns")
        ovsdb, vswitchd, controller = self.daemons
        ensure_db(ovsdb, self._conf_db, OVS_SCHEMA)
        self._ensure_running(ovsdb, timeout, started)
        await_daemon(ovsdb, lambda: ovsdb_ready(self.ovs_connection), timeout, "answer list-dbs")
        ids = [f"external_ids:{k}={_ovsdb_str(v)}" for k, v in self.registration().items()]
        try:
            self.vsctl("--no-wait", "init", "--", "set", "Open_vSwitch", ".", *ids)
        except (CommandError, subprocess.TimeoutExpired) as exc:
            raise DaemonError(ovsdb.name, f"could not register: {exc}", ovsdb.log_file) from None
        self._ensure_running(vswitchd, timeout, started)
        self._ensure_bridges(timeout)
        self._ensure_running(controller, timeout, started)
        await_daemon(controller, self.registered, timeout, f"register chassis {self.name!r} in the SB")
        return started

    def stop(self, started_only: bool = True, timeout: float = 10) -> list[str]:
        """Stop components by pid (ovn-controller first); remove the namespace if created here.

        With ``started_only`` (the default) only what this object's :meth:`start` started;
        otherwise every component running from this state dir, and the namespace if a
        previous start created it (``neutrino down``).  Returns the names stopped/removed.
        The Chassis row stays in the SB (ovn-controller is not asked to unregister).
        """
        remove_ns = self.created_netns or (
            not started_only and (self.state_dir / "created-netns").exists())
        stopped = self._stop_daemons(started_only, timeout)
        if self.netns is not None and remove_ns:
            if netns_exists(self.netns):
                run([program_path("ip"), "netns", "delete", self.netns])
                stopped.append("netns")
            (self.state_dir / "created-netns").unlink(missing_ok=True)
            self.created_netns = False
        if self.netns is not None and (self._created_resolv_conf or remove_ns):
            etc = NETNS_ETC / self.netns
            (etc / "resolv.conf").unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                etc.rmdir()  # only if nobody else put files there
            self._created_resolv_conf = False
        return stopped

    def status(self) -> list[ComponentStatus]:
        """Namespace (if any), each daemon, and whether the SB has the Chassis row."""
        result = []
        if self.netns is not None:
            there = netns_exists(self.netns)
            result.append(ComponentStatus("netns", there, self.netns if there else "absent"))
        result += super().status()
        try:
            registered = self.registered()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            result.append(ComponentStatus("chassis", False, f"SB unreachable: {exc}"))
        else:
            result.append(ComponentStatus("chassis", registered, self.name))
        return result

    def registration(self) -> dict[str, str]:
        """The ``Open_vSwitch`` ``external_ids`` this chassis sets."""
        ids = {
            "system-id": self.name,
            "hostname": self.name,
            "ovn-remote": self.sb_connection,
            "ovn-encap-type": self.encap_type,
            "ovn-encap-ip": self.encap_ip,
            "ovn-bridge-mappings": ",".join(f"{k}:{v}" for k, v in self.bridge_mappings.items()),
            "ovn-bridge-datapath-type": self.datapath_type,
        }
        ids.update(self.external_ids)
        return ids

    def registered(self) -> bool:
        """True when the SB holds a Chassis row named after this chassis."""
        out = run([program_path("ovn-sbctl"), f"--db={self.sb_connection}", "--bare",
                   "--columns=name", "find", "Chassis", f"name={_ovsdb_str(self.name)}"],
                  timeout=10)
        return out.strip() == self.name

    def vsctl(self, *args: str, timeout: float = 30) -> str:
        """Run ``ovs-vsctl --db=<ovs_connection> args...`` and return stdout.

        Without ``--no-wait`` it waits for ovs-vswitchd to apply the change (bounded by
        ``timeout``).
        """
        return run([program_path("ovs-vsctl"), f"--db={self.ovs_connection}",
                    f"--timeout={int(timeout)}", *args], timeout=timeout + 5)

    def ofctl(self, *args: str, timeout: float = 30) -> str:
        """Run ``ovs-ofctl args...`` against this chassis' vswitchd (e.g. ``dump-flows br-int``)."""
        return run([program_path("ovs-ofctl"), *args], env=self._env_vars, timeout=timeout)

    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed to run inside the chassis namespace."""
        return netns_argv(self.netns, argv)

    def _ensure_netns(self) -> bool:
        """Write resolv.conf, then create the namespace with lo up; True if created here."""
        etc = NETNS_ETC / self.netns
        if not (etc / "resolv.conf").exists():
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "resolv.conf").write_text(
                f"# neutrino lab chassis namespace {self.netns}: no DNS here\n")
            self._created_resolv_conf = True
        if netns_exists(self.netns):
            return False
        try:
            run([program_path("ip"), "netns", "add", self.netns])
            self.created_netns = True
            (self.state_dir / "created-netns").write_text(self.netns + "\n")
            run([program_path("ip"), "-n", self.netns, "link", "set", "lo", "up"])
        except CommandError as exc:
            raise DaemonError("netns", f"could not create namespace {self.netns}: {exc}") from None
        return True

    def _ensure_bridges(self, timeout: float) -> None:
        cmds: list[str] = []
        bridges = ["br-int", *self.bridge_mappings.values()]
        for bridge in dict.fromkeys(bridges):
            cmds += ["--", "--may-exist", "add-br", bridge,
                     "--", "set", "Bridge", bridge, f"datapath_type={self.datapath_type}"]
        cmds += ["--", "set", "Bridge", "br-int", "fail_mode=secure",
                 "other_config:disable-in-band=true"]
        try:
            self.vsctl(*cmds, timeout=timeout)  # waits for ovs-vswitchd to apply it
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise DaemonError(self.vswitchd.name, f"could not create bridges {bridges}: {exc}",
                              self.vswitchd.log_file) from None


class OvnDeployment:
    """A :class:`Central` plus one :class:`Chassis` (and optionally more), under one dir.

    Layout: ``<state_dir>/central/`` and ``<state_dir>/<chassis_name>/``.  ``start()`` and
    ``stop()`` act on everything, central first up and last down.  ``bridge_mappings``
    and ``external_ids`` are the first chassis' (see :class:`Chassis`), e.g.
    ``{"physnet1": "br-ex"}`` and ``{"ovn-cms-options": "enable-chassis-as-gw"}`` for a
    chassis that may host router gateway ports (reference D.5).
    """

    def __init__(
        self,
        state_dir: Path,
        chassis_name: str,
        netns: str | None,
        bridge_mappings: Mapping[str, str] | None = None,
        encap_ip: str = "127.0.0.1",
        datapath_type: str = "netdev",
        external_ids: Mapping[str, str] | None = None,
    ):
        self.state_dir = Path(state_dir)
        self.central = Central(self.state_dir / "central")
        self.chassis = [Chassis(self.state_dir / chassis_name, chassis_name,
                                self.central.sb_connection, netns, bridge_mappings,
                                encap_ip, datapath_type=datapath_type,
                                external_ids=external_ids)]

    @property
    def nb_connection(self) -> str:
        return self.central.nb_connection

    @property
    def sb_connection(self) -> str:
        return self.central.sb_connection

    @property
    def ovs_connection(self) -> str:
        """The first chassis' Open_vSwitch database."""
        return self.chassis[0].ovs_connection

    def add_chassis(self, name: str, netns: str, bridge_mappings: Mapping[str, str] | None = None,
                    encap_ip: str | None = None, start: bool = True,
                    timeout: float = 30,
                    external_ids: Mapping[str, str] | None = None) -> Chassis:
        """Add a chassis pointing at this deployment's SB, started unless ``start=False``.

        Every chassis needs its own ``encap_ip``: the SB ``Encap`` table is unique on
        (type, ip), and ovn-controller keeps failing its SB commit on a duplicate.  The
        default is ``127.0.0.<n>`` for the n-th chassis, enough to register; tunnels
        between namespaces additionally need those addresses to be routable between them.
        Raises ``ValueError`` for a name or encap IP already used here.
        """
        encap_ip = encap_ip or f"127.0.0.{len(self.chassis) + 1}"
        for other in self.chassis:
            if other.name == name or other.encap_ip == encap_ip:
                raise ValueError(f"chassis {other.name} already uses name {name!r} "
                                 f"or encap IP {encap_ip}")
        chassis = Chassis(self.state_dir / name, name, self.sb_connection, netns,
                          bridge_mappings, encap_ip, datapath_type=self.chassis[0].datapath_type,
                          external_ids=external_ids)
        self.chassis.append(chassis)
        if start:
            chassis.start(timeout)
        return chassis

    def start(self, timeout: float = 30) -> list[str]:
        """Start the central, then every chassis; return ``"<chassis>/<component>"`` started.

        Idempotent (see :meth:`Central.start`).  On failure, what this object started is
        stopped again before ``DaemonError`` propagates.
        """
        started: list[str] = []
        try:
            started += [f"central/{n}" for n in self.central.start(timeout)]
            for chassis in self.chassis:
                started += [f"{chassis.name}/{n}" for n in chassis.start(timeout)]
        except BaseException:
            self.stop()
            raise
        return started

    def stop(self, started_only: bool = True, timeout: float = 10) -> list[str]:
        """Stop every chassis (last added first), then the central; see :meth:`Central.stop`."""
        stopped: list[str] = []
        errors: list[DaemonError] = []
        for part, prefix in [*((c, c.name) for c in reversed(self.chassis)),
                             (self.central, "central")]:
            try:
                stopped += [f"{prefix}/{n}" for n in part.stop(started_only, timeout)]
            except DaemonError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return stopped

    def status(self) -> list[ComponentStatus]:
        """Status of every component, names prefixed ``central/`` or ``<chassis>/``."""
        rows = [ComponentStatus(f"central/{s.component}", s.running, s.detail)
                for s in self.central.status()]
        for chassis in self.chassis:
            rows += [ComponentStatus(f"{chassis.name}/{s.component}", s.running, s.detail)
                     for s in chassis.status()]
        return rows


def _ovsdb_str(value: str) -> str:
    """Quote ``value`` for an ovs-vsctl/ovn-sbctl ``key=value`` argument."""
    return json.dumps(value)

"""OVS/OVN daemons run privately: one process, its pid, log and control files.

:class:`Daemon` starts a program with ``--detach`` and its own pid, log and unixctl
files under a run directory, optionally inside a network namespace, and stops it by the
pid in its own pid file after checking that the pid still runs that program
(``host.process``). Also here: the Debian packages the lab needs
(:func:`check_prerequisites`), :func:`run` for ovs/ovn command-line tools and the one
polling helper, :func:`wait_until`. The deployments built of these daemons (central,
chassis) are in ``lab.deployment``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from neutrino.host import process
from neutrino.host.process import cmdline, pid_alive

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")
#: Program or file -> Debian 12 package providing it.  Installing ``openvswitch-switch
#: ovn-central ovn-host`` pulls in all of them (``iproute2`` is in every base system).
PREREQUISITES: dict[str, str] = {
    "ovsdb-server": "openvswitch-common",
    "ovsdb-tool": "openvswitch-common",
    "ovsdb-client": "openvswitch-common",
    "ovs-appctl": "openvswitch-common",
    "ovs-ofctl": "openvswitch-common",
    "ovs-vswitchd": "openvswitch-switch",
    "ovs-vsctl": "openvswitch-switch",
    str(OVS_SCHEMA): "openvswitch-switch",
    "ovn-northd": "ovn-central",
    str(NB_SCHEMA): "ovn-central",
    str(SB_SCHEMA): "ovn-central",
    "ovn-controller": "ovn-host",
    "ovn-nbctl": "ovn-common",
    "ovn-sbctl": "ovn-common",
    "ovn-appctl": "ovn-common",
    "ip": "iproute2",
}


_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
)

T = TypeVar("T")


class DaemonError(RuntimeError):
    """A component failed to start, become ready, or stop.

    ``component`` is the component name (``"ovn-controller"``), ``log_file`` the log to read
    (may be ``None`` for steps that have no log, such as creating a namespace).
    """

    def __init__(self, component: str, message: str, log_file: Path | None = None):
        self.component = component
        self.log_file = log_file
        text = f"{component}: {message}"
        if log_file is not None:
            text += f" (log: {log_file})"
            tail = _tail(log_file)
            if tail:
                text += "\n  last log lines:\n    " + "\n    ".join(tail)
        super().__init__(text)


class Missing(NamedTuple):
    """A missing prerequisite: ``what`` is a program name or a file path."""

    what: str
    package: str


class ComponentStatus(NamedTuple):
    """One line of ``status()``: ``("ovs-vswitchd", True, "pid 1234")``."""

    component: str
    running: bool
    detail: str


def check_prerequisites() -> list[Missing]:
    """Return the programs and schema files that are missing, each with its Debian package.

    An empty list means everything needed to start a deployment is installed.  Nothing is
    installed here; the caller reports, e.g. ``apt-get install`` of
    :func:`missing_packages`.
    """
    missing = []
    for what, package in PREREQUISITES.items():
        found = Path(what).is_file() if what.startswith("/") else _which(what) is not None
        if not found:
            missing.append(Missing(what, package))
    return missing


def missing_packages(missing: Sequence[Missing]) -> list[str]:
    """Sorted, de-duplicated package names for a :func:`check_prerequisites` result."""
    return sorted({m.package for m in missing})


def wait_until(
    predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.05
) -> T:
    """Call ``predicate`` until it returns a truthy value and return that value.

    Raises ``TimeoutError`` after ``timeout`` seconds; the message names ``what`` was
    awaited and the last value (or exception) the predicate produced.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - reported in the timeout message
            value, last = None, exc
        else:
            last = value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


class CommandError(subprocess.CalledProcessError):
    """A command run by :func:`run` failed; ``str()`` includes its stderr."""

    def __str__(self) -> str:
        return f"{' '.join(map(str, self.cmd))}: exit {self.returncode}: {self.stderr.strip()}"


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 30) -> str:
    """Run a short command and return its stdout.

    Raises :class:`CommandError` (a ``CalledProcessError``) on a non-zero exit and
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds.
    """
    proc = subprocess.run(
        list(argv), env=dict(env) if env is not None else None, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        raise CommandError(proc.returncode, list(argv), proc.stdout, proc.stderr)
    return proc.stdout


def netns_exists(name: str) -> bool:
    """True when ``ip netns`` knows a namespace called ``name``."""
    return (Path("/run/netns") / name).exists()


def netns_argv(netns: str | None, argv: Sequence[str]) -> list[str]:
    """``argv`` prefixed with ``ip netns exec <netns>`` (unchanged when ``netns`` is None)."""
    return list(argv) if netns is None else [program_path("ip"), "netns", "exec", netns, *argv]


def ovsdb_ready(connection: str) -> bool:
    """True when the ovsdb-server at ``connection`` ("unix:/path") answers ``list-dbs``."""
    path = connection.removeprefix("unix:")
    if connection.startswith("unix:") and not Path(path).exists():
        return False
    try:
        run([program_path("ovsdb-client"), "--timeout=5", "list-dbs", connection], timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    return True


@dataclass
class Daemon:
    """One OVS/OVN daemon run with ``--detach`` and its own pid, log and control files.

    Files are ``<run_dir>/<name>.{pid,log,ctl}``; ``<name>.out`` receives whatever the
    process prints before it detaches (bad options, for instance).  ``args`` are the
    program's own arguments; the daemon options are added here.
    """

    name: str
    program: str
    args: list[str]
    run_dir: Path
    env: dict[str, str]
    netns: str | None = None
    unixctl: bool = True

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    @property
    def ctl_file(self) -> Path:
        """The unixctl socket, for ``ovs-appctl -t <ctl_file> ...``.

        ovn-controller 23.03 has no ``--unixctl`` option; its socket is
        ``<OVN_RUNDIR>/ovn-controller.<pid>.ctl`` (``OVN_RUNDIR`` is ``run_dir``).
        """
        if self.unixctl:
            return self.run_dir / f"{self.name}.ctl"
        return self.run_dir / f"{self.program}.{self.pid()}.ctl"

    def pid(self) -> int | None:
        """The pid from the pid file if that process is alive and runs ``program``, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _is_running(pid, self.program) else None

    def start(self, timeout: float = 30) -> None:
        """Start the daemon; return once it has detached (it is then serving).

        Raises ``DaemonError`` if it is already running, exits with an error or does not
        detach within ``timeout``.
        """
        if self.pid() is not None:
            raise DaemonError(self.name, f"already running as pid {self.pid()}", self.log_file)
        self.pid_file.unlink(missing_ok=True)  # stale, from a killed process
        argv = netns_argv(self.netns, [
            program_path(self.program), *self.args,
            "--detach", "--no-chdir",
            f"--pidfile={self.pid_file}", f"--log-file={self.log_file}",
            *([f"--unixctl={self.ctl_file}"] if self.unixctl else []),
            "-vconsole:off", "-vfile:info",
        ])
        out = self.run_dir / f"{self.name}.out"
        with out.open("w") as sink:
            try:
                proc = subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=sink, stderr=subprocess.STDOUT, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise DaemonError(self.name, f"did not detach within {timeout:.0f}s",
                                  self.log_file) from None
        if proc.returncode != 0:
            printed = out.read_text().strip()
            raise DaemonError(self.name, f"exited with status {proc.returncode}: {printed}",
                              self.log_file)
        try:
            wait_until(self.pid, timeout, f"{self.name} pid file {self.pid_file}")
        except TimeoutError as exc:
            raise DaemonError(self.name, str(exc), self.log_file) from None

    def stop(self, timeout: float = 10) -> bool:
        """Stop the daemon by the pid in its pid file: SIGTERM, then SIGKILL after ``timeout``.

        Returns True if a process was stopped, False if none was running.  Raises
        ``DaemonError`` if the process survives SIGKILL.
        """
        pid = self.pid()
        if pid is None:
            return False
        try:
            process.stop(pid, timeout)
        except TimeoutError:
            raise DaemonError(self.name, f"pid {pid} survived SIGKILL", self.log_file) from None
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ComponentStatus:
        pid = self.pid()
        if pid is not None:
            return ComponentStatus(self.name, True, f"pid {pid}")
        if self.pid_file.exists():
            return ComponentStatus(self.name, False, f"stale pid file {self.pid_file}")
        return ComponentStatus(self.name, False, "not running")


def _is_running(pid: int, program: str) -> bool:
    """True if ``pid`` is alive and its executable is ``program`` (not a reused pid)."""
    argv = cmdline(pid)
    return bool(argv) and pid_alive(pid) and Path(argv[0]).name == program


def _which(program: str) -> str | None:
    return shutil.which(program, path=_SEARCH_PATH)


def program_path(program: str) -> str:
    """The absolute path of ``program`` (system paths included); FileNotFoundError naming
    its Debian package when it is not installed."""
    path = _which(program)
    if path is None:
        package = PREREQUISITES.get(program, "?")
        raise FileNotFoundError(f"{program} not found; install Debian package {package}")
    return path


def _tail(path: Path, lines: int = 5) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []

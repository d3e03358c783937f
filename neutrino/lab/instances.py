"""Lab instances: network namespaces that behave like VMs on an OVN chassis.

An instance is a namespace ``lab-<name>`` whose ``eth0`` (the Neutron port's MAC) is the
inner end of a veth; the outer end ``tap<10 hex of sha256(port id)>`` lives in the
chassis namespace (where ovs-vswitchd and ``br-int`` run) and is plugged into ``br-int``
with ``external_ids:iface-id=<port id>``, as Nova's os-vif would.  The instance then runs
a real DHCP client, busybox ``udhcpc``, with neutrino's event script
(``dhcp_script.sh``) that configures the namespace only: address, routes (option 121 when
present, else option 3), MTU (option 26) and DNS servers, written to
``/etc/netns/lab-<name>/resolv.conf`` (never ``/etc/resolv.conf``).  udhcpc stays in the
background to renew the lease; its pid is recorded and it is stopped by that pid only.

State lives under ``<state_dir>/lab/instances/``: ``<name>.json`` (:class:`Instance`,
written before anything is created so that :func:`delete_instance` can always find what
a crashed boot left behind), ``<name>.pid`` (udhcpc), ``<name>.lease`` (the lease as
``key=value`` lines from the script) and ``<name>.log`` (udhcpc and script output).

Typical use::

    inst = boot_instance(state_dir, "vm1", port, chassis_netns="nt3fa0-ch1",
                         ovs_connection="unix:/…/db.sock")
    inst.lease.address                            # "10.0.0.5/24"
    exec_in_instance(state_dir, "vm1", ["busybox", "ping", "-c1", "10.0.0.1"]).returncode
    renew_lease(state_dir, "vm1").lease                   # after a unicast DHCPREQUEST
    delete_instance(state_dir, "vm1", ovs_connection)   # True; a second call: False

Errors: :class:`InstanceError` (boot failed: no port binding, no lease; what was created
is removed again before it is raised), :class:`InstanceNotFound`, ``ValueError`` for a
bad name or port dict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.host import process as host_process
from neutrino.lab.daemons import netns_argv

INTEGRATION_BRIDGE = "br-int"
NS_IF = "eth0"
NETNS_PREFIX = "lab-"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DHCP_CLIENT = ("udhcpc",)  # argv word identifying our DHCP client in /proc/<pid>/cmdline


class InstanceError(RuntimeError):
    """A lab instance could not be booted or used."""


class InstanceNotFound(InstanceError, LookupError):
    """No lab instance of that name under the state directory."""


@dataclass(frozen=True)
class Lease:
    """The DHCPv4 lease an instance got, as its DHCP client reported it."""

    address: str                                  # "10.0.0.5/24"
    router: str | None = None                     # option 3 (first router)
    dns_servers: tuple[str, ...] = ()             # option 6
    static_routes: tuple[tuple[str, str], ...] = ()  # option 121: (("10.9.0.0/16", "10.0.0.254"),)
    mtu: int | None = None                        # option 26
    lease_time: int | None = None                 # seconds
    server_id: str | None = None
    domain: str | None = None

    @classmethod
    def from_script(cls, values: dict[str, str]) -> Lease:
        """Build from the ``key=value`` pairs ``dhcp_script.sh`` writes."""
        words = values.get("staticroutes", "").split()
        routes = tuple(zip(words[0::2], words[1::2]))
        return cls(
            address=f"{values['ip']}/{values.get('mask') or 32}",
            router=(values.get("router") or "").split()[0] if values.get("router") else None,
            dns_servers=tuple(values.get("dns", "").split()),
            static_routes=routes,
            mtu=int(values["mtu"]) if values.get("mtu", "").isdigit() else None,
            lease_time=int(values["lease"]) if values.get("lease", "").isdigit() else None,
            server_id=values.get("serverid") or None,
            domain=values.get("domain") or None,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lease:
        return cls(**{**data, "dns_servers": tuple(data.get("dns_servers", ())),
                      "static_routes": tuple(tuple(r) for r in data.get("static_routes", ()))})


@dataclass(frozen=True)
class Instance:
    """A lab instance as persisted in ``<state_dir>/lab/instances/<name>.json``.

    ``state`` is ``"booting"`` until the first lease, then ``"active"``.  ``instance_id``
    is the port's ``device_id`` (what the metadata service calls the instance).
    ``boot_seconds`` has ``netns_veth_plug`` (namespace, veth, br-int port),
    ``plug_to_bound`` (ovs port added -> ovn-controller reports ``ovn-installed``),
    ``bound_to_lease`` (the DHCP exchange) and ``plug_to_lease``. ``dhcp`` False: no
    DHCP client; the instance carries ``static_addresses`` (``("10.0.0.5/24",)``) as a
    guest configured by hand would, and is active once bound.
    """

    name: str
    port_id: str
    mac: str
    netns: str
    host_if: str
    ns_if: str
    chassis_netns: str | None
    instance_id: str
    project_id: str
    network_id: str
    fixed_ips: tuple[dict[str, str], ...] = ()
    state: str = "booting"
    lease: Lease | None = None
    dhcp_pid: int | None = None
    boot_seconds: dict[str, float] = field(default_factory=dict)
    dhcp: bool = True
    static_addresses: tuple[str, ...] = ()

    @property
    def addresses(self) -> list[str]:
        """Leased addresses, ``["10.0.0.5/24"]`` ([] before the first lease), or the
        static ones of an instance without DHCP."""
        return [self.lease.address] if self.lease else list(self.static_addresses)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Instance:
        data = json.loads(text)
        lease = data.pop("lease", None)
        data["fixed_ips"] = tuple(data.get("fixed_ips", ()))
        data["static_addresses"] = tuple(data.get("static_addresses", ()))
        return cls(**data, lease=Lease.from_json(lease) if lease else None)


def netns_name(name: str) -> str:
    """The namespace of instance ``name``: ``lab-<name>``."""
    return NETNS_PREFIX + _check_name(name)


def host_ifname(port_id: str) -> str:
    """The veth end plugged into br-int for ``port_id``: ``tap`` + 10 hex digits (13 chars)."""
    return "tap" + hashlib.sha256(port_id.encode()).hexdigest()[:10]


def instances_dir(state_dir: Path) -> Path:
    """``<state_dir>/lab/instances``, absolute (pid files are matched by path in argv)."""
    return Path(state_dir).absolute() / "lab" / "instances"


def get_instance(state_dir: Path, name: str) -> Instance:
    """The persisted instance ``name``; :class:`InstanceNotFound` if there is none."""
    path = _paths(state_dir, name)["json"]
    try:
        return Instance.from_json(path.read_text())
    except FileNotFoundError:
        raise InstanceNotFound(f"no lab instance {name!r} under {state_dir}") from None


def list_instances(state_dir: Path) -> list[Instance]:
    """Every persisted instance, sorted by name (unreadable JSON files are skipped)."""
    found = []
    for path in sorted(instances_dir(state_dir).glob("*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            found.append(Instance.from_json(path.read_text()))
    return found


def boot_instance(state_dir: Path, name: str, port: dict[str, Any], chassis_netns: str | None,
                  ovs_connection: str, dhcp_timeout: float = 10, *, dhcp: bool = True,
                  static_addresses: tuple[str, ...] = ()) -> Instance:
    """Create instance ``name`` for Neutron ``port`` and return it once it holds a lease.

    ``port`` is a port dict as the API returns it (``id``, ``mac_address``,
    ``fixed_ips``, ``network_id``, ``device_id``, ``project_id``); an empty
    ``device_id`` gets a random instance id (set it on the port for metadata to work).
    ``chassis_netns`` is where ovs-vswitchd and br-int live (None: this namespace).

    Steps: persist the JSON; create the namespace and veth; plug into br-int; wait (up to
    ``dhcp_timeout``) for ovn-controller to set ``ovn-installed`` on the Interface (the
    port is bound and its flows are in); run udhcpc for the rest of ``dhcp_timeout``.
    ``dhcp`` False: no udhcpc; the instance's interface gets ``static_addresses``
    (interface addresses, ``"10.0.0.5/24"``) and nothing else, no route.
    Idempotent: booting an active instance whose DHCP client still runs returns it as is;
    anything else left over under that name is completed.  ``InstanceError`` if the name
    is taken by another port, if the port is not bound in time (no LSP named after the
    port id?) or no lease came; the instance is deleted again before raising.
    """
    port_id, mac = _require(port, "id"), _require(port, "mac_address").lower()
    paths = _paths(state_dir, name)
    with contextlib.suppress(InstanceNotFound):
        existing = get_instance(state_dir, name)
        if existing.port_id != port_id:
            raise InstanceError(f"lab instance {name!r} exists for port {existing.port_id}")
        needles = [*_DHCP_CLIENT, str(paths["pid"])]
        if existing.state == "active" and existing.dhcp_pid and host_process.pid_matches(
                existing.dhcp_pid, needles):
            return existing
        if existing.state == "active" and not existing.dhcp and not dhcp \
                and host_netns.netns_exists(existing.netns):
            return existing
        for pid in {existing.dhcp_pid, host_process.read_pid_file(paths["pid"])}:
            if pid:  # a DHCP client left running by an interrupted boot
                host_process.terminate(pid, needles)
    inst = Instance(
        name=name, port_id=port_id, mac=mac, netns=netns_name(name),
        host_if=host_ifname(port_id), ns_if=NS_IF, chassis_netns=chassis_netns,
        instance_id=port.get("device_id") or str(uuid.uuid4()),
        project_id=port.get("project_id") or port.get("tenant_id") or "",
        network_id=port.get("network_id") or "",
        fixed_ips=tuple(dict(ip) for ip in port.get("fixed_ips") or ()),
        dhcp=dhcp, static_addresses=tuple(static_addresses),
    )
    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    _save(state_dir, inst)
    try:
        return _boot(state_dir, inst, ovs_connection, dhcp_timeout)
    except BaseException as exc:
        detail = _log_tail(paths["log"])
        with contextlib.suppress(Exception):
            delete_instance(state_dir, name, ovs_connection)
        if isinstance(exc, InstanceError) and detail:
            raise InstanceError(f"{exc}\n  DHCP client log:\n    " + "\n    ".join(detail)) \
                from None
        raise


def restore_instance(state_dir: Path, name: str, chassis_netns: str | None,
                     ovs_connection: str, dhcp_timeout: float = 10) -> Instance:
    """Boot a saved instance again after its chassis was restarted (``neutrino up``
    after ``down``): the veth went with the old chassis namespace, so its DHCP
    client is stopped and the instance is plugged and leased anew, for the same
    port, MAC and address. ``InstanceError`` as for :func:`boot_instance`."""
    inst = get_instance(state_dir, name)
    paths = _paths(state_dir, name)
    for pid in {inst.dhcp_pid, host_process.read_pid_file(paths["pid"])}:
        if pid:
            host_process.terminate(pid, [*_DHCP_CLIENT, str(paths["pid"])])
    _save(state_dir, replace(inst, state="booting", dhcp_pid=None))
    port = {"id": inst.port_id, "mac_address": inst.mac, "fixed_ips": list(inst.fixed_ips),
            "network_id": inst.network_id, "device_id": inst.instance_id,
            "project_id": inst.project_id}
    return boot_instance(state_dir, name, port, chassis_netns, ovs_connection, dhcp_timeout,
                         dhcp=inst.dhcp, static_addresses=inst.static_addresses)


def exec_in_instance(state_dir: Path, name: str, argv: list[str], *, timeout: float = 30,
                     check: bool = False, input: str | None = None
                     ) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside instance ``name`` (``ip netns exec``), text output captured.

    ``CalledProcessError`` on a non-zero exit when ``check``; ``subprocess.TimeoutExpired``
    after ``timeout``; :class:`InstanceNotFound` when there is no such instance.
    """
    inst = get_instance(state_dir, name)
    if not host_netns.netns_exists(inst.netns):
        raise InstanceNotFound(f"lab instance {name!r}: namespace {inst.netns} is gone")
    return subprocess.run(netns_argv(inst.netns, argv), input=input, capture_output=True,
                          text=True, timeout=timeout, check=check)


def renew_lease(state_dir: Path, name: str, timeout: float = 10) -> Instance:
    """Make instance ``name``'s DHCP client renew now (SIGUSR1) and return the new state.

    The renewal is a unicast DHCPREQUEST to the lease's server id, answered by
    ovn-controller (pinctrl) like the first exchange; the event script runs again
    (``renew``) and rewrites address, routes, MTU and DNS.  ``InstanceError`` if the
    client is not running or no renewal is reported within ``timeout`` seconds.
    """
    inst = get_instance(state_dir, name)
    paths = _paths(state_dir, name)
    if not inst.dhcp_pid or not host_process.pid_matches(
            inst.dhcp_pid, [*_DHCP_CLIENT, str(paths["pid"])]):
        raise InstanceError(f"lab instance {name!r}: its DHCP client is not running")
    before = _file_id(paths["lease"])
    os.kill(inst.dhcp_pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while True:
        if _file_id(paths["lease"]) != before:
            values = _read_kv(paths["lease"])
            if values.get("event") in ("renew", "bound"):
                break
        if time.monotonic() >= deadline:
            raise InstanceError(f"lab instance {name!r}: no lease renewal within {timeout:.0f}s")
        time.sleep(0.02)
    inst = replace(inst, lease=Lease.from_script(values))
    _save(state_dir, inst)
    return inst


def delete_instance(state_dir: Path, name: str, ovs_connection: str) -> bool:
    """Remove instance ``name`` and everything it owns; True if anything was there.

    In order: stop its DHCP client (by the recorded pid, after checking it is our udhcpc),
    unplug the br-int port, delete the veth, the namespace and ``/etc/netns/<ns>``, then
    the state files.  Safe on partial leftovers (a crashed boot, a missing JSON file) and
    a no-op (False) the second time.
    """
    paths = _paths(state_dir, name)
    try:
        inst: Instance | None = get_instance(state_dir, name)
    except (InstanceNotFound, ValueError, TypeError, KeyError):
        inst = None
    found = paths["json"].exists()
    needles = [*_DHCP_CLIENT, str(paths["pid"])]
    for pid in {inst.dhcp_pid if inst else None, host_process.read_pid_file(paths["pid"])}:
        if pid:
            found |= host_process.terminate(pid, needles)
    ovs_error: Exception | None = None
    if inst is not None:
        try:  # OVS may be gone already (lab stopped): still clean up the rest
            if inst.host_if in host_ovs.bridge_ports(ovs_connection, INTEGRATION_BRIDGE):
                host_ovs.unplug(ovs_connection, INTEGRATION_BRIDGE, inst.host_if)
                found = True
        except (subprocess.SubprocessError, OSError) as exc:
            ovs_error = exc
        found |= host_netns.remove_link(inst.host_if, inst.chassis_netns)
    found |= host_netns.remove_netns(inst.netns if inst else netns_name(name))
    if ovs_error is not None:  # keep the JSON: a later delete can still unplug
        raise InstanceError(f"lab instance {name!r}: could not unplug from "
                            f"{INTEGRATION_BRIDGE}: {ovs_error}")
    for key in ("json", "pid", "lease", "log"):
        with contextlib.suppress(FileNotFoundError):
            paths[key].unlink()
    return found


def _boot(state_dir: Path, inst: Instance, ovs_connection: str,
          dhcp_timeout: float) -> Instance:
    paths = _paths(state_dir, inst.name)
    started = time.monotonic()
    deadline = started + dhcp_timeout
    host_netns.ensure_netns(inst.netns)
    host_netns.ensure_veth(inst.host_if, inst.chassis_netns, inst.ns_if, inst.netns, inst.mac)
    host_ovs.plug_into_bridge(ovs_connection, INTEGRATION_BRIDGE, inst.host_if, inst.port_id,
                              inst.mac, vm_uuid=inst.instance_id)
    plugged = time.monotonic()
    while True:
        ids = host_ovs.interface_external_ids(ovs_connection, inst.host_if) or {}
        if ids.get("ovn-installed") == "true":
            break
        if time.monotonic() >= deadline:
            raise InstanceError(
                f"lab instance {inst.name!r}: ovn-controller did not bind port {inst.port_id} "
                f"within {dhcp_timeout:.0f}s (is there a logical switch port of that name, "
                f"and is ovn-controller running?); Interface external_ids: {ids}")
        time.sleep(0.02)
    bound = time.monotonic()
    if not inst.dhcp:
        host_netns.set_addresses(inst.netns, inst.ns_if, inst.static_addresses)
        inst = replace(inst, state="active", boot_seconds={
            "netns_veth_plug": round(plugged - started, 3),
            "plug_to_bound": round(bound - plugged, 3)})
        _save(state_dir, inst)
        return inst
    with contextlib.suppress(FileNotFoundError):
        paths["lease"].unlink()
    pid = _run_dhcp_client(inst, paths, max(1.0, deadline - bound))
    leased = time.monotonic()
    lease = Lease.from_script(_read_kv(paths["lease"]))
    inst = replace(inst, state="active", lease=lease, dhcp_pid=pid, boot_seconds={
        "netns_veth_plug": round(plugged - started, 3),
        "plug_to_bound": round(bound - plugged, 3),
        "bound_to_lease": round(leased - bound, 3),
        "plug_to_lease": round(leased - plugged, 3),
    })
    _save(state_dir, inst)
    return inst


def _run_dhcp_client(inst: Instance, paths: dict[str, Path], timeout: float) -> int:
    """Run udhcpc until it has a lease; it then daemonizes. Returns the daemon's pid.

    ``-t N -T 1``: N discovers one second apart, ``-n``: exit 1 without a lease.  Without
    ``-q``/``-f`` udhcpc runs the ``bound`` script, forks to the background (rewriting
    the pid file) and the foreground process exits 0.  Options 26 and 121 are requested
    explicitly (busybox does not ask for them by default).
    """
    script = _install_script(paths["script"])
    tries = max(1, int(timeout))
    argv = [_bin("ip"), "netns", "exec", inst.netns,
            _bin("busybox"), "udhcpc", "-i", inst.ns_if, "-s", str(script),
            "-p", str(paths["pid"]), "-t", str(tries), "-T", "1", "-n",
            "-O", "mtu", "-O", "staticroutes", "-O", "dns", "-O", "router",
            "-x", f"hostname:{inst.name}"]
    env = {"PATH": _SEARCH_PATH, "LANG": "C",
           "NEUTRINO_RESOLV_CONF": str(host_netns.resolv_conf_path(inst.netns)),
           "NEUTRINO_LEASE_FILE": str(paths["lease"])}
    with open(paths["log"], "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=tries + 5)
        except subprocess.TimeoutExpired:
            host_process.terminate(proc.pid, [*_DHCP_CLIENT])
            proc.wait()
            code = None
    if code != 0 or not paths["lease"].exists():
        raise InstanceError(f"lab instance {inst.name!r}: no DHCP lease for port {inst.port_id} "
                            f"after {tries} tries (udhcpc exit {code})")
    needles = [*_DHCP_CLIENT, str(paths["pid"])]

    def daemon_pid() -> int | None:
        pid = host_process.read_pid_file(paths["pid"])
        return pid if pid and pid != proc.pid and host_process.pid_matches(pid, needles) else None

    deadline = time.monotonic() + 5
    while (pid := daemon_pid()) is None:
        if time.monotonic() >= deadline:
            raise InstanceError(f"lab instance {inst.name!r}: udhcpc got a lease but its "
                                f"background process did not show up in {paths['pid']}")
        time.sleep(0.01)
    return pid


def _install_script(target: Path) -> Path:
    """Copy ``dhcp_script.sh`` to ``target`` with mode 0755 (package files may lose +x)."""
    text = resources.files("neutrino.lab").joinpath("dhcp_script.sh").read_text()
    if not target.exists() or target.read_text() != text:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, target)
    return target


def _paths(state_dir: Path, name: str) -> dict[str, Path]:
    base = instances_dir(state_dir)
    stem = base / _check_name(name)
    return {"json": stem.with_suffix(".json"), "pid": stem.with_suffix(".pid"),
            "lease": stem.with_suffix(".lease"), "log": stem.with_suffix(".log"),
            "script": base / "udhcpc-script.sh"}


def _save(state_dir: Path, inst: Instance) -> None:
    path = _paths(state_dir, inst.name)["json"]
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(inst.to_json())
    os.replace(tmp, path)


def _file_id(path: Path) -> tuple[int, int] | None:
    """(inode, mtime) of ``path``: the script replaces the lease file, so both change."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _read_kv(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid lab instance name {name!r} ([A-Za-z0-9_.-], up to 63)")
    return name


def _require(port: dict[str, Any], key: str) -> str:
    value = port.get(key)
    if not value or not isinstance(value, str):
        raise ValueError(f"port dict needs a non-empty {key!r}")
    return value


def _bin(program: str) -> str:
    path = shutil.which(program, path=_SEARCH_PATH)
    if path is None:
        package = {"busybox": "busybox", "ip": "iproute2"}.get(program, "?")
        raise FileNotFoundError(f"{program} not found; install Debian package {package}")
    return path


def _log_tail(path: Path, lines: int = 8) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []

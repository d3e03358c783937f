"""The lab's chassis: how many, their roles, and one metadata agent process each.

``neutrino up --chassis N --gateways G`` runs N chassis, each in its own namespace with
its own ovsdb-server, ovs-vswitchd and ovn-controller (``lab.deployment.Chassis``). With
N > 1 they meet on the underlay (``lab.underlay``) and reach each other through geneve.
Roles, as a small cloud has them:

* chassis 1 (named ``chassis_name`` or the host name, namespace ``ntc-<hash>``) is a
  hypervisor and a gateway, as devstack's all-in-one node is;
* chassis ``N-G+2 .. N`` are gateway-only nodes (``ovn-cms-options=enable-chassis-as-gw``,
  no instances placed on them);
* the others are hypervisors only.

So ``--chassis 3`` (G = 2) is two hypervisors and two gateway chassis, one of which is
also a hypervisor. Every chassis maps the same physical networks (``bridge_mappings``),
so provider networks reach every hypervisor and external networks every gateway.

Each chassis runs ``neutrino metadata-agent`` as a process of its own (as in
production), with its own namespace prefix so agents on one machine never collide:
``ovnmeta-<network>`` on chassis 1, ``ovnmeta<k>-<network>`` on chassis k. Its pid file
and log live in the chassis' state directory. The plan is saved in
``<state_dir>/ovn/fleet.json`` so ``neutrino down`` and ``status`` act on exactly the
chassis ``up`` started.

Errors: ``ValueError`` for an impossible plan, ``RuntimeError`` for an agent that does
not come up (its log is named).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from neutrino.constants import CHASSIS_METADATA_AGENT
from neutrino.host import process
from neutrino.lab import daemons, underlay

FLEET_FILE = "fleet.json"
GATEWAY_CMS_OPTIONS = "enable-chassis-as-gw"
AGENT_START_TIMEOUT = 60.0  # seconds for an agent to register in its Chassis_Private
MAX_CHASSIS = 8


@dataclass(frozen=True)
class LabChassis:
    """One lab chassis: ``index`` 1..N, SB ``name`` (also its ``binding:host_id``),
    namespace ``netns``, roles, ``encap_ip``, its state directory ``dir`` and its
    ``bridge_mappings`` (``{physnet: bridge}``, as ``up`` ran it)."""

    index: int
    name: str
    netns: str
    gateway: bool
    compute: bool
    encap_ip: str
    dir: str
    bridge_mappings: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def ovs_connection(self) -> str:
        """``"unix:<dir>/db.sock"``: this chassis' Open_vSwitch database."""
        return f"unix:{Path(self.dir) / 'db.sock'}"

    @property
    def metadata_netns_prefix(self) -> str:
        """``"ovnmeta-"`` on chassis 1 (ML2/OVN's name), ``"ovnmeta<k>-"`` on chassis k."""
        return "ovnmeta-" if self.index == 1 else f"ovnmeta{self.index}-"

    @property
    def external_ids(self) -> dict[str, str]:
        """Extra ``Open_vSwitch`` external_ids: the gateway mark (reference D.5)."""
        return {"ovn-cms-options": GATEWAY_CMS_OPTIONS} if self.gateway else {}

    @property
    def roles(self) -> str:
        """``"compute,gateway"``, ``"compute"`` or ``"gateway"``."""
        return ",".join(r for r, on in (("compute", self.compute), ("gateway", self.gateway))
                        if on)


def plan(ovn_dir: Path, first_name: str, first_netns: str, count: int = 1,
         gateways: int | None = None,
         bridge_mappings: dict[str, str] | None = None) -> list[LabChassis]:
    """The chassis of a lab of ``count`` chassis with ``gateways`` gateway chassis
    (default: 1 for one or two chassis, else 2), each mapping ``bridge_mappings``; see
    the module docstring.
    ``ValueError`` when ``count`` is not 1..8 or ``gateways`` not 1..count."""
    if not 1 <= count <= MAX_CHASSIS:
        raise ValueError(f"--chassis must be 1..{MAX_CHASSIS}, not {count}")
    gateways = gateways if gateways is not None else (1 if count < 3 else 2)
    if not 1 <= gateways <= count:
        raise ValueError(f"--gateways must be 1..{count}, not {gateways}")
    result = []
    for k in range(1, count + 1):
        name = first_name if k == 1 else f"{first_name}-{k}"
        gateway_only = k > count - (gateways - 1) and k != 1
        result.append(LabChassis(
            index=k, name=name, netns=first_netns if k == 1 else f"{first_netns}-{k}",
            gateway=k == 1 or gateway_only, compute=not gateway_only,
            encap_ip="127.0.0.1" if count == 1 else underlay.encap_ip(k),
            dir=str(Path(ovn_dir).absolute() / name),
            bridge_mappings=dict(bridge_mappings or {})))
    return result


def save(ovn_dir: Path, fleet: list[LabChassis]) -> None:
    """Record the plan in ``<ovn_dir>/fleet.json``."""
    Path(ovn_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(ovn_dir) / (FLEET_FILE + ".tmp")
    tmp.write_text(json.dumps([asdict(c) for c in fleet], indent=2))
    tmp.replace(Path(ovn_dir) / FLEET_FILE)


def load(ovn_dir: Path) -> list[LabChassis] | None:
    """The recorded plan, or None when there is none (or it is unreadable)."""
    try:
        return [LabChassis(**c) for c in json.loads((Path(ovn_dir) / FLEET_FILE).read_text())]
    except (OSError, ValueError, TypeError):
        return None


def pick(fleet: list[LabChassis], name: str | None, placed: list[str]) -> LabChassis:
    """The chassis an instance goes to: ``name`` when given (``ValueError`` if unknown),
    else the hypervisor holding the fewest of ``placed`` (chassis names of the
    existing instances), the lower index on a tie: instances are spread."""
    if name is not None:
        for chassis in fleet:
            if chassis.name == name:
                return chassis
        raise ValueError(f"no lab chassis {name!r} (there are: "
                         f"{', '.join(c.name for c in fleet)})")
    computes = [c for c in fleet if c.compute]
    return min(computes, key=lambda c: (placed.count(c.name), c.index))


# -- metadata agent processes --

def _agent_files(chassis: LabChassis) -> tuple[Path, Path]:
    return Path(chassis.dir) / "metadata-agent.pid", Path(chassis.dir) / "metadata-agent.log"


def _agent_needles(chassis: LabChassis) -> list[str]:
    return ["metadata-agent", "--chassis-name", chassis.name]


def agent_pid(chassis: LabChassis) -> int | None:
    """The pid of this chassis' metadata agent if it runs, else None."""
    pid_file, _ = _agent_files(chassis)
    pid = process.read_pid_file(pid_file)
    return pid if pid is not None and process.pid_matches(pid, _agent_needles(chassis)) else None


def start_agent(chassis: LabChassis, sb_connection: str, env: dict[str, str]) -> int:
    """Start ``neutrino metadata-agent`` for ``chassis`` (unless it runs) and return its
    pid. ``env`` adds ``NEUTRINO_*`` settings (state dir, metadata service address) to
    this process' environment. It runs in the root namespace: it reaches the chassis'
    OVS by socket path and makes its ``ovnmeta`` namespaces itself."""
    running = agent_pid(chassis)
    if running is not None:
        return running
    pid_file, log_file = _agent_files(chassis)
    argv = [sys.executable, "-m", "neutrino.cli", "metadata-agent",
            "--chassis-name", chassis.name, "--ovn-sb-connection", sb_connection,
            "--ovs-connection", chassis.ovs_connection, "--chassis-netns", chassis.netns,
            "--netns-prefix", chassis.metadata_netns_prefix]
    with log_file.open("ab") as log:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def wait_agent(chassis: LabChassis, sb_connection: str,
               timeout: float = AGENT_START_TIMEOUT) -> None:
    """Wait until the agent registered in its SB ``Chassis_Private`` row (it then serves);
    RuntimeError naming its log when it exits or does not register in time."""
    _, log_file = _agent_files(chassis)

    def registered() -> bool:
        pid = agent_pid(chassis)
        if pid is None:
            raise RuntimeError(f"the metadata agent of {chassis.name} exited (log: {log_file})")
        out = daemons.run([daemons.program_path("ovn-sbctl"), f"--db={sb_connection}", "--bare",
                           "--columns=external_ids", "find", "Chassis_Private",
                           f"name={json.dumps(chassis.name)}"], timeout=10)
        # the key outlives its agent: only this process' own id means it serves now
        return f"{CHASSIS_METADATA_AGENT}={socket.gethostname()}:{pid}" in out.split()

    try:
        daemons.wait_until(registered, timeout, f"the metadata agent of {chassis.name}",
                           interval=0.1)
    except TimeoutError as exc:
        raise RuntimeError(f"{exc} (log: {log_file})") from None


def stop_agent(chassis: LabChassis, timeout: float = 10) -> bool:
    """Stop this chassis' metadata agent by its pid (SIGTERM, then SIGKILL); True if one ran.
    Its namespaces stay (``metadata.namespaces.remove_recorded`` removes them)."""
    pid = agent_pid(chassis)
    if pid is None:
        return False
    process.terminate(pid, _agent_needles(chassis), timeout)
    _agent_files(chassis)[0].unlink(missing_ok=True)
    return True

"""``neutrino demo``: the field reports' scenarios, built and checked end to end.

On the all-in-one of a state dir (started in the background when it is not
running: ``neutrino up`` detached, its log in ``<state_dir>/up.log``, stopped
again by ``neutrino down`` or ``neutrino demo --clean``), through the public API
(noauth: ``X-Project-Id``/``X-Roles`` headers, as ``neutrino lab`` does) and the
lab (``neutrino/lab``), the demo builds:

* the lab's external world: the flat ``router:external`` network ``public``
  (172.24.4.0/24 on ``physnet1``) and its upstream namespace, which owns the
  gateway and the "outside host" 203.0.113.10 (``lab external create``);
* seed 001: the data centre's VLANs 100, 101, 200, 201 (gateways 10.10.<vlan>.1
  behind the lab's upstream switch, ``lab vlan create``) and, as admin, the shared
  VLAN networks pub100, pub101, pub200, pub201 on physnet ``default`` with
  their /24 subnets. pub100's pool is narrowed to two addresses (its metadata
  port's and one instance's) so it fills up, as seed 004's networks did;
* seeds 000/002/003: projects demo-a and demo-b, each with the same private
  10.0.0.0/24 (network ``private``) behind its own router (gateway on
  ``public``), a floating IP and a security group ``demo-web`` (ICMP and TCP 8080
  in; nothing else);
* lab instances, booted concurrently: ``<prefix>a1`` and ``<prefix>b1`` on
  ``private`` at the same 10.0.0.5, ``<prefix>v100`` (demo-a) on pub100 and, after
  those, ``<prefix>c1`` for project demo-c -- which has no network of its own,
  like seed 001's tenants -- without a network: the scheduler picks (seed 004).

Then it checks, from inside the instances and from outside: the DHCP lease is the
port's fixed IP in the API; 169.254.169.254 returns the instance's own uuid and
hostname (and how long it took); private instances reach the outside host through
SNAT and are reached from outside on their floating IP; provider instances reach
their VLAN's gateway; TCP 8080 (opened by ``demo-web``) answers while 8081 (a
listener the group does not open) stays closed; the metadata port sits at the
first pool address of every network (seed 001's moving DHCP port); the OVN NB
matches the database (``neutrino sync``). Each check is a :class:`Check`; the
list is also written to ``<state_dir>/demo-result.json``.

Idempotent: resources are found by name and reused (brought in line where they
differ), instances are rebuilt on every run. Without ``keep`` the instances are
removed at the end (API resources and the service stay, to explore);
:func:`clean` removes everything the demo built and stops the service if the demo
started it. ``<state_dir>/demo.json`` records what the demo started and created.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from neutrino.config import Settings
from neutrino.lab import commands, external, instances, runtime, vlans
from neutrino.lab.daemons import netns_argv
from neutrino.lab.runtime import RuntimeInfo

STATE_FILE = "demo.json"
RESULT_FILE = "demo-result.json"
UP_LOG = "up.log"

EXTERNAL_PHYSNET = "physnet1"
EXTERNAL_NETWORK = "public"
OUTSIDE_HOST = "203.0.113.10"
# seed 001: "bridge_mappings=default:br-eth1", "network_vlan_ranges = default:100:101,default:200:201"
VLAN_PHYSNET, VLAN_BRIDGE = "default", "br-eth1"
VLAN_RANGES = "default:100:101,default:200:201"
VLANS = (100, 101, 200, 201)
FULL_VLAN, FULL_POOL = 100, ("10.10.100.10", "10.10.100.11")
PRIVATE_NETWORK, PRIVATE_CIDR, PRIVATE_IP = "private", "10.0.0.0/24", "10.0.0.5"
ROUTER = "router"
SECURITY_GROUP = "demo-web"
OPEN_PORT, CLOSED_PORT = 8080, 8081
FIP_DESCRIPTION = "neutrino demo"
PROJECTS = ("demo-a", "demo-b", "demo-c")
PRIVATE_PROJECTS = ("demo-a", "demo-b")
METADATA_URL = "http://169.254.169.254/openstack/latest/meta_data.json"
WAIT = 15.0  # seconds a check that should pass may take to pass

# Inside an instance: answer every connection on both ports with the instance's name.
LISTENER = """
import socket, sys, threading
def serve(port):
    server = socket.create_server(("0.0.0.0", port))
    while True:
        conn, _ = server.accept()
        conn.sendall(sys.argv[1].encode())
        conn.close()
for port in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(port),)).start()
"""
# Inside an instance: GET a URL, print the body and, on a line of its own, the ms it took.
FETCH = """
import sys, time, urllib.request
start = time.monotonic()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
body = opener.open(sys.argv[1], timeout=5).read().decode()
print(body)
print(round((time.monotonic() - start) * 1000, 1))
"""
# From a namespace: connect, print the answer and the milliseconds it took.
CLIENT = """
import socket, sys, time
start = time.monotonic()
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
answer = conn.recv(100).decode()
print(answer, round((time.monotonic() - start) * 1000, 1))
"""


class DemoError(RuntimeError):
    """The demo cannot go on (no root, the service does not come up, ...)."""


@dataclass
class Check:
    """One row of the demo's table: ``figure`` is what was measured ("rtt 0.4 ms")."""

    name: str
    ok: bool
    figure: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Guest:
    """A lab instance of the demo: ``network`` None means the scheduler chooses."""

    short: str
    project: str
    network: str | None
    fixed_ip: str | None = None
    wave: int = 1

    @property
    def private(self) -> bool:
        return self.network == PRIVATE_NETWORK


GUESTS = (
    Guest("a1", "demo-a", PRIVATE_NETWORK, PRIVATE_IP),
    Guest("b1", "demo-b", PRIVATE_NETWORK, PRIVATE_IP),
    Guest("v100", "demo-a", f"pub{FULL_VLAN}"),
    Guest("c1", "demo-c", None, wave=2),  # after v100 has filled pub100
)

Progress = Callable[[str], None]
OnCheck = Callable[[Check], None]


# --- the service ------------------------------------------------------------------

def load_state(state_dir: Path) -> dict[str, Any]:
    """``<state_dir>/demo.json``: ``{"service_pid": int | None, "external_created": bool,
    "vlan_physnet": str, "prefix": str}`` ({} when the demo never ran there)."""
    try:
        return json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(state_dir: Path, **changes: Any) -> None:
    state = {**load_state(state_dir), **changes}
    path = state_dir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")


def service_settings(settings: Settings) -> dict[str, str]:
    """``NEUTRINO_*`` variables for a ``neutrino up`` the demo starts: seed 001's
    physnet ``default`` added to ``bridge_mappings`` (on ``br-eth1``) and
    ``network_vlan_ranges`` unless they name it already."""
    env = {}
    if VLAN_PHYSNET not in settings.physnet_bridges():
        env["NEUTRINO_BRIDGE_MAPPINGS"] = f"{settings.bridge_mappings},{VLAN_PHYSNET}:{VLAN_BRIDGE}"
    if VLAN_PHYSNET not in settings.vlan_ranges():
        env["NEUTRINO_NETWORK_VLAN_RANGES"] = f"{settings.network_vlan_ranges},{VLAN_RANGES}"
    return env


def ensure_service(settings: Settings, *, port: int | None = None,
                   metadata_port: int | None = None, progress: Progress = lambda s: None,
                   timeout: float = 90) -> tuple[RuntimeInfo, bool]:
    """The all-in-one of ``settings.state_dir``, started when not running; (info, started).

    Starting means ``neutrino up --state-dir ... [--port] [--metadata-port]`` in a new
    session with stdin closed and output to ``<state_dir>/up.log`` (the settings of
    :func:`service_settings` added to its environment), its pid recorded in
    ``demo.json``, then waiting until ``neutrino status`` shows every component up.
    DemoError when it exits or is not healthy within ``timeout`` seconds.
    """
    state_dir = settings.state_dir
    info = RuntimeInfo.load(state_dir)
    if info is not None:
        return info, False
    state_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "neutrino.cli", "up", "--state-dir", str(state_dir)]
    if port is not None:
        argv += ["--port", str(port)]
    if metadata_port is not None:
        argv += ["--metadata-port", str(metadata_port)]
    progress(f"starting neutrino up in the background (log: {state_dir / UP_LOG})")
    with open(state_dir / UP_LOG, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **service_settings(settings)})
    _save_state(state_dir, service_pid=proc.pid)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise DemoError(f"neutrino up exited with status {proc.returncode}:\n"
                            + _tail(state_dir / UP_LOG))
        info = RuntimeInfo.load(state_dir)
        if info is not None:
            rows = runtime.status(settings)
            if all(r.running for r in rows):
                return info, True
        if time.monotonic() > deadline:
            down = ", ".join(r.component for r in runtime.status(settings) if not r.running)
            raise DemoError(f"neutrino up is not healthy after {timeout:.0f} s ({down} down):\n"
                            + _tail(state_dir / UP_LOG))
        time.sleep(0.2)


# --- building ---------------------------------------------------------------------

@dataclass
class World:
    """What :func:`build` made or found: ids by name."""

    info: RuntimeInfo
    external_physnet: str
    vlan_physnet: str
    public: dict[str, Any]
    provider: dict[int, dict[str, Any]]          # vlan -> network
    private: dict[str, dict[str, Any]]           # project -> network
    routers: dict[str, dict[str, Any]]           # project -> router
    fips: dict[str, dict[str, Any]]              # project -> floating IP


def build(state_dir: Path, info: RuntimeInfo, progress: Progress) -> World:
    """Make (or find and bring in line) every API resource and lab upstream of the
    demo; commands.LabError or DemoError when the API or the lab refuses."""
    ext_physnet = EXTERNAL_PHYSNET if EXTERNAL_PHYSNET in info.bridge_mappings else \
        next(iter(info.bridge_mappings), EXTERNAL_PHYSNET)
    vlan_physnet = VLAN_PHYSNET if VLAN_PHYSNET in info.bridge_mappings else ext_physnet
    if vlan_physnet != VLAN_PHYSNET:
        progress(f"physnet {VLAN_PHYSNET} is not mapped by the running service: "
                 f"the VLANs go on {vlan_physnet}")
    progress(f"external network {EXTERNAL_NETWORK} on {ext_physnet} and its upstream")
    with commands.api_client(info, None) as admin:
        existed = bool(_ok(admin.get("/networks", params={"name": EXTERNAL_NETWORK}))
                       .json()["networks"])
        if not existed:
            _save_state(state_dir, external_created=True)
        _save_state(state_dir, vlan_physnet=vlan_physnet, external_physnet=ext_physnet)
        _, public, _ = commands.external_create(state_dir, ext_physnet, network_name=EXTERNAL_NETWORK)

        progress("seed 001: VLAN gateways and shared networks pub100, pub101, pub200, pub201")
        provider = {}
        for vlan in VLANS:
            cidr = f"10.10.{vlan}.0/24"
            commands.vlan_create(state_dir, vlan_physnet, vlan, cidr)
            provider[vlan] = _provider_network(admin, vlan, vlan_physnet)
            pool = FULL_POOL if vlan == FULL_VLAN else None
            _subnet(admin, provider[vlan], f"pub{vlan}-subnet", cidr, pool)

    private, routers, fips = {}, {}, {}
    for project in PROJECTS:
        progress(f"project {project}: security group {SECURITY_GROUP}"
                 + (f", {PRIVATE_NETWORK} {PRIVATE_CIDR}, router, floating IP"
                    if project in PRIVATE_PROJECTS else ""))
        with commands.api_client(info, project) as client:
            _security_group(client)
            if project not in PRIVATE_PROJECTS:
                continue
            private[project] = _find_or_create(client, "networks", {"name": PRIVATE_NETWORK})
            subnet = _subnet(client, private[project], f"{PRIVATE_NETWORK}-subnet",
                             PRIVATE_CIDR, None)
            routers[project] = _router(client, public, private[project], subnet)
            fips[project] = _floating_ip(client, public)
    return World(info, ext_physnet, vlan_physnet, public, provider, private, routers, fips)


def _find_or_create(client: httpx.Client, collection: str, body: dict[str, Any],
                    **filters: Any) -> dict[str, Any]:
    """The caller's one resource named ``body["name"]`` (and ``filters``), else a new one.
    A name held by several is DemoError: the demo never guesses which."""
    resource = collection[:-1].replace("-", "_")
    found = _ok(client.get(f"/{collection}", params={"name": body["name"], **filters})).json()[
        collection.replace("-", "_")]
    if client.headers.get("X-Project-Id"):  # shared ones are visible too: own only
        found = [r for r in found if r.get("project_id") == client.headers["X-Project-Id"]]
    if len(found) > 1:
        raise DemoError(f"{len(found)} {collection} are named {body['name']!r}")
    if found:
        return found[0]
    return _ok(client.post(f"/{collection}", json={resource: body})).json()[resource]


def _provider_network(admin: httpx.Client, vlan: int, physnet: str) -> dict[str, Any]:
    net = _find_or_create(admin, "networks", {
        "name": f"pub{vlan}", "shared": True, "provider:network_type": "vlan",
        "provider:physical_network": physnet, "provider:segmentation_id": vlan})
    have = (net.get("provider:network_type"), net.get("provider:physical_network"),
            net.get("provider:segmentation_id"))
    if have != ("vlan", physnet, vlan):
        raise DemoError(f"network pub{vlan} ({net['id']}) exists as {have}, "
                        f"not VLAN {vlan} on {physnet}: delete it or run 'neutrino demo --clean'")
    if not net.get("shared"):
        net = _ok(admin.put(f"/networks/{net['id']}",
                            json={"network": {"shared": True}})).json()["network"]
    return net


def _subnet(client: httpx.Client, net: dict[str, Any], name: str, cidr: str,
            pool: tuple[str, str] | None) -> dict[str, Any]:
    """The network's subnet ``cidr`` (gateway .1), its pool made ``pool`` when given."""
    subnets = _ok(client.get("/subnets", params={"network_id": net["id"]})).json()["subnets"]
    subnet = next((s for s in subnets if s["cidr"] == cidr), None)
    pools = [{"start": pool[0], "end": pool[1]}] if pool else None
    if subnet is None:
        body = {"network_id": net["id"], "name": name, "cidr": cidr, "ip_version": 4,
                "gateway_ip": str(next(ipaddress.ip_network(cidr).hosts()))}
        if pools:
            body["allocation_pools"] = pools
        return _ok(client.post("/subnets", json={"subnet": body})).json()["subnet"]
    if pools and subnet["allocation_pools"] != pools:
        subnet = _ok(client.put(f"/subnets/{subnet['id']}", json={
            "subnet": {"allocation_pools": pools}})).json()["subnet"]
    return subnet


def _security_group(client: httpx.Client) -> dict[str, Any]:
    """``demo-web``: Neutron's egress rules plus ICMP and TCP ``OPEN_PORT`` in."""
    sg = _find_or_create(client, "security-groups", {
        "name": SECURITY_GROUP, "description": "neutrino demo: ping and TCP 8080 in"})
    wanted = [("icmp", None), ("tcp", OPEN_PORT)]
    have = {(r["protocol"], r["port_range_min"]) for r in sg["security_group_rules"]
            if r["direction"] == "ingress" and r["ethertype"] == "IPv4"}
    for protocol, port in wanted:
        if (protocol, port) not in have:
            body = {"security_group_id": sg["id"], "direction": "ingress",
                    "ethertype": "IPv4", "protocol": protocol}
            if port:
                body.update(port_range_min=port, port_range_max=port)
            _ok(client.post("/security-group-rules", json={"security_group_rule": body}))
    return sg


def _router(client: httpx.Client, public: dict[str, Any], net: dict[str, Any],
            subnet: dict[str, Any]) -> dict[str, Any]:
    router = _find_or_create(client, "routers", {
        "name": ROUTER, "external_gateway_info": {"network_id": public["id"]}})
    if (router.get("external_gateway_info") or {}).get("network_id") != public["id"]:
        router = _ok(client.put(f"/routers/{router['id']}", json={"router": {
            "external_gateway_info": {"network_id": public["id"]}}})).json()["router"]
    attached = _ok(client.get("/ports", params={"device_id": router["id"],
                                                "network_id": net["id"]})).json()["ports"]
    if not attached:
        _ok(client.put(f"/routers/{router['id']}/add_router_interface",
                       json={"subnet_id": subnet["id"]}))
    return router


def _floating_ip(client: httpx.Client, public: dict[str, Any]) -> dict[str, Any]:
    project = client.headers["X-Project-Id"]
    fips = [f for f in _ok(client.get("/floatingips")).json()["floatingips"]
            if f.get("description") == FIP_DESCRIPTION and f["project_id"] == project]
    for extra in fips[1:]:  # never more than one
        _ok(client.delete(f"/floatingips/{extra['id']}"))
    if fips:
        return fips[0]
    return _ok(client.post("/floatingips", json={"floatingip": {
        "floating_network_id": public["id"], "description": FIP_DESCRIPTION}})).json()[
        "floatingip"]


# --- instances --------------------------------------------------------------------

def guest_names(prefix: str) -> list[str]:
    """The demo's lab instance names: ``<prefix>a1`` ..."""
    return [prefix + g.short for g in GUESTS]


def remove_guests(state_dir: Path, info: RuntimeInfo, prefix: str) -> list[str]:
    """Delete the demo's instances (namespace, veth, OVS port, DHCP client, port and
    registration), and ports of theirs a crashed boot left; the names removed."""
    removed = []
    with commands.api_client(info, None) as admin:
        for name in guest_names(prefix):
            with contextlib.suppress(instances.InstanceNotFound):
                instances.get_instance(state_dir, name)
                commands.delete(state_dir, name)
                removed.append(name)
            for port in _ok(admin.get("/ports", params={"name": name})).json()["ports"]:
                if port["device_owner"] == commands.DEVICE_OWNER:
                    _ok_or_404(admin.delete(f"/ports/{port['id']}"))
                    _ok_or_404(admin.delete(f"/instances/{port['device_id']}"))
    return removed


def boot_guests(state_dir: Path, world: World, prefix: str,
                progress: Progress) -> dict[str, instances.Instance | Exception]:
    """Boot the demo's instances with ``neutrino lab boot`` (one process each,
    concurrently within a wave); name -> Instance, or the error it failed with."""
    results: dict[str, instances.Instance | Exception] = {}

    def boot(guest: Guest) -> None:
        name = prefix + guest.short
        argv = [sys.executable, "-m", "neutrino.cli", "lab", "boot", name, "--state-dir",
                str(state_dir), "--project", guest.project, "--security-group", SECURITY_GROUP]
        if guest.network == PRIVATE_NETWORK:
            argv += ["--network", world.private[guest.project]["id"]]
        elif guest.network is not None:
            argv += ["--network", guest.network]
        if guest.fixed_ip:
            argv += ["--fixed-ip", guest.fixed_ip]
        res = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if res.returncode != 0:
            results[name] = DemoError((res.stderr or res.stdout).strip())
        else:
            results[name] = instances.get_instance(state_dir, name)

    for wave in sorted({g.wave for g in GUESTS}):
        guests = [g for g in GUESTS if g.wave == wave]
        progress("booting " + ", ".join(prefix + g.short for g in guests))
        with ThreadPoolExecutor(len(guests)) as pool:
            list(pool.map(boot, guests))
    return results


# --- checking ---------------------------------------------------------------------

def _until(probe: Callable[[], Any], timeout: float = WAIT, interval: float = 0.2) -> Any:
    """``probe()``'s first truthy result within ``timeout`` seconds, else the last one."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def _ping_ms(res: subprocess.CompletedProcess) -> float | None:
    found = re.search(r"time[=<]([\d.]+) ms", res.stdout)
    return float(found.group(1)) if res.returncode == 0 and found else None


def _connect(run: Callable[[list[str]], subprocess.CompletedProcess], address: str, port: int,
             timeout: float) -> tuple[str, float] | None:
    """(answer, ms) of the TCP server at ``address``:``port`` asked by ``run``; None if
    it cannot be reached."""
    res = run([sys.executable, "-c", CLIENT, address, str(port), str(timeout)])
    if res.returncode != 0 or not res.stdout.split():
        return None
    answer, ms = res.stdout.rsplit(None, 1)
    return answer.strip(), float(ms)


def check_guest(state_dir: Path, world: World, guest: Guest, name: str,
                inst: instances.Instance) -> list[Check]:
    """Every check of one booted instance (see the module docstring)."""
    info = world.info
    checks = []
    with commands.api_client(info, None) as admin:
        port = _ok(admin.get(f"/ports/{inst.port_id}")).json()["port"]
        network = _ok(admin.get(f"/networks/{port['network_id']}")).json()["network"]
    leased = inst.lease.address.split("/")[0] if inst.lease else None
    fixed = [ip["ip_address"] for ip in port["fixed_ips"]]
    checks.append(Check(f"{name}: DHCP lease = port's fixed IP", leased in fixed and
                        (guest.fixed_ip is None or leased == guest.fixed_ip),
                        f"{leased} on {network['name']}, "
                        f"{inst.boot_seconds.get('plug_to_lease', 0):.2f} s",
                        f"API: {', '.join(fixed)}"))
    if guest.network is None:
        full = world.provider[FULL_VLAN]
        checks.append(Check(f"{name}: scheduler picked a network",
                            network["id"] != full["id"] and network.get("shared", False),
                            f"{network['name']} ({full['name']} is full)"))

    def in_guest(argv: list[str], timeout: float = 15) -> subprocess.CompletedProcess:
        return instances.exec_in_instance(state_dir, name, argv, timeout=timeout)

    def metadata() -> tuple[dict[str, Any], float] | None:
        res = in_guest([sys.executable, "-c", FETCH, METADATA_URL])
        body, _, ms = res.stdout.strip().rpartition("\n")
        with contextlib.suppress(ValueError):
            return json.loads(body), float(ms)
        return None
    got = _until(metadata)
    meta = got[0] if got else {}
    checks.append(Check(f"{name}: metadata is its own", meta.get("uuid") == port["device_id"]
                        and meta.get("hostname") == name,
                        f"{got[1]:.1f} ms" if got else "no answer",
                        f"uuid {meta.get('uuid')}, hostname {meta.get('hostname')}"))

    if guest.private:
        ms = _until(lambda: _ping_ms(in_guest(["ping", "-c1", "-W1", OUTSIDE_HOST])))
        checks.append(Check(f"{name}: outside host through SNAT", ms is not None,
                            f"ping {OUTSIDE_HOST} {ms} ms" if ms is not None else "no reply"))
        with commands.api_client(info, None) as admin:  # the rebuilt port gets it
            fip = _ok(admin.put(f"/floatingips/{world.fips[guest.project]['id']}", json={
                "floatingip": {"port_id": inst.port_id}})).json()["floatingip"]
        address, associated = fip["floating_ip_address"], time.monotonic()

        def outside(argv: list[str]) -> subprocess.CompletedProcess:
            return external.exec_in_upstream(state_dir, world.external_physnet, argv,
                                             timeout=15)
        ms = _until(lambda: _ping_ms(outside(["ping", "-c1", "-W0.3", address])), interval=0.05)
        after = time.monotonic() - associated
        checks.append(Check(f"{name}: floating IP from outside", ms is not None,
                            f"ping {address} {ms} ms, within {after:.1f} s of associating"
                            if ms is not None else f"{address}: no reply"))
        peer, target, where = outside, address, "outside"
    else:
        vlan = network["provider:segmentation_id"]
        gateway = f"10.10.{vlan}.1"
        ms = _until(lambda: _ping_ms(in_guest(["ping", "-c1", "-W1", gateway])))
        checks.append(Check(f"{name}: VLAN {vlan} gateway", ms is not None,
                            f"ping {gateway} {ms} ms" if ms is not None else "no reply"))

        def peer(argv: list[str]) -> subprocess.CompletedProcess:
            return vlans.exec_in_vlan(state_dir, world.vlan_physnet, vlan, argv, timeout=15)
        target, where = leased, f"gateway {gateway}"
    opened = _until(lambda: _connect(peer, target, OPEN_PORT, 2))
    closed = _connect(peer, target, CLOSED_PORT, 1) if opened else None
    checks.append(Check(
        f"{name}: security group from {where}", bool(opened) and opened[0] == name
        and closed is None,
        (f"{OPEN_PORT} open ({opened[1]} ms), " if opened else f"{OPEN_PORT} closed!, ")
        + (f"{CLOSED_PORT} closed" if closed is None else f"{CLOSED_PORT} open!"),
        f"{target}:{OPEN_PORT} answered {opened[0] if opened else None!r}"))
    return checks


def check_metadata_ports(info: RuntimeInfo, world: World) -> Check:
    """Seed 001: every network's metadata port holds its first pool address."""
    wrong, count = [], 0
    with commands.api_client(info, None) as admin:
        nets = [*world.provider.values(), *world.private.values()]
        for net in nets:
            subnets = _ok(admin.get("/subnets", params={"network_id": net["id"]})).json()["subnets"]
            ports = _ok(admin.get("/ports", params={"network_id": net["id"],
                                                    "device_owner": "network:distributed"})
                        ).json()["ports"]
            have = {ip["ip_address"] for p in ports for ip in p["fixed_ips"]}
            for subnet in subnets:
                count += 1
                first = subnet["allocation_pools"][0]["start"]
                if first not in have:
                    wrong.append(f"{net['name']}: {sorted(have)} not {first}")
    return Check("seed 001: metadata port at the first pool address", not wrong,
                 f"{count - len(wrong)}/{count} subnets", "; ".join(wrong))


def check_provider_networks(world: World) -> Check:
    """Seed 001: pub100..pub201 shared VLAN networks, as a member project sees them."""
    with commands.api_client(world.info, "demo-c") as member:
        shared = {n["name"] for n in _ok(member.get("/networks", params={"shared": True}))
                  .json()["networks"]}
    wanted = {f"pub{v}" for v in VLANS}
    return Check("seed 001: shared VLAN networks", wanted <= shared,
                 f"VLAN {', '.join(map(str, VLANS))} on {world.vlan_physnet}",
                 f"demo-c sees {sorted(shared)}")


def check_sync(state_dir: Path) -> Check:
    """The OVN NB matches the database (``neutrino sync``, no repair)."""
    res = subprocess.run([sys.executable, "-m", "neutrino.cli", "sync", "--state-dir",
                          str(state_dir)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "COLUMNS": "200"}, check=False)
    text = " ".join(res.stdout.split())
    return Check("OVN northbound matches the database", res.returncode == 0,
                 text.split(" (")[0] if res.returncode == 0 else f"exit {res.returncode}",
                 text if res.returncode == 0 else (text + " " + res.stderr)[-300:])


# --- the whole run ----------------------------------------------------------------

def run(settings: Settings, *, prefix: str = "demo-", keep: bool = False,
        port: int | None = None, metadata_port: int | None = None,
        progress: Progress = lambda s: None, on_check: OnCheck = lambda c: None
        ) -> tuple[list[Check], RuntimeInfo | None]:
    """Bring the service up if needed, build, boot, check; (checks, service info).

    Every failure becomes a failed Check (nothing raises but DemoError for a service
    that cannot start or a missing root). Instances are removed at the end unless
    ``keep``. The checks are also written to ``<state_dir>/demo-result.json``.
    """
    if os.geteuid() != 0:
        raise DemoError("neutrino demo needs root (namespaces, OVS)")
    state_dir = settings.state_dir
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        on_check(check)

    info, started = ensure_service(settings, port=port, metadata_port=metadata_port,
                                   progress=progress)
    _save_state(state_dir, prefix=prefix)
    add(Check("service up", True, f"{'started' if started else 'running'}, {info.api_url}"))
    listeners: list[subprocess.Popen] = []
    try:
        try:
            world = build(state_dir, info, progress)
        except Exception as exc:  # noqa: BLE001 - reported as the failed step
            add(Check("build the topology", False, type(exc).__name__, str(exc)))
            return _finish(state_dir, checks, info)
        add(check_provider_networks(world))
        progress("removing the previous run's instances")
        remove_guests(state_dir, info, prefix)
        booted = boot_guests(state_dir, world, prefix, progress)
        for guest in GUESTS:
            name, inst = prefix + guest.short, booted[prefix + guest.short]
            if isinstance(inst, Exception):
                add(Check(f"{name}: boot", False, "failed", str(inst)))
                continue
            listeners.append(subprocess.Popen(
                netns_argv(inst.netns, [sys.executable, "-c", LISTENER, name, str(OPEN_PORT),
                                        str(CLOSED_PORT)]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        leases = {n: i.lease.address.split("/")[0] for n, i in booted.items()
                  if isinstance(i, instances.Instance) and i.lease}
        pair = [prefix + g.short for g in GUESTS if g.private]
        add(Check("seed 000: same address in two projects",
                  len({leases.get(n) for n in pair}) == 1 and PRIVATE_IP in leases.values(),
                  " and ".join(f"{n} {leases.get(n)}" for n in pair)))
        progress("checking from inside the instances and from outside")
        ok = [(g, prefix + g.short, booted[prefix + g.short]) for g in GUESTS
              if isinstance(booted[prefix + g.short], instances.Instance)]
        with ThreadPoolExecutor(max(1, len(ok))) as pool:
            futures = [pool.submit(check_guest, state_dir, world, g, n, i) for g, n, i in ok]
            for (g, n, _), future in zip(ok, futures):
                try:
                    for check in future.result():
                        add(check)
                except Exception as exc:  # noqa: BLE001
                    add(Check(f"{n}: checks", False, type(exc).__name__, str(exc)))
        add(check_metadata_ports(info, world))
        add(check_sync(state_dir))
    except Exception as exc:  # noqa: BLE001 - the API or the lab refused: a failed row
        add(Check("demo run", False, type(exc).__name__, str(exc)))
    finally:
        for proc in listeners:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
        if not keep:
            progress("removing the instances (--keep leaves them)")
            try:
                remove_guests(state_dir, info, prefix)
            except Exception as exc:  # noqa: BLE001
                add(Check("remove the instances", False, type(exc).__name__, str(exc)))
    return _finish(state_dir, checks, info)


def _finish(state_dir: Path, checks: list[Check], info: RuntimeInfo | None
            ) -> tuple[list[Check], RuntimeInfo | None]:
    (state_dir / RESULT_FILE).write_text(json.dumps(
        {"checks": [asdict(c) for c in checks], "ok": all(c.ok for c in checks)}, indent=2))
    return checks, info


def explore_hint(settings: Settings, info: RuntimeInfo, prefix: str, keep: bool) -> str:
    """How to look at what the demo built with the ``openstack`` CLI and ``neutrino lab``."""
    sd = "" if settings.state_dir == Settings.model_fields["state_dir"].default \
        else f" --state-dir {settings.state_dir}"
    lines = [
        "Explore it (noauth: the CLI acts as admin and sees every project):",
        f"  export OS_AUTH_TYPE=none OS_ENDPOINT={info.api_url}",
        "  openstack network list --long; openstack subnet list",
        "  openstack router list --long; openstack floating ip list --long",
        "  openstack port list --long; openstack security group list",
    ]
    if keep:
        lines += [f"  neutrino lab list{sd}",
                  f"  neutrino lab external exec{sd} -- ping -c1 <a floating IP>",
                  f"  neutrino lab exec {prefix}a1{sd} -- busybox wget -q -O - {METADATA_URL}",
                  f"  neutrino lab exec {prefix}v100{sd} -- ping -c1 10.10.100.1"]
    else:
        lines.append("The instances were removed (neutrino demo --keep leaves them running).")
    lines.append(f"Remove everything the demo built: neutrino demo --clean{sd}")
    return "\n".join(lines)


# --- cleaning ---------------------------------------------------------------------

def clean(settings: Settings, *, prefix: str | None = None, port: int | None = None,
          metadata_port: int | None = None, progress: Progress = lambda s: None) -> list[str]:
    """Remove what the demo built; a list of what was done.

    Instances (and stray ports) of ``prefix`` (default: the last run's), the projects'
    floating IPs, routers, networks and security groups (``default`` too), the shared
    networks pub100..pub201, the VLAN gateways and upstream switch, the external
    network and its upstream namespace when the demo created them; then ``neutrino
    down`` when the demo started the service. A service needed for this and not
    running is started for the time of the clean.
    """
    state_dir = settings.state_dir
    state = load_state(state_dir)
    prefix = prefix or state.get("prefix") or "demo-"
    info = RuntimeInfo.load(state_dir)
    ours = any(instances_dir_has(state_dir, n) for n in guest_names(prefix))
    if info is None and not state and not ours:
        return []
    done = []
    started = False
    if info is None:
        info, started = ensure_service(settings, port=port, metadata_port=metadata_port,
                                       progress=progress)
    progress("removing the instances")
    done += [f"instance {n}" for n in remove_guests(state_dir, info, prefix)]
    for project in PROJECTS:
        progress(f"removing project {project}'s resources")
        with commands.api_client(info, project) as client:
            done += _clean_project(client, project)
    progress("removing pub100, pub101, pub200, pub201 and the VLAN gateways")
    vlan_physnet = state.get("vlan_physnet", VLAN_PHYSNET)
    with commands.api_client(info, None) as admin:
        for vlan in VLANS:
            for net in _ok(admin.get("/networks", params={"name": f"pub{vlan}"})).json()["networks"]:
                if net.get("provider:segmentation_id") == vlan:
                    _ok_or_404(admin.delete(f"/networks/{net['id']}"))
                    done.append(f"network pub{vlan}")
            with contextlib.suppress(commands.LabError):
                commands.vlan_delete(state_dir, vlan_physnet, vlan)
                done.append(f"VLAN {vlan} gateway")
        for project in PROJECTS:  # last: acting as the project makes it again
            for sg in _ok(admin.get("/security-groups", params={
                    "project_id": project, "name": "default"})).json()["security_groups"]:
                _ok_or_404(admin.delete(f"/security-groups/{sg['id']}"))
    if state.get("external_created"):
        progress(f"removing the external network {EXTERNAL_NETWORK} and its upstream")
        with contextlib.suppress(commands.LabError):
            commands.external_delete(state_dir, state.get("external_physnet", EXTERNAL_PHYSNET))
            done.append(f"external network {EXTERNAL_NETWORK} and its upstream namespace")
    pid = state.get("service_pid")
    if started or (pid and pid == info.pid):
        progress("stopping the service the demo started")
        runtime.down(settings)
        done.append(f"neutrino up (pid {info.pid})")
    for name in (STATE_FILE, RESULT_FILE):
        (state_dir / name).unlink(missing_ok=True)
    return done


def instances_dir_has(state_dir: Path, name: str) -> bool:
    """True when lab instance ``name`` has state under ``state_dir``."""
    return (instances.instances_dir(state_dir) / f"{name}.json").exists()


def _clean_project(client: httpx.Client, project: str) -> list[str]:
    done = []
    for fip in _ok(client.get("/floatingips")).json()["floatingips"]:
        if fip.get("description") == FIP_DESCRIPTION and fip["project_id"] == project:
            _ok_or_404(client.delete(f"/floatingips/{fip['id']}"))
            done.append(f"{project} floating IP {fip['floating_ip_address']}")
    for router in _ok(client.get("/routers", params={"name": ROUTER})).json()["routers"]:
        if router["project_id"] != project:
            continue
        ports = _ok(client.get("/ports", params={"device_id": router["id"]})).json()["ports"]
        for port in ports:
            if port["device_owner"] == "network:router_interface":
                for ip in port["fixed_ips"]:
                    _ok(client.put(f"/routers/{router['id']}/remove_router_interface",
                                   json={"subnet_id": ip["subnet_id"]}))
        _ok_or_404(client.delete(f"/routers/{router['id']}"))
        done.append(f"{project} router {ROUTER}")
    for net in _ok(client.get("/networks", params={"name": PRIVATE_NETWORK})).json()["networks"]:
        if net["project_id"] == project:
            _ok_or_404(client.delete(f"/networks/{net['id']}"))
            done.append(f"{project} network {PRIVATE_NETWORK}")
    for sg in _ok(client.get("/security-groups", params={"name": SECURITY_GROUP})).json()[
            "security_groups"]:
        if sg["project_id"] == project:
            _ok_or_404(client.delete(f"/security-groups/{sg['id']}"))
            done.append(f"{project} security group {SECURITY_GROUP}")
    return done


# --- helpers ----------------------------------------------------------------------

_ok = commands._ok  # LabError naming the Neutron error of a refused call


def _ok_or_404(resp: httpx.Response) -> httpx.Response:
    return resp if resp.status_code == 404 else _ok(resp)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


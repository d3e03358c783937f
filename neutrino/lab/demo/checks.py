"""The demo's checks, from inside the instances and from outside: DHCP lease,
metadata, SNAT, floating IP, VLAN gateway, security group, metadata ports, shared
networks, NB sync, and with several chassis: geneve between them, metadata on each,
gateway failover. Each returns :class:`Check` rows; none raises for a failed check.

The programs run inside namespaces (``tcp_listener.py``, ``http_fetch.py``,
``tcp_client.py``) are files of ``scripts/``, run as ``[sys.executable, path, args...]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neutrino.constants import DEVICE_OWNER_DISTRIBUTED, DEVICE_OWNER_ROUTER_GW
from neutrino.config import Settings
from neutrino.lab import external, failover, instances, runtime, sdk, underlay, vlans
from neutrino.lab.capture import Capture
from neutrino.lab.daemons import netns_argv
from neutrino.lab.demo.scenario import (
    CLOSED_PORT,
    FAILOVER_TARGET,
    FULL_VLAN,
    METADATA_URL,
    OPEN_PORT,
    OUTSIDE_HOST,
    SEGMENTED,
    SINGLE_VLANS,
    VLANS,
    Check,
    Guest,
)
from neutrino.lab.demo.world import World
from neutrino.lab.runtime import RuntimeInfo

WAIT = 15.0  # seconds a check that should pass may take to pass
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def script_argv(script: str, *args: str) -> list[str]:
    """``[sys.executable, <scripts>/<script>, *args]``."""
    return [sys.executable, str(SCRIPTS / script), *args]


def start_listener(inst: instances.Instance, name: str) -> subprocess.Popen:
    """``tcp_listener.py`` in the instance: both ports answer with its ``name``."""
    return subprocess.Popen(
        netns_argv(inst.netns, script_argv("tcp_listener.py", name, str(OPEN_PORT),
                                           str(CLOSED_PORT))),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


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
    res = run(script_argv("tcp_client.py", address, str(port), str(timeout)))
    if res.returncode != 0 or not res.stdout.split():
        return None
    answer, ms = res.stdout.rsplit(None, 1)
    return answer.strip(), float(ms)


def check_guest(state_dir: Path, world: World, guest: Guest, name: str,
                inst: instances.Instance) -> list[Check]:
    """Every check of one booted instance (see the package docstring)."""
    info = world.info
    checks = []
    with sdk.connect(info, None) as admin:
        port = sdk.call(admin, "GET", f"/ports/{inst.port_id}")["port"]
        network = sdk.call(admin, "GET", f"/networks/{port['network_id']}")["network"]
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
        res = in_guest(script_argv("http_fetch.py", METADATA_URL))
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

    if guest.peer is not None:
        checks.append(_check_geneve(state_dir, world, name, inst, guest))
        return checks
    if guest.private:
        ms = _until(lambda: _ping_ms(in_guest(["ping", "-c1", "-W1", OUTSIDE_HOST])))
        checks.append(Check(f"{name}: outside host through SNAT", ms is not None,
                            f"ping {OUTSIDE_HOST} {ms} ms" if ms is not None else "no reply"))
        with sdk.connect(info, None) as admin:  # the rebuilt port gets it
            fip = sdk.call(admin, "PUT", f"/floatingips/{world.fips[guest.project]['id']}", {
                "floatingip": {"port_id": inst.port_id}})["floatingip"]
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
        vlan = _vlan_of(info, port, network)
        gateway = f"10.10.{vlan}.1"
        ms = _until(lambda: _ping_ms(in_guest(["ping", "-c1", "-W1", gateway])))
        # the upstream switch hands VLAN <vlan>'s frames to that gateway only: a reply
        # proves the frames carried the segment's tag
        where_from = f" (seed 004: segment of {network['name']})" if guest.subnet else ""
        checks.append(Check(f"{name}: VLAN {vlan} gateway{where_from}", ms is not None,
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


def _vlan_of(info: RuntimeInfo, port: dict[str, Any], network: dict[str, Any]) -> int:
    """The VLAN a provider network's port is on: the network's, or on a network of
    several segments the segment of its address's subnet."""
    if network.get("provider:segmentation_id"):
        return network["provider:segmentation_id"]
    with sdk.connect(info, None) as admin:
        subnet = sdk.call(admin, "GET",
                          f"/subnets/{port['fixed_ips'][0]['subnet_id']}")["subnet"]
        return sdk.call(admin, "GET", f"/segments/{subnet['segment_id']}")["segment"][
            "segmentation_id"]


def _check_geneve(state_dir: Path, world: World, name: str, inst: instances.Instance,
                  guest: Guest) -> Check:
    """``name`` connects to its peer's TCP listener on another chassis; a capture on
    the underlay link of ``name``'s chassis shows the exchange inside geneve (outer
    encap addresses, the network's VNI), never in clear."""
    info, prefix = world.info, name[: -len(guest.short)]
    peer = instances.get_instance(state_dir, prefix + guest.peer)
    lab = info.fleet()
    home = next((c for c in lab if c.netns == inst.chassis_netns), None)
    there = next((c for c in lab if c.netns == peer.chassis_netns), None)
    if home is None or there is None or home == there:
        return Check(f"{name}: reaches {guest.peer} on another chassis (geneve)", False,
                     "one chassis", "the lab runs one chassis: nothing crosses the underlay")
    target = peer.lease.address.split("/")[0] if peer.lease else ""
    with sdk.connect(info, None) as admin:
        vni = sdk.call(admin, "GET", f"/networks/{inst.network_id}")["network"][
            "provider:segmentation_id"]
    with Capture(underlay.underlay_netns(lab[0].netns), f"ul{home.index}") as cap:
        answer = _until(lambda: _connect(
            lambda argv: instances.exec_in_instance(state_dir, name, argv, timeout=15),
            target, OPEN_PORT, 2))
    tunnelled = [f for f in cap.frames if f.vni == vni and f.inner_dst == target]
    in_clear = [f for f in cap.frames if target in (f.src, f.dst)]
    return Check(f"{name}: reaches {guest.peer} on another chassis (geneve)",
                 bool(answer) and answer[0] == prefix + guest.peer and bool(tunnelled)
                 and not in_clear,
                 f"{home.name} -> {there.name}, {len(tunnelled)} geneve frames VNI {vni}"
                 + (f", {answer[1]} ms" if answer else ", no answer"),
                 f"{target}:{OPEN_PORT} answered {answer[0] if answer else None!r}; "
                 f"{len(in_clear)} frames in clear")


def check_metadata_per_chassis(info: RuntimeInfo, state_dir: Path,
                               checks: list[Check]) -> Check:
    """Every chassis with an instance served its metadata (from its own agent: the
    ``metadata is its own`` rows of its instances passed)."""
    by_netns = {c.netns: c.name for c in info.fleet()}
    served: dict[str, list[bool]] = {}
    for inst in instances.list_instances(state_dir):
        row = next((c for c in checks if c.name == f"{inst.name}: metadata is its own"), None)
        if row is not None:
            served.setdefault(by_netns.get(inst.chassis_netns or "", "?"), []).append(row.ok)
    return Check("metadata on every chassis", bool(served) and all(map(all, served.values())),
                 ", ".join(f"{c}: {sum(oks)}/{len(oks)}" for c, oks in sorted(served.items())))


def check_gateway_failover(settings: Settings, world: World, project: str, name: str,
                           inst: instances.Instance, work_dir: Path) -> Check:
    """Kill the chassis hosting ``project``'s router gateway while the outside pings
    its floating IP (on ``name``) and ``name`` pings the outside host; traffic
    resumes through the other gateway chassis. The chassis is started again after."""
    info = world.info
    title = "gateway failover (active gateway chassis killed)"
    if sum(c.gateway for c in info.fleet()) < 2:
        return Check(title, False, "one gateway chassis", "nothing to fail over to")
    with sdk.connect(info, None) as admin:
        [gw] = sdk.call(admin, "GET", "/ports", params={
            "device_id": world.routers[project]["id"],
            "device_owner": DEVICE_OWNER_ROUTER_GW})["ports"]
        fip = sdk.call(admin, "GET", f"/floatingips/{world.fips[project]['id']}")["floatingip"]
    active = failover.active_gateway(info.sb_connection, gw["id"])
    up = external.get_upstream(settings.state_dir, world.external_physnet)
    probes = [(up.netns, fip["floating_ip_address"]), (inst.netns, OUTSIDE_HOST)]
    try:
        outages = failover.measure(lambda: runtime.kill_chassis(settings, active), probes,
                                   work_dir / "failover")
        now = failover.active_gateway(info.sb_connection, gw["id"])
    except (TimeoutError, ValueError) as exc:
        return Check(title, False, f"{active} killed", str(exc))
    finally:
        runtime.revive_chassis(settings, active)
    worst = max(outages)
    return Check(title, now not in (None, active),
                 f"{active} -> {now}: outside->FIP {outages[0]:.2f} s, {name}->outside "
                 f"{outages[1]:.2f} s (target < {FAILOVER_TARGET:.0f} s: "
                 f"{'met' if worst < FAILOVER_TARGET else 'missed'})")


def check_metadata_ports(info: RuntimeInfo, world: World) -> Check:
    """Seed 001: every network's metadata port holds its first pool address."""
    wrong, count = [], 0
    with sdk.connect(info, None) as admin:
        nets = [*world.provider.values(), world.segmented, *world.private.values()]
        for net in nets:
            subnets = sdk.call(admin, "GET", "/subnets",
                               params={"network_id": net["id"]})["subnets"]
            ports = sdk.call(admin, "GET", "/ports", params={
                "network_id": net["id"], "device_owner": DEVICE_OWNER_DISTRIBUTED})["ports"]
            have = {ip["ip_address"] for p in ports for ip in p["fixed_ips"]}
            for subnet in subnets:
                count += 1
                first = subnet["allocation_pools"][0]["start"]
                if first not in have:
                    wrong.append(f"{net['name']}: {sorted(have)} not {first}")
    return Check("seed 001: metadata port at the first pool address", not wrong,
                 f"{count - len(wrong)}/{count} subnets", "; ".join(wrong))


def check_provider_networks(world: World) -> Check:
    """Seed 001 and 004: the shared VLAN networks (pub100, pub101, pub2xx), as a member
    project sees them."""
    with sdk.connect(world.info, "demo-c") as member:
        shared = {n["name"] for n in sdk.call(member, "GET", "/networks",
                                              params={"shared": "true"})["networks"]}
    wanted = {*(f"pub{v}" for v in SINGLE_VLANS), SEGMENTED}
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

"""The demo's checks, from inside the instances and from outside: DHCP lease,
metadata, SNAT, floating IP, VLAN gateway, security group, metadata ports, shared
networks, NB sync. Each returns :class:`Check` rows; none raises for a failed check.

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

from neutrino.constants import DEVICE_OWNER_DISTRIBUTED
from neutrino.lab import commands, external, instances, vlans
from neutrino.lab.daemons import netns_argv
from neutrino.lab.demo.api import ok
from neutrino.lab.demo.scenario import (
    CLOSED_PORT,
    FULL_VLAN,
    METADATA_URL,
    OPEN_PORT,
    OUTSIDE_HOST,
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
    with commands.api_client(info, None) as admin:
        port = ok(admin.get(f"/ports/{inst.port_id}")).json()["port"]
        network = ok(admin.get(f"/networks/{port['network_id']}")).json()["network"]
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

    if guest.private:
        ms = _until(lambda: _ping_ms(in_guest(["ping", "-c1", "-W1", OUTSIDE_HOST])))
        checks.append(Check(f"{name}: outside host through SNAT", ms is not None,
                            f"ping {OUTSIDE_HOST} {ms} ms" if ms is not None else "no reply"))
        with commands.api_client(info, None) as admin:  # the rebuilt port gets it
            fip = ok(admin.put(f"/floatingips/{world.fips[guest.project]['id']}", json={
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
            subnets = ok(admin.get("/subnets", params={"network_id": net["id"]})).json()["subnets"]
            ports = ok(admin.get("/ports", params={"network_id": net["id"],
                                                   "device_owner": DEVICE_OWNER_DISTRIBUTED})
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
        shared = {n["name"] for n in ok(member.get("/networks", params={"shared": True}))
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

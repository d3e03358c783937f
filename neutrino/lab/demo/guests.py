"""The demo's lab instances: booted with ``neutrino lab boot`` (concurrently within
a wave), and removed with whatever a crashed boot left behind."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from neutrino.lab import commands, instances, sdk
from neutrino.lab.demo.scenario import (
    GUESTS,
    PRIVATE_NETWORK,
    SECURITY_GROUP,
    DemoError,
    Guest,
    Progress,
    guest_names,
)
from neutrino.lab.demo.world import World
from neutrino.lab.runtime import RuntimeInfo


def remove_guests(state_dir: Path, info: RuntimeInfo, prefix: str) -> list[str]:
    """Delete the demo's instances (namespace, veth, OVS port, DHCP client, port and
    registration), and ports of theirs a crashed boot left; the names removed."""
    removed = []
    with sdk.connect(info, None) as admin:
        for name in guest_names(prefix):
            with contextlib.suppress(instances.InstanceNotFound):
                instances.get_instance(state_dir, name)
                commands.delete(state_dir, name)
                removed.append(name)
            for port in sdk.call(admin, "GET", "/ports", params={"name": name})["ports"]:
                if port["device_owner"] == commands.DEVICE_OWNER:
                    sdk.call(admin, "DELETE", f"/ports/{port['id']}", missing_ok=True)
                    sdk.call(admin, "DELETE", f"/instances/{port['device_id']}", missing_ok=True)
    return removed


def boot_guests(state_dir: Path, world: World, prefix: str,
                progress: Progress) -> dict[str, instances.Instance | Exception]:
    """Boot the demo's instances with ``neutrino lab boot`` (one process each,
    concurrently within a wave); name -> Instance, or the error it failed with."""
    results: dict[str, instances.Instance | Exception] = {}
    chassis = world.info.fleet()

    def boot(guest: Guest) -> None:
        name = prefix + guest.short
        argv = [sys.executable, "-m", "neutrino.cli", "lab", "boot", name, "--state-dir",
                str(state_dir), "--project", guest.project, "--security-group", SECURITY_GROUP]
        if chassis:
            argv += ["--chassis", chassis[min(guest.chassis, len(chassis)) - 1].name]
        if guest.network == PRIVATE_NETWORK:
            argv += ["--network", world.private[guest.project]["id"]]
        elif guest.network is not None:
            argv += ["--network", guest.network]
        if guest.fixed_ip:
            argv += ["--fixed-ip", guest.fixed_ip]
        if guest.subnet:
            argv += ["--subnet", guest.subnet]
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


def instances_dir_has(state_dir: Path, name: str) -> bool:
    """True when lab instance ``name`` has state under ``state_dir``."""
    return (instances.instances_dir(state_dir) / f"{name}.json").exists()

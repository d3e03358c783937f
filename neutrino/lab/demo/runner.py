"""One ``neutrino demo`` run: service up, build, boot, check, remove the instances
(unless kept), the result written; and the hint on exploring what it built."""

from __future__ import annotations

import contextlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from neutrino.config import Settings
from neutrino.lab import instances
from neutrino.lab.demo.checks import (
    check_gateway_failover,
    check_guest,
    check_metadata_per_chassis,
    check_metadata_ports,
    check_provider_networks,
    check_sync,
    start_listener,
)
from neutrino.lab.demo.guests import boot_guests, remove_guests
from neutrino.lab.demo.scenario import (
    CHASSIS,
    GUESTS,
    METADATA_URL,
    PRIVATE_IP,
    Check,
    DemoError,
    OnCheck,
    Progress,
)
from neutrino.lab.demo.service import ensure_service
from neutrino.lab.demo.state import save_state, write_result
from neutrino.lab.demo.world import build
from neutrino.lab.runtime import RuntimeInfo


def run(settings: Settings, *, prefix: str = "demo-", keep: bool = False,
        port: int | None = None, metadata_port: int | None = None,
        chassis: int | None = CHASSIS,
        progress: Progress = lambda s: None, on_check: OnCheck = lambda c: None
        ) -> tuple[list[Check], RuntimeInfo | None]:
    """Bring the service up if needed (on ``chassis`` lab chassis), build, boot, check;
    (checks, service info). With several chassis, the last check kills the chassis
    hosting demo-b's router gateway and starts it again.

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
                                   chassis=chassis, progress=progress)
    save_state(state_dir, prefix=prefix)
    lab = info.fleet()
    add(Check("service up", True, f"{'started' if started else 'running'}, {info.api_url}, "
              f"{len(lab)} chassis ({sum(c.gateway for c in lab)} gateway)"))
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
            listeners.append(start_listener(inst, name))
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
        if len(lab) > 1:
            add(check_metadata_per_chassis(info, state_dir, checks))
        add(check_sync(state_dir))
        failover_guest = next((g for g in GUESTS if g.private and g.chassis > 1), None)
        if len(lab) > 1 and failover_guest is not None:
            name = prefix + failover_guest.short
            if isinstance(booted.get(name), instances.Instance):
                progress("killing the active gateway chassis, then starting it again")
                add(check_gateway_failover(settings, world, failover_guest.project, name,
                                           booted[name], state_dir / "lab" / "demo"))
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
    write_result(state_dir, checks)
    return checks, info


def explore_hint(settings: Settings, info: RuntimeInfo, prefix: str, keep: bool) -> str:
    """How to look at what the demo built with the ``openstack`` CLI, the dashboard and
    ``neutrino lab``."""
    sd = "" if settings.state_dir == Settings.model_fields["state_dir"].default \
        else f" --state-dir {settings.state_dir}"
    lines = [
        "Explore it (noauth: the CLI acts as admin and sees every project):",
        f"  export OS_AUTH_TYPE=none OS_ENDPOINT={info.api_url}",
        "  openstack network list --long; openstack subnet list",
        "  openstack router list --long; openstack floating ip list --long",
        "  openstack port list --long; openstack security group list",
        f"  or the dashboard: {info.api_url}/dashboard (project demo-a, role member; "
        "admin sees every project)",
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

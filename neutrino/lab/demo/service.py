"""The all-in-one the demo runs on: found running, or started with ``neutrino up``
in the background (its pid kept in ``demo.json``, its log in ``<state_dir>/up.log``)
and waited for until healthy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from neutrino.config import Settings
from neutrino.lab import runtime
from neutrino.lab.demo.scenario import VLAN_BRIDGE, VLAN_PHYSNET, VLAN_RANGES, DemoError, Progress
from neutrino.lab.demo.state import save_state
from neutrino.lab.runtime import RuntimeInfo

UP_LOG = "up.log"


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
                   metadata_port: int | None = None, chassis: int | None = None,
                   progress: Progress = lambda s: None,
                   timeout: float = 90) -> tuple[RuntimeInfo, bool]:
    """The all-in-one of ``settings.state_dir``, started when not running; (info, started).

    Starting means ``neutrino up --state-dir ... [--port] [--metadata-port] [--chassis]`` in a new
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
    if chassis is not None:
        argv += ["--chassis", str(chassis)]
    progress(f"starting neutrino up in the background (log: {state_dir / UP_LOG})")
    with open(state_dir / UP_LOG, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **service_settings(settings)})
    save_state(state_dir, service_pid=proc.pid)
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


def stop_service(settings: Settings) -> None:
    """``neutrino down`` of ``settings.state_dir``."""
    runtime.down(settings)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

"""The demo's files in the state dir: ``demo.json`` (what the demo started and
created, read back by the clean) and ``demo-result.json`` (the last run's checks)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from neutrino.lab.demo.scenario import Check

STATE_FILE = "demo.json"
RESULT_FILE = "demo-result.json"


def load_state(state_dir: Path) -> dict[str, Any]:
    """``<state_dir>/demo.json``: ``{"service_pid": int | None, "external_created": bool,
    "vlan_physnet": str, "prefix": str}`` ({} when the demo never ran there)."""
    try:
        return json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def save_state(state_dir: Path, **changes: Any) -> None:
    """Merge ``changes`` into ``<state_dir>/demo.json``."""
    state = {**load_state(state_dir), **changes}
    path = state_dir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")


def write_result(state_dir: Path, checks: list[Check]) -> None:
    """``<state_dir>/demo-result.json``: every check and whether all passed."""
    (state_dir / RESULT_FILE).write_text(json.dumps(
        {"checks": [asdict(c) for c in checks], "ok": all(c.ok for c in checks)}, indent=2))


def remove_files(state_dir: Path) -> None:
    """Forget the demo ran in ``state_dir`` (both files)."""
    for name in (STATE_FILE, RESULT_FILE):
        (state_dir / name).unlink(missing_ok=True)

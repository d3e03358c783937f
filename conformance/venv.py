"""The cached tempest virtualenv of the conformance runner (conformance/tempest.sh).

``python conformance/venv.py`` prints the path of a virtualenv holding tempest and
neutron-tempest-plugin at the pinned versions, building it first when missing. It is
built once per machine as the test suite's Keystone is (tests/keystone.py: same cache
directory, ``NEUTRINO_TEST_CACHE`` overrides it; same base Python; a file lock keeps
concurrent runs apart; a venv without its marker file is half built and rebuilt).
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from keystone import _base_python, cache_dir  # noqa: E402  (tests/keystone.py)

TEMPEST_VERSION = "47.0.0"
PLUGIN_VERSION = "3.3.0"  # neutron-tempest-plugin
NAME = f"tempest-{TEMPEST_VERSION}-ntp-{PLUGIN_VERSION}"


def tempest_venv() -> Path:
    """The cached virtualenv (built when missing); RuntimeError with pip's output if
    the build fails."""
    venv = cache_dir() / f"{NAME}-venv"
    marker = venv / ".neutrino-ready"
    if marker.exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        pip = str(venv / "bin/pip")
        for cmd in ([_base_python(), "-m", "venv", str(venv)],
                    [pip, "install", "-q", "--upgrade", "pip"],
                    [pip, "install", "-q", f"tempest=={TEMPEST_VERSION}",
                     f"neutron-tempest-plugin=={PLUGIN_VERSION}"]):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                                  stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
        marker.write_text(f"{TEMPEST_VERSION} {PLUGIN_VERSION}\n")
    return venv


if __name__ == "__main__":
    print(tempest_venv())

"""The cached tempest virtualenv of the conformance runner (conformance/tempest.sh).

``python conformance/venv.py`` prints the path of a virtualenv holding tempest and
neutron-tempest-plugin at the pinned versions, building it first when missing. It is
built once per machine as the test suite's Keystone is (tests/keystone.py: same cache
directory, ``NEUTRINO_TEST_CACHE`` overrides it; same base Python; a file lock keeps
concurrent runs apart; a venv without its marker file is half built and rebuilt).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from keystone import cached_venv  # noqa: E402  (tests/keystone.py)

TEMPEST_VERSION = "47.0.0"
PLUGIN_VERSION = "3.3.0"  # neutron-tempest-plugin
NAME = f"tempest-{TEMPEST_VERSION}-ntp-{PLUGIN_VERSION}"


def tempest_venv() -> Path:
    """The cached virtualenv (built when missing; RuntimeError with pip's output if
    the build fails)."""
    return cached_venv(NAME, [f"tempest=={TEMPEST_VERSION}",
                              f"neutron-tempest-plugin=={PLUGIN_VERSION}"])


if __name__ == "__main__":
    print(tempest_venv())

#!/usr/bin/env bash
# The test command of README.md: bootstrap what is missing, then run every test
# (unit, PostgreSQL, real OVS/OVN daemons, real clients).
# With arguments: one pytest run of exactly those (paths, -k, ...).
# Without: two runs. The unit tests (no root, no OVN; each xdist worker starts its own
# private PostgreSQL) are spread over the machine's cores; the integration and e2e tests
# run one at a time, as they share the OVN lab, namespaces and host ports and time their
# own packets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
PYTEST=(.venv/bin/python -m pytest -q -p no:cacheprovider)
if [ $# -gt 0 ]; then
    exec "${PYTEST[@]}" "$@"
fi
status=0
"${PYTEST[@]}" -n "$(nproc)" tests/unit || status=$?
"${PYTEST[@]}" --durations=25 tests/integration tests/e2e || status=$?
exit "$status"

#!/usr/bin/env bash
# The test command of README.md: bootstrap what is missing, then run every test
# (unit, PostgreSQL, real OVN daemons, real clients). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

#!/usr/bin/env bash
# The first command of README.md: bootstrap what is missing (Debian packages, .venv),
# then run the demo: the all-in-one service is started in the background if it is
# not running (state in NEUTRINO_STATE_DIR, default /var/lib/neutrino; its log in
# up.log there), the field reports' scenarios are built and checked, and a table
# shows every check. Exit status 1 if any check fails. Extra arguments go to
# 'neutrino demo' (--keep, --clean, --state-dir ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/neutrino demo "$@"

#!/usr/bin/env bash
# The main job of README.md: bootstrap what is missing, migrate the database
# and serve the Networking API on 127.0.0.1:9696 (Ctrl-C stops it).
# NEUTRINO_STATE_DIR (default /var/lib/neutrino) holds the SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/neutrino db upgrade
exec .venv/bin/neutrino server "$@"

#!/usr/bin/env bash
# The main job of README.md: bootstrap what is missing, then run the all-in-one
# service in the foreground (private OVS/OVN daemons, database, northbound sync,
# API on 127.0.0.1:9696). Ctrl-C stops exactly what it started.
# NEUTRINO_STATE_DIR (default /var/lib/neutrino) holds all of its state.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/neutrino up "$@"

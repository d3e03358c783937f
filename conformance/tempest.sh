#!/bin/bash
# OpenStack's conformance tests for the Networking API, run against neutrino.
#
#   conformance/tempest.sh [REGEX]
#
# Builds (once, cached under /var/cache/neutrino-tests; conformance/venv.py) a virtualenv
# with tempest and neutron-tempest-plugin, starts Keystone and `neutrino up` with
# auth_strategy = keystone, creates devstack's networks and writes a tempest.conf as
# devstack does for Neutron (conformance/cloud.py), then runs
#   tempest run --regex REGEX --concurrency 2
# REGEX defaults to '^(tempest\.api\.network|neutron_tempest_plugin\.api)\.' (~750 tests:
# about 10 min of tempest on 2 cores on 2026-12-07); a narrower one
# (tempest.api.network.test_networks)
# takes under a minute, start-up included.
# Tests needing Nova, Glance, Cinder or Swift skip themselves ([service_available]).
#
# Everything a run produces stays in its run dir, $NEUTRINO_CONFORMANCE_DIR/<time>
# (default /var/tmp/neutrino-conformance; `latest` points at the newest): keystone/,
# neutrino/ (state dir, up.log), workspace/ (tempest workspace: etc/tempest.conf,
# tempest.log, .stestr), tempest-run.log, tempest.subunit, failures.txt (test id TAB
# reason, conformance/results.py). What it started is stopped on exit, failure or signal.
# NEUTRINO_CONFORMANCE_REF=<commit> runs that commit's neutrino and test helpers (git
# archive into the run dir, put first on PYTHONPATH) instead of the working tree.
# The last line printed is "N passed, N failed, N skipped"; the exit status is 0 when
# nothing failed. Needs root and the project's virtualenv (scripts/bootstrap.sh).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REGEX=${1:-'^(tempest\.api\.network|neutron_tempest_plugin\.api)\.'}
BASE=${NEUTRINO_CONFORMANCE_DIR:-/var/tmp/neutrino-conformance}
RUN=$BASE/$(date +%Y%m%d-%H%M%S)
PY=$REPO/.venv/bin/python
CLOUD_PID='' TEMPEST_PID=''

cleanup() {
    if [ -n "$TEMPEST_PID" ]; then kill -TERM -- "-$TEMPEST_PID" 2>/dev/null || true; fi
    TEMPEST_PID=''
    if [ -n "$CLOUD_PID" ]; then
        kill -TERM "$CLOUD_PID" 2>/dev/null || true
        wait "$CLOUD_PID" 2>/dev/null || echo "cloud stopped with an error: see $RUN/cloud.log"
    fi
    CLOUD_PID=''
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$PY" ] || { echo "no $PY: run scripts/bootstrap.sh first" >&2; exit 1; }
mkdir -p "$RUN"
ln -sfn "$RUN" "$BASE/latest"
echo "run dir $RUN"

if [ -n "${NEUTRINO_CONFORMANCE_REF:-}" ]; then
    mkdir -p "$RUN/src"
    git -C "$REPO" archive "$NEUTRINO_CONFORMANCE_REF" | tar -x -C "$RUN/src"
    export PYTHONPATH=$RUN/src
    echo "neutrino from $NEUTRINO_CONFORMANCE_REF ($(git -C "$REPO" rev-parse --short "$NEUTRINO_CONFORMANCE_REF"))"
fi
VENV=$("$PY" "$REPO/conformance/venv.py")
unset TEMPEST_CONFIG TEMPEST_CONFIG_DIR
"$VENV/bin/tempest" init --workspace-path "$RUN/workspaces.yaml" "$RUN/workspace" >/dev/null

"$PY" "$REPO/conformance/cloud.py" "$RUN" "$RUN/workspace/etc/tempest.conf" \
    >"$RUN/cloud.log" 2>&1 &
CLOUD_PID=$!
for _ in $(seq 600); do
    [ -e "$RUN/cloud.ready" ] && break
    if ! kill -0 "$CLOUD_PID" 2>/dev/null; then
        tail -n 40 "$RUN/cloud.log" >&2; echo "the cloud did not start" >&2; exit 1
    fi
    sleep 0.5
done
[ -e "$RUN/cloud.ready" ] || { echo "the cloud did not start in 300 s" >&2; exit 1; }
tail -n 1 "$RUN/cloud.log"

echo "tempest run --regex '$REGEX' --concurrency 2 (log: $RUN/tempest-run.log)"
START=$SECONDS
cd "$RUN/workspace"
setsid "$VENV/bin/tempest" run --regex "$REGEX" --concurrency 2 \
    >"$RUN/tempest-run.log" 2>&1 </dev/null &
TEMPEST_PID=$!
wait "$TEMPEST_PID" || true
TEMPEST_PID=''
echo "tempest took $(( (SECONDS - START) / 60 )) min $(( (SECONDS - START) % 60 )) s"
cleanup

"$VENV/bin/stestr" last --subunit >"$RUN/tempest.subunit" || true
COUNTS=$("$VENV/bin/python" "$REPO/conformance/results.py" "$RUN/failures.txt" \
    "$RUN/workspace/tempest.log" <"$RUN/tempest.subunit")
echo "failures: $RUN/failures.txt"
echo "$COUNTS"
case "$COUNTS" in *" 0 failed,"*) exit 0 ;; *) exit 1 ;; esac

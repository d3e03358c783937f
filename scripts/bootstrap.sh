#!/usr/bin/env bash
# Make a Debian 12 machine ready for neutrino: the Debian packages in
# scripts/apt-packages.txt and a virtualenv at .venv with neutrino installed.
# Idempotent: what is already there is left alone. Needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$')
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    [ "$(id -u)" = 0 ] || { echo "bootstrap: root is needed to install: ${missing[*]}" >&2; exit 1; }
    echo "bootstrap: installing ${missing[*]}"
    # Packages like ovn-central and postgresql start system daemons on install;
    # neutrino runs its own privately, so keep the system ones from starting.
    policy=/usr/sbin/policy-rc.d
    restore=""
    if [ -e "$policy" ]; then restore=$(mktemp); cp -p "$policy" "$restore"; fi
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"
    trap 'if [ -n "$restore" ]; then mv "$restore" "$policy"; else rm -f "$policy"; fi' EXIT
    # cloud-init is installed for lab instances only: it must never configure this host.
    mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.neutrino-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[test]'
    touch "$stamp"
fi
# python-ovs (ovsdbapp's OVSDB client) parses every OVSDB message in pure Python unless
# its C parser ovs._json is there. PyPI has no build of it and Debian 12 has no
# libopenvswitch-dev to make one, but python3-openvswitch carries it for CPython 3.11:
# link it into the venv's ovs package when the ABI matches (a quarter off the time the
# NB sync takes to absorb a large batch).
c_json=$(ls /usr/lib/python3/dist-packages/ovs/_json.cpython-*.so 2>/dev/null | head -n 1)
if [ -n "$c_json" ]; then
    .venv/bin/python - "$c_json" <<'PY'
import os, sys, sysconfig
import ovs
so = sys.argv[1]
target = os.path.join(os.path.dirname(ovs.__file__), "_json" + sysconfig.get_config_var("EXT_SUFFIX"))
if so.endswith(sysconfig.get_config_var("EXT_SUFFIX")) and not os.path.exists(target):
    os.symlink(so, target)
PY
fi

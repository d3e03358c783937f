"""How long plugging and unplugging one OVS port takes, through ``neutrino.host.ovs``.

    python bench/plug.py [--rounds 50]

Starts a private OVN lab (central + one chassis, netdev datapath) in a temporary
directory and a namespace named ``ntbp<hex>``, makes one veth end in the chassis
namespace, then ``--rounds`` times plugs it into br-int (``plug_into_bridge``: returns
once ovs-vswitchd applied it) and unplugs it (``unplug``).  Prints one JSON document:
p50/p95/max in ms for ``plug`` and ``unplug``, for ``ovsdbapp`` (this process's IDL
connection, as the module does now; its first connect is reported apart as
``connect_ms``) and for ``ovs-vsctl`` (the same transactions as one ``ovs-vsctl`` run
each, as the module did before issue 23).  Everything is stopped and removed on exit.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from neutrino.host import ovs as host_ovs
from neutrino.lab.deployment import OvnDeployment


def _vsctl_plug(conn: str, ifname: str) -> None:
    host_ovs.vsctl(conn, "--", "--may-exist", "add-port", "br-int", ifname,
                   "--", "set", "Interface", ifname, 'external_ids:iface-id="bench"',
                   'external_ids:attached-mac="fa:16:3e:00:00:01"',
                   "external_ids:iface-status=active")


def _vsctl_unplug(conn: str, ifname: str) -> None:
    host_ovs.vsctl(conn, "--no-wait", "--", "--if-exists", "del-port", "br-int", ifname)


def _lib_plug(conn: str, ifname: str) -> None:
    host_ovs.plug_into_bridge(conn, "br-int", ifname, "bench", "fa:16:3e:00:00:01")


def _lib_unplug(conn: str, ifname: str) -> None:
    host_ovs.unplug(conn, "br-int", ifname)


def _stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2), "max_ms": round(ms[-1], 2)}


def _rounds(conn: str, ifname: str, plug, unplug, n: int) -> dict[str, dict[str, float]]:
    plugs, unplugs = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        plug(conn, ifname)
        t1 = time.perf_counter()
        unplug(conn, ifname)
        t2 = time.perf_counter()
        plugs.append(t1 - t0)
        unplugs.append(t2 - t1)
    return {"plug": _stats(plugs), "unplug": _stats(unplugs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    prefix = "ntbp" + secrets.token_hex(2)
    state_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    deployment = OvnDeployment(state_dir / "ovn", f"{prefix}-ch1", netns=f"{prefix}-ch1")
    try:
        deployment.start(60)
        chassis = deployment.chassis[0]
        conn, ifname = deployment.ovs_connection, f"{prefix}v"
        subprocess.run(["ip", "-n", chassis.netns, "link", "add", ifname, "type", "veth",
                        "peer", "name", f"{prefix}p"], check=True)
        subprocess.run(["ip", "-n", chassis.netns, "link", "set", ifname, "up"], check=True)
        print("lab up", file=sys.stderr)
        result = {"rounds": args.rounds,
                  "ovs-vsctl": _rounds(conn, ifname, _vsctl_plug, _vsctl_unplug, args.rounds)}
        t0 = time.perf_counter()
        host_ovs.bridge_ports(conn, "br-int")
        result["connect_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        result["ovsdbapp"] = _rounds(conn, ifname, _lib_plug, _lib_unplug, args.rounds)
        print(json.dumps(result, indent=2))
    finally:
        host_ovs.close(deployment.ovs_connection)
        deployment.stop()


if __name__ == "__main__":
    main()

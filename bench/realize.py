"""How fast API changes become real on OVN, measured on a running ``neutrino up``.

    python bench/realize.py [--state-dir /var/lib/neutrino] [--boots 20]
        [--networks 200] [--ports-per-network 5] [--concurrency 8]

Two figures, printed as one JSON document on stdout (progress on stderr):

1. ``nb_convergence``: 200 networks (each with a /24 subnet) and 5 ports on each
   are created through the API by 8 clients; the time from the first API call
   until the OVN NB holds every logical switch, logical switch port and
   DHCP_Options row for them, and the lag after the last API call. Run it on
   an NB without other neutrino rows to measure "from an empty NB".
2. ``port_to_lease``: for 20 lab instances, the time from the port-create API
   call to a DHCP lease inside the instance (p50/p95), as ``neutrino lab boot``
   does it: create the port, plug a namespace into br-int, run udhcpc.
3. ``fip_to_reply``: an instance behind a router on the lab's external network
   (``neutrino lab external create`` is run if needed); 20 times, the time from
   the floating-IP association API call until the outside host (203.0.113.10
   in the upstream namespace) answers a connection from the instance and saw
   it come from the floating IP (p50/p95); each round disassociates after.

Everything the run creates is deleted at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from neutrino.lab import commands, instances
from neutrino.lab.runtime import RuntimeInfo
from neutrino.ovn import idl


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"count": len(values), "p50": round(statistics.median(ordered), 4),
            "p95": round(pick(0.95), 4), "max": round(ordered[-1], 4)}


def ok(resp: httpx.Response) -> dict:
    if resp.status_code >= 400:
        raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text}")
    return resp.json() if resp.content else {}


def nb_counts(nb, network_ids: set[str], subnet_ids: set[str]) -> tuple[int, int, int]:
    """(switches, ports on them, DHCP rows of the subnets) present in the NB replica."""
    names = {f"neutron-{n}" for n in network_ids}
    switches = [ls for ls in nb.tables["Logical_Switch"].rows.values() if ls.name in names]
    dhcp = sum(1 for row in nb.tables["DHCP_Options"].rows.values()
               if row.external_ids.get("subnet_id") in subnet_ids)
    return len(switches), sum(len(ls.ports) for ls in switches), dhcp


def nb_convergence(client: httpx.Client, nb, args) -> dict:
    """Create networks, subnets and ports; wait until the NB has all of them."""
    run = uuid.uuid4().hex[:6]
    nets: list[str] = []
    subnets: set[str] = set()
    t0 = time.perf_counter()

    def make_network(i: int) -> str:
        net = ok(client.post("/networks", json={"network": {"name": f"realize-{run}-{i}"}}))["network"]
        nets.append(net["id"])
        subnet = ok(client.post("/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": f"10.{200 + i // 256}.{i % 256}.0/24"}}))
        subnets.add(subnet["subnet"]["id"])
        for _ in range(args.ports_per_network):
            ok(client.post("/ports", json={"port": {"network_id": net["id"]}}))
        return net["id"]

    try:
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(make_network, range(args.networks)))
        api_done = time.perf_counter()
        want = (args.networks, args.networks * args.ports_per_network)
        deadline = api_done + 120
        while True:
            switches, ports, dhcp = nb_counts(nb, set(nets), subnets)
            if (switches, ports) >= want and dhcp >= args.networks:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"NB did not converge: {switches} switches, {ports} ports, {dhcp} DHCP rows")
            time.sleep(0.01)
        converged = time.perf_counter()
        return {"networks": args.networks, "ports": want[1],
                "api_seconds": round(api_done - t0, 3),
                "converged_seconds": round(converged - t0, 3),
                "lag_after_last_call_seconds": round(converged - api_done, 3)}
    finally:
        log(f"deleting {len(nets)} networks")
        for net_id in nets:
            for port in ok(client.get("/ports", params={"network_id": net_id}))["ports"]:
                client.delete(f"/ports/{port['id']}")
            client.delete(f"/networks/{net_id}")


def port_to_lease(client: httpx.Client, info: RuntimeInfo, state_dir: Path, args) -> dict:
    """Boot lab instances one after the other; time port create -> lease."""
    net = ok(client.post("/networks", json={"network": {"name": "realize-boot"}}))["network"]
    ok(client.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                "cidr": "10.199.0.0/24"}}))
    names: list[str] = []
    times: list[float] = []
    try:
        for i in range(args.boots):
            name = f"rz{uuid.uuid4().hex[:6]}"
            t0 = time.perf_counter()
            port = ok(client.post("/ports", json={"port": {
                "network_id": net["id"], "name": name, "device_owner": "compute:lab",
                "device_id": str(uuid.uuid4())}}))["port"]
            names.append(name)
            instances.boot_instance(state_dir, name, port, info.chassis_netns, info.ovs_connection)
            times.append(time.perf_counter() - t0)
        return percentiles(times)
    finally:
        for name in names:
            instances.delete_instance(state_dir, name, info.ovs_connection)
        for port in ok(client.get("/ports", params={"network_id": net["id"]}))["ports"]:
            client.delete(f"/ports/{port['id']}")
        client.delete(f"/networks/{net['id']}")


OUTSIDE_PORT = 8081
# The outside host: answers each connection with the source address it sees.
PEER_SERVER = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
while True:
    conn, peer = server.accept()
    conn.sendall(peer[0].encode())
    conn.close()
"""
# In the instance: connect until the outside host saw sys.argv[3]; print when (monotonic).
WAIT_FOR_SOURCE = """
import socket, sys, time
while True:
    try:
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.2) as conn:
            if conn.recv(100).decode() == sys.argv[3]:
                print(time.monotonic())
                break
    except OSError:
        pass
    time.sleep(0.005)
"""


def fip_to_reply(client: httpx.Client, info: RuntimeInfo, state_dir: Path, args) -> dict:
    """Floating IP association -> the outside host sees the instance through it."""
    upstream, public, _ = commands.external_create(state_dir)
    outside = upstream.outside[0].split("/")[0]
    server = subprocess.Popen(["ip", "netns", "exec", upstream.netns, sys.executable, "-c",
                               PEER_SERVER, str(OUTSIDE_PORT)])
    net = ok(client.post("/networks", json={"network": {"name": "realize-fip"}}))["network"]
    subnet = ok(client.post("/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.198.0.0/24"}}))["subnet"]
    router = ok(client.post("/routers", json={"router": {
        "name": "realize-fip", "external_gateway_info": {"network_id": public["id"]}}}))["router"]
    name = f"rz{uuid.uuid4().hex[:6]}"
    times: list[float] = []
    fip = None
    try:
        ok(client.put(f"/routers/{router['id']}/add_router_interface",
                      json={"subnet_id": subnet["id"]}))
        port = ok(client.post("/ports", json={"port": {
            "network_id": net["id"], "name": name, "device_owner": "compute:lab",
            "device_id": str(uuid.uuid4())}}))["port"]
        inst = instances.boot_instance(state_dir, name, port, info.chassis_netns,
                                       info.ovs_connection)
        fip = ok(client.post("/floatingips", json={"floatingip": {
            "floating_network_id": public["id"]}}))["floatingip"]
        for _ in range(args.fips):
            waiter = subprocess.Popen(
                ["ip", "netns", "exec", inst.netns, sys.executable, "-c", WAIT_FOR_SOURCE,
                 outside, str(OUTSIDE_PORT), fip["floating_ip_address"]],
                stdout=subprocess.PIPE, text=True)
            time.sleep(0.2)  # the waiter is running (and sees the router's SNAT address)
            t0 = time.monotonic()
            ok(client.put(f"/floatingips/{fip['id']}",
                          json={"floatingip": {"port_id": port["id"]}}))
            out, _ = waiter.communicate(timeout=30)
            times.append(float(out) - t0)
            ok(client.put(f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}}))
            time.sleep(0.5)  # the NAT entry is gone before the next round
        return percentiles(times)
    finally:
        server.kill()
        server.wait()
        instances.delete_instance(state_dir, name, info.ovs_connection)
        if fip is not None:
            client.delete(f"/floatingips/{fip['id']}")
        client.put(f"/routers/{router['id']}/remove_router_interface",
                   json={"subnet_id": subnet["id"]})
        client.delete(f"/routers/{router['id']}")
        for p in ok(client.get("/ports", params={"network_id": net["id"]}))["ports"]:
            client.delete(f"/ports/{p['id']}")
        client.delete(f"/networks/{net['id']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/neutrino"))
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--networks", type=int, default=200)
    parser.add_argument("--ports-per-network", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fips", type=int, default=20)
    args = parser.parse_args()
    info = RuntimeInfo.load(args.state_dir)
    if info is None:
        log(f"no neutrino up is running with state dir {args.state_dir}")
        return 2
    nb = idl.nb_api(info.nb_connection)
    result = {}
    with httpx.Client(base_url=info.api_url + "/v2.0", timeout=60) as client:
        ok(client.put("/quotas/admin", json={"quota": {"network": -1, "subnet": -1, "port": -1}}))
        log(f"NB convergence: {args.networks} networks x {args.ports_per_network} ports")
        result["nb_convergence"] = nb_convergence(client, nb, args)
        log(f"port create -> DHCP lease, {args.boots} boots")
        result["port_to_lease_seconds"] = port_to_lease(client, info, args.state_dir, args)
        log(f"floating IP association -> reply from the outside host, {args.fips} rounds")
        result["fip_to_reply_seconds"] = fip_to_reply(client, info, args.state_dir, args)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

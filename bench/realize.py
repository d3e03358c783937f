"""How fast API changes become real on OVN, measured on a running ``neutrino up``.

    python bench/realize.py [--state-dir /var/lib/neutrino] [--boots 20]
        [--networks 200] [--ports-per-network 5] [--concurrency 8]
        [--rule-rounds 20] [--groups 100] [--rules-per-group 10]

Figures, printed as one JSON document on stdout (progress on stderr):

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
4. ``rule_to_connection``: two lab instances, the server's only security group
   admitting nothing; 20 times, the time from the security-group-rule create
   API call (ingress tcp to the server's port) until the client's first
   accepted connection (p50/p95); each round deletes the rule and waits
   until connections are refused again.
5. ``nb_rules``: 100 security groups with 10 ingress rules each, created
   through the API by 8 clients (one rule per call); the time from the first
   rule call until the OVN NB holds an ACL for every rule, and the lag after
   the last call.

With several lab chassis (``neutrino up --chassis 3``):

6. ``port_to_lease_second_chassis``: as 2., the instances on the second chassis (its
   port bound there first, as Nova does): DHCP across the geneve underlay.
7. ``gateway_failover``: an instance on a hypervisor behind a router with a floating
   IP; 5 times (``--failovers``), the chassis holding the router's gateway is killed
   (ovs-vswitchd and ovn-controller SIGKILLed) while the outside host pings the
   floating IP and the instance pings the outside host; the outage of each
   (``lab/failover.py``: the longest silence after the kill), p50 over the rounds;
   then the chassis is started again and the gateway returns to it (that outage is
   reported too). Target: < 3 s.

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

from neutrino.config import Settings
from neutrino.lab import commands, failover, instances, runtime
from neutrino.lab.daemons import wait_until
from neutrino.lab.fleet import LabChassis
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


def port_to_lease(client: httpx.Client, info: RuntimeInfo, state_dir: Path, args,
                  chassis: LabChassis | None = None) -> dict:
    """Boot lab instances one after the other (on ``chassis``, bound there first;
    default: the first chassis); time port create -> lease."""
    netns, ovs = (chassis.netns, chassis.ovs_connection) if chassis else \
        (info.chassis_netns, info.ovs_connection)
    net = ok(client.post("/networks", json={"network": {"name": "realize-boot"}}))["network"]
    ok(client.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                "cidr": "10.199.0.0/24"}}))
    names: list[str] = []
    times: list[float] = []
    try:
        for i in range(args.boots):
            name = f"rz{uuid.uuid4().hex[:6]}"
            t0 = time.perf_counter()
            body = {"network_id": net["id"], "name": name, "device_owner": "compute:lab",
                    "device_id": str(uuid.uuid4())}
            if chassis is not None:
                body["binding:host_id"] = chassis.name
            port = ok(client.post("/ports", json={"port": body}))["port"]
            names.append(name)
            instances.boot_instance(state_dir, name, port, netns, ovs)
            times.append(time.perf_counter() - t0)
        return percentiles(times)
    finally:
        for name in names:
            instances.delete_instance(state_dir, name, ovs)
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
        delete_routed_network(client, fip, router, subnet, net)


def delete_routed_network(client: httpx.Client, fip: dict | None, router: dict, subnet: dict,
                          net: dict) -> None:
    """Delete a floating IP (if any), the router with its interface on ``subnet``, and
    ``net`` with its ports."""
    if fip is not None:
        client.delete(f"/floatingips/{fip['id']}")
    client.put(f"/routers/{router['id']}/remove_router_interface",
               json={"subnet_id": subnet["id"]})
    client.delete(f"/routers/{router['id']}")
    for p in ok(client.get("/ports", params={"network_id": net["id"]}))["ports"]:
        client.delete(f"/ports/{p['id']}")
    client.delete(f"/networks/{net['id']}")


SG_PORT = 8082
# In the server instance: answer every connection.
ACCEPTOR = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
while True:
    server.accept()[0].close()
"""
# In the client: connect until accepted (sys.argv[3] "up") or refused ("down"); print when.
WAIT_FOR_CONNECT = """
import socket, sys, time
want = sys.argv[3] == "up"
while True:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.1).close()
        up = True
    except OSError:
        up = False
    if up == want:
        print(time.monotonic())
        break
    if up:
        time.sleep(0.005)
"""


def rule_to_connection(client: httpx.Client, info: RuntimeInfo, state_dir: Path, args) -> dict:
    """Security group rule create -> first connection the new rule accepts."""
    net = ok(client.post("/networks", json={"network": {"name": "realize-sg"}}))["network"]
    ok(client.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                "cidr": "10.197.0.0/24"}}))
    web = ok(client.post("/security-groups", json={"security_group": {
        "name": f"realize-{uuid.uuid4().hex[:6]}"}}))["security_group"]
    names: list[str] = []
    times: list[float] = []
    server = None
    try:
        insts = []
        for groups in ([web["id"]], None):  # the server in web, the client in default
            name = f"rz{uuid.uuid4().hex[:6]}"
            body = {"network_id": net["id"], "name": name, "device_owner": "compute:lab",
                    "device_id": str(uuid.uuid4())}
            if groups:
                body["security_groups"] = groups
            port = ok(client.post("/ports", json={"port": body}))["port"]
            names.append(name)
            insts.append((instances.boot_instance(state_dir, name, port, info.chassis_netns,
                                                  info.ovs_connection), port))
        (target, target_port), (source, _) = insts
        address = target_port["fixed_ips"][0]["ip_address"]
        server = subprocess.Popen(["ip", "netns", "exec", target.netns, sys.executable, "-c",
                                   ACCEPTOR, str(SG_PORT)])

        def waiter(state: str) -> subprocess.Popen:
            return subprocess.Popen(["ip", "netns", "exec", source.netns, sys.executable, "-c",
                                     WAIT_FOR_CONNECT, address, str(SG_PORT), state],
                                    stdout=subprocess.PIPE, text=True)
        for _ in range(args.rule_rounds):
            up = waiter("up")
            time.sleep(0.2)  # the waiter is running and refused
            t0 = time.monotonic()
            rule = ok(client.post("/security-group-rules", json={"security_group_rule": {
                "security_group_id": web["id"], "direction": "ingress", "protocol": "tcp",
                "port_range_min": SG_PORT, "port_range_max": SG_PORT}}))["security_group_rule"]
            out, _ = up.communicate(timeout=30)
            times.append(float(out) - t0)
            down = waiter("down")
            ok(client.delete(f"/security-group-rules/{rule['id']}"))
            down.communicate(timeout=30)
        return percentiles(times)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        for name in names:
            instances.delete_instance(state_dir, name, info.ovs_connection)
        for port in ok(client.get("/ports", params={"network_id": net["id"]}))["ports"]:
            client.delete(f"/ports/{port['id']}")
        client.delete(f"/networks/{net['id']}")
        client.delete(f"/security-groups/{web['id']}")


def nb_rule_acls(nb, rule_ids: set[str]) -> int:
    """How many of the rules have their ACL in the NB replica."""
    return sum(1 for acl in list(nb.tables["ACL"].rows.values())
               if acl.external_ids.get("neutron:security_group_rule_id") in rule_ids)


def nb_rules(client: httpx.Client, nb, args) -> dict:
    """Create groups and rules through the API; wait until the NB has an ACL for each."""
    run = uuid.uuid4().hex[:6]
    groups = [ok(client.post("/security-groups", json={"security_group": {
        "name": f"realize-{run}-{i}"}}))["security_group"]["id"] for i in range(args.groups)]
    rule_ids: set[str] = set()
    try:
        def make_rule(i: int) -> None:
            group, port = groups[i // args.rules_per_group], 1000 + i % args.rules_per_group
            rule = ok(client.post("/security-group-rules", json={"security_group_rule": {
                "security_group_id": group, "direction": "ingress", "protocol": "tcp",
                "port_range_min": port, "port_range_max": port,
                "remote_ip_prefix": "10.0.0.0/8"}}))["security_group_rule"]
            rule_ids.add(rule["id"])

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(make_rule, range(args.groups * args.rules_per_group)))
        api_done = time.perf_counter()
        deadline = api_done + 120
        while (have := nb_rule_acls(nb, rule_ids)) < len(rule_ids):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"NB did not converge: {have} of {len(rule_ids)} ACLs")
            time.sleep(0.01)
        converged = time.perf_counter()
        return {"groups": args.groups, "rules": len(rule_ids),
                "api_seconds": round(api_done - t0, 3),
                "converged_seconds": round(converged - t0, 3),
                "lag_after_last_call_seconds": round(converged - api_done, 3)}
    finally:
        log(f"deleting {len(groups)} security groups")
        for group in groups:
            client.delete(f"/security-groups/{group}")


def gateway_failover(client: httpx.Client, info: RuntimeInfo, state_dir: Path, args) -> dict:
    """Kill the active gateway chassis under traffic, ``args.failovers`` times."""
    lab = info.fleet()
    home = next(c for c in lab if c.compute and not c.gateway)
    settings = Settings(state_dir=state_dir)
    upstream, public, _ = commands.external_create(state_dir)
    net = ok(client.post("/networks", json={"network": {"name": "realize-ha"}}))["network"]
    subnet = ok(client.post("/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.196.0.0/24"}}))["subnet"]
    router = ok(client.post("/routers", json={"router": {
        "name": "realize-ha", "external_gateway_info": {"network_id": public["id"]}}}))["router"]
    name, fip, rounds, back = f"rz{uuid.uuid4().hex[:6]}", None, [], []
    try:
        ok(client.put(f"/routers/{router['id']}/add_router_interface",
                      json={"subnet_id": subnet["id"]}))
        sg = ok(client.post("/security-groups", json={"security_group": {
            "name": f"realize-ha-{name}"}}))["security_group"]
        ok(client.post("/security-group-rules", json={"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "protocol": "icmp"}}))
        port = ok(client.post("/ports", json={"port": {
            "network_id": net["id"], "name": name, "device_owner": "compute:lab",
            "device_id": str(uuid.uuid4()), "binding:host_id": home.name,
            "security_groups": [sg["id"]]}}))["port"]
        inst = instances.boot_instance(state_dir, name, port, home.netns, home.ovs_connection)
        fip = ok(client.post("/floatingips", json={"floatingip": {
            "floating_network_id": public["id"], "port_id": port["id"]}}))["floatingip"]
        [gw] = ok(client.get("/ports", params={"device_id": router["id"],
                                               "device_owner": "network:router_gateway"}))["ports"]
        probes = [(upstream.netns, fip["floating_ip_address"]),
                  (inst.netns, upstream.outside_ips[0])]
        work = state_dir / "lab" / "bench-failover"
        for i in range(args.failovers):
            active = wait_until(lambda: failover.active_gateway(info.sb_connection, gw["id"]),
                                30, "a chassis to claim the router's gateway")
            outages = failover.measure(lambda: runtime.kill_chassis(settings, active), probes,
                                       work / f"kill-{i}")
            log(f"  round {i + 1}: {active} killed, outage {outages[0]:.2f} s (outside->FIP), "
                f"{outages[1]:.2f} s (instance->outside)")
            rounds.append(max(outages))
            back.append(max(failover.measure(lambda: runtime.revive_chassis(settings, active),
                                             probes, work / f"back-{i}")))
        return {"kill_outage_seconds": percentiles(rounds),
                "return_outage_seconds": percentiles(back), "target_seconds": 3.0}
    finally:
        instances.delete_instance(state_dir, name, home.ovs_connection)
        delete_routed_network(client, fip, router, subnet, net)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/neutrino"))
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--networks", type=int, default=200)
    parser.add_argument("--ports-per-network", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fips", type=int, default=20)
    parser.add_argument("--rule-rounds", type=int, default=20)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--rules-per-group", type=int, default=10)
    parser.add_argument("--failovers", type=int, default=5)
    args = parser.parse_args()
    info = RuntimeInfo.load(args.state_dir)
    if info is None:
        log(f"no neutrino up is running with state dir {args.state_dir}")
        return 2
    nb = idl.nb_api(info.nb_connection)
    result = {}
    with httpx.Client(base_url=info.api_url + "/v2.0", timeout=60) as client:
        ok(client.put("/quotas/admin", json={"quota": {
            "network": -1, "subnet": -1, "port": -1, "security_group": -1,
            "security_group_rule": -1}}))
        log(f"NB convergence: {args.networks} networks x {args.ports_per_network} ports")
        result["nb_convergence"] = nb_convergence(client, nb, args)
        log(f"port create -> DHCP lease, {args.boots} boots")
        result["port_to_lease_seconds"] = port_to_lease(client, info, args.state_dir, args)
        log(f"floating IP association -> reply from the outside host, {args.fips} rounds")
        result["fip_to_reply_seconds"] = fip_to_reply(client, info, args.state_dir, args)
        log(f"security group rule create -> first accepted connection, {args.rule_rounds} rounds")
        result["rule_to_connection_seconds"] = rule_to_connection(client, info, args.state_dir,
                                                                  args)
        log(f"NB absorbing {args.groups * args.rules_per_group} rules in {args.groups} groups")
        result["nb_rules"] = nb_rules(client, nb, args)
        lab = info.fleet()
        if len(lab) > 1:
            log(f"port create -> DHCP lease on the second chassis, {args.boots} boots")
            result["port_to_lease_second_chassis_seconds"] = port_to_lease(
                client, info, args.state_dir, args, chassis=lab[1])
        if sum(c.gateway for c in lab) > 1 and any(c.compute and not c.gateway for c in lab):
            log(f"gateway failover, {args.failovers} rounds")
            result["gateway_failover"] = gateway_failover(client, info, args.state_dir, args)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

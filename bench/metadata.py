"""The metadata path's speed and the agent's memory, measured on a running ``neutrino up``.

    python bench/metadata.py [--state-dir /var/lib/neutrino] [--clients 1,8,32]
        [--seconds 5] [--path /openstack/latest/meta_data.json] [--networks 1,50,200]
        [--new-connections N] [--pin CPUS] [--skip-requests] [--skip-memory]

Figures, printed as one JSON document on stdout (progress on stderr):

1. ``requests``: a lab instance (a namespace with a DHCP lease, its metadata
   registered, as ``neutrino lab boot`` makes it) asks ``http://169.254.169.254<path>``
   as fast as it can with 1, 8 and 32 concurrent clients, each on one keep-alive
   connection, for ``--seconds`` each (after a 0.5 s warm-up): requests per second
   and p50/p99/max latency in ms, through the whole namespace path (instance ->
   OVN -> the network's ``ovnmeta-`` namespace -> agent -> service -> back; the
   agent repeats the service's answer while the service's own copy of the instance is
   fresh, ``metadata_cache_seconds``, so most requests end at the agent). Only
   200s count; anything else is an error. ``--new-connections N`` adds a run of N
   clients opening a connection per request (as curl or busybox wget do); it is off
   by default because OVS 3.1.0's userspace conntrack (``datapath_type=netdev``)
   can abort ovs-vswitchd under such churn ("conntrack.c:1063: assertion
   conn->conn_type == CT_CONN_TYPE_DEFAULT failed"), which ends the lab's dataplane.
   The load generator is one uvloop event loop of raw ``asyncio.Protocol`` connections
   (a request is one write, a response one buffer scan: ~15 us of its CPU), started
   with ``ip netns exec`` inside the instance (``--pin CPUS``: under ``taskset -c``).
   It is not the bottleneck when (a) its own CPU use (``client_cpu``, in cores) stays
   well under one core, beside ``neutrino up``'s (``server_cpu``: API, controller and
   the metadata service), the metadata agent's own process (``agent_cpu``; the run
   stops if the agent is not a process of its own, as in production) and
   ovs-vswitchd's (``datapath_cpu``), and (b) ``generator_ceiling``: the same
   generator with 32 clients against a trivial HTTP server in the same namespace
   (127.0.0.1, a separate process) makes several times the rate. Each run also
   gives the machine's 1-minute load average at its end (``loadavg_1m``): on a
   shared machine, other work takes CPU from every hop of the path.
2. ``memory``: the resident memory (VmRSS) of the ``neutrino up`` process plus the
   chassis' metadata agent process, with 1, 50 and 200 networks served: each network
   gets a /24 subnet and a port, RSS is read (``unbound``), then a lab namespace is plugged in for
   each port (bound to the chassis: the agent makes the network's ``ovnmeta-``
   namespace, veth, OVS port and listening sockets) and RSS is read again once every
   port is ACTIVE (ACTIVE waits for the agent to listen). ``kb_per_network`` is the
   growth from 1 to the largest count, per network added, in all (``total``: API,
   database, OVN replicas, northbound sync and agent) and split into what creating
   the networks cost (``control_plane``) and what binding a port on each cost
   (``agent``).

Targets (2 cores, issue 22): p99 < 5 ms and >= 5,000 requests/s at 32 clients; < 50 KB
per network. (With 32 clients each waiting for its answer, the mean latency is 32 / rate
(Little's law): p99 < 5 ms needs well over 6,400 requests/s.)
Everything the run creates is deleted at the end, also on failure.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from neutrino.lab import commands, fleet, instances
from neutrino.lab.runtime import RuntimeInfo

# The load generator, run inside the instance: argv host port path clients seconds mode
# (keepalive|close). Prints JSON: requests, errors, seconds, latencies (ms) summary,
# and its own CPU seconds.
LOADGEN = r"""
import asyncio, json, os, sys, time
try:
    import uvloop
except ImportError:
    uvloop = None
host, port, path, clients, seconds, mode = sys.argv[1:7]
port, clients, seconds = int(port), int(clients), float(seconds)
close = mode == "close"
request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: neutrino-bench\r\n"
           + ("Connection: close\r\n" if close else "") + "\r\n").encode()


class Conn(asyncio.Protocol):
    # One connection; ask() sends the request and returns the response's status once
    # its whole body (Content-Length framed) has arrived.
    def connection_made(self, transport):
        self.transport, self.buf, self.need, self.waiter = transport, bytearray(), 0, None

    def data_received(self, data):
        self.buf += data
        if self.waiter is None:
            return
        if not self.need:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in bytes(self.buf[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            self.need = end + 4 + length
        if len(self.buf) >= self.need:
            status = int(self.buf[9:12])
            del self.buf[:self.need]
            self.need, waiter, self.waiter = 0, self.waiter, None
            waiter.set_result(status)

    def connection_lost(self, exc):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed before a whole response"))

    def ask(self):
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter


async def client(start, stop, latencies, errors):
    loop = asyncio.get_running_loop()
    conn = None
    while True:
        t0 = time.perf_counter()
        if t0 >= stop:
            break
        try:
            if conn is None or conn.transport.is_closing():
                _, conn = await loop.create_connection(Conn, host, port)
            status = await conn.ask()
            if close:
                conn.transport.close()
                conn = None
        except (OSError, ValueError) as exc:
            status = repr(exc)
            if conn is not None:
                conn.transport.close()
            conn = None
        t1 = time.perf_counter()
        if t0 >= start:
            if status == 200:
                latencies.append(t1 - t0)
            else:
                errors.append(str(status))
    if conn is not None:
        conn.transport.close()


async def main():
    latencies, errors = [], []
    start = time.perf_counter() + 0.5  # warm-up: connections made, caches filled
    stop = start + seconds
    cpu0 = os.times()
    tasks = [asyncio.ensure_future(client(start, stop, latencies, errors))
             for _ in range(clients)]
    done, pending = await asyncio.wait(tasks, timeout=seconds + 5.5)
    for task in pending:  # a request that never got its answer
        task.cancel()
        errors.append("timeout")
    cpu1 = os.times()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 \
        if latencies else None
    print(json.dumps({
        "requests": len(latencies), "errors": len(errors), "error_sample": errors[:3],
        "seconds": seconds, "rps": round(len(latencies) / seconds),
        "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0),
        "client_cpu_seconds": round(cpu1.user + cpu1.system - cpu0.user - cpu0.system, 3)}))

(uvloop.run if uvloop is not None else asyncio.run)(main())
"""
# A trivial HTTP/1.1 server for the generator's ceiling: argv port. Prints "ready".
STUB = r"""
import asyncio, sys
try:
    import uvloop
except ImportError:
    uvloop = None
BODY = b'{"uuid": "00000000-0000-0000-0000-000000000000"}'
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(BODY), BODY))


class Serve(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buf = transport, b""

    def data_received(self, data):
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            self.transport.write(RESPONSE)
            if b"connection: close" in head.lower():
                self.transport.close()
                return


async def main():
    server = await asyncio.get_running_loop().create_server(Serve, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()

(uvloop.run if uvloop is not None else asyncio.run)(main())
"""
STUB_PORT = 8089


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ok(resp: httpx.Response) -> dict:
    if resp.status_code >= 400:
        raise RuntimeError(f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text}")
    return resp.json() if resp.content else {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), proc(5)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """VmRSS of process ``pid`` in KiB, proc(5)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def settled_rss_kb(pids: list[int], seconds: float = 3.0) -> int:
    """RSS of ``pids`` together after ``seconds`` of quiet, the median of five
    readings 0.2 s apart."""
    time.sleep(seconds)
    samples = []
    for _ in range(5):
        samples.append(sum(rss_kb(pid) for pid in pids))
        time.sleep(0.2)
    return int(statistics.median(samples))


def wait_active(client: httpx.Client, port_ids: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        ports = ok(client.get("/ports", params={"device_owner": commands.DEVICE_OWNER,
                                                "fields": ["id", "status"]}))["ports"]
        waiting = port_ids - {p["id"] for p in ports if p["status"] == "ACTIVE"}
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(waiting)} port(s) not ACTIVE after {timeout} s")
        time.sleep(0.2)


class Made:
    """What the run created, to delete at the end whatever happens."""

    def __init__(self, state_dir: Path, info: RuntimeInfo) -> None:
        self.state_dir, self.info = state_dir, info
        self.networks: list[str] = []
        self.instances: list[str] = []
        self.registered: list[str] = []

    def cleanup(self, client: httpx.Client) -> None:
        log(f"deleting {len(self.instances)} lab instance(s) and {len(self.networks)} network(s)")
        for name in self.instances:
            try:
                instances.delete_instance(self.state_dir, name, self.info.ovs_connection)
            except Exception as exc:  # noqa: BLE001 - clean up the rest
                log(f"  instance {name}: {exc}")
        for instance_id in self.registered:
            client.delete(f"/instances/{instance_id}")
        for net_id in self.networks:
            try:
                for port in ok(client.get("/ports", params={"network_id": net_id,
                                                            "device_owner": commands.DEVICE_OWNER}))["ports"]:
                    client.delete(f"/ports/{port['id']}")
                client.delete(f"/networks/{net_id}")
            except Exception as exc:  # noqa: BLE001
                log(f"  network {net_id}: {exc}")


def add_network(client: httpx.Client, made: Made, index: int) -> dict:
    """A network with a /24 (10.160.0.0/24 + index) and one lab port on it (unbound)."""
    net = ok(client.post("/networks", json={"network": {"name": f"mdbench-{index}"}}))["network"]
    made.networks.append(net["id"])
    ok(client.post("/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4,
        "cidr": f"10.{160 + index // 256}.{index % 256}.0/24"}}))
    return ok(client.post("/ports", json={"port": {
        "network_id": net["id"], "name": f"mdbench-{index}", "device_owner": commands.DEVICE_OWNER,
        "device_id": str(uuid.uuid4())}}))["port"]


def bind(made: Made, port: dict) -> instances.Instance:
    """A lab namespace on ``port`` (plugged into br-int, leased): the port is bound here."""
    name = f"mb{uuid.uuid4().hex[:8]}"
    made.instances.append(name)
    return instances.boot_instance(made.state_dir, name, port, made.info.chassis_netns,
                                   made.info.ovs_connection)


def vswitchd_pid(info: RuntimeInfo) -> int | None:
    """ovs-vswitchd of the all-in-one's chassis (its pid file sits beside the chassis'
    ``db.sock``, lab/daemons.py), or None."""
    if not info.ovs_connection.startswith("unix:"):
        return None
    try:
        return int((Path(info.ovs_connection[5:]).parent / "ovs-vswitchd.pid").read_text())
    except (OSError, ValueError):
        return None


def load(inst: instances.Instance, pid: int, path: str, clients: int, seconds: float,
         mode: str = "keepalive", host: str = "169.254.169.254", port: int = 80,
         datapath_pid: int | None = None, agent: int | None = None,
         pin: str | None = None) -> dict:
    """Run the load generator in ``inst`` (on CPUs ``pin``, taskset(1)'s list, if
    given); its figures plus the CPU use (fraction of one core) of ``neutrino up``
    (``pid``: API, controller and the metadata service), the metadata agent's own
    process (``agent``) and ovs-vswitchd (``datapath_pid``), and the machine's 1-minute
    load average at the end."""
    cpu0 = cpu_seconds(pid) if pid else 0.0
    dp0 = cpu_seconds(datapath_pid) if datapath_pid else 0.0
    agent0 = cpu_seconds(agent) if agent else 0.0
    argv = ["ip", "netns", "exec", inst.netns, sys.executable, "-c", LOADGEN,
            host, str(port), path, str(clients), str(seconds), mode]
    if pin:
        argv = ["taskset", "-c", pin, *argv]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"load generator failed: {res.stderr}")
    out = json.loads(res.stdout)
    wall = seconds + 0.5
    out["client_cpu"] = round(out.pop("client_cpu_seconds") / wall, 2)
    if pid:
        out["server_cpu"] = round((cpu_seconds(pid) - cpu0) / wall, 2)
    if agent:
        out["agent_cpu"] = round((cpu_seconds(agent) - agent0) / wall, 2)
    if datapath_pid:
        if not Path(f"/proc/{datapath_pid}").exists():
            raise RuntimeError(f"ovs-vswitchd (pid {datapath_pid}) died during the run: "
                               "see the chassis' ovs-vswitchd.log")
        out["datapath_cpu"] = round((cpu_seconds(datapath_pid) - dp0) / wall, 2)
    out["loadavg_1m"] = os.getloadavg()[0]
    return {"clients": clients, "mode": mode, **out}


def agent_of(info: RuntimeInfo) -> int | None:
    """The pid of the first chassis' metadata agent process, or None."""
    return fleet.agent_pid(info.chassis_of(info.chassis_name)) if info.chassis else None


def requests_figures(client: httpx.Client, made: Made, info: RuntimeInfo, args) -> dict:
    net = ok(client.post("/networks", json={"network": {"name": "mdbench-load"}}))["network"]
    made.networks.append(net["id"])
    ok(client.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                "cidr": "10.159.0.0/24"}}))
    name = f"mb{uuid.uuid4().hex[:8]}"
    made.instances.append(name)
    inst = commands.boot(args.state_dir, name, net["id"], keys=[("bench", "ssh-ed25519 AAAAbench")],
                         user_data=b"#cloud-config\n")
    made.registered.append(ok(client.get(f"/ports/{inst.port_id}"))["port"]["device_id"])
    wait_active(client, {inst.port_id}, 30)
    result: dict = {"path": args.path, "runs": []}
    datapath = vswitchd_pid(info)
    agent = agent_of(info)
    if agent is None:
        raise RuntimeError("no metadata agent process runs for the chassis")
    if agent == info.pid:
        raise RuntimeError("the metadata agent runs inside neutrino up, not in its own process")
    result["agent_pid"], result["server_pid"] = agent, info.pid
    for clients in args.clients:
        log(f"{clients} client(s), keep-alive, {args.seconds} s")
        result["runs"].append(load(inst, info.pid, args.path, clients, args.seconds,
                                   datapath_pid=datapath, agent=agent, pin=args.pin))
    if args.new_connections:
        log(f"{args.new_connections} client(s), a connection per request, {args.seconds} s")
        result["runs"].append(load(inst, info.pid, args.path, args.new_connections,
                                   args.seconds, "close", datapath_pid=datapath, agent=agent,
                                   pin=args.pin))
    stub = subprocess.Popen(["ip", "netns", "exec", inst.netns, sys.executable, "-c", STUB,
                             str(STUB_PORT)], stdout=subprocess.PIPE, text=True)
    try:
        if stub.stdout.readline().strip() != "ready":
            raise RuntimeError("the stub server did not start")
        log(f"generator ceiling: 32 clients against a stub in the namespace, {args.seconds} s")
        result["generator_ceiling"] = load(inst, 0, args.path, 32, args.seconds,
                                           host="127.0.0.1", port=STUB_PORT, pin=args.pin)
    finally:
        stub.terminate()
        stub.wait()
    return result


def memory_figures(client: httpx.Client, made: Made, info: RuntimeInfo, args) -> dict:
    points = []
    ports: list[dict] = []
    bound: set[str] = set()
    pids = [info.pid, *([agent] if (agent := agent_of(info)) else [])]
    for count in args.networks:
        log(f"{count} network(s): creating")
        while len(ports) < count:
            ports.append(add_network(client, made, len(ports)))
        unbound_kb = settled_rss_kb(pids)
        log(f"{count} network(s): binding a port on each")
        for port in ports:
            if port["id"] not in bound:
                bind(made, port)
                bound.add(port["id"])
        wait_active(client, bound, 60 + count)
        listed = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                    check=True).stdout.split())
        served = sum(1 for port in ports if f"ovnmeta-{port['network_id']}" in listed)
        points.append({"networks": count, "ovnmeta_namespaces": served,
                       "rss_unbound_kb": unbound_kb, "rss_kb": settled_rss_kb(pids)})
        log(f"  {points[-1]}")
    first, last = points[0], points[-1]
    added = last["networks"] - first["networks"]
    result: dict = {"points": points}
    if added > 0:
        total = (last["rss_kb"] - first["rss_kb"]) / added
        control = sum(b["rss_unbound_kb"] - a["rss_kb"] for a, b in itertools.pairwise(points)) / added
        result["kb_per_network"] = {"total": round(total, 1), "control_plane": round(control, 1),
                                    "agent": round(total - control, 1)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/neutrino"))
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--path", default="/openstack/latest/meta_data.json")
    parser.add_argument("--networks", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 50, 200])
    parser.add_argument("--new-connections", type=int, default=0, metavar="CLIENTS",
                        help="also CLIENTS clients with a connection per request")
    parser.add_argument("--pin", metavar="CPUS",
                        help="run the load generator on these CPUs only (taskset -c CPUS)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-requests", action="store_true")
    args = parser.parse_args()
    info = RuntimeInfo.load(args.state_dir)
    if info is None:
        log(f"no neutrino up is running with state dir {args.state_dir}")
        return 2
    made = Made(args.state_dir, info)
    result: dict = {}
    with httpx.Client(base_url=info.api_url + "/v2.0", timeout=60) as client:
        try:
            ok(client.put("/quotas/admin", json={"quota": {"network": -1, "subnet": -1,
                                                           "port": -1}}))
            if not args.skip_requests:
                result["requests"] = requests_figures(client, made, info, args)
            if not args.skip_memory:
                result["memory"] = memory_figures(client, made, info, args)
        finally:
            made.cleanup(client)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

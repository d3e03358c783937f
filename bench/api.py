#!/usr/bin/env python3
"""Benchmark a Neutron-compatible endpoint (OpenStack Networking API v2.0).

Only the public HTTP API is used, so this runs against neutrino or any Neutron.
Steps (all latencies in milliseconds: count/min/mean/p50/p95/max):

1. create a network and a /16 IPv4 subnet (one timed call each);
2. create --ports ports one after the other;
3. create --ports ports from --concurrency threads (one keep-alive connection
   each), report ports/s, and check that every port of the run got an IP and
   that no IP was handed out twice;
4. top the network up to --list ports, then time GET /v2.0/ports?network_id=...
   plain, with fields=id&fields=fixed_ips, and with a device_owner filter;
   each listing must return all the ports;
5. time GET /v2.0/network-ip-availabilities/<net> and check used_ips;
6. delete the ports (concurrently, timed), the subnet and the network; this
   also happens after an error or Ctrl-C.

Run:
    python bench/api.py --endpoint http://127.0.0.1:9696 [--project-id P]
        [--token T] [--ports 500] [--concurrency 8] [--list 1000]

Without --token, neutrino's noauth headers are sent (X-Project-Id and
X-Roles: admin,member). Progress goes to stderr, one JSON document to stdout.
Exit status: 0 all good, 1 a check failed (duplicate/missing IPs, short
listing, wrong used_ips), 2 an API error or interruption.
Against a real Neutron: the project's port quota (default 500) must allow
2 * --ports (and --list) ports, and network-ip-availabilities needs admin.
"""
import argparse
import json
import math
import queue
import sys
import threading
import time
import uuid

import httpx

DEFAULT_PROJECT = uuid.uuid5(uuid.NAMESPACE_DNS, "neutrino-bench").hex
OWNER = "bench"  # device_owner of every port we create (used as a list filter)


def log(msg):
    """Print one progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def make_client(args):
    """Return a keep-alive httpx.Client carrying this run's auth headers."""
    if args.token:
        headers = {"X-Auth-Token": args.token}
    else:
        headers = {"X-Project-Id": args.project_id, "X-Roles": "admin,member"}
    return httpx.Client(base_url=args.base, headers=headers, timeout=args.timeout)


def call(client, method, path, expect, body=None, params=None):
    """Send one request; return (latency_ms, JSON body or None); raise unless status in expect."""
    t0 = time.perf_counter()
    r = client.request(method, path, json=body, params=params)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code not in (expect if isinstance(expect, tuple) else (expect,)):
        raise RuntimeError(f"{method} {path} -> {r.status_code}, expected {expect}: {r.text[:300]}")
    return ms, (r.json() if r.content else None)


def create(client, kind, **attrs):
    """POST /v2.0/<kind>s with the given attributes; return (latency_ms, created resource)."""
    ms, data = call(client, "POST", f"/v2.0/{kind}s", 201, {kind: attrs})
    return ms, data[kind]


def stats(samples, wall=None):
    """Summarise latencies in ms; with `wall` (seconds) add ports_per_second."""
    s = sorted(samples)
    out = {"count": len(s)}
    if s:
        pick = lambda p: s[max(0, math.ceil(p / 100 * len(s)) - 1)]
        out.update(p50=pick(50), p95=pick(95), min=s[0], max=s[-1], mean=sum(s) / len(s))
        out = {k: round(v, 3) for k, v in out.items()}
    if wall:
        out.update(wall_s=round(wall, 3), ports_per_second=round(len(s) / wall, 1))
    return out


def run_pool(args, items, fn):
    """Run fn(client, item) for all items on args.concurrency threads, each with its own client.

    Returns (results, wall seconds). The first error (or Ctrl-C) stops all threads and is
    re-raised once the requests in flight have finished."""
    todo, results, errors, stop = queue.SimpleQueue(), [], [], threading.Event()
    for item in items:
        todo.put(item)

    def worker():
        with make_client(args) as client:
            while not stop.is_set():
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results.append(fn(client, item))
                except Exception as exc:
                    errors.append(exc)
                    stop.set()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    finally:
        stop.set()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return results, time.perf_counter() - t0


class Bench:
    """One benchmark run: the resources it created and the figures it measured."""

    def __init__(self, args):
        self.args = args
        self.run_id = "bench-" + uuid.uuid4().hex[:8]
        self.client = make_client(args)
        self.net = self.subnet = self.old_port_quota = None
        self.ports = {}  # port id -> its IP addresses, from the create answers
        self.steps, self.checks, self.failures = {}, {}, []  # report parts

    def create_port(self, client, i):
        """Create port number i on the bench network; return the latency (ms)."""
        ms, port = create(client, "port", network_id=self.net, name=f"{self.run_id}-{i}",
                          device_owner=OWNER)
        fixed_ips = port.get("fixed_ips") or []
        self.ports[port["id"]] = [f["ip_address"] for f in fixed_ips if f.get("ip_address")]
        return ms

    def repeat(self, n, path, params=None):
        """GET path n times; return (latencies in ms, last decoded body)."""
        lat = []
        for _ in range(n):
            ms, d = call(self.client, "GET", path, 200, params=params)
            lat.append(ms)
        return lat, d

    def check_ips(self):
        """Count duplicate IPs and IP-less ports among all ports created by the run."""
        ips = [ip for v in self.ports.values() for ip in v]
        dup, without = len(ips) - len(set(ips)), sum(1 for v in self.ports.values() if not v)
        self.checks = {"ports_created": len(self.ports), "duplicate_ips": dup,
                       "ports_without_ip": without}
        if dup or without:
            self.failures.append(f"{dup} duplicate IPs, {without} ports without IP")

    def run(self):
        """Steps 1-5 (see the module docstring); step 6 is cleanup()."""
        a, steps = self.args, self.steps
        # +1: the network's metadata port (device_owner network:distributed) counts too
        self.raise_port_quota(max(2 * a.ports, a.list) + 1)
        log(f"run {self.run_id}: network + subnet {a.cidr}")
        ms, net = create(self.client, "network", name=f"{self.run_id}-net")
        self.net, steps["network_create"] = net["id"], stats([ms])
        ms, subnet = create(self.client, "subnet", network_id=self.net, ip_version=4,
                            cidr=a.cidr, name=f"{self.run_id}-subnet")
        self.subnet, steps["subnet_create"] = subnet["id"], stats([ms])

        log(f"{a.ports} sequential port creates")
        t0 = time.perf_counter()
        lat = [self.create_port(self.client, i) for i in range(a.ports)]
        steps["port_create_sequential"] = stats(lat, time.perf_counter() - t0)
        log(f"{a.ports} port creates from {a.concurrency} clients")
        lat, wall = run_pool(a, range(a.ports, 2 * a.ports), self.create_port)
        steps["port_create_concurrent"] = stats(lat, wall)

        if a.list > len(self.ports):
            n = len(self.ports)
            log(f"top-up: {a.list - n} more ports")
            lat, wall = run_pool(a, range(n, a.list), self.create_port)
            steps["port_create_topup"] = stats(lat, wall)

        net = [("network_id", self.net)]
        variants = {"port_list": net,
                    "port_list_fields": net + [("fields", "id"), ("fields", "fixed_ips")],
                    "port_list_filtered": [("device_owner", OWNER)] + net}
        listed = None
        for name, params in variants.items():
            log(f"{name}: {a.list_repeat} x GET /v2.0/ports?{httpx.QueryParams(params)}")
            lat, d = self.repeat(a.list_repeat, "/v2.0/ports", params)
            listed = listed or d["ports"]  # the unfiltered listing
            n = len(d["ports"])
            steps[name] = {**stats(lat), "items": n}
            if n < len(self.ports):
                self.failures.append(f"{name} returned {n} ports, expected >= {len(self.ports)}")

        # used_ips counts every IP in the subnet: ours plus e.g. an OVN metadata port's.
        ours = sum(len(v) for v in self.ports.values())
        others = sum(1 for p in listed if p["id"] not in self.ports
                     for f in p.get("fixed_ips") or [] if f.get("subnet_id") == self.subnet)
        path = f"/v2.0/network-ip-availabilities/{self.net}"
        log(f"{a.avail_repeat} x GET {path}")
        lat, d = self.repeat(a.avail_repeat, path)
        used = d["network_ip_availability"]["used_ips"]
        steps["ip_availability"] = {**stats(lat), "used_ips": used, "other_ips": others,
                                    "expected_used_ips": ours + others,
                                    "total_ips": d["network_ip_availability"]["total_ips"]}
        if used != ours + others:
            self.failures.append(f"used_ips is {used}, expected {ours} (ours) + {others} (others)")

    def raise_port_quota(self, needed):
        """Make the project's port quota allow ``needed`` ports (admin only; a
        refusal is logged and the run goes on). The old limit is restored by cleanup()."""
        project = self.args.project_id
        if not project:
            return
        try:
            _, d = call(self.client, "GET", f"/v2.0/quotas/{project}", 200)
            limit = d["quota"]["port"]
            if 0 <= limit < needed:
                call(self.client, "PUT", f"/v2.0/quotas/{project}", 200,
                     body={"quota": {"port": needed}})
                self.old_port_quota = limit
        except Exception as exc:  # the run may still fit; say why it might not
            log(f"could not raise the port quota to {needed}: {exc}")

    def cleanup(self):
        """Delete every port (concurrently), then the subnet and the network;
        put the port quota back."""
        if self.net is not None:
            self.delete_created()
        if self.old_port_quota is not None:
            call(self.client, "PUT", f"/v2.0/quotas/{self.args.project_id}", 200,
                 body={"quota": {"port": self.old_port_quota}})

    def delete_created(self):
        ids = set(self.ports)
        try:  # also catch ports whose create answer we never saw (timeout, Ctrl-C)
            params = [("network_id", self.net), ("device_owner", OWNER), ("fields", "id")]
            ports = call(self.client, "GET", "/v2.0/ports", 200, None, params)[1]["ports"]
            ids |= {p["id"] for p in ports}
        except Exception as exc:
            log(f"cleanup: could not list leftover ports: {exc}")
        log(f"cleanup: deleting {len(ids)} ports, subnet, network")

        def delete(client, pid):
            try:
                return call(client, "DELETE", f"/v2.0/ports/{pid}", (204, 404))[0]
            except Exception as exc:  # keep deleting the rest
                log(f"cleanup: port {pid}: {exc}")

        lat, wall = run_pool(self.args, sorted(ids), delete)
        self.steps["port_delete"] = stats([ms for ms in lat if ms is not None], wall)
        for kind, rid in (("subnet", self.subnet), ("network", self.net)):
            if rid:
                ms = call(self.client, "DELETE", f"/v2.0/{kind}s/{rid}", (204, 404))[0]
                self.steps[f"{kind}_delete"] = stats([ms])


def parse_args(argv=None):
    """Parse the command line; derive args.base (endpoint without /v2.0)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", required=True, help="e.g. http://127.0.0.1:9696")
    p.add_argument("--project-id", default=DEFAULT_PROJECT, help="noauth project")
    p.add_argument("--token", help="Keystone token, sent as X-Auth-Token")
    p.add_argument("--ports", type=int, default=500, help="ports per create step")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--list", type=int, default=1000, help="ports on the network when listing")
    p.add_argument("--cidr", default="10.96.0.0/16")
    p.add_argument("--list-repeat", type=int, default=20)
    p.add_argument("--avail-repeat", type=int, default=50)
    p.add_argument("--timeout", type=float, default=60.0, help="per-request timeout (s)")
    args = p.parse_args(argv)
    args.base = args.endpoint.rstrip("/").removesuffix("/v2.0")
    return args


def main(argv=None):
    """Run the benchmark, print the JSON report, return the exit status."""
    args = parse_args(argv)
    bench, error = Bench(args), None
    try:
        bench.run()
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            bench.cleanup()
        except BaseException as exc:
            error = error or f"cleanup failed: {type(exc).__name__}: {exc}"
            log(f"cleanup failed, network {bench.net} may be left behind: {exc}")
        bench.client.close()
    bench.check_ips()
    log(f"ip check: {bench.checks}")
    for f in ([f"error: {error}"] if error else []) + bench.failures:
        log(f"FAILED: {f}")
    config = ("ports", "concurrency", "list", "cidr", "list_repeat", "avail_repeat")
    report = {"run_id": bench.run_id, "endpoint": args.base,
              "project_id": None if args.token else args.project_id,
              "config": {k: getattr(args, k) for k in config},
              "steps": bench.steps, "checks": bench.checks, "failures": bench.failures,
              "error": error, "ok": not error and not bench.failures}
    print(json.dumps(report, indent=2))
    return 2 if error else 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())

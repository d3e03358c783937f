#!/usr/bin/env python3
"""Soak: steady churn against a running ``neutrino up``, watching for leaks and drift.

    python bench/soak.py --state-dir DIR [--minutes 30] [--clients 8] [--rate 4]
        [--live 5] [--interval 60] [--warmup 5] [--endpoint URL]

Setup: a flat external network (``physnet1``) with a subnet, a base network with a
/16 subnet behind a router with its gateway on the external network, and a
security group per client. Then ``--clients`` threads (one keep-alive connection
each) together start ``--rate`` operations per second, at a steady pace, for
``--minutes``. Each operation creates one resource of the next kind, in turn:

* ``port`` on the base network;
* ``router`` with its gateway on the external network and an interface (a port of
  the base network) — created as Nova's and Octavia's routers are;
* ``floatingip`` on the external network, associated with a new port of its own;
* ``security_group_rule`` in the client's group;

and, once the client holds more than ``--live`` of that kind, deletes its oldest
(with what it brought: the interface, the floating IP's port). So the cloud's size
stays steady while everything is created and deleted all the time.

Every ``--interval`` seconds (and at the start and the end) one sample: RSS (MiB)
and open fds of each process of the ``neutrino up`` tree, the SQLite database's
bytes (with its WAL), the NB's rows per table, the NB sync's outbox depth, and the
operations of the interval (count, errors, p50/p95 ms). At the end the clients'
resources are deleted, the NB sync drained and the NB rows compared with the
baseline taken before the churn.

``verdict``: after ``--warmup`` minutes, each series (the ``neutrino up`` process'
RSS and fds, database bytes, NB rows) is flat when its samples stay within 10% of
their median (``spread``) and its drift (last sample against the first after the
warm-up) is under 10%; ``nb_back_to_baseline`` says whether every NB table has the
row count it had before the churn. Progress on stderr, one JSON document on stdout.
Exit 0 when every check holds, 1 when one does not, 2 on an error.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
import threading
import time
import uuid

import httpx
from api import call, log, stats  # bench/api.py

import cloud  # bench/cloud.py

PROJECT = uuid.uuid5(uuid.NAMESPACE_DNS, "neutrino-bench-soak").hex
KINDS = ("port", "router", "floatingip", "security_group_rule")
QUOTAS = ("network", "subnet", "port", "router", "security_group", "security_group_rule",
          "floatingip")
FLAT = 0.10  # a series is flat within 10%


def flatness(values: list[float], limit: float = FLAT) -> dict:
    """How flat a series of samples is: ``{"min", "max", "median", "spread", "drift",
    "flat"}``. ``spread`` is max(|v - median|) / median over all samples, ``drift``
    (last - first) / first; ``flat`` when both stay within ``limit`` (a fraction).
    An empty series is flat with no figures; a zero median or first sample counts
    any change as infinite."""
    if not values:
        return {"flat": True}
    med, first, last = statistics.median(values), values[0], values[-1]

    def ratio(delta: float, base: float) -> float:
        return 0.0 if delta == 0 else (abs(delta) / base if base else float("inf"))

    spread = max(ratio(v - med, med) for v in values)
    drift = ratio(last - first, first) * (1 if last >= first else -1)
    return {"min": min(values), "max": max(values), "median": med,
            "spread": round(spread, 4), "drift": round(drift, 4),
            "flat": spread <= limit and abs(drift) <= limit}


def verdict(samples: list[dict], warmup_s: float, baseline: dict, final: dict) -> dict:
    """The soak's checks from its samples (``Soak.sample``'s dicts, the first at
    t=0): each series after ``warmup_s`` seconds through ``flatness``, and the
    final NB row counts against the baseline."""
    steady = [s for s in samples if s["t"] >= warmup_s] or samples[-1:]
    series = {
        "rss_mb": [s["processes"][0]["rss_mb"] for s in steady if s["processes"]],
        "fds": [s["processes"][0]["fds"] for s in steady if s["processes"]],
        "db_bytes": [s["db_bytes"] for s in steady if s["db_bytes"] is not None],
        "nb_rows": [sum(s["nb_rows"].values()) for s in steady],
    }
    out = {name: flatness(values) for name, values in series.items()}
    diff = {t: [baseline.get(t, 0), final.get(t, 0)] for t in set(baseline) | set(final)
            if baseline.get(t, 0) != final.get(t, 0)}
    out["nb_back_to_baseline"] = not diff
    if diff:
        out["nb_rows_not_back"] = diff
    out["ok"] = all(v["flat"] for v in out.values() if isinstance(v, dict) and "flat" in v) \
        and not diff
    return out


class Client(threading.Thread):
    """One churning client: ``period`` seconds between operation starts, phase-shifted
    by ``offset``; keeps at most ``live`` resources of each kind."""

    def __init__(self, soak: "Soak", n: int, period: float, offset: float) -> None:
        super().__init__(name=f"soak-client-{n}", daemon=True)
        self.soak, self.n, self.period, self.offset = soak, n, period, offset
        self.held = {k: collections.deque() for k in KINDS}
        self.turn = n  # clients start on different kinds
        self.http = soak.new_client()

    def run(self) -> None:
        s = self.soak
        next_at = time.monotonic() + self.offset
        while not s.stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and s.stop.wait(delay):
                break
            next_at += self.period
            kind = KINDS[self.turn % len(KINDS)]
            self.turn += 1
            t0 = time.perf_counter()
            try:
                self.held[kind].append(getattr(self, "create_" + kind)())
                if len(self.held[kind]) > s.args.live:
                    self.delete(kind, self.held[kind].popleft())
                s.record(kind, (time.perf_counter() - t0) * 1000, None)
            except Exception as exc:  # counted; the soak goes on
                s.record(kind, None, f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")

    def post(self, plural: str, singular: str, body: dict) -> dict:
        return call(self.http, "POST", f"/v2.0/{plural}", 201, {singular: body})[1][singular]

    def create_port(self) -> dict:
        return {"port": self.post("ports", "port", {"network_id": self.soak.base_net,
                                                    "name": f"{self.soak.run}-c{self.n}"})["id"]}

    def create_router(self) -> dict:
        r = self.post("routers", "router", {"name": f"{self.soak.run}-c{self.n}",
                                            "external_gateway_info": {
                                                "network_id": self.soak.ext_net}})
        held = {"router": r["id"]}
        port = self.create_port()["port"]
        held["port"] = port
        call(self.http, "PUT", f"/v2.0/routers/{r['id']}/add_router_interface", 200,
             {"port_id": port})
        return held

    def create_floatingip(self) -> dict:
        held = self.create_port()
        held["floatingip"] = self.post("floatingips", "floatingip", {
            "floating_network_id": self.soak.ext_net, "port_id": held["port"]})["id"]
        return held

    def create_security_group_rule(self) -> dict:
        port = 1 + (self.turn * 7919 + self.n) % 65000  # distinct while few are held
        return {"security_group_rule": self.post(
            "security-group-rules", "security_group_rule", {
                "security_group_id": self.soak.groups[self.n], "direction": "ingress",
                "ethertype": "IPv4", "protocol": "tcp", "port_range_min": port,
                "port_range_max": port, "remote_ip_prefix": f"10.{self.n}.0.0/16"})["id"]}

    def delete(self, kind: str, held: dict) -> None:
        """Delete what one operation made, the dependants first."""
        c = self.http
        if "floatingip" in held:
            call(c, "DELETE", f"/v2.0/floatingips/{held['floatingip']}", (204, 404))
        if "router" in held:
            call(c, "PUT", f"/v2.0/routers/{held['router']}/remove_router_interface",
                 (200, 404), {"port_id": held["port"]})
            call(c, "DELETE", f"/v2.0/routers/{held['router']}", (204, 404))
        elif "port" in held:
            call(c, "DELETE", f"/v2.0/ports/{held['port']}", (204, 404))
        if "security_group_rule" in held:
            call(c, "DELETE", f"/v2.0/security-group-rules/{held['security_group_rule']}",
                 (204, 404))

    def cleanup(self) -> None:
        for kind, items in self.held.items():
            while items:
                try:
                    self.delete(kind, items.popleft())
                except Exception as exc:  # noqa: BLE001 - keep deleting the rest
                    log(f"cleanup: {kind}: {exc}")
        self.http.close()


class Soak:
    """The run: setup, clients, samples, teardown."""

    def __init__(self, args, info: dict) -> None:
        self.args, self.info = args, info
        self.run = "soak-" + uuid.uuid4().hex[:6]
        self.http = self.new_client()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.window: list[tuple[str, float | None]] = []  # this interval's operations
        self.errors: list[str] = []
        self.samples: list[dict] = []
        self.ext_net = self.base_net = self.base_subnet = self.router = None
        self.groups: list[str] = []
        self.old_quota = None
        self.t0 = time.monotonic()

    def new_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.args.endpoint, timeout=self.args.timeout, headers={
            "X-Project-Id": self.args.project_id, "X-Roles": "admin,member"})

    def record(self, kind: str, ms: float | None, error: str | None) -> None:
        with self.lock:
            self.window.append((kind, ms))
            if error:
                self.errors.append(error)

    def setup(self) -> None:
        c, a = self.http, self.args
        self.old_quota = cloud.lift_quotas(c, a.project_id, QUOTAS)
        _, n = call(c, "POST", "/v2.0/networks", 201, {"network": {
            "name": f"{self.run}-ext", "router:external": True,
            "provider:network_type": "flat", "provider:physical_network": "physnet1"}})
        self.ext_net = n["network"]["id"]
        call(c, "POST", "/v2.0/subnets", 201, {"subnet": {
            "network_id": self.ext_net, "ip_version": 4, "cidr": "172.31.0.0/16",
            "enable_dhcp": False}})
        _, n = call(c, "POST", "/v2.0/networks", 201, {"network": {"name": f"{self.run}-base"}})
        self.base_net = n["network"]["id"]
        _, s = call(c, "POST", "/v2.0/subnets", 201, {"subnet": {
            "network_id": self.base_net, "ip_version": 4, "cidr": "10.200.0.0/16"}})
        self.base_subnet = s["subnet"]["id"]
        _, r = call(c, "POST", "/v2.0/routers", 201, {"router": {
            "name": f"{self.run}-base", "external_gateway_info": {"network_id": self.ext_net}}})
        self.router = r["router"]["id"]
        call(c, "PUT", f"/v2.0/routers/{self.router}/add_router_interface", 200,
             {"subnet_id": self.base_subnet})
        _, g = call(c, "POST", "/v2.0/security-groups", 201, {"security_groups": [
            {"name": f"{self.run}-c{i}"} for i in range(a.clients)]})
        self.groups = [x["id"] for x in g["security_groups"]]
        cloud.wait_synced(c, 300, log)

    def sample(self) -> dict:
        """One sample (see the module docstring); logs one line."""
        with self.lock:
            window, self.window = self.window, []
            errors = len(self.errors)
        done = [ms for _, ms in window if ms is not None]
        s = {"t": round(time.monotonic() - self.t0, 1),
             "processes": cloud.process_tree(self.info["pid"]),
             "db_bytes": cloud.database_bytes(self.args.state_dir),
             "nb_rows": cloud.nb_counts(self.info["nb_connection"]),
             "outbox": cloud.outbox_depth(self.http),
             "operations": {**stats(done), "errors": len(window) - len(done)},
             "errors_total": errors}
        self.samples.append(s)
        root = s["processes"][0] if s["processes"] else {}
        log(f"t={s['t']:>6.0f}s rss={root.get('rss_mb')}MiB fds={root.get('fds')} "
            f"db={s['db_bytes']} nb_rows={sum(s['nb_rows'].values())} outbox={s['outbox']} "
            f"ops={len(window)} p50={s['operations'].get('p50')}ms "
            f"errors={s['operations']['errors']}")
        return s

    def churn(self) -> list[Client]:
        a = self.args
        period = a.clients / a.rate  # each client's seconds between operations
        clients = [Client(self, i, period, i * period / a.clients) for i in range(a.clients)]
        self.t0 = time.monotonic()
        self.sample()
        for cl in clients:
            cl.start()
        end = self.t0 + a.minutes * 60
        try:
            while time.monotonic() < end:
                self.stop.wait(min(a.interval, max(0.0, end - time.monotonic())))
                if time.monotonic() < end - 1:
                    self.sample()
        finally:
            self.stop.set()
            for cl in clients:
                cl.join(timeout=a.timeout)
        self.sample()  # the last interval's operations
        return clients

    def teardown(self, clients: list[Client]) -> None:
        """The clients' leftovers, then the setup; quotas back."""
        for cl in clients:
            cl.cleanup()
        c = self.http
        for g in self.groups:
            call(c, "DELETE", f"/v2.0/security-groups/{g}", (204, 404))
        if self.router:
            call(c, "PUT", f"/v2.0/routers/{self.router}/remove_router_interface", (200, 404),
                 {"subnet_id": self.base_subnet})
            call(c, "DELETE", f"/v2.0/routers/{self.router}", (204, 404))
        for n in (self.base_net, self.ext_net):
            if n:
                call(c, "DELETE", f"/v2.0/networks/{n}", (204, 404))
        if self.old_quota:
            cloud.restore_quotas(c, self.args.project_id, self.old_quota)


def parse_args(argv=None):
    p = cloud.arguments(__doc__.split("\n")[0], PROJECT, "soak")
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--rate", type=float, default=4.0, help="operations per second, all clients")
    p.add_argument("--live", type=int, default=5, help="resources per kind a client holds")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=5.0, help="minutes left out of the verdict")
    p.add_argument("--timeout", type=float, default=60.0, help="per request (s)")
    args = p.parse_args(argv)
    if args.rate <= 0 or args.clients < 1:
        p.error("--rate must be > 0 and --clients >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    info = cloud.runtime(args.state_dir)
    args.endpoint = (args.endpoint or info["api_url"]).rstrip("/").removesuffix("/v2.0")
    soak, error, clients, result = Soak(args, info), None, [], {}
    try:
        log(f"{soak.run}: setup")
        soak.setup()
        baseline = cloud.nb_counts(info["nb_connection"])
        log(f"churn: {args.rate}/s from {args.clients} clients for {args.minutes} min")
        clients = soak.churn()
        log("deleting the clients' resources, draining the NB sync")
        for cl in clients:
            cl.cleanup()
        drained = cloud.wait_synced(soak.http, 600, log)
        final = cloud.nb_counts(info["nb_connection"])
        result = {"baseline_nb_rows": baseline, "final_nb_rows": final,
                  "drain_seconds": round(drained, 1),
                  "verdict": verdict(soak.samples, args.warmup * 60, baseline, final)}
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception as exc:  # reported, then cleaned up
        error = f"{type(exc).__name__}: {exc}"
        log(f"error: {error}")
    finally:
        soak.stop.set()
        try:
            soak.teardown(clients)
        except Exception as exc:  # noqa: BLE001
            error = error or f"teardown: {exc}"
            log(f"teardown failed: {exc}")
        soak.http.close()
    ops = sum(s["operations"]["count"] + s["operations"]["errors"] for s in soak.samples)
    config = ("minutes", "clients", "rate", "live", "interval", "warmup")
    print(json.dumps({"run": soak.run, "config": {k: getattr(args, k) for k in config},
                      "operations": ops, "errors": len(soak.errors),
                      "error_sample": soak.errors[:5], **result,
                      "samples": soak.samples, "error": error}, indent=2))
    if error:
        return 2
    return 0 if result["verdict"]["ok"] and not soak.errors else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Cloud scale: build a large cloud through the API of a running ``neutrino up`` and
time what operators and Nova do with it.

    python bench/scale.py --state-dir DIR [--networks 1000] [--ports 10000]
        [--routers 200] [--rules 5000] [--batch 100] [--repeat 20] [--keep]
        [--skip-resync | --resync-only] [--endpoint URL]

Build (bulk creates, ``{"ports": [...]}``, ``--batch`` items a request; each phase's
wall time printed): ``--networks`` networks, each with an IPv4 /24 subnet (so each also
gets its metadata port); ``--rules`` security group rules over ``--rules / 100``
groups; ``--ports`` ports spread round-robin over the networks, each in one of those
groups; ``--routers`` routers with a gateway on a flat external network and an
interface on network i; then the time until the NB sync has absorbed it all.

Figures (ms: count/min/mean/p50/p95/max, ``--repeat`` calls each):

* ``list``: all ports unpaged; one network's ports; filters (``network_id`` +
  ``device_owner``, ``mac_address``, ``fixed_ips=ip_address=``, ``name``, ``device_id``,
  ``fields=id``); the whole port list walked in pages of ``--page`` (``limit``/``marker``
  from ``ports_links``): per page and for the walk; networks and subnets unpaged.
* ``ip_availability``: ``network-ip-availabilities`` for all networks and for one.
* ``scheduler``: ``network-candidates?count=5``.
* ``resync``: every NB row deleted (the lab's NB only), then ``neutrino sync --repair``
  timed as a process (its peak RSS too) and a second ``neutrino sync`` (no drift left
  = exit 0) timed: a full audit of an NB in step.
* ``rss``: the ``neutrino up`` process tree (API, controller, metadata service and
  agents) after the build and after the figures, RSS (MiB) and open fds per process.

Targets: filtered lists <= 10 ms, full port list <= 150 ms with paging (each page),
resync < 30 s, RSS < 400 MB per process. Everything built is deleted at the end
(also after an error) unless ``--keep``; quotas are put back. The JSON document
goes to stdout before that cleanup (deleting 10,000 ports takes minutes; on a lab
``neutrino down`` and a new state directory are quicker: ``--keep``). Progress
goes to stderr. Exit 0, or 2 on an error (the cleanup's included).
"""

from __future__ import annotations

import ipaddress
import json
import sys
import time
import uuid
from pathlib import Path

import httpx
from api import call, log, run_pool, stats  # bench/api.py

import cloud  # bench/cloud.py

PROJECT = uuid.uuid5(uuid.NAMESPACE_DNS, "neutrino-bench-scale").hex
OWNER = "compute:bench-scale"
QUOTAS = ("network", "subnet", "port", "router", "security_group", "security_group_rule",
          "floatingip")
NEUTRINO = Path(sys.executable).with_name("neutrino")


def chunks(items, n):
    """``items`` in lists of at most ``n``."""
    for i in range(0, len(items), n):
        yield items[i:i + n]


class Scale:
    """One run: what it built (ids, for the cleanup) and what it measured."""

    def __init__(self, args, info: dict) -> None:
        self.args, self.info = args, info
        self.run = "scale-" + uuid.uuid4().hex[:6]
        self.client = httpx.Client(base_url=args.endpoint, timeout=args.timeout, headers={
            "X-Project-Id": args.project_id, "X-Roles": "admin,member"})
        self.report: dict = {"build": {}, "list": {}, "rss": {}}
        self.old_quota = None
        self.ids: dict[str, list[str]] = {k: [] for k in (
            "network", "subnet", "port", "router", "security_group")}
        self.external = None

    # --- build -------------------------------------------------------------------
    def bulk(self, plural: str, bodies: list[dict]) -> list[dict]:
        """Create ``bodies`` with bulk POSTs of ``--batch``; return the created resources."""
        out = []
        for part in chunks(bodies, self.args.batch):
            path = "/v2.0/" + plural.replace("_", "-")
            out += call(self.client, "POST", path, 201, {plural: part})[1][plural]
        return out

    def phase(self, name: str, fn, count: int):
        log(f"build: {name} ({count})")
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
        self.report["build"][name] = {"count": count, "seconds": round(wall, 1),
                                      "per_second": round(count / wall, 1) if wall else None}
        return result

    def build(self) -> None:
        a = self.args
        self.old_quota = cloud.lift_quotas(self.client, a.project_id, QUOTAS)
        nets = self.phase("networks", lambda: self.bulk("networks", [
            {"name": f"{self.run}-{i}"} for i in range(a.networks)]), a.networks)
        self.ids["network"] = [n["id"] for n in nets]
        base = ipaddress.ip_network("10.0.0.0/8")
        subnets = self.phase("subnets", lambda: self.bulk("subnets", [
            {"network_id": n["id"], "ip_version": 4, "name": f"{self.run}-{i}",
             "cidr": str(ipaddress.ip_network((int(base.network_address) + (i << 8), 24)))}
            for i, n in enumerate(nets)]), a.networks)
        self.ids["subnet"] = [s["id"] for s in subnets]
        groups = max(1, a.rules // 100) if a.rules else 0
        sgs = self.bulk("security_groups", [{"name": f"{self.run}-{g}"} for g in range(groups)])
        self.ids["security_group"] = [g["id"] for g in sgs]

        def rules() -> None:  # a bulk create takes one group's rules (Neutron's rule)
            for g, sg in enumerate(sgs):
                self.bulk("security_group_rules", [
                    {"security_group_id": sg["id"], "direction": "ingress",
                     "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 1000 + r,
                     "port_range_max": 1000 + r,
                     **({"remote_group_id": sg["id"]} if r % 10 == 0 else
                        {"remote_ip_prefix": f"192.168.{r % 250}.0/24"})}
                    for r in range(g, a.rules, groups)])
        self.phase("security_group_rules", rules, a.rules)
        ports = self.phase("ports", lambda: self.bulk("ports", [
            {"network_id": nets[i % len(nets)]["id"], "name": f"{self.run}-port-{i}",
             "device_owner": OWNER, "device_id": f"{self.run}-vm-{i}",
             **({"security_groups": [sgs[i % groups]["id"]]} if groups else {})}
            for i in range(a.ports)]), a.ports)
        self.ids["port"] = [p["id"] for p in ports]
        self.sample_port = ports[len(ports) // 2] if ports else None
        if a.routers:
            self.phase("routers", lambda: self.routers(subnets), a.routers)
        log("build: waiting for the NB sync to absorb it all")
        waited = cloud.wait_synced(self.client, a.sync_timeout, log)
        self.report["build"]["nb_sync_drain_after_build_s"] = round(waited, 1)
        self.report["nb_rows"] = cloud.nb_counts(self.info["nb_connection"])
        self.report["rss"]["after_build"] = cloud.process_tree(self.info["pid"])

    def routers(self, subnets: list[dict]) -> None:
        """A flat external network with a /16, ``--routers`` routers with their gateway
        on it (bulk), an interface each on subnet i."""
        _, net = call(self.client, "POST", "/v2.0/networks", 201, {"network": {
            "name": f"{self.run}-ext", "router:external": True,
            "provider:network_type": "flat", "provider:physical_network": "physnet1"}})
        self.external = net["network"]["id"]
        call(self.client, "POST", "/v2.0/subnets", 201, {"subnet": {
            "network_id": self.external, "ip_version": 4, "cidr": "172.30.0.0/16",
            "enable_dhcp": False}})
        routers = self.bulk("routers", [
            {"name": f"{self.run}-r{i}", "external_gateway_info": {"network_id": self.external}}
            for i in range(self.args.routers)])
        self.ids["router"] = [r["id"] for r in routers]
        for router, subnet in zip(routers, subnets):
            call(self.client, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                 200, {"subnet_id": subnet["id"]})

    # --- figures -----------------------------------------------------------------
    def timed(self, name: str, path: str, params=None, repeat=None, section="list") -> dict:
        """GET ``path`` ``repeat`` times; record latency stats and the item count."""
        lat, body = [], None
        for _ in range(repeat or self.args.repeat):
            ms, body = call(self.client, "GET", path, 200, params=params)
            lat.append(ms)
        items = next((len(v) for v in body.values() if isinstance(v, list)), None)
        self.report.setdefault(section, {})[name] = {**stats(lat), "items": items}
        log(f"  {name}: p50 {self.report[section][name].get('p50')} ms, {items} items")
        return body

    def walk_pages(self) -> None:
        """All ports in pages of ``--page`` following ``ports_links`` (rel=next)."""
        pages, walks = [], []
        for _ in range(max(1, self.args.repeat // 5)):
            params, n, t0 = {"limit": self.args.page}, 0, time.perf_counter()
            while True:
                ms, body = call(self.client, "GET", "/v2.0/ports", 200, params=params)
                pages.append(ms)
                n += len(body["ports"])
                nxt = [lnk for lnk in body.get("ports_links", []) if lnk["rel"] == "next"]
                if not nxt or not body["ports"]:
                    break
                params = {"limit": self.args.page, "marker": body["ports"][-1]["id"]}
            walks.append((time.perf_counter() - t0) * 1000)
        self.report["list"]["ports_paged_page"] = {**stats(pages), "page": self.args.page}
        self.report["list"]["ports_paged_walk"] = {**stats(walks), "items": n}
        log(f"  paged walk: {n} ports, page p50 {stats(pages).get('p50')} ms, "
            f"walk p50 {stats(walks).get('p50')} ms")

    def measure(self) -> None:
        a, net = self.args, self.ids["network"][len(self.ids["network"]) // 2]
        p = self.sample_port
        log("lists")
        self.timed("ports_all_unpaged", "/v2.0/ports", repeat=max(3, a.repeat // 4))
        self.timed("ports_all_unpaged_fields_id", "/v2.0/ports", {"fields": "id"},
                   repeat=max(3, a.repeat // 4))
        self.timed("ports_of_one_network", "/v2.0/ports", {"network_id": net})
        if p:
            self.timed("filter_network_and_owner", "/v2.0/ports",
                       {"network_id": p["network_id"], "device_owner": OWNER})
            self.timed("filter_mac_address", "/v2.0/ports", {"mac_address": p["mac_address"]})
            self.timed("filter_fixed_ip", "/v2.0/ports",
                       {"fixed_ips": f"ip_address={p['fixed_ips'][0]['ip_address']}"})
            self.timed("filter_name", "/v2.0/ports", {"name": p["name"]})
            self.timed("filter_device_id", "/v2.0/ports", {"device_id": p["device_id"]})
            self.timed("filter_device_id_fields_id", "/v2.0/ports",
                       [("device_id", p["device_id"]), ("fields", "id")])
        self.walk_pages()
        self.timed("networks_all", "/v2.0/networks", repeat=max(3, a.repeat // 4))
        self.timed("subnets_all", "/v2.0/subnets", repeat=max(3, a.repeat // 4))
        self.timed("routers_all", "/v2.0/routers", repeat=max(3, a.repeat // 4))
        self.timed("security_group_rules_all", "/v2.0/security-group-rules",
                   repeat=max(3, a.repeat // 4))
        log("network-ip-availabilities")
        self.timed("all_networks", "/v2.0/network-ip-availabilities",
                   repeat=max(3, a.repeat // 4), section="ip_availability")
        self.timed("one_network", f"/v2.0/network-ip-availabilities/{net}",
                   section="ip_availability")
        log("scheduler")
        self.timed("network_candidates_5", "/v2.0/network-candidates", {"count": 5},
                   section="scheduler")
        self.report["rss"]["after_figures"] = cloud.process_tree(self.info["pid"])

    def resync(self) -> None:
        """Empty the NB, then time ``neutrino sync --repair`` and a clean ``neutrino sync``."""
        nb = self.info["nb_connection"]
        before = cloud.nb_counts(nb)
        log("resync: emptying the NB")
        cloud.empty_nb(nb)
        emptied = cloud.nb_counts(nb)
        sync = [str(NEUTRINO), "sync", "--state-dir", str(self.args.state_dir)]
        log("resync: neutrino sync --repair")
        repair = cloud.run_sampled(sync + ["--repair"])
        after = cloud.nb_counts(nb)
        log(f"  repaired in {repair['seconds']} s; neutrino sync (audit, no drift expected)")
        check = cloud.run_sampled(sync)
        self.report["resync"] = {
            "nb_rows_before": sum(before.values()), "nb_rows_emptied": sum(emptied.values()),
            "nb_rows_after": sum(after.values()), "same_rows_as_before": after == before,
            "repair": repair, "audit_in_step": check}
        if after != before:
            self.report["resync"]["nb_rows_differ"] = {
                t: [before[t], after[t]] for t in before if before[t] != after[t]}

    # --- cleanup -----------------------------------------------------------------
    def cleanup(self) -> None:
        """Delete what was built (ports from ``--concurrency`` clients, then routers,
        networks, groups) and put the quotas back; progress and time on stderr only
        (the report is printed before: deleting 10,000 ports one by one takes minutes)."""
        c, t0 = self.client, time.perf_counter()
        log(f"cleanup: {len(self.ids['port'])} ports from {self.args.concurrency} clients")

        def delete_port(client, pid):
            call(client, "DELETE", f"/v2.0/ports/{pid}", (204, 404))
        run_pool(self.args, self.ids["port"], delete_port)
        log(f"cleanup: routers, networks, groups ({time.perf_counter() - t0:.0f} s so far)")
        for rid, sid in zip(self.ids["router"], self.ids["subnet"]):
            call(c, "PUT", f"/v2.0/routers/{rid}/remove_router_interface", (200, 404),
                 {"subnet_id": sid})
            call(c, "DELETE", f"/v2.0/routers/{rid}", (204, 404))
        for nid in self.ids["network"] + ([self.external] if self.external else []):
            call(c, "DELETE", f"/v2.0/networks/{nid}", (204, 404))
        for gid in self.ids["security_group"]:
            call(c, "DELETE", f"/v2.0/security-groups/{gid}", (204, 404))
        if self.old_quota:
            cloud.restore_quotas(c, self.args.project_id, self.old_quota)
        log(f"cleanup: done in {time.perf_counter() - t0:.0f} s")


def parse_args(argv=None):
    p = cloud.arguments(__doc__.split("\n")[0], PROJECT, "measure")
    p.add_argument("--networks", type=int, default=1000)
    p.add_argument("--ports", type=int, default=10000)
    p.add_argument("--routers", type=int, default=200)
    p.add_argument("--rules", type=int, default=5000, help="security group rules")
    p.add_argument("--batch", type=int, default=100, help="items per bulk create")
    p.add_argument("--concurrency", type=int, default=4, help="clients deleting ports")
    p.add_argument("--page", type=int, default=1000, help="limit of a paged port list")
    p.add_argument("--repeat", type=int, default=20, help="calls per figure")
    p.add_argument("--timeout", type=float, default=300.0, help="per request (s)")
    p.add_argument("--sync-timeout", type=float, default=1800.0,
                   help="how long the NB sync may take to absorb the build (s)")
    p.add_argument("--skip-resync", action="store_true")
    p.add_argument("--resync-only", action="store_true",
                   help="only the resync, of what the NB holds now (e.g. a --keep build)")
    p.add_argument("--keep", action="store_true", help="leave the build in place")
    args = p.parse_args(argv)
    if args.routers > args.networks:
        p.error("--routers must not exceed --networks (one interface per network)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    info = cloud.runtime(args.state_dir)
    args.endpoint = (args.endpoint or info["api_url"]).rstrip("/").removesuffix("/v2.0")
    args.base, args.token = args.endpoint, None  # for api.run_pool's clients
    run, error = Scale(args, info), None
    try:
        if args.resync_only:
            run.resync()
            args.keep = True
        else:
            run.build()
            run.measure()
            if not args.skip_resync:
                run.resync()
    except KeyboardInterrupt:
        error = "interrupted"
    except Exception as exc:  # reported, then cleaned up
        error = f"{type(exc).__name__}: {exc}"
        log(f"error: {error}")
    config = ("networks", "ports", "routers", "rules", "batch", "page", "repeat")
    print(json.dumps({"run": run.run, "config": {k: getattr(args, k) for k in config},
                      **run.report, "error": error}, indent=2), flush=True)
    try:
        if not args.keep:
            run.cleanup()
    except BaseException as exc:  # noqa: BLE001 - said, the exit status tells
        log(f"cleanup failed, {run.run}-* resources may be left: {exc!r}")
        error = error or "cleanup"
    finally:
        run.client.close()
    return 2 if error else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""One NB sync round, and a full resync, measured in-process (no API, no ``neutrino up``).

    python bench/round.py [--networks 50] [--ports 500] [--groups 5] [--rounds 50]
        [--profile FILE] [--resync] [--profile-resync FILE]

Starts a private OVN central (NB, SB, northd; ``neutrino.lab.deployment.Central``)
in a temporary directory and a fresh migrated SQLite database, builds ``--networks`` networks (a /22 subnet each),
``--groups`` security groups with 4 rules each and ``--ports`` ports spread over them
through ``neutrino.services``, drains the outbox into the NB, then prints one JSON
document on stdout (progress on stderr):

* ``round``: ``--rounds`` times, one port created through the services (its outbox row
  committed), then ``NorthboundSync.run_once`` timed: the whole round (outbox read,
  load, NB read, plan, NB transaction and its reply, outbox delete), in ms, p50/p99.
  This is the commit -> NB latency minus the wake-up (``bench/idle.py`` measures both
  through the API). ``round_cpu_ms``: the CPU this process (all its threads) used in
  a round, steadier than wall time on a busy host. ``--profile FILE`` writes a
  cProfile of these rounds.
* ``audit``: one ``NorthboundSync.audit()`` of the NB in step (s).
* ``resync`` (``--resync``): every neutron-owned NB row deleted, then
  ``audit(repair=True)`` timed (s; ``resync_cpu_s`` the CPU this process, all its
  threads, used meanwhile: steadier on a busy host) and the process's peak RSS (MiB,
  ``ru_maxrss``) after it, then an audit that must find no drift; ``--profile-resync
  FILE`` writes a cProfile of the repair.

Everything started is stopped at the end, also on failure.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.lab.deployment import Central
from neutrino.ovn import idl
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import networks, ports, security_groups, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

ADMIN = Context.admin("bench")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms_stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"n": len(values), "p50": round(statistics.median(values), 2),
            "p99": round(values[min(len(values) - 1, int(len(values) * 0.99))], 2),
            "max": round(values[-1], 2)}


def build(env: Env, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Networks with a /22 each, groups with rules, ports; (network ids, group ids)."""
    # the services return the rows they wrote (listing.Written): their ids are all we need
    nets = [n.id for n in networks.create_networks(
        env, ADMIN, [{"name": f"b{i}"} for i in range(args.networks)]).objects]
    subnets.create_subnets(env, ADMIN, [{"network_id": n, "ip_version": 4,
                                         "cidr": f"10.{i // 64}.{(i % 64) * 4}.0/22"}
                                        for i, n in enumerate(nets)])
    groups = [g.id for g in security_groups.create_security_groups(
        env, ADMIN, [{"name": f"g{i}"} for i in range(args.groups)]).objects]
    for g in groups:  # one group per bulk create
        security_groups.create_security_group_rules(env, ADMIN, [
            {"security_group_id": g, "direction": "ingress", "ethertype": "IPv4",
             "protocol": "tcp", "port_range_min": 1000 + r, "port_range_max": 1000 + r}
            for r in range(4)])
    items = [{"network_id": nets[i % len(nets)],
              "security_groups": [groups[i % len(groups)]]} for i in range(args.ports)]
    for i in range(0, len(items), 200):
        ports.create_ports(env, ADMIN, items[i:i + 200])
    return nets, groups


def _profile_commits(path: Path) -> None:
    """Have ovsdbapp's ``do_commit`` (in the IDL's connection thread) write a
    cProfile of every transaction it commits from now on to ``path``."""
    from ovsdbapp.backend.ovs_idl import transaction

    original = transaction.Transaction.do_commit
    profile = cProfile.Profile()

    def do_commit(self):
        profile.enable()
        try:
            return original(self)
        finally:
            profile.disable()
            profile.dump_stats(str(path))
    transaction.Transaction.do_commit = do_commit


def drain(sync: NorthboundSync) -> None:
    while sync.run_once():
        pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--networks", type=int, default=50)
    p.add_argument("--ports", type=int, default=500)
    p.add_argument("--groups", type=int, default=5)
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--profile", type=Path)
    p.add_argument("--resync", action="store_true")
    p.add_argument("--profile-resync", type=Path, help="cProfile of the resync to this file")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="nbround-"))
    central = Central(tmp / "ovn")
    report: dict = {"config": {k: getattr(args, k) for k in ("networks", "ports", "groups",
                                                               "rounds")}}
    db = None
    try:
        central.start(30)
        url = f"sqlite:///{tmp / 'neutrino.db'}"
        db = Database(url)
        db.upgrade()
        env = Env(db=db, settings=Settings(  # -1: no quota
            state_dir=tmp, database_url=url, quota_network=-1, quota_subnet=-1, quota_port=-1,
            quota_security_group=-1, quota_security_group_rule=-1))
        nb = idl.nb_api(central.nb_connection, timeout=120)
        sync = NorthboundSync(env, nb, audit_interval=0)
        t0 = time.perf_counter()
        nets, groups = build(env, args)
        log(f"built in {time.perf_counter() - t0:.1f} s; draining the outbox")
        t0 = time.perf_counter()
        drain(sync)
        report["initial_drain_s"] = round(time.perf_counter() - t0, 2)
        times, cpu = [], []
        profile = cProfile.Profile() if args.profile else None
        for i in range(args.rounds):
            ports.create_ports(env, ADMIN, [{"network_id": nets[i % len(nets)],
                                             "security_groups": [groups[i % len(groups)]]}])
            if profile:
                profile.enable()
            t0, c0 = time.perf_counter(), time.process_time()
            sync.run_once()
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            if profile:
                profile.disable()
        report["round_ms"] = ms_stats(times)
        report["round_cpu_ms"] = ms_stats(cpu)
        if profile:
            profile.dump_stats(str(args.profile))
        t0 = time.perf_counter()
        drift = sync.audit()
        report["audit_s"] = round(time.perf_counter() - t0, 2)
        report["audit_drift"] = len(drift.changes)
        if args.resync:
            log("resync: emptying the NB")
            for table in ("Logical_Switch", "Logical_Router", "Port_Group", "DHCP_Options",
                          "DNS", "Address_Set"):
                central.nbctl("--all", "destroy", table)
            time.sleep(1)
            profile = cProfile.Profile() if args.profile_resync else None
            if profile:  # the NB transaction runs in the connection thread: profile it there
                _profile_commits(Path(f"{args.profile_resync}.commit"))
            t0, c0 = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            repaired = sync.audit(repair=True)
            report["resync_s"] = round(time.perf_counter() - t0, 2)
            report["resync_cpu_s"] = round(time.process_time() - c0, 2)
            if profile:
                profile.disable()
                profile.dump_stats(str(args.profile_resync))
            report["resync_changes"] = len(repaired.changes)
            report["rss_peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                           / 1024, 1)
            time.sleep(1)
            t0 = time.perf_counter()
            report["after_resync_drift"] = len(sync.audit().changes)
            report["audit_after_resync_s"] = round(time.perf_counter() - t0, 2)
        print(json.dumps(report, indent=2), flush=True)
        return 0
    finally:
        idl.disconnect_all()
        if db is not None:
            db.dispose()
        central.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""``GET /metrics`` (neutrino/metrics, api/metrics.py) and ``X-Openstack-Request-Id``
(api/telemetry.py, logs.py), in-process. The several-workers case is
tests/integration/test_metrics_workers.py."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from test_keystone_auth import fake_keystone  # noqa: F401  (fixture)

from neutrino import logs
from neutrino.api import telemetry
from neutrino.config import ConfigError, Settings, load_settings, parse_listen
from neutrino.ovn.plan import ADD, DEL, SET, Change
from neutrino.ovn.sync import DriftReport, NorthboundSync
from neutrino.services.env import Env

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def scrape(client) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted label items): value}`` of ``GET /metrics``."""
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_ids_requests_and_free_addresses(api):
    net = api.network()
    api.subnet(net["id"], cidr="10.0.0.0/28")
    before = scrape(api.client)
    free = value(before, "neutrino_network_free_ips", network_id=net["id"], project_id="p1")
    assert free == 12  # 14 hosts minus the gateway and the metadata port

    ids = set()
    for _ in range(3):
        resp = api.get(f"/v2.0/networks/{net['id']}", expect=200)
        ids.add(resp.headers["X-Openstack-Request-Id"])
    port = api.port(net["id"])
    resp = api.get("/v2.0/no-such-things/x", expect=404)
    ids.add(resp.headers["X-Openstack-Request-Id"])
    assert len(ids) == 4 and all(REQUEST_ID.match(i) for i in ids)

    after = scrape(api.client)
    delta = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert delta("neutrino_api_requests_total", resource="networks", method="GET",
                 status="200") == 3
    assert delta("neutrino_api_requests_total", resource="ports", method="POST",
                 status="201") == 1
    assert delta("neutrino_api_requests_total", resource="unmatched", method="GET",
                 status="404") == 1
    assert delta("neutrino_api_request_duration_seconds_count", resource="networks",
                 method="GET") == 3
    assert value(after, "neutrino_network_free_ips", network_id=net["id"],
                 project_id="p1") == free - 1
    assert value(after, "neutrino_network_total_ips", network_id=net["id"],
                 project_id="p1") == 13
    assert value(after, "neutrino_ports", status="DOWN") >= 2  # the port, the metadata port
    assert value(after, "neutrino_ovn_outbox_depth") >= 1  # no controller here
    assert value(after, "neutrino_controller_leaders") == 0
    assert value(after, "neutrino_database_up") == 1
    # no resource ids in any label but the networks' own gauges
    for (name, labels), _ in after.items():
        if not name.startswith("neutrino_network_"):
            assert port["id"] not in str(labels) and net["id"] not in str(labels), name


def test_external_networks_are_not_counted(api):
    ext = api.network(**{"router:external": True})
    api.subnet(ext["id"], cidr="192.0.2.0/24", project="p1")
    assert not [k for k in scrape(api.client) if ("network_id", ext["id"]) in k[1]]


def test_resource_label_is_the_collection():
    assert telemetry.resource_of("/v2.0/ports/{item_id}") == "ports"
    assert telemetry.resource_of("/v2.0/ports.json") == "ports"
    assert telemetry.resource_of("/v2.0/routers/{router_id}/add_router_interface") == \
        "routers/add_router_interface"
    assert telemetry.resource_of("/v2.0/{collection}/{resource_id}/tags/{tag}",
                                 "networks") == "networks/tags"
    assert telemetry.resource_of("/v2.0/{collection}/{resource_id}/tags",
                                 "anything-a-client-sends") == "unknown/tags"
    assert telemetry.resource_of("/") == "versions"
    assert telemetry.resource_of("/healthz") == "healthz"


def test_log_lines_carry_the_request_id():
    """The id of the response is the one in the log lines of its request, also those
    logged from a worker thread (deps.call on PostgreSQL)."""
    log = logging.getLogger("neutrino.test-request-id")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(logs.RequestIdFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    async def app(scope, receive, send):
        log.info("in the request")
        await asyncio.to_thread(log.info, "on a thread")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    try:
        client = TestClient(telemetry.TelemetryMiddleware(app))  # no lifespan
        rid = client.get("/x").headers["X-Openstack-Request-Id"]
        log.info("after it")
    finally:
        log.removeHandler(handler)
    assert [r.request_id for r in records] == [rid, rid, "-"]
    assert logging.Formatter(logs.LOG_FORMAT).format(records[0]).endswith(
        f"[{rid}] in the request")


def test_metrics_need_no_token_under_keystone(make_keystone_client, fake_keystone):
    client = make_keystone_client(fake_keystone.url)
    resp = client.get("/v2.0/networks")
    assert resp.status_code == 401 and REQUEST_ID.match(resp.headers["X-Openstack-Request-Id"])
    resp = client.get("/metrics")
    assert resp.status_code == 200 and "neutrino_database_up 1.0" in resp.text
    assert fake_keystone.validations == 0


def test_metrics_listen_moves_metrics_off_the_api_port(make_api):
    api = make_api(metrics_listen="127.0.0.1:9100")
    assert api.client.get("/metrics").status_code == 404
    assert api.client.get("/healthz").status_code == 200


def test_metrics_listen_setting():
    assert parse_listen("127.0.0.1:9100") == ("127.0.0.1", 9100)
    assert parse_listen("[::1]:9100") == ("::1", 9100)
    assert parse_listen(":9100") == ("0.0.0.0", 9100)
    for bad in ("127.0.0.1", "::1:9100", "host:0", "host:70000", "[nope]:1"):
        with pytest.raises(ValueError):
            parse_listen(bad)
    with pytest.raises(ConfigError, match="metrics_listen"):
        load_settings(None, metrics_listen="9100")


def test_processes_add_up_in_multiprocess_mode(tmp_path):
    """Two processes record into one run directory; the second's scrape counts both,
    and the live gauge of the first, gone, is dropped."""
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from neutrino.metrics import exposition, families
        if sys.argv[1] == "first":
            exposition.enable_multiprocess(Path({str(tmp_path / 'run')!r}))
        families.api().requests.labels("ports", "POST", "201").inc(2)
        families.metadata().networks.labels("ch1").set(3 if sys.argv[1] == "first" else 2)
        if sys.argv[1] == "second":
            print(exposition.render(exposition.registry()).decode())
    """)
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script, "first"], check=True, env=env)
    out = subprocess.run([sys.executable, "-c", script, "second"], check=True, text=True,
                         capture_output=True,
                         env={**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "run")}).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(out) for s in f.samples}
    assert samples[("neutrino_api_requests_total", (("method", "POST"), ("resource", "ports"),
                                                    ("status", "201")))] == 4
    # the first process is gone: only the living second one's gauge counts
    assert samples[("neutrino_metadata_networks_served", (("chassis", "ch1"),))] == 2
    assert len(list((tmp_path / "run").glob("gauge_livesum_*.db"))) == 1


def test_unknown_methods_and_collections_are_bounded(api):
    before = scrape(api.client)
    api.request("PROPFIND", "/v2.0/networks", expect=405)
    api.get("/v2.0/bogus-collection/x/tags", expect=404)
    after = scrape(api.client)
    assert value(after, "neutrino_api_requests_total", resource="networks", method="OTHER",
                 status="405") - value(before, "neutrino_api_requests_total",
                                       resource="networks", method="OTHER", status="405") == 1
    assert not [k for k in after if "bogus" in str(k)]


def test_audits_count_drift_found_and_repaired(tmp_path):
    """What a periodic audit found and repaired lands in the NB sync's counters (the
    audit itself, against a real NB, is tests/integration/test_nb_sync.py)."""
    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0
    names = [("neutrino_nb_audit_drift_rows_total", {"kind": k})
             for k in ("missing", "different", "extra")]
    names += [("neutrino_nb_audit_repaired_rows_total", {}),
              ("neutrino_nb_audits_total", {"result": "ok"}),
              ("neutrino_nb_audits_total", {"result": "failed"})]
    sync = NorthboundSync(Env(db=None, settings=Settings(state_dir=tmp_path)), None)
    before = [sample(n, **l) for n, l in names]
    changes = (Change(ADD, "Logical_Switch", "a"), Change(ADD, "Logical_Switch", "b"),
               Change(SET, "ACL", "c"), Change(DEL, "NAT", "d"))
    sync.audit = lambda repair: DriftReport(changes, repaired=repair)
    assert sync._audit_and_log()

    def broken(repair):
        raise RuntimeError("NB away")
    sync.audit = broken
    assert not sync._audit_and_log()
    after = [sample(n, **l) for n, l in names]
    assert [a - b for a, b in zip(after, before)] == [2, 1, 1, 4, 1, 1]

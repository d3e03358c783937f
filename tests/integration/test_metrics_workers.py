"""``/metrics`` of a real ``neutrino server`` with 4 workers on PostgreSQL, and of a
real ``neutrino controller`` (``metrics_listen``) leading on the session's OVN lab.

What must hold: requests spread over the workers add up in whichever worker answers
the scrape; every response has its own ``X-Openstack-Request-Id``, found in the
server's log; the free-address gauge of a network drops by one when a port is made;
the outbox depth and the leader are visible at the API, the NB sync's batches at the
controller.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from neutrino_server import NeutrinoServer, free_port
from ovncluster import ControllerProcess
from prometheus_client.parser import text_string_to_metric_families

from neutrino.lab.controlplane import config_text
from neutrino.lab.daemons import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.ovn]

ADMIN = {"X-Project-Id": "pm", "X-Roles": "admin,member"}
CLIENTS, REQUESTS = 8, 10  # threads, requests each (one connection per request)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """``{(sample, sorted labels): value}`` of ``url``, on a connection of its own."""
    resp = httpx.get(url, timeout=30, headers={"Connection": "close"})
    assert resp.status_code == 200, resp.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_add_up_across_workers(tmp_path: Path, pg_url: str, ovn_lab) -> None:
    metrics_port = free_port()
    config = tmp_path / "controller.conf"
    config.write_text(config_text(
        pg_url, ovn_lab.nb_connection, ovn_lab.sb_connection,
        state_dir=tmp_path / "controller-state", metrics_listen=f"127.0.0.1:{metrics_port}",
        ovn_audit_interval=0))  # no audit: the session's NB holds other tests' rows
    server = NeutrinoServer(tmp_path, database_url=pg_url, workers=4,
                            settings={"log_level": "debug"})
    controller = ControllerProcess("metrics", config, tmp_path)
    with server:
        api = httpx.Client(base_url=server.url, headers=ADMIN, timeout=30)
        metrics = server.url + "/metrics"
        net = api.post("/v2.0/networks", json={"network": {"name": "metrics"}}).json()["network"]
        try:
            assert api.post("/v2.0/subnets", json={"subnet": {
                "network_id": net["id"], "cidr": "10.77.0.0/28", "ip_version": 4}}
            ).status_code == 201
            labels = {"network_id": net["id"], "project_id": "pm"}
            before = scrape(metrics)
            assert value(before, "neutrino_network_free_ips", **labels) == 12
            assert value(before, "neutrino_ovn_outbox_depth") >= 1
            assert value(before, "neutrino_controller_leaders") == 0

            ids: list[str] = []
            lock = threading.Lock()

            def client() -> None:
                for _ in range(REQUESTS):
                    resp = httpx.get(server.url + "/v2.0/networks", headers={
                        **ADMIN, "Connection": "close"}, timeout=30)
                    assert resp.status_code == 200
                    with lock:
                        ids.append(resp.headers["X-Openstack-Request-Id"])
            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            port = api.post("/v2.0/ports", json={"port": {"network_id": net["id"]}})
            assert port.status_code == 201

            # several workers answered and recorded; every scrape, whoever answers it,
            # counts them all
            run_dirs = list((server.state_dir / "metrics").glob("server-*"))
            assert len(run_dirs) == 1
            assert len(list(run_dirs[0].glob("counter_*.db"))) >= 2
            key = {"resource": "networks", "method": "GET", "status": "200"}
            counts = set()
            for _ in range(6):
                after = scrape(metrics)
                counts.add(value(after, "neutrino_api_requests_total", **key)
                           - (value(before, "neutrino_api_requests_total", **key) or 0))
            assert counts == {CLIENTS * REQUESTS}
            assert value(after, "neutrino_api_requests_total", resource="ports",
                         method="POST", status="201") == 1
            assert value(after, "neutrino_network_free_ips", **labels) == 11

            # request ids: one each, and in the log lines of their request
            assert len(set(ids)) == CLIENTS * REQUESTS
            assert all(re.fullmatch(r"req-[0-9a-f-]{36}", i) for i in ids)
            wait_until(lambda: f"[{ids[-1]}]" in server.output(tail=10**7), 10,
                       "the request's log line")

            # the controller leads, drains the outbox, and says so
            controller.start()
            controller.wait_leader(timeout=60)

            def drained() -> bool:
                s = scrape(metrics)
                return (value(s, "neutrino_controller_leaders") == 1
                        and value(s, "neutrino_ovn_outbox_depth") == 0)
            wait_until(drained, 60, "the leader to drain the outbox", interval=0.2)
            at_api = scrape(metrics)
            assert value(at_api, "neutrino_ovn_outbox_oldest_age_seconds") == 0
            assert [k for k, v in at_api.items() if k[0] == "neutrino_controller_up"
                    and ("role", "leader") in k[1] and v == 1]
            own = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
            assert value(own, "neutrino_controller_is_leader") == 1
            assert value(own, "neutrino_nb_sync_outbox_rows_total") >= 3
            assert value(own, "neutrino_nb_sync_batch_duration_seconds_count") >= 1
        finally:
            for path in ("/v2.0/ports?network_id=" + net["id"],):
                for p in api.get(path).json().get("ports", []):
                    if p["device_owner"] != "network:distributed":
                        api.delete(f"/v2.0/ports/{p['id']}")
            api.delete(f"/v2.0/networks/{net['id']}")
            if controller.pid is not None:  # let it take the network out of the NB
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and value(
                        scrape(metrics), "neutrino_ovn_outbox_depth") != 0:
                    time.sleep(0.2)
            controller.stop()
            api.close()
    server.assert_no_tracebacks()

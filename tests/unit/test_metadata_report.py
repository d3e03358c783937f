"""The metadata agent's report in SB ``Chassis_Private`` without OVN
(``neutrino/metadata/report.py``): the keys, and the reporter thread against a fake
SB API that records every write.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from types import SimpleNamespace

from neutrino.metadata.report import (
    ChassisReporter,
    changed_keys,
    default_agent_id,
    encode_networks,
    report_keys,
)

AGENT, NETWORKS = "neutrino:metadata-agent", "neutrino:metadata-networks"
SB_CFG = "neutrino:metadata-sb-cfg"
NET_A, NET_B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"


def test_the_keys():
    assert default_agent_id() == f"{socket.gethostname()}:{os.getpid()}"
    assert encode_networks([NET_B, NET_A, NET_B]) == f"{NET_A} {NET_B}"
    assert encode_networks([]) == ""
    assert report_keys("h:1", {NET_A}) == {AGENT: "h:1", NETWORKS: NET_A}
    current = {AGENT: "h:1", NETWORKS: "", "neutron:liveness": "7"}
    assert changed_keys(current, report_keys("h:1", [])) == {}
    assert changed_keys(current, report_keys("h:1", [NET_A])) == {NETWORKS: NET_A}
    assert changed_keys({}, report_keys("h:2", [])) == {AGENT: "h:2", NETWORKS: ""}


class FakeSb:
    """The reporter's view of an ``ovn.idl.sb_api``: Chassis_Private rows, the IDL
    lock, the notify handler and ``db_set`` (which applies at once and is logged)."""

    def __init__(self) -> None:
        self.tables = {"Chassis_Private": SimpleNamespace(rows={})}
        self.ovsdb_connection = SimpleNamespace(lock=threading.RLock())
        self.events: list = []
        self.writes: list[dict] = []
        self.idl = SimpleNamespace(notify_handler=SimpleNamespace(
            watch_events=self.events.extend,
            unwatch_events=lambda events: [self.events.remove(e) for e in events]))

    def add_row(self, name: str, **external_ids: str) -> None:
        row = SimpleNamespace(name=name, external_ids=dict(external_ids))
        with self.ovsdb_connection.lock:
            self.tables["Chassis_Private"].rows[name] = row
        for event in list(self.events):
            if event.table == "Chassis_Private" and event.match_fn("create", row):
                event.run("create", row, None)

    def db_set(self, table, record, *col_values, if_exists=False):
        assert table == "Chassis_Private" and if_exists

        def execute(check_error=False, log_errors=True):
            for column, value in col_values:
                assert column == "external_ids"
                self.writes.append(dict(value))
                row = self.tables[table].rows.get(record)
                if row is not None:
                    row.external_ids.update(value)
        return SimpleNamespace(execute=execute)

    def probe(self, nb_cfg: int) -> None:
        """northd copied a new ``nb_cfg`` into SB_Global (a liveness probe)."""
        row = SimpleNamespace(nb_cfg=nb_cfg)
        with self.ovsdb_connection.lock:
            self.tables["SB_Global"] = SimpleNamespace(rows={"global": row})
        for event in list(self.events):
            if event.table == "SB_Global" and event.match_fn(
                    "update", row, SimpleNamespace(nb_cfg=nb_cfg - 1)):
                event.run("update", row, None)

    def keys(self, name: str) -> dict[str, str]:
        return dict(self.tables["Chassis_Private"].rows[name].external_ids)


def _until(check, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_the_reporter_waits_for_the_row_then_follows_the_served_set():
    sb = FakeSb()
    reporter = ChassisReporter(sb, "ch1", "host:7", retry_interval=60, recheck_interval=60)
    reporter.start()
    try:
        reporter.update({NET_A})
        time.sleep(0.1)
        assert sb.writes == []  # no row yet: nothing written
        sb.add_row("ch1", **{"neutron:ovn-metadata-id": "keep-me"})  # ovn-controller made it
        _until(lambda: sb.keys("ch1").get(NETWORKS) == NET_A)
        assert sb.keys("ch1") == {"neutron:ovn-metadata-id": "keep-me", AGENT: "host:7",
                                  NETWORKS: NET_A}
        assert sb.writes == [{AGENT: "host:7", NETWORKS: NET_A}]  # only its own keys
        reporter.update({NET_B, NET_A})
        _until(lambda: sb.keys("ch1")[NETWORKS] == f"{NET_A} {NET_B}")
        reporter.update({NET_A, NET_B})  # the same set: nothing to write
        time.sleep(0.05)
        assert sb.writes[-1] == {NETWORKS: f"{NET_A} {NET_B}"} and len(sb.writes) == 2
    finally:
        reporter.stop(timeout=5)
    assert sb.keys("ch1") == {"neutron:ovn-metadata-id": "keep-me", AGENT: "host:7",
                              NETWORKS: ""}  # stopped: serves nothing, still registered
    assert sb.events == []
    reporter.update({NET_A})  # after stop: ignored
    time.sleep(0.05)
    assert sb.keys("ch1")[NETWORKS] == ""


def test_a_row_made_again_is_reported_in_again():
    sb = FakeSb()
    sb.add_row("ch1")
    reporter = ChassisReporter(sb, "ch1", "host:7", retry_interval=60, recheck_interval=60)
    reporter.start()
    try:
        reporter.update({NET_A})
        _until(lambda: sb.keys("ch1").get(NETWORKS) == NET_A)
        sb.add_row("ch1")  # ovn-controller registered the chassis anew: an empty row
        _until(lambda: sb.keys("ch1") == {AGENT: "host:7", NETWORKS: NET_A})
    finally:
        reporter.stop(timeout=5)


def test_the_reporter_answers_each_liveness_probe():
    sb = FakeSb()
    sb.add_row("ch1")
    reporter = ChassisReporter(sb, "ch1", "host:7", retry_interval=60, recheck_interval=60)
    reporter.start()
    try:
        _until(lambda: AGENT in sb.keys("ch1"))
        assert SB_CFG not in sb.keys("ch1")  # no SB_Global yet: nothing to answer
        for nb_cfg in (4, 5):
            sb.probe(nb_cfg)
            _until(lambda: sb.keys("ch1").get(SB_CFG) == str(nb_cfg))
        assert sb.writes[-1] == {SB_CFG: "5"}  # only the answer is written
    finally:
        reporter.stop(timeout=5)


def test_stop_without_a_row_returns_at_once():
    sb = FakeSb()
    reporter = ChassisReporter(sb, "ch1", "host:7", retry_interval=60)
    reporter.start()
    started = time.monotonic()
    reporter.stop(timeout=5)
    assert time.monotonic() - started < 1 and sb.writes == []

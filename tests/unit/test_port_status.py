"""The SB port-status watcher without OVN (``neutrino/ovn/status.py``): what it reads
of a Port_Binding, the metadata gate on the agents' Chassis_Private reports, and its
worker holding ports back until their chassis' agent reports their network.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from neutrino.ovn import status
from neutrino.ovn.status import (
    PortState,
    PortStatusWatcher,
    binding_state,
    held_for_metadata,
    metadata_network,
    network_of,
    served_networks,
)

NET, NET2 = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
AGENT, NETWORKS = "neutrino:metadata-agent", "neutrino:metadata-networks"


def pb(port: str, network: str | None, *, type: str = "", chassis: str | None = None,
       hostname: str = "", up: list[bool] | None = None, **ids: str) -> SimpleNamespace:
    """An SB Port_Binding row as the IDL shows it (``ids``: ``neutron__cidrs=...``)."""
    external_ids = {k.replace("__", ":"): v for k, v in ids.items()}
    if network:
        external_ids.setdefault("neutron:network_name", f"neutron-{network}")
    return SimpleNamespace(
        logical_port=port, type=type, external_ids=external_ids, up=up if up is not None else [],
        chassis=[SimpleNamespace(name=chassis, hostname=hostname)] if chassis else [],
        datapath=SimpleNamespace(external_ids={"name": f"neutron-{network}"} if network else {}))


def metadata_pb(port: str, network: str, cidrs: str = "10.0.0.2/24") -> SimpleNamespace:
    return pb(port, network, type="localport", neutron__device_owner="network:distributed",
              neutron__cidrs=cidrs)


# --- what a binding says ------------------------------------------------------------------

def test_the_network_of_a_binding():
    assert network_of(pb("p", NET)) == NET
    by_datapath = pb("p", NET)
    del by_datapath.external_ids["neutron:network_name"]
    assert network_of(by_datapath) == NET  # a binding made before northd copied the ids
    assert network_of(pb("p", None)) is None
    assert network_of(pb("p", None, neutron__network_name="other-switch")) is None


def test_binding_state():
    assert binding_state(pb("p", NET)) == PortState(False, None, None, NET)
    assert binding_state(pb("p", NET, chassis="ch1", hostname="host1", up=[True])) == \
        PortState(True, "host1", "ch1", NET)
    assert binding_state(pb("p", NET, chassis="ch1")) == PortState(True, "ch1", "ch1", NET)
    assert binding_state(pb("p", NET, chassis="ch1", up=[False])).up is False  # flows not in yet


def test_a_router_port_is_up_once_northd_made_its_patch_binding():
    assert binding_state(pb("r", NET, type="patch")) == PortState(True, None, None, NET)
    assert binding_state(pb("r", NET, type="patch", up=[False])).up is True  # nobody claims it


def test_which_localports_are_metadata_ports():
    assert metadata_network(metadata_pb("m", NET)) == NET
    assert metadata_network(metadata_pb("m", NET, "10.0.0.2/24 2001:db8::2/64")) == NET
    assert metadata_network(metadata_pb("m", NET, "2001:db8::2/64")) == NET  # fe80::a9fe:a9fe
    assert metadata_network(metadata_pb("m", NET, "")) is None
    assert metadata_network(pb("m", NET, type="localport", neutron__cidrs="10.0.0.2/24")) is None
    assert metadata_network(pb("p", NET, neutron__device_owner="network:distributed",
                               neutron__cidrs="10.0.0.2/24")) is None


def test_served_networks_of_a_report():
    assert served_networks(None) is None
    assert served_networks({"neutron:ovn-metadata-id": "x"}) is None  # no agent of ours
    assert served_networks({AGENT: ""}) is None
    assert served_networks({AGENT: "h:1"}) == frozenset()
    assert served_networks({AGENT: "h:1", NETWORKS: f"{NET} {NET2}"}) == {NET, NET2}


@pytest.mark.parametrize("state, reports, held", [
    (PortState(True, "h", "ch1", NET), {"ch1": {AGENT: "h:1", NETWORKS: ""}}, True),
    (PortState(True, "h", "ch1", NET), {"ch1": {AGENT: "h:1", NETWORKS: NET2}}, True),
    (PortState(True, "h", "ch1", NET), {"ch1": {AGENT: "h:1", NETWORKS: f"{NET2} {NET}"}}, False),
    (PortState(True, "h", "ch1", NET), {}, False),  # no agent registered: not gated
    (PortState(True, "h", "ch1", NET), {"ch2": {AGENT: "h:1"}}, False),
    (PortState(True, "h", "ch1", NET2), {"ch1": {AGENT: "h:1"}}, False),  # no metadata port
    (PortState(False, None, None, NET), {"ch1": {AGENT: "h:1"}}, False),  # going down
    (PortState(True, "h", "ch1", None), {"ch1": {AGENT: "h:1"}}, False),  # network unknown
    (PortState(True, "h"), {"h": {AGENT: "h:1"}}, False),  # chassis unknown
])
def test_the_metadata_gate(state, reports, held):
    assert held_for_metadata(state, {NET}, reports) is held


# --- the worker -----------------------------------------------------------------------------

class FakeSb:
    """What the watcher reads of an ``ovn.idl.sb_api``: tables, lock, notify handler."""

    def __init__(self, *port_bindings: SimpleNamespace) -> None:
        self.tables = {"Port_Binding": SimpleNamespace(rows=dict(enumerate(port_bindings))),
                       "Chassis_Private": SimpleNamespace(rows={})}
        self.ovsdb_connection = SimpleNamespace(lock=threading.RLock())
        self.watched: list = []
        self.idl = SimpleNamespace(notify_handler=SimpleNamespace(
            watch_events=self.watched.extend, unwatch_events=lambda events: None))

    def chassis_private(self, name: str, **external_ids: str) -> SimpleNamespace:
        """Make or change the Chassis_Private row ``name`` and notify the watcher."""
        row = SimpleNamespace(name=name, external_ids=dict(external_ids))
        event = "update" if name in self.tables["Chassis_Private"].rows else "create"
        self.tables["Chassis_Private"].rows[name] = row
        old = SimpleNamespace(external_ids={})  # the IDL's "updates": changed columns only
        for watched in self.watched:
            if watched.table == "Chassis_Private" and watched.match_fn(event, row, old):
                watched.run(event, row, old)
        return row


def _port_status(api, port_id: str) -> str:
    return api.get(f"/v2.0/ports/{port_id}").json()["port"]["status"]


def _wait_status(api, port_id: str, want: str, timeout: float = 5) -> float:
    """Seconds until the port has status ``want``; fails after ``timeout``."""
    start = time.monotonic()
    while _port_status(api, port_id) != want:
        assert time.monotonic() - start < timeout, f"port {port_id} not {want}"
        time.sleep(0.01)
    return time.monotonic() - start


def test_a_port_is_held_until_its_chassis_agent_reports_its_network(api, monkeypatch):
    monkeypatch.setattr(status, "RETRY_DELAY", 60.0)  # only events can release it in time
    net = api.network()
    api.subnet(net["id"])
    port, other, plain = (api.port(net["id"], device_owner="compute:nova") for _ in range(3))
    sb = FakeSb(metadata_pb("meta", net["id"]))
    sb.chassis_private("ch1", **{AGENT: "host1:42", NETWORKS: "", "neutron:other": "kept"})
    watcher = PortStatusWatcher(api.env, sb)
    watcher.start()
    try:
        watcher.changed(port["id"], PortState(True, "host1", "ch1", net["id"]))
        # a chassis without a registered agent is not gated
        watcher.changed(other["id"], PortState(True, "host2", "ch2", net["id"]))
        _wait_status(api, other["id"], "ACTIVE")
        time.sleep(0.2)
        assert _port_status(api, port["id"]) == "DOWN"  # held back
        sb.chassis_private("ch1", **{AGENT: "host1:42", NETWORKS: "some-other-network"})
        time.sleep(0.2)
        assert _port_status(api, port["id"]) == "DOWN"
        sb.chassis_private("ch1", **{AGENT: "host1:42", NETWORKS: net["id"]})
        assert _wait_status(api, port["id"], "ACTIVE") < 5
        assert api.get(f"/v2.0/ports/{port['id']}", admin=True).json()["port"][
            "binding:host_id"] == "host1"
        # going down never waits; the agent stopping holds new ports only
        watcher.changed(port["id"], (False, None))
        _wait_status(api, port["id"], "DOWN")
        sb.chassis_private("ch1", **{AGENT: "host1:42", NETWORKS: ""})
        assert _port_status(api, other["id"]) == "ACTIVE"
        # a held port whose network loses its metadata port is released
        watcher.changed(plain["id"], PortState(True, "host1", "ch1", net["id"]))
        time.sleep(0.2)
        assert _port_status(api, plain["id"]) == "DOWN"
        watcher.metadata_port_changed("meta", None)
        _wait_status(api, plain["id"], "ACTIVE")
    finally:
        watcher.stop()


def test_a_newer_state_supersedes_a_held_one(api, monkeypatch):
    monkeypatch.setattr(status, "RETRY_DELAY", 0.05)
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], device_owner="compute:nova")
    sb = FakeSb(metadata_pb("meta", net["id"]))
    sb.tables["Chassis_Private"].rows["ch1"] = SimpleNamespace(
        name="ch1", external_ids={AGENT: "host1:42"})
    watcher = PortStatusWatcher(api.env, sb)
    watcher.start()
    try:
        watcher.changed(port["id"], PortState(True, "host1", "ch1", net["id"]))
        time.sleep(0.2)  # held, checked again every 50 ms
        assert _port_status(api, port["id"]) == "DOWN"
        watcher.changed(port["id"], PortState(True, "host2", "ch2", net["id"]))  # moved
        _wait_status(api, port["id"], "ACTIVE")
        assert api.get(f"/v2.0/ports/{port['id']}", admin=True).json()["port"][
            "binding:host_id"] == "host2"
    finally:
        watcher.stop()

"""The metadata agent itself without namespaces (``neutrino/metadata/agent.py``): its
interface and namespace names, the per-chassis records of the namespaces it made,
and what a (re)started agent adopts.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_metadata_index import NET_A, NET_B, row

from neutrino.metadata import agent as agent_mod
from neutrino.metadata.agent import MetadataAgent
from neutrino.metadata.namespaces import (check_netns_prefix, netns_name, record_dir,
                                          remove_recorded, veth_names)
from neutrino.metadata.index import Binding, binding_from_row


def test_veth_names_fit_ifnamsiz():
    outer, inner = veth_names(NET_A)
    assert (outer, inner) == ("tapaaaaaaaa-00", "tapaaaaaaaa-01")
    assert len(outer) <= 15 and len(inner) <= 15


def test_namespace_names_and_their_prefix():
    assert netns_name(NET_A) == f"ovnmeta-{NET_A}"  # as ML2/OVN names them
    assert netns_name(NET_A, "ovnmeta2-") == f"ovnmeta2-{NET_A}"
    assert check_netns_prefix("ovnmeta2-") == "ovnmeta2-"
    for bad in ("", "a/b-", "ovn meta-", "-x", "x" * 93):
        with pytest.raises(ValueError):
            check_netns_prefix(bad)
    assert check_netns_prefix("x" * 92)  # 92 + 36 = 128 characters


def test_records_are_kept_per_chassis(tmp_path):
    assert record_dir(tmp_path, "ch1") == tmp_path / "metadata-agent" / "ch1" / "netns"
    for bad in ("", ".", "..", "a/b"):
        with pytest.raises(ValueError):
            record_dir(tmp_path, bad)


def _record(state_dir: Path, chassis: str | None, name: str, network: str = "") -> Path:
    where = (record_dir(state_dir, chassis) if chassis
             else state_dir / "metadata-agent" / "netns")  # before records were per chassis
    where.mkdir(parents=True, exist_ok=True)
    (where / name).write_text(network)
    return where / name


@pytest.fixture
def host_calls(monkeypatch) -> list[tuple]:
    """What remove_recorded would have done to the host."""
    calls: list[tuple] = []
    monkeypatch.setattr(agent_mod.host_netns, "remove_netns", lambda ns: calls.append(("netns", ns)))
    monkeypatch.setattr(agent_mod.host_ovs, "unplug",
                        lambda conn, bridge, port, timeout=None: calls.append(("ovs", conn, port)))
    return calls


def test_remove_recorded_removes_one_chassis_namespaces(tmp_path, host_calls):
    mine = _record(tmp_path, "ch1", f"ovnmeta-{NET_A}", NET_A)
    other = _record(tmp_path, "ch2", f"ovnmeta2-{NET_A}", NET_A)
    assert remove_recorded(tmp_path, chassis="ch1", ovs_connection="unix:/ch1.sock") == \
        [f"ovnmeta-{NET_A}"]
    assert host_calls == [("ovs", "unix:/ch1.sock", veth_names(NET_A)[0]),
                          ("netns", f"ovnmeta-{NET_A}")]
    assert not mine.exists() and other.exists()
    host_calls.clear()
    assert remove_recorded(tmp_path, chassis="ch2") == [f"ovnmeta2-{NET_A}"]
    assert host_calls == [("netns", f"ovnmeta2-{NET_A}")]  # no OVS database given


def test_remove_recorded_of_every_chassis_and_of_older_agents(tmp_path, host_calls):
    _record(tmp_path, None, f"ovnmeta-{NET_A}")  # an empty record: the name tells the network
    _record(tmp_path, "ch1", f"ovnmeta-{NET_B}", NET_B)
    _record(tmp_path, "ch2", f"ovnmeta2-{NET_B}", NET_B)
    removed = remove_recorded(tmp_path, "unix:/db.sock")
    assert sorted(removed) == sorted([f"ovnmeta-{NET_A}", f"ovnmeta-{NET_B}",
                                      f"ovnmeta2-{NET_B}"])
    assert sorted(c[2] for c in host_calls if c[0] == "ovs") == \
        sorted([veth_names(NET_A)[0], veth_names(NET_B)[0], veth_names(NET_B)[0]])
    assert remove_recorded(tmp_path) == []


def test_a_restarted_agent_adopts_its_own_namespaces_only(tmp_path, monkeypatch):
    """Its chassis' records, and ``<its prefix><known network>`` namespaces; never
    another chassis' (other prefix, other record directory)."""
    run = tmp_path / "run-netns"
    run.mkdir()
    for name in (f"ovnmeta2-{NET_A}", f"ovnmeta2-{NET_B}", f"ovnmeta-{NET_B}",
                 "ovnmeta2-unknown-network", "lab-vm1"):
        (run / name).touch()
    monkeypatch.setattr(agent_mod.host_netns, "NETNS_RUN", run)
    gone = "cccccccc-0000-4000-8000-000000000003"
    _record(tmp_path, "ch2", f"ovnmeta2-{gone}", gone)  # recorded, namespace gone since
    _record(tmp_path, "ch1", f"ovnmeta-{NET_B}", NET_B)  # the other chassis' agent
    agent = MetadataAgent(None, chassis="ch2", ovs_connection="unix:/x", forward_url="http://x",
                          secret="s", state_dir=tmp_path, netns_prefix="ovnmeta2-",
                          agent_id="host:1")
    for port, net in (("p1", NET_A), ("p2", NET_B)):
        agent.index.update(binding_from_row(row(port, net)))
    assert agent._existing_namespaces() == {NET_A, NET_B, gone}
    assert agent.agent_id == "host:1" and agent.record_dir == record_dir(tmp_path, "ch2")


def test_a_metadata_port_without_ipv4_is_served_on_ipv6_only(tmp_path):
    """An IPv6-only network's metadata port (only a SLAAC address) is plumbed when the
    agent listens on fe80::a9fe:a9fe, and not when it does not."""
    meta = Binding(port_id="m", network_id=NET_A, type="localport", mac="fa:16:3e:00:00:02",
                   cidrs=("2001:db8::f816:3eff:fe00:2/64",),
                   device_owner="network:distributed")
    assert meta.is_metadata_port and meta.ipv4_cidrs == ()
    for ipv6, servable in ((True, True), (False, False)):
        agent = MetadataAgent(None, chassis="ch1", ovs_connection="unix:/x",
                              forward_url="http://x", secret="s", state_dir=tmp_path,
                              ipv6=ipv6, agent_id="host:1")
        assert agent._servable(meta) is servable
        assert agent._servable(replace(meta, cidrs=("10.0.0.2/24",))) is True

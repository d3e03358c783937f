"""Segments through the NB sync against the real NB and SB of the shared ``ovn_lab``:
every VLAN segment of a multi-segment network is a tagged localnet port, each after the
first on a switch of its own with its subnet's ports and metadata port (on one switch,
a chassis wires one tag: seed 004's bug), a project network's VNI becomes its
datapath tunnel key in the SB, and the sync records which host bridges which physnet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import wire
from ovnlab import PHYSNET
from sqlalchemy import select

from neutrino.config import Settings
from neutrino.db.models import HostPhysicalNetwork
from neutrino.db.session import Database
from neutrino.lab.daemons import wait_until
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import networks, ports, segment_reads, segments, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.listing import ListQuery

pytestmark = pytest.mark.ovn

ADMIN = Context.admin("p1")


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    db = Database(database_url)
    yield Env(db=db, settings=Settings(state_dir=tmp_path, database_url=database_url,
                                       network_vlan_ranges=f"{PHYSNET}:200:201"))
    db.dispose()


@pytest.fixture
def sync(env: Env, nb, sb) -> Iterator[NorthboundSync]:
    sync = NorthboundSync(env, nb, sb_api=sb, audit_interval=0)
    yield sync
    sync.close()


@pytest.fixture
def network(env: Env, nb, sync) -> Iterator[list]:
    """Networks a test makes (ids appended), deleted and synced away afterwards."""
    made: list[str] = []
    yield made
    for net_id in made:
        networks.delete_network(env, ADMIN, net_id)
    drain(sync)
    for net_id in made:
        assert nb.lookup("Logical_Switch", f"neutron-{net_id}", default=None) is None


def drain(sync: NorthboundSync) -> None:
    while sync.run_once():
        pass


def localnets(nb, switch_id: str) -> dict[str, tuple]:
    """The localnet ports of switch ``neutron-<switch_id>`` (a network or segment id)."""
    with nb.ovsdb_connection.lock:
        switch = nb.lookup("Logical_Switch", f"neutron-{switch_id}")
        return {p.name: (p.type, list(p.tag_request), p.options.get("network_name"))
                for p in switch.ports if p.type == "localnet"}


def switch_ports(nb, switch_id: str) -> set[str]:
    """Names of the ports of switch ``neutron-<switch_id>``."""
    with nb.ovsdb_connection.lock:
        return {p.name for p in nb.lookup("Logical_Switch", f"neutron-{switch_id}").ports}


def test_every_vlan_segment_is_a_tagged_localnet_port_on_its_own_switch(env, nb, sync,
                                                                         network):
    net = wire.create("network", env, ADMIN, [{"name": "pub2xx", "shared": True, "segments": [
        {"provider_network_type": "vlan", "provider_physical_network": PHYSNET,
         "provider_segmentation_id": 200},
        {"provider_network_type": "vlan", "provider_physical_network": PHYSNET}]}])[0]
    network.append(net["id"])
    segs = dict(segment_reads.READER.list_rows(
        env, ADMIN, ListQuery(filters={"network_id": [net["id"]]}), ("segmentation_id", "id"),
        ()).rows)
    assert set(segs) == {200, 201}  # the second one allocated from the range
    subs = {v: wire.create("subnet", env, ADMIN, [{
        "network_id": net["id"], "cidr": f"10.10.{v}.0/24", "ip_version": 4,
        "segment_id": segs[v]}])[0] for v in (200, 201)}
    port = wire.create("port", env, ADMIN, [{"network_id": net["id"], "fixed_ips": [
        {"subnet_id": subs[201]["id"]}]}])[0]
    drain(sync)

    assert localnets(nb, net["id"]) == {f"provnet-{segs[200]}": ("localnet", [200], PHYSNET)}
    assert localnets(nb, segs[201]) == {f"provnet-{segs[201]}": ("localnet", [201], PHYSNET)}
    metadata = {p["fixed_ips"][0]["subnet_id"]: p["id"] for p in wire.listed(
        env, ADMIN, "port", ListQuery(filters={
            "network_id": [net["id"]], "device_owner": ["network:distributed"]}))}
    assert set(metadata) == {subs[200]["id"], subs[201]["id"]}  # one per switch
    assert switch_ports(nb, segs[201]) == {f"provnet-{segs[201]}", port["id"],
                                           metadata[subs[201]["id"]]}
    assert metadata[subs[200]["id"]] in switch_ports(nb, net["id"])

    ports.delete_port(env, ADMIN, port["id"])
    subnets.delete_subnet(env, ADMIN, subs[201]["id"])
    segments.delete_segment(env, ADMIN, segs[201])
    drain(sync)
    assert localnets(nb, net["id"]) == {f"provnet-{segs[200]}": ("localnet", [200], PHYSNET)}
    assert nb.lookup("Logical_Switch", f"neutron-{segs[201]}", default=None) is None


def test_project_network_vni_is_its_datapath_tunnel_key(env, nb, sb, sync, network):
    net = wire.create("network", env, ADMIN, [{"name": "project"}])[0]
    network.append(net["id"])
    vni = net["provider:segmentation_id"]
    assert net["provider:network_type"] == "geneve" and vni == 2 ** 24 - 65535  # the first
    drain(sync)

    switch = nb.lookup("Logical_Switch", f"neutron-{net['id']}")
    assert switch.other_config["requested-tnl-key"] == str(vni)

    def tunnel_key():
        with sb.ovsdb_connection.lock:
            for dp in sb.tables["Datapath_Binding"].rows.values():
                if dp.external_ids.get("logical-switch") == str(switch.uuid):
                    return dp.tunnel_key
        return None
    assert wait_until(lambda: tunnel_key() == vni and vni, timeout=10,
                      what=f"ovn-northd to give the datapath tunnel key {vni}")


def test_sync_records_the_physnets_each_host_bridges(ovn_lab, env, sync):
    drain(sync)

    def hosts():
        return env.db.run(lambda s: {(r.host, r.physical_network) for r in s.execute(
            select(HostPhysicalNetwork.host, HostPhysicalNetwork.physical_network))},
            write=False)
    assert (ovn_lab.chassis_name, PHYSNET) in hosts()
    central = ovn_lab.deployment.central
    name = f"{ovn_lab.prefix}-rack9"
    central.sbctl("chassis-add", name, "geneve", "127.0.9.99", "--", "set", "Chassis", name,
                  'other_config:ovn-bridge-mappings="rack9:br-r9"', f"hostname={name}")
    try:
        wait_until(lambda: (drain(sync), (name, "rack9") in hosts())[1], timeout=10,
                   what="the new chassis' physnet to be recorded")
    finally:
        central.sbctl("--if-exists", "chassis-del", name)
    wait_until(lambda: (drain(sync), (name, "rack9") not in hosts())[1], timeout=10,
               what="the deleted chassis' physnet to be forgotten")

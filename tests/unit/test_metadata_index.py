"""The metadata agent's port index without namespaces (``neutrino/metadata/index.py``).

The index is fed SB ``Port_Binding``-shaped rows (:func:`row`) or bindings made here
(:func:`vif`, which ``test_metadata_proxy`` uses too).
"""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

from neutrino.ipam import ranges
from neutrino.metadata.index import Binding, PortIndex, binding_from_row

NET_A, NET_B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
CHASSIS = "chassis-1"


def row(logical_port: str, network: str, *, type: str = "", mac: list[str] | None = None,
        chassis: str | None = None, port_security: list[str] | None = None,
        **external_ids: str) -> SimpleNamespace:
    """An SB Port_Binding row as the IDL shows it."""
    ids = {"neutron:network_name": f"neutron-{network}", **{
        k.replace("__", ":"): v for k, v in external_ids.items()}}
    return SimpleNamespace(
        logical_port=logical_port, type=type, mac=mac or [], external_ids=ids,
        port_security=port_security or [],
        chassis=[SimpleNamespace(name=chassis)] if chassis else [],
        datapath=SimpleNamespace(external_ids={"name": f"neutron-{network}"}))


def vif(port_id: str, network: str, mac: str, *ips: str, device: str = "", project: str = "p1",
        chassis: str | None = CHASSIS) -> Binding:
    return Binding(port_id=port_id, network_id=network, mac=mac, ips=ips, device_id=device,
                   project_id=project, device_owner="compute:nova", chassis=chassis)


# --- rows -> bindings -------------------------------------------------------------------

def test_binding_from_a_vif_row():
    got = binding_from_row(row(
        "p1", NET_A, mac=["fa:16:3e:00:00:05 10.0.0.5 2001:db8::5"], chassis=CHASSIS,
        neutron__device_id="vm-1", neutron__project_id="proj", neutron__cidrs="10.0.0.5/24",
        neutron__device_owner="compute:nova"))
    assert got == Binding(port_id="p1", network_id=NET_A, type="", mac="fa:16:3e:00:00:05",
                          ips=("10.0.0.5", "2001:db8::5"), cidrs=("10.0.0.5/24",),
                          device_id="vm-1", device_owner="compute:nova", project_id="proj",
                          chassis=CHASSIS)


def test_binding_from_a_metadata_localport_row():
    got = binding_from_row(row(
        "m1", NET_A, type="localport", mac=["fa:16:3e:00:00:02 10.0.0.2 2001:db8::2"],
        neutron__device_owner="network:distributed", neutron__cidrs="10.0.0.2/24 2001:db8::2/64"))
    assert got.is_metadata_port and got.chassis is None
    assert got.ipv4_cidrs == ("10.0.0.2/24",)


def test_rows_the_agent_ignores_or_completes():
    assert binding_from_row(row("r1", NET_A, type="patch")) is None
    assert binding_from_row(row("c1", NET_A, type="chassisredirect")) is None
    unowned = row("x", NET_A)
    unowned.external_ids = {}
    unowned.datapath = SimpleNamespace(external_ids={"name": "somebody-else"})
    assert binding_from_row(unowned) is None
    # no neutron:network_name: the datapath's name tells the network
    bare = row("p2", NET_B, mac=["unknown", "fa:16:3e:00:00:09 10.0.0.9"])
    bare.external_ids = {}
    got = binding_from_row(bare)
    assert got.network_id == NET_B and got.ips == ("10.0.0.9",) and got.mac == "fa:16:3e:00:00:09"


# --- the index ---------------------------------------------------------------------------

def test_the_same_address_on_two_networks_resolves_per_network():
    index = PortIndex(CHASSIS)
    index.update(vif("pa", NET_A, "fa:16:3e:00:00:0a", "10.0.0.5", device="vm-a", project="a"))
    index.update(vif("pb", NET_B, "fa:16:3e:00:00:0b", "10.0.0.5", device="vm-b", project="b"))
    assert index.resolve(NET_A, "10.0.0.5").device_id == "vm-a"
    assert index.resolve(NET_B, "10.0.0.5").device_id == "vm-b"
    assert index.resolve(NET_A, "10.0.0.6") is None
    assert index.resolve("other-net", "10.0.0.5") is None
    assert index.resolve(NET_A, "::ffff:10.0.0.5").device_id == "vm-a"  # IPv4-mapped
    assert index.resolve(NET_A, "not an address") is None


def test_ipv6_link_local_sources_resolve_by_the_mac_of_their_neighbour_entry():
    mac = "fa:16:3e:12:34:56"
    eui64 = str(ranges.eui64(ipaddress.ip_network("fe80::/64"), mac))
    index = PortIndex(CHASSIS)
    index.update(vif("pa", NET_A, mac, "2001:db8::5", device="vm-a"))
    # any interface identifier: EUI-64, stable-privacy, random; any case of MAC
    for address in (eui64, "fe80::1c2b:9e4d:77a1:3f02", "fe80::dead:beef%7"):
        assert index.resolve(NET_A, address, mac.upper()).device_id == "vm-a"
    assert index.resolve(NET_A, eui64) is None  # no neighbour entry: nobody
    assert index.resolve(NET_A, eui64, "fa:16:3e:00:00:01") is None  # no port has that MAC
    assert index.resolve(NET_B, eui64, mac) is None  # the MAC is per network


def test_a_port_accepts_its_own_mac_and_its_address_pairs_macs():
    got = binding_from_row(row(
        "p1", NET_A, mac=["fa:16:3e:00:00:05 10.0.0.5"], chassis=CHASSIS,
        port_security=["fa:16:3e:00:00:05 10.0.0.5", "FA:16:3E:00:00:05 10.0.0.100",
                       "fa:16:3e:aa:bb:cc 10.0.0.200"]))
    assert got.pair_macs == ("fa:16:3e:aa:bb:cc",)
    assert got.accepts("fa:16:3e:00:00:05") and got.accepts("FA:16:3E:AA:BB:CC")
    assert not got.accepts("fa:16:3e:00:00:06")
    assert not got.accepts(None) and not got.accepts("")
    # without port security (no port_security column entries): its own MAC only
    bare = binding_from_row(row("p2", NET_A, mac=["fa:16:3e:00:00:07 10.0.0.7", "unknown"]))
    assert bare.pair_macs == () and bare.accepts("fa:16:3e:00:00:07")
    assert not bare.accepts("fa:16:3e:00:00:05")


def test_updates_and_removals_keep_the_index_exact():
    index = PortIndex(CHASSIS)
    index.update(vif("pa", NET_A, "fa:16:3e:00:00:0a", "10.0.0.5", device="vm-a"))
    index.update(vif("pa", NET_A, "fa:16:3e:00:00:0a", "10.0.0.7", device="vm-a"))  # new address
    assert index.resolve(NET_A, "10.0.0.5") is None
    assert index.resolve(NET_A, "10.0.0.7").port_id == "pa"
    index.remove("pa")
    index.remove("pa")  # unknown: no error
    assert index.resolve(NET_A, "10.0.0.7") is None and len(index) == 0


def test_an_address_claimed_by_two_ports_resolves_to_none():
    index = PortIndex(CHASSIS)
    index.update(vif("p1", NET_A, "fa:16:3e:00:00:01", "10.0.0.5", device="vm-1"))
    index.update(vif("p2", NET_A, "fa:16:3e:00:00:02", "10.0.0.5", device="vm-2"))
    assert index.resolve(NET_A, "10.0.0.5") is None
    index.remove("p2")
    assert index.resolve(NET_A, "10.0.0.5").device_id == "vm-1"


def test_local_networks_and_metadata_ports():
    index = PortIndex(CHASSIS)
    index.update(vif("here", NET_A, "fa:16:3e:00:00:01", "10.0.0.5"))
    index.update(vif("elsewhere", NET_B, "fa:16:3e:00:00:02", "10.0.0.5", chassis="chassis-2"))
    index.update(vif("unbound", NET_B, "fa:16:3e:00:00:03", "10.0.0.6", chassis=None))
    meta = Binding(port_id="m", network_id=NET_A, type="localport", mac="fa:16:3e:00:00:99",
                   ips=("10.0.0.2",), cidrs=("10.0.0.2/24",), device_owner="network:distributed")
    index.update(meta)
    assert index.local_networks() == {NET_A}
    assert index.networks() == {NET_A, NET_B}
    assert index.metadata_port(NET_A) == meta and index.metadata_port(NET_B) is None
    assert index.resolve(NET_A, "10.0.0.2") is None  # the metadata port is no caller
    index.update(vif("here", NET_A, "fa:16:3e:00:00:01", "10.0.0.5", chassis=None))  # unbound
    assert index.local_networks() == set()
    index.remove("m")
    assert index.metadata_port(NET_A) is None

"""Segments in the NB (ovn.desired): every flat/vlan segment is its own localnet
port with its tag on the network's one switch (the seed-004 bug: only one tag
wired), and a geneve segment's VNI is the switch's requested tunnel key."""

from __future__ import annotations

from types import SimpleNamespace

from neutrino.ovn.desired import desired_state, desired_switch, tunnel_keys

BASE_MAC = "fa:16:3e:00:00:00"
NET = "6f9f2a1e-0000-4000-8000-000000000001"


def network(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": NET, "name": "pub200", "mtu": 1500, "revision_number": 1,
                              "availability_zone_hints": [],
                              "project_id": "admin", **kw})


def segment(seg_id: str, index: int, **kw) -> SimpleNamespace:
    return SimpleNamespace(**{"id": seg_id, "network_id": NET, "network_type": "vlan",
                              "physical_network": "default", "segmentation_id": None,
                              "segment_index": index, **kw})


def test_two_vlan_segments_are_two_tagged_localnet_ports_on_one_switch():
    segs = [segment("s200", 0, segmentation_id=200), segment("s201", 1, segmentation_id=201)]

    state = desired_state([network()], [], [], [], base_mac=BASE_MAC, segments=segs)

    assert {n: (p.switch, p.type, p.tag_request, p.options["network_name"])
            for n, p in state.ports.items()} == {
        "provnet-s200": (f"neutron-{NET}", "localnet", 200, "default"),
        "provnet-s201": (f"neutron-{NET}", "localnet", 201, "default")}
    assert "requested-tnl-key" not in state.switches[f"neutron-{NET}"].other_config


GLOBAL = 16711681  # the first key ovn-northd never assigns itself


def geneve(seg_id: str, index: int, vni: int) -> SimpleNamespace:
    return segment(seg_id, index, network_type="geneve", physical_network=None,
                   segmentation_id=vni)


def test_geneve_segment_vni_is_the_requested_tunnel_key():
    state = desired_state([network()], [], [], [], base_mac=BASE_MAC,
                          segments=[geneve("g", 0, GLOBAL + 76)])

    assert state.switches[f"neutron-{NET}"].other_config == {
        "mcast_snoop": "false", "mcast_flood_unregistered": "false",
        "requested-tnl-key": str(GLOBAL + 76)}
    assert state.ports == {}


def test_tunnel_key_is_the_first_geneve_segments():
    segs = [segment("v", 0, segmentation_id=5), geneve("g2", 2, GLOBAL + 9),
            geneve("g1", 1, GLOBAL + 8)]

    assert tunnel_keys(segs) == {NET: GLOBAL + 8}
    assert "requested-tnl-key" not in desired_switch(network()).other_config


def test_a_vni_northd_may_have_given_a_router_is_not_requested():
    # requesting it would move that router's datapath to another key
    assert tunnel_keys([geneve("g", 0, 77), geneve("h", 1, GLOBAL - 1)]) == {}

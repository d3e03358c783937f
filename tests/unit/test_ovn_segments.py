"""Segments in the NB (ovn.desired): every flat/vlan segment is its own localnet
port with its tag, every one after the first on a switch of its own with the ports
of its subnets (one switch held both before: only one tag was wired per chassis,
seed 004's bug), and a geneve segment's VNI is the switch's requested tunnel key."""

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


def test_two_vlan_segments_on_one_physnet_are_two_switches_each_with_its_tagged_localnet():
    segs = [segment("s201", 1, segmentation_id=201), segment("s200", 0, segmentation_id=200)]

    state = desired_state([network()], [], [], [], base_mac=BASE_MAC, segments=segs)

    assert {n: (p.switch, p.type, p.tag_request, p.options["network_name"])
            for n, p in state.ports.items()} == {
        "provnet-s200": (f"neutron-{NET}", "localnet", 200, "default"),
        "provnet-s201": ("neutron-s201", "localnet", 201, "default")}
    assert state.switches["neutron-s201"].external_ids["neutrino:network_id"] == NET
    assert "requested-tnl-key" not in state.switches[f"neutron-{NET}"].other_config


def subnet(sub_id: str, cidr: str, segment_id: str | None) -> SimpleNamespace:
    return SimpleNamespace(id=sub_id, network_id=NET, cidr=cidr, ip_version=4,
                           enable_dhcp=True, gateway_ip=cidr.replace("0/24", "1"),
                           host_routes=[], dns_nameservers=[], segment_id=segment_id,
                           revision_number=1, ipv6_address_mode=None, ipv6_ra_mode=None)


def port(port_id: str) -> SimpleNamespace:
    return SimpleNamespace(id=port_id, network_id=NET, name="", mac_address="fa:16:3e:00:00:01",
                           device_owner="compute:nova", device_id="vm", project_id="p",
                           admin_state_up=True, revision_number=1, port_security_enabled=False,
                           allowed_address_pairs=[], binding_host_id="", binding_profile={},
                           extra_dhcp_opts=[])


def test_a_port_sits_on_the_switch_of_its_subnets_segment():
    segs = [segment("s200", 0, segmentation_id=200), segment("s201", 1, segmentation_id=201)]
    subs = [subnet("a", "10.10.200.0/24", "s200"), subnet("b", "10.10.201.0/24", "s201")]
    allocs = [SimpleNamespace(port_id="p200", subnet_id="a", ip_address="10.10.200.5"),
              SimpleNamespace(port_id="p201", subnet_id="b", ip_address="10.10.201.5")]

    state = desired_state([network()], subs, [port("p200"), port("p201"), port("none")], allocs,
                          base_mac=BASE_MAC, segments=segs)

    assert {n: (p.switch, p.external_ids["neutron:network_name"]) for n, p in state.ports.items()
            if not n.startswith("provnet-")} == {
        "p200": (f"neutron-{NET}", f"neutron-{NET}"),
        "p201": ("neutron-s201", "neutron-s201"),
        "none": (f"neutron-{NET}", f"neutron-{NET}")}  # no address yet: the first segment's
    assert state.ports["p201"].dhcpv4_options == "b"


def test_segments_on_different_physnets_also_get_their_own_switch():
    segs = [segment("r1", 0, segmentation_id=200, physical_network="rack1"),
            segment("r2", 1, segmentation_id=201, physical_network="rack2")]

    state = desired_state([network()], [], [], [], base_mac=BASE_MAC, segments=segs)

    assert {p.switch for p in state.ports.values()} == {f"neutron-{NET}", "neutron-r2"}


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

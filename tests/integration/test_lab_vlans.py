"""The lab's upstream switch (neutrino.lab.vlans) on the shared ``ovn_lab``'s chassis:
VLAN gateways behind access ports, the switch trunked to the physnet bridge
(``physnet1`` -> ``br-ex``), all of it removed again; the data path itself is
exercised end to end by tests/e2e/test_provider_vlans.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from ovnlab import PHYSNET, PHYSNET_BRIDGE, OvnLab

from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs
from neutrino.lab import vlans

pytestmark = pytest.mark.ovn


def test_vlan_gateways_behind_one_trunked_switch_come_and_go(ovn_lab: OvnLab, tmp_path: Path):
    ovs, ns = ovn_lab.ovs_connection, ovn_lab.netns
    gws = [vlans.create_vlan(tmp_path, PHYSNET, v, PHYSNET_BRIDGE, ns, ovs, f"10.10.{v}.1/24")
           for v in (100, 101)]
    try:
        switch = vlans.switch_name(PHYSNET)
        physnet_end, switch_end = vlans.trunk_ifnames(PHYSNET)
        assert physnet_end == vlans.trunk_ifname(PHYSNET)
        assert physnet_end in host_ovs.bridge_ports(ovs, PHYSNET_BRIDGE)
        assert set(host_ovs.bridge_ports(ovs, switch)) == {switch_end, *(g.host_if for g in gws)}
        for gw in gws:
            assert vlans.is_plumbed(gw) and gw.gateway_ip == f"10.10.{gw.vlan}.1"
            assert host_ovs.vsctl(ovs, "get", "Port", gw.host_if, "tag").strip() == str(gw.vlan)
        assert host_ovs.vsctl(ovs, "get", "Port", switch_end, "tag").strip() == "[]"  # trunk
        res = vlans.exec_in_vlan(tmp_path, PHYSNET, 100, ["ip", "-4", "-o", "addr", "show", "eth0"])
        assert "10.10.100.1/24" in res.stdout
        assert [(g.physnet, g.vlan) for g in vlans.list_vlans(tmp_path)] == [
            (PHYSNET, 100), (PHYSNET, 101)]
        # idempotent
        assert vlans.create_vlan(tmp_path, PHYSNET, 100, PHYSNET_BRIDGE, ns, ovs,
                                 "10.10.100.1/24") == gws[0]

        # as neutrino down: everything goes, the JSON stays; as up: back again
        vlans.remove_all(tmp_path, ovs)
        assert not host_netns.netns_exists(gws[0].netns)
        assert physnet_end not in host_ovs.bridge_ports(ovs, PHYSNET_BRIDGE)
        assert vlans.restore_vlan(tmp_path, PHYSNET, 100, ns, ovs) == gws[0]
        assert vlans.is_plumbed(gws[0])

        assert vlans.remove_vlan(tmp_path, PHYSNET, 100, ovs)
        assert not vlans.remove_vlan(tmp_path, PHYSNET, 100, ovs)
        assert vlans.create_vlan(tmp_path, PHYSNET, 101, PHYSNET_BRIDGE, ns, ovs,
                                 "10.10.101.1/24") == gws[1]
        assert switch_end in host_ovs.bridge_ports(ovs, switch)  # its last VLAN is left
    finally:
        for gw in gws:
            vlans.remove_vlan(tmp_path, PHYSNET, gw.vlan, ovs)
    assert not any(host_netns.netns_exists(g.netns) for g in gws)
    assert physnet_end not in host_ovs.bridge_ports(ovs, PHYSNET_BRIDGE)
    assert switch not in host_ovs.vsctl(ovs, "list-br").split()
    assert vlans.list_vlans(tmp_path) == []


def test_bad_vlan_and_gateway_are_refused(ovn_lab: OvnLab, tmp_path: Path):
    for vlan, gateway in ((0, "10.0.0.1/24"), (4095, "10.0.0.1/24"), (5, "10.0.0.1"),
                          (5, "2001:db8::1/64")):
        with pytest.raises(ValueError):
            vlans.create_vlan(tmp_path, PHYSNET, vlan, PHYSNET_BRIDGE, ovn_lab.netns,
                              ovn_lab.ovs_connection, gateway)
    assert vlans.list_vlans(tmp_path) == []

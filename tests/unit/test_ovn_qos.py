"""ovn.qos builders: the QoS rows ML2/OVN's ``_ovn_qos_rule`` writes for a port, a
floating IP and a router gateway; what a row's match names and who owns it."""

from __future__ import annotations

from types import SimpleNamespace

from neutrino.ovn import qos

BW = {"type": "bandwidth_limit", "max_kbps": 10000, "max_burst_kbps": 0, "direction": "egress"}
BW_IN = {"type": "bandwidth_limit", "max_kbps": 5000, "max_burst_kbps": 800,
         "direction": "ingress"}
DSCP = {"type": "dscp_marking", "dscp_mark": 26}
MIN = {"type": "minimum_bandwidth", "min_kbps": 1000, "direction": "egress"}


def test_port_rows_combine_rules_per_direction():
    rows = {r.direction: r for r in qos.desired_port_qos("neutron-n", "p", [BW, BW_IN, DSCP])}
    assert rows["from-lport"] == qos.QoS("neutron-n", "from-lport", 2002, 'inport == "p"',
                                         {"dscp": 26}, {"rate": 10000}, {"neutron:port_id": "p"})
    assert rows["to-lport"] == qos.QoS("neutron-n", "to-lport", 2002, 'outport == "p"', {},
                                       {"rate": 5000, "burst": 800}, {"neutron:port_id": "p"})
    # minimum bandwidth alone makes no QoS row (OVN QoS has no minimum rate)
    assert qos.desired_port_qos("neutron-n", "p", [MIN]) == []


def test_floating_ip_row_is_narrowed_to_its_address_and_chassis():
    [row] = qos.desired_port_qos("neutron-ext", "gw", [BW], owner_key=qos.EXT_FIP_ID,
                                 owner_id="f", address="172.24.4.20", resident="cr-lrp-gw")
    assert row.priority == 2003 and row.external_ids == {"neutron:fip_id": "f"}
    assert row.match == ('inport == "gw" && ip4.src == 172.24.4.20 && '
                         'is_chassis_resident("cr-lrp-gw")')
    assert qos.subject_port(row.match) == "gw"
    assert qos.owner(row.external_ids) == "floatingip f"


def test_network_device_ports_and_ports_without_switch_get_none():
    ports = [SimpleNamespace(id="vm", device_owner="compute:nova"),
             SimpleNamespace(id="dhcp", device_owner="network:dhcp"),
             SimpleNamespace(id="lost", device_owner="")]
    rows, options = qos.desired_qos(ports, {"vm": "neutron-n", "dhcp": "neutron-n"},
                                    {"vm": "pol", "dhcp": "pol", "lost": "pol"}, {"pol": [BW]})
    assert options == {}
    assert [r.external_ids for r in rows.values()] == [{"neutron:port_id": "vm"}]


def test_minimum_bandwidth_goes_in_the_lsp_options_on_a_physical_network_only():
    # ML2/OVN's _update_port_qos_rules: egress min-bw on a flat/VLAN network -> LSP options
    # (with the egress limit), the DSCP mark stays a QoS row; on an overlay: unrealised
    rules = [{"type": "minimum_bandwidth", "min_kbps": 2000, "direction": "egress"},
             {"type": "bandwidth_limit", "max_kbps": 10000, "max_burst_kbps": 800,
              "direction": "egress"},
             {"type": "dscp_marking", "dscp_mark": 26}]
    ports = [SimpleNamespace(id="vm", device_owner="compute:nova")]
    rows, options = qos.desired_qos(ports, {"vm": "neutron-vlan"}, {"vm": "pol"}, {"pol": rules},
                                    physical={"neutron-vlan"})
    assert options == {"vm": {"qos_min_rate": "2000000", "qos_max_rate": "10000000",
                              "qos_burst": "800000"}}
    [row] = rows.values()
    assert (row.direction, row.action, row.bandwidth) == ("from-lport", {"dscp": 26}, {})
    rows, options = qos.desired_qos(ports, {"vm": "neutron-geneve"}, {"vm": "pol"},
                                    {"pol": rules}, physical={"neutron-vlan"})
    assert options == {}
    [row] = rows.values()
    assert row.bandwidth == {"rate": 10000, "burst": 800}

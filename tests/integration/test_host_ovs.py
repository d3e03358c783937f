"""neutrino.host.ovs over ovsdbapp against the lab chassis' real ovsdb-server/ovs-vswitchd."""

from __future__ import annotations

import pytest

from ovnlab import OvnLab

from neutrino.host import ovs as host_ovs
from neutrino.lab.daemons import run

pytestmark = pytest.mark.ovn


@pytest.fixture
def veth(ovn_lab: OvnLab):
    """A veth end ``<prefix>ho`` in the chassis namespace (not plugged); removed after."""
    name = ovn_lab.name("ho")
    run(["ip", "-n", ovn_lab.netns, "link", "add", name, "type", "veth",
         "peer", "name", ovn_lab.name("hp")])
    try:
        yield name
    finally:
        ovn_lab.deployment.chassis[0].vsctl("--if-exists", "del-port", name)
        run(["ip", "-n", ovn_lab.netns, "link", "del", name])


def test_plug_returns_after_vswitchd_applied_it_and_unplug_removes(ovn_lab: OvnLab, veth: str):
    conn, chassis = ovn_lab.ovs_connection, ovn_lab.deployment.chassis[0]
    host_ovs.plug_into_bridge(conn, "br-int", veth, "port-1", "fa:16:3e:00:00:01")
    # ovs-vswitchd assigns ofport when it opens the interface: set already on return.
    assert int(chassis.vsctl("get", "Interface", veth, "ofport")) > 0
    assert veth in chassis.vsctl("list-ports", "br-int").split()
    assert veth in host_ovs.bridge_ports(conn, "br-int")
    ids = host_ovs.interface_external_ids(conn, veth)
    assert {k: ids[k] for k in ("iface-id", "attached-mac", "iface-status")} == \
        {"iface-id": "port-1", "attached-mac": "fa:16:3e:00:00:01", "iface-status": "active"}

    host_ovs.plug_into_bridge(conn, "br-int", veth, "port-2", "fa:16:3e:00:00:02", vm_uuid="vm")
    ids = host_ovs.interface_external_ids(conn, veth)
    assert (ids["iface-id"], ids["attached-mac"], ids["vm-uuid"]) == \
        ("port-2", "fa:16:3e:00:00:02", "vm")
    assert chassis.vsctl("list-ports", "br-int").split().count(veth) == 1

    host_ovs.unplug(conn, "br-int", veth)
    assert veth not in chassis.vsctl("list-ports", "br-int").split()
    assert veth not in host_ovs.bridge_ports(conn, "br-int")
    assert host_ovs.interface_external_ids(conn, veth) is None
    host_ovs.unplug(conn, "br-int", veth)  # if_exists


def test_errors_and_system_id(ovn_lab: OvnLab, veth: str, tmp_path):
    conn = ovn_lab.ovs_connection
    assert host_ovs.system_id(conn) == ovn_lab.chassis_name
    with pytest.raises(host_ovs.OvsError):
        host_ovs.plug_into_bridge(conn, "br-nonexistent", veth, "p", "fa:16:3e:00:00:03")
    with pytest.raises(host_ovs.OvsError):
        host_ovs.bridge_ports(conn, "br-nonexistent")
    with pytest.raises(host_ovs.OvsError):
        host_ovs.bridge_ports(f"unix:{tmp_path / 'none.sock'}", "br-int", timeout=2)

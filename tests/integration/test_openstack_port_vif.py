"""The real ``openstack`` CLI on Nova's port attributes (``services/port_vif.py``):
``--numa-policy-*``, ``--device-profile``, ``--trusted``/``--not-trusted``,
``--enable/--disable-uplink-status-propagation``, and ``port set`` of a new MAC.
Runs as ``test_openstack_clients.py``: noauth (admin), a clean HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):
    return noauth_openstack(neutrino_sqlite, tmp_path)


def test_cli_port_nova_attributes(cli):
    cli("network", "create", "vif-net", "-f", "json")
    port = cli("port", "create", "--network", "vif-net", "--numa-policy-socket",
               "--device-profile", "dp-smartnic", "--trusted",
               "--disable-uplink-status-propagation", "vif-port", "-f", "json")
    assert port["numa_affinity_policy"] == "socket"
    assert port["device_profile"] == "dp-smartnic"
    assert port["trusted"] is True and port["binding_profile"] == {"trusted": True}
    assert port["propagate_uplink_status"] is False

    cli("port", "set", "--numa-policy-legacy", "--not-trusted",
        "--enable-uplink-status-propagation", "--mac-address", "fa:16:3e:aa:bb:cc", "vif-port")
    shown = cli("port", "show", "vif-port", "-f", "json")
    assert shown["numa_affinity_policy"] == "legacy" and shown["trusted"] is False
    assert shown["propagate_uplink_status"] is True
    assert shown["mac_address"] == "fa:16:3e:aa:bb:cc"
    cli("port", "unset", "--numa-policy", "vif-port")
    assert cli("port", "show", "vif-port", "-f", "json")["numa_affinity_policy"] is None
    cli("port", "delete", "vif-port")
    cli("network", "delete", "vif-net")

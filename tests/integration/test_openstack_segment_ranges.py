"""``openstack network segment range create/list/show/set/delete`` (extension
network-segment-range) with the real CLI against a neutrino server whose
``vni_ranges``/``network_vlan_ranges`` make the default ranges."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest

from neutrino_server import NeutrinoServer, noauth_openstack


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NeutrinoServer]:
    settings = {"vni_ranges": "1000:1999", "network_vlan_ranges": "physnet1:100:103"}
    with NeutrinoServer(tmp_path_factory.mktemp("segment-ranges"), settings=settings) as srv:
        yield srv
    srv.assert_no_tracebacks()


@pytest.fixture
def cli(server: NeutrinoServer, tmp_path: Path):
    return noauth_openstack(server, tmp_path)


def test_cli_segment_range_lifecycle(cli, server):
    listed = cli("network", "segment", "range", "list", "-f", "json")
    defaults = {(r["Network Type"], r["Physical Network"], r["Minimum ID"], r["Maximum ID"])
                for r in listed if r["Default"]}
    assert defaults == {("geneve", "", 1000, 1999), ("vlan", "physnet1", 100, 103)}

    made = cli("network", "segment", "range", "create", "--network-type", "geneve",
               "--minimum", "5000", "--maximum", "5004", "cli-range", "-f", "json")
    assert made["name"] == "cli-range" and made["shared"] is True and made["default"] is False
    assert (made["minimum"], made["maximum"]) == (5000, 5004)
    shown = cli("network", "segment", "range", "show", "cli-range", "-f", "json")
    assert shown["id"] == made["id"] and shown["available"] == ["5000-5004"]  # the CLI compacts

    cli("network", "segment", "range", "set", "--name", "cli-range2", "--minimum", "4990",
        "--maximum", "5010", made["id"])
    shown = cli("network", "segment", "range", "show", made["id"], "-f", "json")
    assert (shown["name"], shown["minimum"], shown["maximum"]) == ("cli-range2", 4990, 5010)

    long = cli("network", "segment", "range", "list", "--long", "-f", "json")
    assert {r["ID"] for r in long} >= {made["id"]}

    # a project's range (the CLI's --project needs Keystone: set the attributes directly)
    own = cli("network", "segment", "range", "create", "--network-type", "vlan",
              "--physical-network", "physnet1", "--minimum", "300", "--maximum", "301",
              "--extra-property", "type=bool,name=shared,value=False",
              "--extra-property", "type=str,name=project_id,value=p-cli", "own", "-f", "json")
    assert own["shared"] is False and own["project_id"] == "p-cli"
    body = {"network": {"name": "vlan-net", "project_id": "p-cli",  # --project needs Keystone
                        "provider:network_type": "vlan", "provider:physical_network": "physnet1"}}
    net = httpx.post(f"{server.url}/v2.0/networks", json=body).json()["network"]
    assert net["provider:segmentation_id"] == 300
    shown = cli("network", "segment", "range", "show", "own", "-f", "json")
    # Neutron's {"300": "p-cli"}, shown by the CLI per project
    assert shown["used"] == {"p-cli": ["300"]} and shown["available"] == ["301"]
    cli("network", "delete", net["id"])

    cli("network", "segment", "range", "delete", made["id"], own["id"])
    remaining = {r["ID"] for r in cli("network", "segment", "range", "list", "-f", "json")}
    assert made["id"] not in remaining and own["id"] not in remaining

"""Trunks with the real, unmodified ``openstack`` CLI: create with a subport, add and
list subports, and deletion (see ``test_openstack_clients.py`` for how the CLI is pointed at the server)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401  (fixture)


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):  # noqa: F811
    """Run ``openstack ARGS``; JSON output is parsed."""
    return noauth_openstack(neutrino_sqlite, tmp_path)


def test_cli_trunks(cli, neutrino_sqlite):  # noqa: F811
    # networks and ports through the API (each CLI call costs seconds), trunks by the CLI
    with httpx.Client(base_url=f"{neutrino_sqlite.url}/v2.0", timeout=30) as api:
        nets = [api.post("/networks", json={"network": {"name": n}}).json()["network"]
                for n in ("cli-trunk-a", "cli-trunk-b")]
        parent, p101, p102 = (
            api.post("/ports", json={"port": {"network_id": net["id"], "name": name}}).json()["port"]
            for net, name in ((nets[0], "cli-parent"), (nets[1], "cli-p101"),
                              (nets[1], "cli-p102")))
    trunk = cli("network", "trunk", "create", "--parent-port", "cli-parent", "--subport",
                "port=cli-p101,segmentation-type=vlan,segmentation-id=101", "cli-t1", "-f", "json")
    assert trunk["port_id"] == parent["id"]
    cli("network", "trunk", "set", "--subport",
        "port=cli-p102,segmentation-type=vlan,segmentation-id=102", "cli-t1")
    subs = cli("network", "subport", "list", "--trunk", "cli-t1", "-f", "json")
    assert sorted((s["Port"], s["Segmentation ID"]) for s in subs) == [
        (p101["id"], 101), (p102["id"], 102)]
    cli("network", "trunk", "delete", "cli-t1")
    with httpx.Client(base_url=f"{neutrino_sqlite.url}/v2.0", timeout=30) as api:
        assert api.get("/trunks").json()["trunks"] == []
        assert api.get(f"/ports/{p101['id']}").json()["port"]["device_owner"] == ""

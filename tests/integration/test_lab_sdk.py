"""The lab's openstacksdk client (``neutrino/lab/sdk.py``) against a real neutrino
server on SQLite: noauth as admin or as a project, find by id else name, and a
refused call as LabError naming Neutron's error."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from neutrino.lab import commands, sdk
from neutrino_server import NeutrinoServer, neutrino_sqlite  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def info(neutrino_sqlite: NeutrinoServer):  # noqa: F811
    return SimpleNamespace(api_url=neutrino_sqlite.url)


def test_project_connection_creates_as_that_project_and_finds_by_name_or_id(info):
    project = uuid.uuid4().hex
    with sdk.connect(info, project) as conn:
        assert sdk.project_of(conn) == project
        net = conn.network.create_network(name="lab-sdk-net")
        assert net.project_id == project
        by_name = commands.find_network(conn, "lab-sdk-net")
        assert by_name["id"] == net.id and by_name["project_id"] == project
        assert commands.find_network(conn, net.id)["name"] == "lab-sdk-net"
        # the body keeps the API's names (as the lab's instance files do)
        assert "router:external" in by_name and "is_router_external" not in by_name
    with sdk.connect(info, None) as admin:
        assert sdk.project_of(admin) is None
        admin.network.delete_network(net.id)


def test_find_none_or_several_is_lab_error(info):
    with sdk.connect(info, None) as admin:
        with pytest.raises(sdk.LabError, match="no network"):
            commands.find_network(admin, "lab-sdk-missing")
        nets = [admin.network.create_network(name="lab-sdk-twice") for _ in range(2)]
        try:
            with pytest.raises(sdk.LabError, match="several networks"):
                commands.find_network(admin, "lab-sdk-twice")
        finally:
            for net in nets:
                admin.network.delete_network(net.id)


def test_refused_call_names_the_neutron_error(info):
    missing = str(uuid.uuid4())
    with sdk.connect(info, None) as admin:
        with pytest.raises(sdk.LabError) as exc:
            sdk.call(admin, "POST", "/ports", {"port": {"network_id": missing}})
        assert str(exc.value).startswith("POST /v2.0/ports: NetworkNotFound: ")
        assert missing in str(exc.value)
        with pytest.raises(sdk.LabError, match="^GET /v2.0/networks/.*: NetworkNotFound"):
            with sdk.refused():
                admin.network.get_network(missing)
        assert sdk.call(admin, "DELETE", f"/networks/{missing}", missing_ok=True) == {}

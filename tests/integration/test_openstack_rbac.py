"""Network RBAC policies with the real, unmodified ``openstack`` CLI and openstacksdk
(see ``test_openstack_clients.py`` for how they are pointed at the server).

``openstack network rbac create --target-project P`` first asks Keystone for project
P. There is no Keystone here (noauth), so the identity endpoint is a stand-in that
answers what Keystone answers a caller who may not look up projects: the version
document, then 403 for everything -- and the CLI then uses P as the project id, as
it does for a member of a real cloud. The stand-in decides nothing about neutrino.
The other project's view is read over plain HTTP with noauth's ``X-Project-Id``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import openstack
import pytest
from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401  (fixture)

FORBIDDEN = {"error": {"code": 403, "title": "Forbidden",
                       "message": "You are not authorized to perform the requested action."}}


class _Identity(BaseHTTPRequestHandler):
    """Keystone as a project lookup without the right to it: ``/v3`` (version
    discovery) answers, everything else is 403."""

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if self.path.rstrip("/") == "/v3":
            host, port = self.server.server_address[:2]
            status, body = 200, {"version": {
                "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"http://{host}:{port}/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}}
        else:
            status, body = 403, FORBIDDEN
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def identity() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Identity)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, identity, tmp_path: Path):  # noqa: F811
    """Run ``openstack ARGS`` as the noauth operator (admin); JSON output is parsed."""
    host, port = identity.server_address[:2]
    return noauth_openstack(neutrino_sqlite, tmp_path,
                            {"OS_IDENTITY_ENDPOINT_OVERRIDE": f"http://{host}:{port}/v3"})


@pytest.fixture
def as_project(neutrino_sqlite: NeutrinoServer):  # noqa: F811
    """``GET path`` as a member of ``project`` (noauth headers) -> response."""
    with httpx.Client(base_url=neutrino_sqlite.url, timeout=30) as client:
        def get(project: str, path: str) -> httpx.Response:
            return client.get(path, headers={"X-Project-Id": project, "X-Roles": "member,reader"})
        yield get


def test_cli_rbac_create_list_set_delete(cli, identity, as_project):
    net = cli("network", "create", "rbac-cli-net", "-f", "json")
    cli("subnet", "create", "--network", "rbac-cli-net", "--subnet-range", "10.9.0.0/24",
        "rbac-cli-sub")
    assert as_project("proj-b", f"/v2.0/networks/{net['id']}").status_code == 404

    pol = cli("network", "rbac", "create", "--target-project", "proj-b", "--action",
              "access_as_shared", "--type", "network", "rbac-cli-net", "-f", "json")
    assert "/v3/projects/proj-b" in identity.paths  # the CLI did ask "Keystone" first
    assert (pol["object_type"], pol["object_id"], pol["action"], pol["target_project_id"]) == (
        "network", net["id"], "access_as_shared", "proj-b")
    listed = cli("network", "rbac", "list", "-f", "json")
    assert [(p["ID"], p["Object Type"], p["Object ID"]) for p in listed] == [
        (pol["id"], "network", net["id"])]
    filtered = cli("network", "rbac", "list", "--action", "access_as_shared", "--type",
                   "network", "-f", "json")
    assert [p["ID"] for p in filtered] == [pol["id"]]
    shown = cli("network", "rbac", "show", pol["id"], "-f", "json")
    assert shown["target_project_id"] == "proj-b"

    # the target project sees the network as shared and may put a port on it
    seen = as_project("proj-b", f"/v2.0/networks/{net['id']}")
    assert seen.status_code == 200 and seen.json()["network"]["shared"] is True
    assert as_project("proj-c", f"/v2.0/networks/{net['id']}").status_code == 404

    cli("network", "rbac", "set", "--target-project", "proj-c", pol["id"])
    assert cli("network", "rbac", "show", pol["id"], "-f", "json")["target_project_id"] == "proj-c"
    assert as_project("proj-b", f"/v2.0/networks/{net['id']}").status_code == 404
    assert as_project("proj-c", f"/v2.0/networks/{net['id']}").status_code == 200

    cli("network", "rbac", "delete", pol["id"])
    assert cli("network", "rbac", "list", "-f", "json") == []
    assert as_project("proj-c", f"/v2.0/networks/{net['id']}").status_code == 404

    # --target-all-projects is the '*' entry: the network's shared flag follows it
    star = cli("network", "rbac", "create", "--target-all-projects", "--action",
               "access_as_shared", "--type", "network", "rbac-cli-net", "-f", "json")
    assert star["target_project_id"] == "*"
    assert cli("network", "show", "rbac-cli-net", "-f", "json")["shared"] is True
    cli("network", "rbac", "delete", star["id"])
    assert cli("network", "show", "rbac-cli-net", "-f", "json")["shared"] is False
    cli("subnet", "delete", "rbac-cli-sub")
    cli("network", "delete", "rbac-cli-net")


def test_sdk_rbac_policy_in_use(neutrino_sqlite: NeutrinoServer, as_project):  # noqa: F811
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, auth_type="none",
                             network_endpoint_override=neutrino_sqlite.url)
    try:
        net = conn.network.create_network(name="rbac-sdk-net")
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.8.0.0/24")
        pol = conn.network.create_rbac_policy(object_type="network", object_id=net.id,
                                              action="access_as_shared",
                                              target_project_id="proj-d")
        assert pol.target_project_id == "proj-d"
        resp = httpx.post(f"{neutrino_sqlite.url}/v2.0/ports",
                          json={"port": {"network_id": net.id}},
                          headers={"X-Project-Id": "proj-d", "X-Roles": "member,reader"})
        assert resp.status_code == 201, resp.text
        with pytest.raises(openstack.exceptions.ConflictException, match="RBAC policy on object"):
            conn.network.delete_rbac_policy(pol)
        conn.network.delete_port(resp.json()["port"]["id"])
        conn.network.delete_rbac_policy(pol)
        assert as_project("proj-d", f"/v2.0/networks/{net.id}").status_code == 404
        assert conn.network.find_rbac_policy(pol.id) is None
        conn.network.delete_network(net)
    finally:
        conn.close()


def test_cli_security_group_rbac(cli, identity, as_project):
    """``--type security_group``: the target project sees the group as shared."""
    sg = cli("security", "group", "create", "rbac-cli-sg", "-f", "json")
    assert as_project("proj-b", f"/v2.0/security-groups/{sg['id']}").status_code == 404
    pol = cli("network", "rbac", "create", "--target-project", "proj-b", "--action",
              "access_as_shared", "--type", "security_group", "rbac-cli-sg", "-f", "json")
    assert (pol["object_type"], pol["object_id"]) == ("security_group", sg["id"])
    seen = as_project("proj-b", f"/v2.0/security-groups/{sg['id']}")
    assert seen.status_code == 200 and seen.json()["security_group"]["shared"] is True
    listed = as_project("proj-b", "/v2.0/security-groups?shared=True").json()["security_groups"]
    assert [g["id"] for g in listed] == [sg["id"]]
    cli("network", "rbac", "delete", pol["id"])
    assert as_project("proj-b", f"/v2.0/security-groups/{sg['id']}").status_code == 404
    cli("security", "group", "delete", "rbac-cli-sg")

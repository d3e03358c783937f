"""neutrino with ``auth_strategy = keystone`` against a real Keystone (tests/keystone.py).

Keystone (own virtualenv, SQLite, fernet) gets two projects with a member and a reader
each, an admin, the service user neutrino validates tokens with (role ``service``), and
the ``network`` service in its catalog pointing at the neutrino server of this module.
The ``openstack`` CLI and openstacksdk authenticate with passwords and find neutrino
through the catalog, as in a real cloud.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openstack
import pytest
from keystone import ADMIN_PASSWORD, REGION, Keystone, KeystoneNeutrino
from neutrino_server import openstack_cli
from openstack import exceptions

PASSWORD = "secret-pw"
USERS = {"member1": ("project1", "member"), "reader1": ("project1", "reader"),
         "member2": ("project2", "member"), "reader2": ("project2", "reader")}


class Cloud:
    def __init__(self, keystone: Keystone, neutrino: KeystoneNeutrino,
                 projects: dict[str, str]) -> None:
        self.keystone = keystone
        self.neutrino = neutrino
        self.projects = projects

    def conn(self, user: str) -> openstack.connection.Connection:
        """openstacksdk with password auth; neutrino found through the catalog."""
        project = USERS[user][0] if user in USERS else "admin"
        password = PASSWORD if user in USERS else ADMIN_PASSWORD
        return openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type="password",
            auth_url=self.keystone.url, username=user, password=password,
            project_name=project, user_domain_name="Default", project_domain_name="Default",
            region_name=REGION, identity_api_version="3")

    def token(self, user: str) -> str:
        return self.keystone.token(user, PASSWORD, USERS[user][0])

    def api(self, method: str, path: str, token: str | None, **kw) -> httpx.Response:
        headers = {"X-Auth-Token": token} if token else {}
        return httpx.request(method, self.neutrino.url + path, headers=headers, timeout=30, **kw)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keystone")
    with Keystone(tmp) as keystone:
        projects = {name: keystone.project(name) for name in ("project1", "project2")}
        service = keystone.find("projects", "service") or {"id": keystone.project("service")}
        keystone.user("neutrino", "neutrino-pw", service["id"], "service")
        for user, (project, role) in USERS.items():
            keystone.user(user, PASSWORD, projects[project], role)
        with KeystoneNeutrino(tmp, keystone, "neutrino", "neutrino-pw") as neutrino:
            keystone.register_service("network", "neutron", neutrino.url)
            yield Cloud(keystone, neutrino, projects)
        neutrino.assert_no_tracebacks()


def run_cli(cloud: Cloud, tmp_path: Path, user: str, *args: str) -> object:
    """``openstack <args> -f json`` as ``user`` (password auth, clean environment)."""
    env = {"OS_AUTH_URL": cloud.keystone.url, "OS_IDENTITY_API_VERSION": "3",
           "OS_USERNAME": user, "OS_PASSWORD": PASSWORD, "OS_PROJECT_NAME": USERS[user][0],
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
           "OS_REGION_NAME": REGION}
    return openstack_cli(tmp_path, *args, "-f", "json", env=env)


def test_member_cli_and_sdk_through_the_catalog(cloud, tmp_path):
    net = run_cli(cloud, tmp_path, "member1", "network", "create", "cli-net")
    assert net["project_id"] == cloud.projects["project1"]
    subnet = run_cli(cloud, tmp_path, "member1", "subnet", "create", "--network", "cli-net",
                     "--subnet-range", "10.10.0.0/24", "cli-subnet")
    assert subnet["cidr"] == "10.10.0.0/24"
    port = run_cli(cloud, tmp_path, "member1", "port", "create", "--network", "cli-net",
                   "cli-port")
    assert port["fixed_ips"][0]["subnet_id"] == subnet["id"]
    listed = run_cli(cloud, tmp_path, "member1", "network", "list")
    assert net["id"] in {n["ID"] for n in listed}

    conn = cloud.conn("member1")
    sdk_net = conn.network.create_network(name="sdk-net")
    sdk_subnet = conn.network.create_subnet(network_id=sdk_net.id, ip_version=4,
                                            cidr="10.20.0.0/24")
    sdk_port = conn.network.create_port(network_id=sdk_net.id)
    assert sdk_port.fixed_ips[0]["subnet_id"] == sdk_subnet.id
    assert sdk_net.project_id == cloud.projects["project1"]
    assert {net["id"], sdk_net.id} <= {n.id for n in conn.network.networks()}
    conn.close()


def test_reader_reads_but_cannot_create(cloud):
    conn = cloud.conn("member1")
    net = conn.network.create_network(name="for-reader")
    conn.close()
    reader = cloud.conn("reader1")
    assert net.id in {n.id for n in reader.network.networks()}
    assert reader.network.get_network(net.id).name == "for-reader"
    with pytest.raises(exceptions.ForbiddenException):
        reader.network.create_network(name="nope")
    with pytest.raises(exceptions.ForbiddenException):
        reader.network.delete_network(net.id)
    reader.close()
    resp = cloud.api("POST", "/v2.0/networks", cloud.token("reader1"),
                     json={"network": {"name": "nope"}})
    assert resp.status_code == 403
    assert resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"


def test_other_projects_networks_are_invisible(cloud):
    token1, token2 = cloud.token("member1"), cloud.token("member2")
    net = cloud.api("POST", "/v2.0/networks", token1,
                    json={"network": {"name": "private1"}}).json()["network"]
    assert cloud.api("GET", f"/v2.0/networks/{net['id']}", token2).status_code == 404
    listed = cloud.api("GET", "/v2.0/networks", token2).json()["networks"]
    assert net["id"] not in {n["id"] for n in listed}
    assert cloud.api("DELETE", f"/v2.0/networks/{net['id']}", token2).status_code == 404
    # the admin sees it
    admin = cloud.keystone.token("admin", ADMIN_PASSWORD, "admin")
    assert cloud.api("GET", f"/v2.0/networks/{net['id']}", admin).status_code == 200


def test_missing_invalid_and_revoked_tokens_get_401(cloud):
    assert cloud.api("GET", "/", None).status_code == 200  # versions: no token needed
    for token in (None, "not-a-token"):
        resp = cloud.api("GET", "/v2.0/networks", token)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"] == f'Keystone uri="{cloud.keystone.url}"'
        assert resp.json()["error"]["code"] == 401
    assert cloud.api("GET", "/v2.0/extensions", None).status_code == 401

    # revoked before neutrino ever saw it
    token = cloud.token("member1")
    cloud.keystone.request("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})
    assert cloud.api("GET", "/v2.0/networks", token).status_code == 401

    # revoked while cached: refused once the cache time (2 s in this config) is over
    token = cloud.token("member1")
    assert cloud.api("GET", "/v2.0/networks", token).status_code == 200
    cloud.keystone.request("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})
    time.sleep(2.5)
    assert cloud.api("GET", "/v2.0/networks", token).status_code == 401


def test_expired_token_gets_401(cloud):
    """A short-lived token from an application credential that expires in seconds
    (Keystone caps a token's expiry at its application credential's)."""
    user_token = cloud.token("member1")
    user_id = cloud.keystone.request("GET", "/auth/tokens", token=user_token,
                                     headers={"X-Subject-Token": user_token}
                                     ).json()["token"]["user"]["id"]
    expires = datetime.now(UTC) + timedelta(seconds=8)
    cred = cloud.keystone.request("POST", f"/users/{user_id}/application_credentials",
                                  token=user_token, json={"application_credential": {
                                      "name": "short", "expires_at":
                                      expires.strftime("%Y-%m-%dT%H:%M:%S")}}
                                  ).json()["application_credential"]
    resp = httpx.post(cloud.keystone.url + "/auth/tokens", timeout=30, json={"auth": {
        "identity": {"methods": ["application_credential"],
                     "application_credential": {"id": cred["id"], "secret": cred["secret"]}}}})
    assert resp.status_code == 201, resp.text
    token = resp.headers["X-Subject-Token"]
    assert resp.json()["token"]["expires_at"] <= expires.strftime("%Y-%m-%dT%H:%M:%S.999999Z")
    assert cloud.api("GET", "/v2.0/networks", token).status_code == 200
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 1)
    resp = cloud.api("GET", "/v2.0/networks", token)
    assert resp.status_code == 401
    assert "WWW-Authenticate" in resp.headers


def test_rbac_shares_a_network_with_another_project(cloud):
    if not Path(__file__).parents[2].joinpath("neutrino/api/rbac.py").exists():
        pytest.skip("no /v2.0/rbac-policies yet")
    token1, token2 = cloud.token("member1"), cloud.token("member2")
    net = cloud.api("POST", "/v2.0/networks", token1,
                    json={"network": {"name": "to-share"}}).json()["network"]
    cloud.api("POST", "/v2.0/subnets", token1, json={"subnet": {
        "network_id": net["id"], "cidr": "10.30.0.0/24", "ip_version": 4}})
    assert cloud.api("GET", f"/v2.0/networks/{net['id']}", token2).status_code == 404
    port = {"port": {"network_id": net["id"]}}
    assert cloud.api("POST", "/v2.0/ports", token2, json=port).status_code == 404

    resp = cloud.api("POST", "/v2.0/rbac-policies", token1, json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": cloud.projects["project2"]}})
    assert resp.status_code == 201, resp.text
    assert cloud.api("GET", f"/v2.0/networks/{net['id']}", token2).status_code == 200
    resp = cloud.api("POST", "/v2.0/ports", token2, json=port)
    assert resp.status_code == 201, resp.text
    assert resp.json()["port"]["project_id"] == cloud.projects["project2"]
    # a wildcard needs admin
    resp = cloud.api("POST", "/v2.0/rbac-policies", token1, json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": "*"}})
    assert resp.status_code == 403


def test_dashboard_login_with_the_users_own_credentials(cloud):
    """POST /dashboard/login exchanges a user's password for a token of their project
    (real Keystone, keystoneauth1); the token then works on the API with the user's
    roles. The page itself needs no token; wrong credentials are 401."""
    page = httpx.get(cloud.neutrino.url + "/dashboard/", timeout=30)
    assert page.status_code == 200 and "main.js" in page.text
    resp = httpx.post(cloud.neutrino.url + "/dashboard/login", timeout=30, json={
        "username": "member1", "password": PASSWORD, "project": "project1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["project"] == {"id": cloud.projects["project1"], "name": "project1"}
    assert "member" in body["roles"] and body["user"]["name"] == "member1"
    net = cloud.api("POST", "/v2.0/networks", body["token"], json={"network": {"name": "dash"}})
    assert net.status_code == 201
    assert net.json()["network"]["project_id"] == cloud.projects["project1"]
    reader = httpx.post(cloud.neutrino.url + "/dashboard/login", timeout=30, json={
        "username": "reader1", "password": PASSWORD, "project": "project1"}).json()
    assert cloud.api("POST", "/v2.0/networks", reader["token"],
                     json={"network": {"name": "no"}}).status_code == 403
    for creds in ({"username": "member1", "password": "wrong", "project": "project1"},
                  {"username": "member1", "password": PASSWORD, "project": "project2"}):
        bad = httpx.post(cloud.neutrino.url + "/dashboard/login", json=creds, timeout=30)
        assert bad.status_code == 401 and bad.json()["NeutronError"]["type"] == "HTTPUnauthorized"
    assert PASSWORD not in cloud.neutrino.output(tail=10**9)
    assert body["token"] not in cloud.neutrino.output(tail=10**9)


def test_dashboard_page_logs_in_through_keystone(cloud, tmp_path):
    """The login form in a real browser: the member's own network appears in the graph;
    the token is in the tab's sessionStorage, not in the URL; a wrong password shows
    Keystone's refusal on the form."""
    from browser import chromium, explained, js_errors, skip_reason
    if reason := skip_reason():
        pytest.skip(reason)
    from selenium.webdriver.common.by import By

    from neutrino.lab.daemons import wait_until
    token = cloud.token("member1")
    net = cloud.api("POST", "/v2.0/networks", token, json={"network": {"name": "seen"}}).json()
    with chromium(tmp_path / "profile") as driver, explained(driver, tmp_path / "failure.png"):
        driver.get(cloud.neutrino.url + "/dashboard")
        form = driver.find_element(By.ID, "keystone-login")
        wait_until(form.is_displayed, 15, "the Keystone login form")
        for name, value in (("username", "member1"), ("password", "wrong"),
                            ("project", "project1")):
            form.find_element(By.NAME, name).send_keys(value)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        error = driver.find_element(By.ID, "login-error")
        wait_until(lambda: "wrong" in error.text, 15, "the refusal on the form")
        form.find_element(By.NAME, "password").clear()
        form.find_element(By.NAME, "password").send_keys(PASSWORD)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_until(lambda: net["network"]["id"] in (driver.execute_script(
            "return window.neutrinoDashboard && window.neutrinoDashboard.view.cy.nodes()"
            ".map(n => n.id())") or []), 30, "the member's network in the graph")
        assert "project1" in driver.find_element(By.ID, "identity").text
        saved = driver.execute_script(
            "return JSON.parse(sessionStorage.getItem('neutrino.dashboard.identity'))")
        assert saved["mode"] == "keystone" and saved["project"]["id"] == cloud.projects["project1"]
        assert saved["token"] not in driver.current_url and "token" not in driver.current_url
        assert js_errors(driver) == []


def test_keystone_unreachable_gives_503(cloud):
    token = cloud.token("member1")  # never seen by neutrino: not cached
    cloud.keystone.stop()
    try:
        resp = cloud.api("GET", "/v2.0/networks", token)
        assert resp.status_code == 503
        assert resp.json()["NeutronError"]["type"] == "ServiceUnavailable"
        assert cloud.api("GET", "/v2.0/networks", None).status_code == 401
        assert cloud.api("GET", "/", None).status_code == 200
    finally:
        cloud.keystone.start()
    assert cloud.api("GET", "/v2.0/networks", token).status_code == 200

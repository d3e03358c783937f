"""The web dashboard in a real headless Chromium against a running all-in-one
(``neutrino up``, noauth): one browser session for the module.

A project with a network, a subnet, a router on it and an instance's port is made
through the API; the page, entered as that project's member, draws them; a network
with a subnet created through the page's form appears in the API and then in the
graph; a router created through the API meanwhile shows up without a reload (the
page polls) and a poll that finds nothing new redraws nothing; the explain form shows the
API's verdict.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from allinone import AllInOne, host_state, running_allinone
from browser import chromium, explained, js_errors, skip_reason

from neutrino.lab.daemons import wait_until

pytestmark = pytest.mark.ovn

NODES = "return window.neutrinoDashboard && window.neutrinoDashboard.view.cy.nodes()" \
        ".map(n => [n.id(), n.data('kind'), n.data('label')])"

REDRAWS = "return window.neutrinoDashboard.view.redraws"


@pytest.fixture(scope="module")
def cloud(run_prefix, tmp_path_factory) -> Iterator[tuple[AllInOne, str, dict]]:
    if reason := skip_reason():
        pytest.skip(reason)
    project = f"{run_prefix}-dash"
    with host_state(), running_allinone(tmp_path_factory.mktemp("dash"), run_prefix) as aio:
        net = aio.network(project, "10.7.0.0/24")
        with aio.client(project) as c:
            [subnet] = c.get("/subnets", params={"network_id": net["id"]}).json()["subnets"]
            router = c.post("/routers", json={"router": {"name": "dash-router"}}).json()["router"]
            assert c.put(f"/routers/{router['id']}/add_router_interface",
                         json={"subnet_id": subnet["id"]}).status_code == 200
            port = c.post("/ports", json={"port": {
                "network_id": net["id"], "name": "vm1", "device_owner": "compute:nova",
                "device_id": "0c5e7e4e-1111-4222-8333-944445555666"}}).json()["port"]
        yield aio, project, {"network": net, "subnet": subnet, "router": router, "port": port}


def nodes(driver) -> dict[str, tuple[str, str]]:
    return {node_id: (kind, label) for node_id, kind, label in driver.execute_script(NODES) or []}


def test_dashboard_draws_creates_and_follows_the_project(cloud, tmp_path):
    from selenium.webdriver.common.by import By

    aio, project, made = cloud
    base = aio.url.removesuffix("/v2.0")
    with chromium(tmp_path / "profile") as driver, explained(driver, tmp_path / "failure.png"):
        driver.get(base + "/dashboard")
        login = driver.find_element(By.ID, "noauth-login")
        wait_until(login.is_displayed, 15, "the noauth login form")
        field = login.find_element(By.NAME, "project")
        field.clear()
        field.send_keys(project)
        login.find_element(By.NAME, "role").send_keys("member")
        login.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

        # the project's topology: network, subnet, router, port and instance
        wait_until(lambda: made["router"]["id"] in nodes(driver), 30, "the router in the graph")
        shown = nodes(driver)
        assert shown[made["network"]["id"]][0] == "network"
        subnet_name = made["subnet"]["name"] or made["subnet"]["id"][:8]
        assert shown[made["subnet"]["id"]] == ("subnet", f"{subnet_name}\n10.7.0.0/24")
        assert shown[made["router"]["id"]] == ("router", "dash-router")
        assert shown[made["port"]["id"]][0] == "port"
        assert shown["instance-" + made["port"]["device_id"]][0] == "instance"
        assert project in driver.find_element(By.ID, "identity").text

        # a network with a subnet through the form: in the API, then in the graph
        driver.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=actions]").click()
        form = driver.find_element(By.ID, "form-network")
        form.find_element(By.NAME, "name").send_keys("from-the-browser")
        form.find_element(By.NAME, "cidr").send_keys("10.8.0.0/24")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        result = form.find_element(By.CLASS_NAME, "result")
        wait_until(lambda: "created" in result.text or "error" in result.get_attribute("class"),
                   15, "the form's answer")
        assert "ok" in result.get_attribute("class"), result.text
        with aio.client(project) as c:
            [net] = c.get("/networks", params={"name": "from-the-browser"}).json()["networks"]
            [sub] = c.get("/subnets", params={"network_id": net["id"]}).json()["subnets"]
        assert net["project_id"] == project and sub["cidr"] == "10.8.0.0/24"
        wait_until(lambda: {net["id"], sub["id"]} <= set(nodes(driver)), 10,
                   "the new network and subnet in the graph")

        # a change made elsewhere shows up without a reload
        with aio.client(project) as c:
            other = c.post("/routers", json={"router": {"name": "made-elsewhere"}}).json()["router"]
        wait_until(lambda: other["id"] in nodes(driver), 10, "the API-made router in the graph")

        # nothing changed: the next poll redraws nothing
        status = driver.find_element(By.ID, "status")
        before = (driver.execute_script(REDRAWS), status.text)
        wait_until(lambda: status.text != before[1], 10, "the next poll")
        assert driver.execute_script(REDRAWS) == before[0]

        # a network's address usage and the scheduler's ranking
        driver.execute_script("const s = window.neutrinoDashboard; s.view.cy.getElementById("
                              "arguments[0]).emit('tap');", net["id"])
        details = driver.find_element(By.ID, "details")
        wait_until(lambda: "Scheduler ranking" in details.text, 10, "the network's details")
        assert "Address usage" in details.text and "addresses used" in details.text

        # explain: the API's verdict for the port
        driver.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=explain]").click()
        explain = driver.find_element(By.ID, "form-explain")
        explain.find_element(By.NAME, "port").send_keys("vm1")
        explain.find_element(By.NAME, "destination").send_keys("10.7.0.1")
        explain.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        out = driver.find_element(By.ID, "explain-result")
        wait_until(lambda: any(v in out.text for v in ("ALLOWED", "DROPPED")), 15,
                   "explain's answer")
        assert js_errors(driver) == []

"""Unmodified Nova booting without ``--nic`` against a real ``neutrino server`` (issue 20,
seed 004): the calls of Nova 2025.x's ``nova/network/neutron.py``, made with
python-neutronclient as Nova makes them (``tests/nova_replay.py``), pinned request by
request.

* A project that sees one shared "pool" network with two subnets, the first full: the
  boot's port gets an address from the second and its binding; the project's
  port quota then used up, Nova's own quota arithmetic refuses the next boot and the
  port create is 409 OverQuota.
* The same on a routed pool network (a VLAN segment per physical network, subnets on
  the segments): the port is deferred until Nova's binding names the host, then gets
  an address of the second subnet of that host's segment, the first being full.
* A project that sees no network, ``auto_allocate_create`` on: the dry-run, then the
  auto-allocated topology, the port on it and its binding: an address of the built
  subnet behind the project's router.
* A project with no network over its port quota: the dry-run is 409 before anything is
  built (Nova gives up: UnableToAutoAllocateNetwork), and so are the topology itself
  and ``scheduled-ports``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest
from nova_replay import Instance, NovaNetworkReplay, PortLimitExceeded, UnableToAutoAllocateNetwork

from neutrino_server import NeutrinoServer

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services import segments
from neutrino.services.env import Env

HOST = "compute-1"
VLAN_RANGES = "rack1:200:200,rack2:201:201"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NeutrinoServer]:
    with NeutrinoServer(tmp_path_factory.mktemp("nova-boot"),
                        settings={"auto_allocate_create": "true",
                                  "auto_allocate_cidrs": "10.128.0.0/16",
                                  "network_vlan_ranges": VLAN_RANGES}) as srv:
        yield srv
    srv.assert_no_tracebacks()


@pytest.fixture(scope="module")
def admin(server: NeutrinoServer) -> Iterator[httpx.Client]:
    """The operator (noauth without a project: admin)."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def ok(resp: httpx.Response, status: int = 201) -> dict:
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else {}


def pool_network(admin: httpx.Client, project: str, network: dict | None = None,
                 segment_id: str | None = None, third: int = 2) -> tuple[dict, dict, dict]:
    """The operator's pool network (``network``, else a new overlay one), shared with
    ``project`` (RBAC access_as_shared, so other projects here see none), subnets
    pool-a (3 pool addresses, filled) and pool-b, 192.0.<third>.0/24 and the next, on
    ``segment_id`` if given."""
    net = network or ok(admin.post("/v2.0/networks", json={"network": {"name": "pool"}}))["network"]
    subs = []
    for i in range(2):
        subs.append(ok(admin.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "name": f"pool-{'ab'[i]}", "ip_version": 4,
            "cidr": f"192.0.{third + i}.0/24",
            **({"segment_id": segment_id} if segment_id else {}),
            "allocation_pools": [{"start": f"192.0.{third + i}.10",
                                  "end": f"192.0.{third + i}.{12 if i == 0 else 200}"}]}}))["subnet"])
    ok(admin.post("/v2.0/rbac-policies", json={"rbac_policy": {
        "object_type": "network", "object_id": net["id"], "action": "access_as_shared",
        "target_tenant": project}}))
    while free(admin, net["id"])[subs[0]["id"]]:  # other instances took pool-a
        ok(admin.post("/v2.0/ports", json={"port": {
            "network_id": net["id"], "fixed_ips": [{"subnet_id": subs[0]["id"]}]}}))
    return net, subs[0], subs[1]


def free(admin: httpx.Client, network_id: str) -> dict[str, int]:
    avail = ok(admin.get(f"/v2.0/network-ip-availabilities/{network_id}"), 200)
    return {s["subnet_id"]: s["ip_availability_details"]["total_ips_in_allocation_pool"]
            - s["ip_availability_details"]["used_ips_in_allocation_pool"]
            for s in avail["network_ip_availability"]["subnet_ip_availability"]}


def in_pool(address: str, subnet: dict) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ipaddress.ip_address(p["start"]) <= ip <= ipaddress.ip_address(p["end"])
               for p in subnet["allocation_pools"])


def check_vif(vif: dict, instance: Instance, network_id: str, subnet: dict) -> str:
    """The port Nova built its VIF from: on ``subnet``, bound to HOST, the instance's."""
    port = vif["port"]
    assert port["network_id"] == network_id and port["device_id"] == instance.uuid
    assert port["device_owner"] == "compute:nova" and port["project_id"] == instance.project_id
    assert port["binding:host_id"] == HOST and port["binding:vif_type"] == "ovs"
    [fixed] = port["fixed_ips"]
    assert fixed["subnet_id"] == subnet["id"] and in_pool(fixed["ip_address"], subnet)
    [info] = vif["subnets"]
    assert (info["cidr"], info["gateway"], info["enable_dhcp"]) == (
        subnet["cidr"], subnet["gateway_ip"], True)
    return fixed["ip_address"]


def test_boot_on_a_shared_pool_network_whose_first_subnet_is_full(server, admin):
    project = "nova-pool"
    net, full, spare = pool_network(admin, project)
    nova = NovaNetworkReplay(server.url)
    instance = Instance(project, "vm-pool-1")
    [vif] = nova.boot(instance, HOST)
    address = check_vif(vif, instance, net["id"], spare)
    p, i = f"tenant_id={project}", instance.uuid
    assert nova.calls == [
        # nova-api: validate_networks
        f"GET /v2.0/networks?{p}&shared=False", "GET /v2.0/networks?shared=True",
        f"GET /v2.0/quotas/{project}", f"GET /v2.0/ports?{p}&fields=id",
        # nova-compute: allocate_for_instance
        f"GET /v2.0/networks?{p}&shared=False&admin_state_up=True",
        "GET /v2.0/networks?shared=True",
        "POST /v2.0/ports", "GET /v2.0/extensions",
        f"PUT /v2.0/ports/{vif['port']['id']}",
        f"GET /v2.0/ports?{p}&device_id={i}",
        f"GET /v2.0/subnets?id={spare['id']}",
        f"GET /v2.0/ports?network_id={net['id']}&device_owner=network%3Adhcp"]
    ports = ok(admin.get("/v2.0/ports", params={"network_id": net["id"]}), 200)["ports"]
    addresses = [f["ip_address"] for port in ports for f in port["fixed_ips"]]
    assert addresses.count(address) == 1 and len(addresses) == len(set(addresses))
    assert free(admin, net["id"])[full["id"]] == 0

    # the project's port quota used up: Nova's own count refuses the boot at the API ...
    ok(admin.put(f"/v2.0/quotas/{project}", json={"quota": {"port": 1}}), 200)
    nova.calls.clear()
    with pytest.raises(PortLimitExceeded):
        nova.boot(Instance(project, "vm-pool-2"), HOST)
    assert nova.calls[-2:] == [f"GET /v2.0/quotas/{project}", f"GET /v2.0/ports?{p}&fields=id"]
    # ... and the port create it would make is 409 OverQuota (Nova: PortLimitExceeded)
    with pytest.raises(PortLimitExceeded):
        nova.allocate_for_instance(Instance(project, "vm-pool-3"), HOST)
    mine = ok(admin.get("/v2.0/ports", params={"project_id": project}), 200)["ports"]
    assert [port["id"] for port in mine] == [vif["port"]["id"]]


def test_boot_on_a_routed_pool_network_gets_its_hosts_segment_subnet(server, admin):
    project = "nova-routed"
    net = ok(admin.post("/v2.0/networks", json={"network": {"name": "routed", "segments": [
        {"provider:network_type": "vlan", "provider:physical_network": physnet,
         "provider:segmentation_id": vlan} for physnet, vlan in (("rack1", 200), ("rack2", 201))
    ]}}))["network"]
    segs = {s["physical_network"]: s["id"] for s in ok(admin.get(
        "/v2.0/segments", params={"network_id": net["id"]}), 200)["segments"]}
    ok(admin.post("/v2.0/subnets", json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "198.51.100.0/24",
        "segment_id": segs["rack2"]}}))
    net, full, spare = pool_network(admin, project, net, segs["rack1"], third=10)
    # what the controller records from the SB chassis' ovn-bridge-mappings
    url = server.database_url or f"sqlite:///{server.state_dir / 'neutrino.db'}"
    env = Env(db=Database(url), settings=Settings(state_dir=server.state_dir, database_url=url))
    try:
        segments.record_host_physnets(env, {HOST: ["rack1"], "compute-2": ["rack2"]})
    finally:
        env.db.dispose()
    nova = NovaNetworkReplay(server.url)
    instance = Instance(project, "vm-routed-1")
    [vif] = nova.boot(instance, HOST)
    check_vif(vif, instance, net["id"], spare)
    writes = [c for c in nova.calls if c.startswith(("POST", "PUT"))]
    assert writes == ["POST /v2.0/ports", f"PUT /v2.0/ports/{vif['port']['id']}"]
    [created] = nova.created_ports  # no host yet: no address yet
    assert (created["fixed_ips"], created["ip_allocation"]) == ([], "deferred")
    assert vif["port"]["ip_allocation"] == "immediate"


def test_boot_of_a_project_without_network_gets_an_auto_allocated_one(server, admin):
    project = "nova-auto"
    public = ok(admin.post("/v2.0/networks", json={"network": {
        "name": "public", "router:external": True}}))["network"]
    ok(admin.post("/v2.0/subnets", json={"subnet": {
        "network_id": public["id"], "ip_version": 4, "cidr": "203.0.113.0/24",
        "enable_dhcp": False}}))
    nova = NovaNetworkReplay(server.url)
    instance = Instance(project, "vm-auto-1")
    [vif] = nova.boot(instance, HOST)
    p, i = f"tenant_id={project}", instance.uuid
    net_id = vif["port"]["network_id"]
    net = ok(admin.get(f"/v2.0/networks/{net_id}"), 200)["network"]
    assert (net["name"], net["project_id"]) == ("auto_allocated_network", project)
    [subnet] = ok(admin.get("/v2.0/subnets", params={"network_id": net_id}), 200)["subnets"]
    assert ipaddress.ip_network(subnet["cidr"]).subnet_of(ipaddress.ip_network("10.128.0.0/16"))
    check_vif(vif, instance, net_id, subnet)
    assert nova.calls == [
        f"GET /v2.0/networks?{p}&shared=False", "GET /v2.0/networks?shared=True",
        f"GET /v2.0/auto-allocated-topology/{project}?fields=dry-run",
        f"GET /v2.0/quotas/{project}", f"GET /v2.0/ports?{p}&fields=id",
        f"GET /v2.0/networks?{p}&shared=False&admin_state_up=True",
        "GET /v2.0/networks?shared=True",
        f"GET /v2.0/auto-allocated-topology/{project}", f"GET /v2.0/networks/{net_id}",
        "POST /v2.0/ports", "GET /v2.0/extensions",
        f"PUT /v2.0/ports/{vif['port']['id']}",
        f"GET /v2.0/ports?{p}&device_id={i}",
        f"GET /v2.0/subnets?id={subnet['id']}",
        f"GET /v2.0/ports?network_id={net_id}&device_owner=network%3Adhcp"]
    # the address is routed: the subnet's gateway is the project's router, whose
    # gateway is on the external network
    [router] = ok(admin.get("/v2.0/routers", params={"project_id": project}), 200)["routers"]
    assert router["name"] == "auto_allocated_router"
    assert router["external_gateway_info"]["network_id"] == public["id"]
    [interface] = ok(admin.get("/v2.0/ports", params={
        "device_id": router["id"], "network_id": net_id}), 200)["ports"]
    assert interface["fixed_ips"][0]["ip_address"] == subnet["gateway_ip"]
    # a second boot finds the network now and uses it (Nova: one network, no topology call)
    nova.calls.clear()
    [vif2] = nova.boot(Instance(project, "vm-auto-2"), HOST)
    assert vif2["port"]["network_id"] == net_id
    assert not [c for c in nova.calls if "auto-allocated-topology" in c]


def test_scheduled_boot_over_port_quota_is_409_before_anything_is_built(server, admin):
    project = "nova-quota"
    ok(admin.put(f"/v2.0/quotas/{project}", json={"quota": {"port": 0}}), 200)
    nova = NovaNetworkReplay(server.url)
    with pytest.raises(UnableToAutoAllocateNetwork):
        nova.boot(Instance(project, "vm-quota-1"), HOST)
    assert nova.calls == [f"GET /v2.0/networks?tenant_id={project}&shared=False",
                          "GET /v2.0/networks?shared=True",
                          f"GET /v2.0/auto-allocated-topology/{project}?fields=dry-run"]
    member = {"X-Project-Id": project, "X-Roles": "member,reader"}
    for path in (f"/v2.0/auto-allocated-topology/{project}?fields=dry-run",
                 f"/v2.0/auto-allocated-topology/{project}"):
        resp = admin.get(path, headers=member)
        assert resp.status_code == 409 and resp.json()["NeutronError"]["type"] == "OverQuota"
    resp = admin.post("/v2.0/scheduled-ports", json={"port": {}}, headers=member)
    assert resp.status_code == 409 and resp.json()["NeutronError"]["type"] == "OverQuota"
    for collection in ("networks", "subnets", "routers", "ports"):
        assert ok(admin.get(f"/v2.0/{collection}", params={"project_id": project}),
                  200)[collection] == [], collection

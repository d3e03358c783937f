"""The network scheduler (issue 8, seed 004): ``/v2.0/network-candidates``,
``/v2.0/scheduled-ports`` and ``/v2.0/auto-allocated-topology`` (reference B.10).

Free addresses are read from ``network-ip-availabilities`` and set by creating
ports, never assumed: a network may hold ports of its own (its metadata port).
"""

from __future__ import annotations


import pytest
import wire
from conftest import Api, error_type

from neutrino import errors
from neutrino.config import Settings
from neutrino.services import ports, scheduler
from neutrino.services.context import Context


@pytest.fixture
def make_api(make_api):
    """The conftest's ``make_api`` with room for 200 ports per project."""
    return lambda **settings: make_api(**{"quota_port": 200, **settings})


@pytest.fixture
def api(make_api) -> Api:
    return make_api()


def network(api: Api, name: str, pool: int = 10, *, free: int | None = None,
            project: str = "p1", subnet: dict | None = None, **attrs) -> dict:
    """A network with a subnet 10.0.0.0/24 (networks may overlap) whose pool holds
    ``pool`` addresses; with ``free``, ports are added until that many are free."""
    net = api.network(project, name=name, **attrs)
    api.subnet(net["id"], "10.0.0.0/24", project=project,
               allocation_pools=[{"start": "10.0.0.10", "end": f"10.0.0.{9 + pool}"}],
               **(subnet or {}))
    if free is not None:
        fill(api, net, free)
    return net


def free_ips(api: Api, net: dict) -> int:
    avail = api.get(f"/v2.0/network-ip-availabilities/{net['id']}", project=None,
                    expect=200).json()["network_ip_availability"]
    details = avail["ip_availability_details"]  # pool addresses not allocated
    return details["total_ips_in_allocation_pool"] - details["used_ips_in_allocation_pool"]


def fill(api: Api, net: dict, free: int) -> None:
    """Add ports to ``net`` (as its owner) until ``free`` addresses are left."""
    extra = free_ips(api, net) - free
    assert extra >= 0, f"{net['name']} has fewer than {free} free addresses"
    for _ in range(extra):
        api.port(net["id"], project=net["project_id"])
    assert free_ips(api, net) == free


def candidates(api: Api, project: str = "p1", **params) -> list[dict]:
    return api.get("/v2.0/network-candidates", project=project, params=params,
                   expect=200).json()["network_candidates"]


def schedule(api: Api, project: str = "p1", expect: int = 201, params=None, **attrs):
    resp = api.post("/v2.0/scheduled-ports", {"port": attrs}, project=project, params=params,
                    expect=expect)
    return resp.json()["port"] if expect == 201 else resp


def names(api: Api, port_list: list[dict]) -> list[str]:
    nets = {n["id"]: n["name"] for n in api.get("/v2.0/networks", project=None).json()["networks"]}
    return [nets[p["network_id"]] for p in port_list]


def topology(api: Api, project: str = "p1", path_project: str | None = None, **kw):
    return api.get(f"/v2.0/auto-allocated-topology/{path_project or project}", project=project, **kw)


# --- policies -------------------------------------------------------------------

def test_pack_fills_networks_in_name_order_then_409(api):
    for name in ("net-c", "net-a", "net-b"):  # created out of name order
        network(api, name, free=2)
    assert topology(api, expect=200).json()["auto_allocated_topology"]["id"] == \
        candidates(api)[0]["network_id"]
    placed = [schedule(api, name=f"vm{i}") for i in range(6)]
    assert names(api, placed) == ["net-a", "net-a", "net-b", "net-b", "net-c", "net-c"]

    resp = schedule(api, expect=409)
    assert error_type(resp) == "AutoAllocationFailure"
    message = resp.json()["NeutronError"]["message"]
    assert message.startswith("Deployment error: All candidate networks of project p1 are full")
    assert all(f"net-{x} has 0 of" in message for x in "abc"), message
    assert error_type(topology(api, expect=409)) == "AutoAllocationFailure"


LAYOUT = {"net-a": (5, 1), "net-b": (20, 12), "net-c": (10, 7)}  # name: (pool, free)


@pytest.mark.parametrize("policy, order", [
    ("pack", ["net-a", "net-b", "net-c"]),       # name order
    ("spread", ["net-b", "net-c", "net-a"]),     # 12, 7, 1 free
    ("balanced", ["net-c", "net-b", "net-a"]),   # 30 %, 40 %, 80 % used
])
def test_policies_rank_and_choose(make_api, policy, order):
    api = make_api(scheduler_policy=policy)
    for name, (pool, free) in LAYOUT.items():
        network(api, name, pool, free=free)
    ranked = candidates(api)
    assert [c["network_name"] for c in ranked] == order
    assert [c["rank"] for c in ranked] == [1, 2, 3]
    for c in ranked:
        assert c["eligible"] and c["reasons"] == []
        pool, free = LAYOUT[c["network_name"]]
        assert (c["total_ips"], c["free_ips"], c["used_ips"]) == (pool, free, pool - free)
    assert names(api, [schedule(api)]) == [order[0]]
    topo = topology(api, expect=200).json()["auto_allocated_topology"]
    assert topo["id"] == candidates(api)[0]["network_id"]


def test_count_skips_networks_with_too_few_free_addresses(api):
    network(api, "net-a", free=2)
    network(api, "net-b", free=3)
    ranked = candidates(api, count=3)
    assert [(c["network_name"], c["rank"]) for c in ranked] == [("net-b", 1), ("net-a", None)]
    assert ranked[1]["reasons"] == ["full: 2 free addresses, 3 needed"]
    body = {"ports": [{"name": f"vm{i}"} for i in range(3)]}
    placed = api.post("/v2.0/scheduled-ports", body, expect=201).json()["ports"]
    assert names(api, placed) == ["net-b"] * 3
    assert len({p["fixed_ips"][0]["ip_address"] for p in placed}) == 3


# --- constraints and exclusions ---------------------------------------------------

def test_required_tag_setting_makes_only_tagged_networks_candidates(make_api):
    api = make_api(scheduler_required_tag="auto")
    plain = network(api, "net-a")
    tagged = network(api, "net-b")
    api.put(f"/v2.0/networks/{tagged['id']}/tags/auto", None, expect=201)
    ranked = candidates(api)
    assert [(c["network_name"], c["rank"], c["reasons"]) for c in ranked] == [
        ("net-b", 1, []), ("net-a", None, ["missing tag auto"])]
    assert schedule(api)["network_id"] == tagged["id"]
    assert topology(api, expect=200).json()["auto_allocated_topology"]["id"] == tagged["id"]
    api.put(f"/v2.0/networks/{tagged['id']}/tags", {"tags": []}, expect=200)
    resp = topology(api, expect=409)
    assert "No candidate network for project p1: net-a: missing tag auto" in \
        resp.json()["NeutronError"]["message"]
    assert plain["id"] not in {c["network_id"] for c in candidates(api) if c["eligible"]}


def test_caller_tags_choose_dev_or_prod(api):
    dev = network(api, "dev", free=3)
    prod = network(api, "prod", free=3)
    api.put(f"/v2.0/networks/{dev['id']}/tags", {"tags": ["purpose=dev"]}, expect=200)
    api.put(f"/v2.0/networks/{prod['id']}/tags", {"tags": ["purpose=prod", "tier=1"]}, expect=200)
    assert schedule(api, params={"tags": "purpose=prod"})["network_id"] == prod["id"]
    assert schedule(api, params={"tags": "purpose=dev"})["network_id"] == dev["id"]
    both = candidates(api, tags="purpose=prod,tier=1")
    assert [(c["network_name"], c["reasons"]) for c in both] == [
        ("prod", []), ("dev", ["missing tags purpose=prod, tier=1"])]
    resp = schedule(api, params={"tags": "purpose=test"}, expect=409)
    assert "missing tag purpose=test" in resp.json()["NeutronError"]["message"]


def test_excluded_networks_come_with_reasons(api):
    network(api, "down", admin_state_up=False)
    network(api, "no-dhcp", subnet={"enable_dhcp": False})
    api.network("p1", name="no-subnet")
    network(api, "full", free=0)
    ok = network(api, "ok")
    public = network(api, "public", project="admin", **{"router:external": True})
    shared = network(api, "shared", project="p2", shared=True)
    network(api, "private-of-p2", project="p2")

    ranked = {c["network_name"]: c for c in candidates(api)}
    assert {name: c["reasons"] for name, c in ranked.items()} == {
        "ok": [], "shared": [],
        "down": ["admin_state_up is false"],
        "no-dhcp": ["no DHCP-enabled subnet"],
        "no-subnet": ["no DHCP-enabled subnet"],
        "full": ["full: 0 free addresses, 1 needed"],
        "public": ["router:external network (for router gateways and floating IPs)"],
    }
    assert [c["rank"] for c in candidates(api)[:2]] == [1, 2]
    assert ranked["shared"]["project_id"] == "p2" and ranked["shared"]["shared"]
    # a project without networks of its own gets the shared one, never the external one
    port = schedule(api, project="p3")
    assert port["network_id"] == shared["id"] and port["project_id"] == "p3"
    assert ok["id"] not in {c["network_id"] for c in candidates(api, project="p3")}
    assert public["id"] in {c["network_id"] for c in candidates(api, project="p3")}


def test_rbac_entries_naming_the_project_count_like_shared_and_external(api):
    """An access_as_shared entry for p3 makes p2's network a candidate of p3; an
    access_as_external entry for p3 makes another one router-only for p3."""
    shared = network(api, "shared-to-p3", project="p2")
    outside = network(api, "external-to-p3", project="p2")
    for net, action in ((shared, "access_as_shared"), (outside, "access_as_external")):
        api.post("/v2.0/rbac-policies", {"rbac_policy": {
            "object_type": "network", "object_id": net["id"], "action": action,
            "target_tenant": "p3"}}, project="p2", expect=201)
    ranked = {c["network_name"]: c for c in candidates(api, project="p3")}
    assert ranked["shared-to-p3"]["reasons"] == [] and ranked["shared-to-p3"]["shared"]
    assert ranked["external-to-p3"]["reasons"] == [
        "router:external network (for router gateways and floating IPs)"]
    assert schedule(api, project="p3")["network_id"] == shared["id"]


def test_ip_version_counts_only_that_version(api):
    v4 = network(api, "a-v4")
    dual = network(api, "b-dual")
    api.subnet(dual["id"], "fd00:8::/64", ipv6_address_mode="dhcpv6-stateful",
               ipv6_ra_mode="dhcpv6-stateful",
               allocation_pools=[{"start": "fd00:8::10", "end": "fd00:8::12"}])
    ranked = candidates(api, ip_version=6)
    assert [(c["network_name"], c["rank"], c["reasons"]) for c in ranked] == [
        ("b-dual", 1, []), ("a-v4", None, ["no DHCP-enabled IPv6 subnet"])]
    assert ranked[0]["total_ips"] == 3
    port = schedule(api, params={"ip_version": "6"})
    assert port["network_id"] == dual["id"]
    assert {":" in f["ip_address"] for f in port["fixed_ips"]} == {False, True}  # both, as Neutron
    assert schedule(api, params={"ip_version": "4"})["network_id"] == v4["id"]  # pack: name order


def test_port_is_kept_off_dhcp_disabled_subnets(api):
    net = api.network("p1", name="mixed")
    api.subnet(net["id"], "10.50.0.0/24", enable_dhcp=False)  # the default allocation's first pick
    dhcp = api.subnet(net["id"], "10.51.0.0/24")
    [cand] = candidates(api)
    assert cand["total_ips"] == 253 and cand["eligible"]
    port = schedule(api)
    assert [f["subnet_id"] for f in port["fixed_ips"]] == [dhcp["id"]]


# --- nothing fits ----------------------------------------------------------------------

def test_nothing_fits_says_why(api):
    resp = schedule(api, project="lonely", expect=409)
    assert resp.json()["NeutronError"] == {
        "type": "AutoAllocationFailure", "detail": "",
        "message": "Deployment error: No network for project lonely: it has no network and "
                   "none is shared."}
    network(api, "public", project="admin", **{"router:external": True})
    message = topology(api, project="lonely", expect=409).json()["NeutronError"]["message"]
    assert message == ("Deployment error: No candidate network for project lonely: public: "
                       "router:external network (for router gateways and floating IPs).")
    # dry-run checks the same requirements
    assert error_type(topology(api, project="lonely", params={"fields": "dry-run"},
                               expect=409)) == "AutoAllocationFailure"


def test_candidate_filled_by_a_racer_moves_to_the_next(api, monkeypatch):
    first = network(api, "net-a", free=1)
    second = network(api, "net-b", free=1)
    rank, raced = scheduler.rank_networks, []

    def rank_then_race(session, env, project, constraints):
        ranked = rank(session, env, project, constraints)
        if not raced:  # a racer takes net-a's last address right after the ranking
            raced.append(wire.create("port", env, Context.admin(), [{"network_id": first["id"]}]))
        return ranked
    monkeypatch.setattr(scheduler, "rank_networks", rank_then_race)
    port = schedule(api, name="vm")
    assert port["network_id"] == second["id"]
    assert free_ips(api, first) == free_ips(api, second) == 0
    listed = api.get("/v2.0/ports", params={"name": "vm"}, expect=200).json()["ports"]
    assert [p["id"] for p in listed] == [port["id"]]  # the failed attempt left nothing


def test_candidates_that_keep_filling_up_give_409_after_a_few_rounds(api, monkeypatch):
    network(api, "net-a")
    network(api, "net-b")
    tried = []

    def always_taken(env, ctx, items):
        tried.append(items[0]["network_id"])
        raise errors.IpAddressGenerationFailure("No more IP addresses available")
    monkeypatch.setattr(ports, "create_ports", always_taken)
    resp = schedule(api, expect=409)
    assert resp.json()["NeutronError"]["message"] == (
        "Deployment error: The candidate networks of project p1 filled up while scheduling "
        "1 free address.")
    assert len(tried) == 2 * scheduler.ROUNDS


# --- the API contract -------------------------------------------------------------------

def test_auto_allocated_topology_contract(api):
    net = network(api, "net-a")
    own = {"id": net["id"], "tenant_id": "p1", "project_id": "p1"}
    assert topology(api, expect=200).json() == {"auto_allocated_topology": own}
    assert topology(api, path_project="None", expect=200).json()["auto_allocated_topology"] == own
    assert topology(api, params={"fields": "dry-run"}, expect=200).json() == {
        "auto_allocated_topology": {"id": "dry-run=pass", "tenant_id": "p1", "project_id": "p1"}}
    resp = topology(api, params={"fields": "id"}, expect=400)
    assert resp.json()["NeutronError"]["message"] == "Bad auto_allocate request: Unrecognized field."
    assert error_type(topology(api, project="p2", path_project="p1", expect=403)) == "NotAuthorized"
    api.delete("/v2.0/auto-allocated-topology/p1", expect=204)  # nothing built, nothing removed
    api.delete("/v2.0/auto-allocated-topology/p1", project="p2", expect=403)
    assert topology(api, expect=200).json() == {"auto_allocated_topology": own}
    as_admin = api.get("/v2.0/auto-allocated-topology/p1", project="p2", admin=True, expect=200)
    assert as_admin.json()["auto_allocated_topology"] == own
    resp = api.get("/v2.0/network-candidates", project="p2", params={"project_id": "p1"},
                   expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    as_admin = api.get("/v2.0/network-candidates", project="p2", admin=True,
                       params={"project_id": "p1"}, expect=200).json()["network_candidates"]
    assert [c["network_id"] for c in as_admin] == [net["id"]]
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert {"auto-allocated-topology", "network-scheduler"} <= aliases


def test_scheduled_ports_request_rules(api):
    net = network(api, "net-a")
    resp = api.post("/v2.0/scheduled-ports", {"port": {"network_id": net["id"]}}, expect=400)
    assert resp.json()["NeutronError"]["message"] == "Attribute 'network_id' not allowed in POST"
    api.post("/v2.0/scheduled-ports", {"port": {"fixed_ips": []}}, expect=400)
    api.post("/v2.0/scheduled-ports", {"port": {"bogus": 1}}, expect=400)
    for params in ({"count": "2"}, {"ip_version": "5"}, {"name": "x"}):
        api.post("/v2.0/scheduled-ports", {"port": {}}, params=params, expect=400)
    for params in ({"count": "0"}, {"count": "x"}, {"foo": "1"}):
        api.get("/v2.0/network-candidates", params=params, expect=400)
    resp = api.post("/v2.0/scheduled-ports", {"ports": [{"project_id": "p1"}, {"project_id": "p2"}]},
                    project="p1", admin=True, expect=400)
    assert error_type(resp) == "BadRequest"
    port = schedule(api, name="vm", device_owner="compute:nova", tags=["x"])
    assert (port["name"], port["device_owner"], port["tags"]) == ("vm", "compute:nova", ["x"])
    shown = candidates(api, fields=["network_name", "free_ips"])
    assert shown == [{"network_name": "net-a", "free_ips": free_ips(api, net)}]


# --- building a topology when nothing fits (auto_allocate_create) ----------------

def external(api: Api, name: str = "public") -> dict:
    net = api.network("admin", name=name, **{"router:external": True,
                                             "provider:network_type": "flat",
                                             "provider:physical_network": "physnet1"})
    api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "172.24.4.0/24",
                                          "ip_version": 4, "enable_dhcp": False}},
             project="admin", admin=True, expect=201)
    return net


def test_nothing_fits_builds_a_network_behind_a_router_when_enabled(make_api):
    api = make_api(auto_allocate_create=True)
    public = external(api)
    full = network(api, "mine", pool=1, free=0)
    got = topology(api, expect=200).json()["auto_allocated_topology"]
    assert got["id"] != full["id"]
    built = api.get(f"/v2.0/networks/{got['id']}").json()["network"]
    assert built["name"] == "auto_allocated_network" and built["project_id"] == "p1"
    [sub] = api.get(f"/v2.0/subnets?network_id={got['id']}").json()["subnets"]
    assert sub["cidr"] == "10.128.0.0/24" and sub["enable_dhcp"] is True
    [router] = api.get("/v2.0/routers").json()["routers"]
    assert router["name"] == "auto_allocated_router"
    assert router["external_gateway_info"]["network_id"] == public["id"]
    iface = api.get(f"/v2.0/ports?device_id={router['id']}&device_owner=network:router_interface"
                    ).json()["ports"]
    assert [p["fixed_ips"][0]["ip_address"] for p in iface] == ["10.128.0.1"]
    # from now on it is an ordinary candidate: asking again builds nothing more
    assert topology(api, expect=200).json()["auto_allocated_topology"]["id"] == got["id"]
    assert schedule(api)["network_id"] == got["id"]
    # once it is full too, the next /24 joins the same router
    api.put("/v2.0/quotas/p1", {"quota": {"port": -1}}, admin=True, expect=200)
    fill(api, built, 0)
    port = schedule(api)
    second = api.get(f"/v2.0/subnets?network_id={port['network_id']}").json()["subnets"]
    assert [s["cidr"] for s in second] == ["10.128.1.0/24"]
    assert len(api.get("/v2.0/routers").json()["routers"]) == 1


def test_over_the_port_quota_a_boot_gets_409_before_anything_is_built(make_api):
    """Seed 004: the scheduler counts the project's port quota; nothing is placed or
    built for a boot that could not get its port."""
    api = make_api(auto_allocate_create=True)
    external(api)
    network(api, "mine", pool=5)
    # the network's metadata port is the project's, as in ML2/OVN: one more port left
    api.put("/v2.0/quotas/p1", {"quota": {"port": 2}}, admin=True, expect=200)
    schedule(api)
    resp = schedule(api, expect=409)
    assert error_type(resp) == "OverQuota" and "port" in resp.json()["NeutronError"]["message"]
    assert error_type(topology(api, params={"fields": "dry-run"}, expect=409)) == "OverQuota"
    assert [n["name"] for n in api.get("/v2.0/networks").json()["networks"]
            if n["project_id"] == "p1"] == ["mine"]  # nothing built
    assert api.get("/v2.0/routers").json()["routers"] == []


def test_with_several_external_networks_the_default_one_is_used(make_api):
    """The admin's ``is_default`` external network (Neutron's auto-allocation rule)."""
    api = make_api(auto_allocate_create=True)
    external(api, "public-a")
    chosen = api.network("admin", name="public-b", **{"router:external": True})
    api.post("/v2.0/subnets", {"subnet": {"network_id": chosen["id"], "cidr": "172.24.5.0/24",
                                          "ip_version": 4, "enable_dhcp": False}},
             project="admin", admin=True, expect=201)
    network(api, "mine", pool=1, free=0)
    api.put(f"/v2.0/networks/{chosen['id']}", {"network": {"is_default": True}}, admin=True,
            expect=200)
    topology(api, expect=200)
    [router] = api.get("/v2.0/routers").json()["routers"]
    assert router["external_gateway_info"]["network_id"] == chosen["id"]


def test_dry_run_and_disabled_and_untaggable(make_api):
    api = make_api(auto_allocate_create=True)
    assert topology(api, expect=200, params={"fields": "dry-run"}).json()[
        "auto_allocated_topology"]["id"] == "dry-run=pass"
    assert api.get("/v2.0/networks").json()["networks"] == []  # a dry run builds nothing
    # caller tags cannot be met by a fresh network: nothing is built
    resp = schedule(api, expect=409, params={"tags": "purpose=dev"})
    assert resp.json()["NeutronError"]["type"] == "AutoAllocationFailure"
    assert api.get("/v2.0/networks").json()["networks"] == []
    # without an external network the project gets a network and no router
    assert schedule(api)["network_id"]
    assert api.get("/v2.0/routers").json()["routers"] == []
    disabled = make_api()
    assert topology(disabled, project="p9", expect=409).json()["NeutronError"]["type"] == \
        "AutoAllocationFailure"


def test_auto_allocate_ranges_are_validated():
    with pytest.raises(ValueError, match="10.0.0.0/28"):
        Settings(auto_allocate_cidrs="10.0.0.0/28")

"""Addresses on a "pool" network with several subnets or segments (seed 004, issue 20):
a port without ``fixed_ips`` gets its address from a subnet that still has room
(Neutron's IPAM), chosen by ``scheduler_policy`` and ``scheduler_required_tag``
(``services.subnet_scheduler``); a full network is IpAddressGenerationFailure (409).

Free addresses are read from ``network-ip-availabilities``, never assumed: a
DHCP-enabled subnet holds the metadata port too.
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import Api, error_type

from neutrino.services import segments


@pytest.fixture
def make_api(make_api):
    """``make_api(**settings)``: conftest's, with VLANs on physnets default and rack2 and
    room for 200 ports per project."""
    def make(**settings):
        return make_api(**{"quota_port": 200,
                           "network_vlan_ranges": "default:100:110,rack2:400:401", **settings})
    return make


@pytest.fixture
def api(make_api) -> Api:
    return make_api()


def pool_network(api: Api, sizes: list[int], **subnet_attrs) -> tuple[dict, list[dict]]:
    """A shared network (admin's) with one IPv4 subnet per pool size, 10.20.<i>.0/24
    holding ``size`` pool addresses each, in creation order."""
    net = api.network("admin", name="pool", shared=True)
    subs = [api.post("/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "cidr": f"10.20.{i}.0/24", "ip_version": 4,
        "allocation_pools": [{"start": f"10.20.{i}.10", "end": f"10.20.{i}.{9 + size}"}],
        **subnet_attrs}}, admin=True, expect=201).json()["subnet"] for i, size in enumerate(sizes)]
    return net, subs


def free(api: Api, net: dict) -> dict[str, int]:
    """``{subnet_id: free pool addresses}`` from network-ip-availability."""
    avail = api.get(f"/v2.0/network-ip-availabilities/{net['id']}", admin=True,
                    expect=200).json()["network_ip_availability"]
    return {s["subnet_id"]: s["ip_availability_details"]["total_ips_in_allocation_pool"]
            - s["ip_availability_details"]["used_ips_in_allocation_pool"]
            for s in avail["subnet_ip_availability"]}


def fill(api: Api, net: dict, sub: dict, left: int) -> None:
    """Take addresses of ``sub`` (by fixed_ips, as admin) until ``left`` are free."""
    while free(api, net)[sub["id"]] > left:
        api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                          "fixed_ips": [{"subnet_id": sub["id"]}]}},
                 admin=True, expect=201)


def boot_port(api: Api, net: dict, project: str = "p1", expect: int = 201):
    """The port Nova creates for a boot: network_id, device_id, admin_state_up, tenant_id."""
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "device_id": "vm",
                                             "admin_state_up": True, "tenant_id": project}},
                    project=project, expect=expect)
    return resp.json()["port"] if expect == 201 else resp


def subnet_of(port: dict) -> str:
    [fixed] = port["fixed_ips"]
    return fixed["subnet_id"]


def test_first_subnet_full_gives_the_next_then_409_and_no_address_twice(api):
    net, (s1, s2) = pool_network(api, [3, 4])
    fill(api, net, s1, 0)
    room = free(api, net)[s2["id"]]
    assert room > 0
    placed = [boot_port(api, net, project=f"p{i % 3}") for i in range(room)]
    assert {subnet_of(p) for p in placed} == {s2["id"]}
    resp = boot_port(api, net, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    assert f"network {net['id']}" in resp.json()["NeutronError"]["message"]
    ports = api.get(f"/v2.0/ports?network_id={net['id']}", admin=True).json()["ports"]
    addresses = [f["ip_address"] for p in ports for f in p["fixed_ips"]]
    assert len(addresses) == len(set(addresses)) and free(api, net) == {s1["id"]: 0, s2["id"]: 0}
    # a freed address of the first subnet is used again
    victim = next(p for p in ports if p["fixed_ips"][0]["subnet_id"] == s1["id"]
                  and p["device_owner"] == "")
    api.delete(f"/v2.0/ports/{victim['id']}", admin=True, expect=204)
    assert subnet_of(boot_port(api, net)) == s1["id"]


@pytest.mark.parametrize("policy", ["pack", "spread"])
def test_concurrent_boots_fill_both_subnets_exactly(make_api, policy):
    api = make_api(scheduler_policy=policy)
    net, subs = pool_network(api, [6, 6], enable_dhcp=False)
    fill(api, net, subs[0], 3)
    with ThreadPoolExecutor(8) as pool:
        placed = list(pool.map(lambda i: boot_port(api, net, project=f"p{i % 4}"), range(9)))
    addresses = [p["fixed_ips"][0]["ip_address"] for p in placed]
    assert len(set(addresses)) == 9
    assert free(api, net) == {subs[0]["id"]: 0, subs[1]["id"]: 0}
    assert error_type(boot_port(api, net, expect=409)) == "IpAddressGenerationFailure"


@pytest.mark.parametrize("policy, chosen", [("pack", 0), ("spread", 1), ("balanced", 2)])
def test_policy_chooses_the_subnet(make_api, policy, chosen):
    """Three subnets: A 6 of 8 used (2 free, 75 %), B 1 of 20 used (19 free, 5 %),
    C 0 of 10 used (10 free, 0 %): pack takes the fullest with room (A), spread the
    one with most free (B), balanced the least utilised (C)."""
    api = make_api(scheduler_policy=policy)
    net, subs = pool_network(api, [8, 20, 10], enable_dhcp=False)
    fill(api, net, subs[0], 2)
    fill(api, net, subs[1], 19)
    assert subnet_of(boot_port(api, net)) == subs[chosen]["id"]


def test_pack_fills_one_subnet_before_the_next(make_api):
    api = make_api(scheduler_policy="pack")
    net, (s1, s2) = pool_network(api, [5, 5], enable_dhcp=False)
    fill(api, net, s2, 4)  # s2 is now the fuller one
    order = [subnet_of(boot_port(api, net)) for _ in range(9)]
    assert order == [s2["id"]] * 4 + [s1["id"]] * 5
    assert error_type(boot_port(api, net, expect=409)) == "IpAddressGenerationFailure"


def test_spread_alternates_between_subnets(make_api):
    api = make_api(scheduler_policy="spread")
    net, (s1, s2) = pool_network(api, [4, 4], enable_dhcp=False)
    order = [subnet_of(boot_port(api, net)) for _ in range(4)]
    assert sorted(order) == sorted([s1["id"], s2["id"]] * 2)
    assert order[0] != order[1] and order[2] != order[3]


def test_required_tag_keeps_boots_on_tagged_subnets(make_api):
    api = make_api(scheduler_required_tag="auto", scheduler_policy="spread")
    net, (s1, s2, s3) = pool_network(api, [3, 30, 3], enable_dhcp=False)
    for sub in (s1, s3):
        api.put(f"/v2.0/subnets/{sub['id']}/tags/auto", None, admin=True, expect=201)
    got = [subnet_of(boot_port(api, net)) for _ in range(6)]
    assert sorted(got) == sorted([s1["id"]] * 3 + [s3["id"]] * 3)  # never the big untagged one
    resp = boot_port(api, net, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    assert s2["id"] not in resp.json()["NeutronError"]["message"]
    # the untagged subnet is still there for a port that names it
    named = api.port(net["id"], project="p1", fixed_ips=[{"subnet_id": s2["id"]}])
    assert subnet_of(named) == s2["id"]
    # the scheduler counts the same subnets: the network is full for it
    api.put(f"/v2.0/networks/{net['id']}/tags/auto", None, admin=True, expect=201)
    cands = api.get("/v2.0/network-candidates", project="p1",
                    expect=200).json()["network_candidates"]
    [cand] = [c for c in cands if c["network_id"] == net["id"]]
    assert cand["rank"] is None and cand["free_ips"] == 0


def test_required_tag_without_tagged_subnets_uses_all(make_api):
    api = make_api(scheduler_required_tag="auto")
    net, (s1, s2) = pool_network(api, [2, 2], enable_dhcp=False)
    got = {subnet_of(boot_port(api, net)) for _ in range(4)}
    assert got == {s1["id"], s2["id"]}


def test_routed_pool_network_fills_the_hosts_segment_subnets_in_turn(api):
    """Seed 004's multi-provider network made routed: VLAN 100 on physnet default (two
    subnets) and VLAN 400 on rack2. A boot on host h1 (default) is deferred until Nova
    sets the host, then gets an address of its segment's subnet with room, never one
    of rack2's; both full: 409 on the binding update."""
    net = api.post("/v2.0/networks", {"network": {"name": "pool", "shared": True, "segments": [
        {"provider:network_type": "vlan", "provider:physical_network": "default",
         "provider:segmentation_id": 100},
        {"provider:network_type": "vlan", "provider:physical_network": "rack2",
         "provider:segmentation_id": 400}]}}, admin=True, expect=201).json()["network"]
    segs = {s["physical_network"]: s["id"] for s in api.get(
        f"/v2.0/segments?network_id={net['id']}", admin=True).json()["segments"]}
    subs = []
    for i, physnet in enumerate(("default", "default", "rack2")):
        subs.append(api.post("/v2.0/subnets", {"subnet": {
            "network_id": net["id"], "cidr": f"10.30.{i}.0/24", "ip_version": 4,
            "segment_id": segs[physnet], "enable_dhcp": False,
            "allocation_pools": [{"start": f"10.30.{i}.10", "end": f"10.30.{i}.11"}]}},
            admin=True, expect=201).json()["subnet"])
    segments.record_host_physnets(api.env, {"h1": ["default"], "h2": ["rack2"]})
    got = []
    for _ in range(4):
        port = boot_port(api, net)
        assert port["fixed_ips"] == [] and port["ip_allocation"] == "deferred"
        bound = api.put(f"/v2.0/ports/{port['id']}", {"port": {
            "device_owner": "compute:nova", "binding:host_id": "h1"}}, admin=True,
            expect=200).json()["port"]
        got.append(subnet_of(bound))
    # pack: the two have the same room at first (creation order decides), then the
    # fuller one is filled before the other is touched
    assert got[0] == got[1] and got[2] == got[3] and {got[0], got[2]} == {s["id"] for s in subs[:2]}
    port = boot_port(api, net)
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "h1"}},
                   admin=True, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"
    # a port created with its host takes the same path; rack2 still has room for h2
    on_h2 = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "binding:host_id": "h2"}},
                     admin=True, expect=201).json()["port"]
    assert ipaddress.ip_address(on_h2["fixed_ips"][0]["ip_address"]) in ipaddress.ip_network(
        subs[2]["cidr"])


def test_network_owned_ports_keep_creation_order(make_api):
    """Router gateways, floating IPs and other ``network:*`` ports take the first
    subnet with room in creation order (created_at, then id), whatever the policy."""
    api = make_api(scheduler_policy="pack", scheduler_required_tag="auto")
    net, subs = pool_network(api, [5, 5], enable_dhcp=False)
    first, second = sorted(subs, key=lambda s: (s["created_at"], s["id"]))
    fill(api, net, second, 4)  # pack and the tag would both pick the second
    api.put(f"/v2.0/subnets/{second['id']}/tags/auto", None, admin=True, expect=201)
    port = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "device_owner": "network:router_gateway"}},
                    admin=True, expect=201).json()["port"]
    assert subnet_of(port) == first["id"]
    assert subnet_of(boot_port(api, net)) == second["id"]  # an instance's port


@pytest.mark.parametrize("policy, chosen", [("pack", 0), ("spread", 1)])
def test_scheduled_port_pinned_off_a_dhcp_less_subnet_follows_the_policy(make_api, policy,
                                                                          chosen):
    """``scheduled-ports`` keeps an instance off DHCP-disabled subnets by naming the
    subnet: the one the policy puts first (pack: the fullest with room)."""
    api = make_api(scheduler_policy=policy)
    net, subs = pool_network(api, [6, 20])
    api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.20.9.0/24",
                                          "ip_version": 4, "enable_dhcp": False}},
             admin=True, expect=201)
    fill(api, net, subs[0], 2)
    port = api.post("/v2.0/scheduled-ports", {"port": {}}, project="p1",
                    expect=201).json()["port"]
    assert subnet_of(port) == subs[chosen]["id"]

"""VLAN and VNI allocation, multi-provider networks, the segments resource, routed
networks and shared networks (extensions provider, multi-provider, segment,
ip_allocation; reference B.1, B.7, B.8)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
import wire
from conftest import Api, error_type
from fastapi.testclient import TestClient

from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services import ports, segments
from neutrino.services.context import Context
from neutrino.services.env import Env

VLAN_RANGES = "default:100:101,default:200:201,physnet1,spare:300:300,rack2:400:401"


@pytest.fixture
def api(database_url) -> Iterator[Api]:
    settings = Settings(state_dir=Path("/nonexistent"), database_url=database_url,
                        network_vlan_ranges=VLAN_RANGES, vni_ranges="10:12")
    db = Database(database_url)
    with TestClient(create_app(Env(db=db, settings=settings))) as client:
        yield Api(client, Env(db=db, settings=settings))
    db.dispose()


def vlan(physnet: str | None = "default", seg_id: int | None = None, **extra) -> dict:
    body = {"provider:network_type": "vlan", **extra}
    if physnet is not None:
        body["provider:physical_network"] = physnet
    if seg_id is not None:
        body["provider:segmentation_id"] = seg_id
    return body


def provider(net: dict) -> tuple:
    return (net["provider:network_type"], net["provider:physical_network"],
            net["provider:segmentation_id"])


def create(api: Api, body: dict, expect: int = 201):
    return api.post("/v2.0/networks", {"network": {"name": "n", **body}}, admin=True, expect=expect)


# --- VLAN allocation -----------------------------------------------------------------

def test_vlan_network_takes_lowest_free_vlan_and_delete_frees_it(api):
    first = create(api, vlan()).json()["network"]
    assert provider(first) == ("vlan", "default", 100) and first["mtu"] == 1500
    assert provider(create(api, vlan()).json()["network"])[2] == 101
    assert provider(create(api, vlan()).json()["network"])[2] == 200  # the next range
    api.delete(f"/v2.0/networks/{first['id']}", admin=True, expect=204)
    assert provider(create(api, vlan()).json()["network"])[2] == 100


def test_vlan_requested_twice_is_409_and_outside_ranges_is_allowed(api):
    create(api, vlan(seg_id=100, shared=True))
    assert error_type(create(api, vlan(seg_id=100), expect=409)) == "VlanIdInUse"
    assert provider(create(api, vlan(seg_id=3000)).json()["network"]) == ("vlan", "default", 3000)
    # the automatic choice skips the taken one
    assert provider(create(api, vlan()).json()["network"])[2] == 101


def test_exhausted_vlan_ranges_are_409_naming_physnet_and_ranges(api):
    for _ in range(4):
        create(api, vlan())
    resp = create(api, vlan(), expect=409)
    body = resp.json()["NeutronError"]
    assert body["type"] == "NoNetworkAvailable"
    assert "default" in body["message"] and "100-101, 200-201" in body["message"]


def test_vlan_without_physnet_takes_first_physnet_with_a_free_vlan(api):
    for _ in range(4):
        create(api, vlan())
    assert provider(create(api, vlan(physnet=None)).json()["network"]) == ("vlan", "spare", 300)
    assert provider(create(api, vlan(physnet=None)).json()["network"]) == ("vlan", "rack2", 400)


def test_concurrent_allocations_never_share_a_vlan(api):
    """Racing transactions pick the same lowest VLAN; the unique segmentation key makes the loser
    retry with the next one (PostgreSQL runs them truly in parallel)."""
    def make(i: int) -> int:
        body = {"name": f"n{i}", "provider_network_type": "vlan",
                "provider_physical_network": "default"}
        return wire.create("network", api.env, Context.admin(), [body])[0][
            "provider:segmentation_id"]
    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(make, range(4))) == [100, 101, 200, 201]


@pytest.mark.parametrize("body, words", [
    (vlan("nowhere", 5), "unknown for VLAN"),
    (vlan("physnet1"), "requires segmentation_id"),  # no range: explicit ids only
    (vlan(None, 5), "requires physical_network"),
    (vlan("default", 4095), "out of range"),
])
def test_bad_vlan_requests_are_400(api, body, words):
    resp = create(api, body, expect=400)
    assert error_type(resp) == "InvalidInput" and words in resp.json()["NeutronError"]["message"]


def test_physnet_without_range_takes_explicit_vlans(api):
    assert provider(create(api, vlan("physnet1", 7)).json()["network"]) == ("vlan", "physnet1", 7)


def test_non_admin_cannot_set_provider_attributes_or_segments(api):
    for body in (vlan(seg_id=100), {"segments": [vlan(seg_id=100)]}):
        resp = api.post("/v2.0/networks", {"network": body}, project="p1", expect=403)
        assert error_type(resp) == "PolicyNotAuthorized"


# --- project networks: geneve VNIs ---------------------------------------------------

def test_project_networks_get_vnis_from_vni_ranges(api):
    nets = [api.network(project="p1") for _ in range(3)]
    shown = [api.get(f"/v2.0/networks/{n['id']}", admin=True).json()["network"] for n in nets]
    assert [provider(n) for n in shown] == [("geneve", None, v) for v in (10, 11, 12)]
    assert "provider:segmentation_id" not in nets[0]  # admin only
    resp = api.post("/v2.0/networks", {"network": {"name": "x"}}, project="p1", expect=409)
    assert error_type(resp) == "NoNetworkAvailable" and "10-12" in resp.text
    api.delete(f"/v2.0/networks/{nets[1]['id']}", project="p1", expect=204)
    again = api.network(project="p1")
    assert provider(api.get(f"/v2.0/networks/{again['id']}", admin=True).json()["network"]) == (
        "geneve", None, 11)
    listed = api.get("/v2.0/networks?provider:segmentation_id=12", admin=True).json()["networks"]
    assert [n["id"] for n in listed] == [nets[2]["id"]]


def test_explicit_vni_is_unique(api):
    create(api, {"provider:network_type": "geneve", "provider:segmentation_id": 5000})
    resp = create(api, {"provider:network_type": "geneve", "provider:segmentation_id": 5000},
                  expect=409)
    assert error_type(resp) == "TunnelIdInUse"


# --- multi-provider networks and the segments resource --------------------------------

TWO_SEGMENTS = {"segments": [vlan(seg_id=200), vlan(seg_id=201)], "shared": True}


def test_network_with_two_segments_lists_them(api):
    net = create(api, TWO_SEGMENTS).json()["network"]
    assert "provider:network_type" not in net
    assert net["segments"] == [
        {"provider:network_type": "vlan", "provider:physical_network": "default",
         "provider:segmentation_id": v} for v in (200, 201)]
    assert "segments" not in api.get(f"/v2.0/networks/{net['id']}", project="p2").json()["network"]
    segs = api.get(f"/v2.0/segments?network_id={net['id']}&sort_key=segmentation_id",
                   admin=True).json()["segments"]
    assert [(s["network_type"], s["segmentation_id"], s["name"]) for s in segs] == [
        ("vlan", 200, None), ("vlan", 201, None)]
    found = api.get("/v2.0/networks?provider:segmentation_id=201", admin=True).json()["networks"]
    assert [n["id"] for n in found] == [net["id"]]


def test_segments_and_provider_attributes_exclude_each_other(api):
    resp = create(api, {**vlan(seg_id=5), "segments": [vlan(seg_id=6)]}, expect=400)
    assert error_type(resp) == "SegmentsSetInConjunctionWithProviders"
    resp = create(api, {"segments": [vlan(seg_id=6), vlan(seg_id=6)]}, expect=400)
    assert error_type(resp) == "SegmentsContainDuplicateEntry"
    assert api.get("/v2.0/segments", admin=True).json()["segments"] == []


def test_segments_resource_crud_is_admin_only(api):
    net = create(api, vlan(seg_id=200)).json()["network"]
    body = {"segment": {"network_id": net["id"], "network_type": "vlan",
                        "physical_network": "default", "name": "second"}}
    api.post("/v2.0/segments", body, project="p1", expect=403)
    seg = api.post("/v2.0/segments", body, admin=True, expect=201).json()["segment"]
    assert (seg["segmentation_id"], seg["name"], seg["description"]) == (100, "second", "")
    assert set(seg) == {"id", "network_id", "name", "description", "network_type",
                        "physical_network", "segmentation_id", "revision_number",
                        "created_at", "updated_at"}
    shown = api.get(f"/v2.0/networks/{net['id']}", admin=True).json()["network"]
    assert [s["provider:segmentation_id"] for s in shown["segments"]] == [200, 100]
    assert api.get("/v2.0/segments", project="p1").json()["segments"] == []
    api.get(f"/v2.0/segments/{seg['id']}", project="p1", expect=404)
    updated = api.put(f"/v2.0/segments/{seg['id']}", {"segment": {"name": "rack1"}},
                      admin=True, expect=200).json()["segment"]
    assert updated["name"] == "rack1" and updated["revision_number"] == 2
    resp = api.put(f"/v2.0/segments/{seg['id']}", {"segment": {"segmentation_id": 7}},
                   admin=True, expect=400)
    assert "read-only" in resp.text
    api.delete(f"/v2.0/segments/{seg['id']}", admin=True, expect=204)
    api.get(f"/v2.0/segments/{seg['id']}", admin=True, expect=404)
    assert provider(api.get(f"/v2.0/networks/{net['id']}", admin=True).json()["network"]) == (
        "vlan", "default", 200)


def test_segment_with_subnets_cannot_be_deleted(api):
    net = create(api, TWO_SEGMENTS).json()["network"]
    seg = api.get(f"/v2.0/segments?network_id={net['id']}&segmentation_id=200",
                  admin=True).json()["segments"][0]
    sub = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.10.200.0/24",
                                                "ip_version": 4, "segment_id": seg["id"]}},
                   admin=True, expect=201).json()["subnet"]
    resp = api.delete(f"/v2.0/segments/{seg['id']}", admin=True, expect=409)
    assert error_type(resp) == "SegmentInUse" and sub["id"] in resp.text
    api.delete(f"/v2.0/networks/{net['id']}", admin=True, expect=204)  # takes all along
    assert api.get("/v2.0/segments", admin=True).json()["segments"] == []


# --- subnets on segments ---------------------------------------------------------------

def routed(api: Api) -> dict:
    """A shared network with segments on physnets default (VLAN 100) and rack2 (VLAN 400)
    and a subnet on each; hosts h1 (default) and h2 (rack2)."""
    net = create(api, {"segments": [vlan(seg_id=100), vlan("rack2", 400)],
                       "shared": True}).json()["network"]
    segs = {s["physical_network"]: s for s in api.get(
        f"/v2.0/segments?network_id={net['id']}", admin=True).json()["segments"]}
    subs = {}
    for physnet, cidr in (("default", "10.1.0.0/24"), ("rack2", "10.2.0.0/24")):
        subs[physnet] = api.post("/v2.0/subnets", {"subnet": {
            "network_id": net["id"], "cidr": cidr, "ip_version": 4, "enable_dhcp": False,
            "segment_id": segs[physnet]["id"]}}, admin=True, expect=201).json()["subnet"]
    segments.record_host_physnets(api.env, {"h1": ["default"], "h2": ["rack2", "other"],
                                            "h3": ["default", "rack2"]})
    return {"network": net, "segments": segs, "subnets": subs}


def test_subnet_segment_rules(api):
    r = routed(api)
    net, segs = r["network"], r["segments"]
    body = {"network_id": net["id"], "cidr": "10.3.0.0/24", "ip_version": 4}
    resp = api.post("/v2.0/subnets", {"subnet": body}, admin=True, expect=400)
    assert error_type(resp) == "SubnetsNotAllAssociatedWithSegments"
    resp = api.post("/v2.0/subnets", {"subnet": {**body, "segment_id": segs["default"]["id"]}},
                    project="p1", expect=403)
    other = create(api, vlan(seg_id=201)).json()["network"]
    resp = api.post("/v2.0/subnets", {"subnet": {**body, "network_id": other["id"],
                                                 "segment_id": segs["default"]["id"]}},
                    admin=True, expect=400)
    assert error_type(resp) == "NetworkIdsDontMatch"
    resp = api.post("/v2.0/subnets", {"subnet": {**body, "segment_id": other["id"]}},
                    admin=True, expect=404)
    assert error_type(resp) == "SegmentNotFound"
    sub = r["subnets"]["default"]
    assert sub["segment_id"] == segs["default"]["id"]
    assert "segment_id" not in api.get(f"/v2.0/subnets/{sub['id']}", project="p2").json()["subnet"]
    listed = api.get(f"/v2.0/subnets?segment_id={segs['rack2']['id']}", admin=True).json()
    assert [s["id"] for s in listed["subnets"]] == [r["subnets"]["rack2"]["id"]]
    shown = api.get(f"/v2.0/networks/{net['id']}", project="p2").json()["network"]
    assert shown["l2_adjacency"] is False


def test_port_without_host_on_routed_network_is_deferred(api):
    r = routed(api)
    port = api.port(r["network"]["id"], project="p2")
    assert port["fixed_ips"] == [] and port["ip_allocation"] == "deferred"
    assert len(port["security_groups"]) == 1  # the default group, as a port with addresses
    # the host's segment decides the subnet
    bound = api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "h2"}},
                    admin=True, expect=200).json()["port"]
    assert [f["subnet_id"] for f in bound["fixed_ips"]] == [r["subnets"]["rack2"]["id"]]
    assert bound["ip_allocation"] == "immediate"
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "h1"}},
                   admin=True, expect=409)
    assert error_type(resp) == "HostNotCompatibleWithFixedIps"
    deferred = api.get("/v2.0/ports?ip_allocation=deferred", admin=True).json()["ports"]
    assert deferred == []


def test_port_with_host_gets_an_address_of_its_hosts_segment(api):
    r = routed(api)
    net_id = r["network"]["id"]
    port = api.post("/v2.0/ports", {"port": {"network_id": net_id, "binding:host_id": "h1"}},
                    admin=True, expect=201).json()["port"]
    assert port["fixed_ips"][0]["ip_address"].startswith("10.1.0.")
    resp = api.post("/v2.0/ports", {"port": {"network_id": net_id, "binding:host_id": "h9"}},
                    admin=True, expect=409)
    assert error_type(resp) == "HostNotConnectedToAnySegment"
    resp = api.post("/v2.0/ports", {"port": {
        "network_id": net_id, "binding:host_id": "h1",
        "fixed_ips": [{"subnet_id": r["subnets"]["rack2"]["id"]}]}}, admin=True, expect=409)
    assert error_type(resp) == "HostNotCompatibleWithFixedIps"
    # a host reaching both segments: each has its own switch, the port takes one of them
    both = api.post("/v2.0/ports", {"port": {"network_id": net_id, "binding:host_id": "h3"}},
                    admin=True, expect=201).json()["port"]
    assert [f["subnet_id"] for f in both["fixed_ips"]] in (
        [r["subnets"]["default"]["id"]], [r["subnets"]["rack2"]["id"]])
    # ... and never addresses of two segments
    resp = api.post("/v2.0/ports", {"port": {"network_id": net_id, "fixed_ips": [
        {"subnet_id": r["subnets"]["default"]["id"]}, {"subnet_id": r["subnets"]["rack2"]["id"]}]}},
        admin=True, expect=400)
    assert error_type(resp) == "FixedIpsSubnetsNotOnSameSegment"
    # without a host, an explicit subnet is allocated at once
    chosen = api.port(net_id, project="p2", fixed_ips=[{"subnet_id": r["subnets"]["rack2"]["id"]}])
    assert chosen["ip_allocation"] == "immediate" and chosen["fixed_ips"][0]["ip_address"].startswith("10.2.0.")


def test_chassis_claiming_a_deferred_port_gives_it_its_address(api):
    r = routed(api)
    port = api.port(r["network"]["id"], project="p2")
    assert ports.set_port_binding_state(api.env, port["id"], up=True, chassis_host="h1")
    shown = api.get(f"/v2.0/ports/{port['id']}", admin=True).json()["port"]
    assert shown["binding:host_id"] == "h1" and shown["status"] == "ACTIVE"
    assert [f["subnet_id"] for f in shown["fixed_ips"]] == [r["subnets"]["default"]["id"]]
    other = api.port(r["network"]["id"], project="p2")
    ports.set_port_binding_state(api.env, other["id"], up=True, chassis_host="h9")  # logged
    assert api.get(f"/v2.0/ports/{other['id']}", admin=True).json()["port"]["fixed_ips"] == []


def test_ip_availability_counts_per_segment_subnet(api):
    r = routed(api)
    api.post("/v2.0/ports", {"port": {"network_id": r["network"]["id"], "binding:host_id": "h2"}},
             admin=True, expect=201)
    avail = api.get(f"/v2.0/network-ip-availabilities/{r['network']['id']}",
                    admin=True).json()["network_ip_availability"]
    by_segment = {s["segment_id"]: s["used_ips"] for s in avail["subnet_ip_availability"]}
    assert by_segment == {r["segments"]["default"]["id"]: 0, r["segments"]["rack2"]["id"]: 1}


def test_host_physnets_are_replaced(api):
    assert segments.record_host_physnets(api.env, {"h1": ["a", "b"]})
    assert not segments.record_host_physnets(api.env, {"h1": ["b", "a"]})
    assert segments.record_host_physnets(api.env, {"h2": ["a"]})


# --- shared networks -----------------------------------------------------------------

def test_shared_network_is_usable_by_every_project(api):
    net = create(api, vlan(seg_id=100, shared=True, name="pub100")).json()["network"]
    sub = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.10.100.0/24",
                                                "ip_version": 4}}, admin=True,
                   expect=201).json()["subnet"]
    listed = api.get("/v2.0/networks?shared=true", project="p2").json()["networks"]
    assert [n["id"] for n in listed] == [net["id"]] and listed[0]["subnets"] == [sub["id"]]
    port = api.port(net["id"], project="p2")
    assert port["fixed_ips"][0]["ip_address"].startswith("10.10.100.")
    api.port(net["id"], project="p2", fixed_ips=[{"subnet_id": sub["id"]}])
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"ip_address": "10.10.100.50"}]}}, project="p2", expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    resp = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.9.0.0/24",
                                                 "ip_version": 4}}, project="p2", expect=403)
    # p2 sees only its own ports there; unsharing is refused while p2 uses it
    seen = api.get(f"/v2.0/ports?network_id={net['id']}", project="p2").json()["ports"]
    assert port["id"] in {p["id"] for p in seen} and {p["project_id"] for p in seen} == {"p2"}
    resp = api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": False}}, admin=True,
                   expect=409)
    assert error_type(resp) == "InvalidSharedSetting"


def test_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"provider", "multi-provider", "segment", "ip_allocation", "l2_adjacency"} <= aliases


def test_host_reaching_two_segments_takes_the_next_when_one_is_full(api):
    net = create(api, {"segments": [vlan(seg_id=200), vlan(seg_id=201)],
                       "shared": True}).json()["network"]
    segs = sorted(api.get(f"/v2.0/segments?network_id={net['id']}", admin=True)
                  .json()["segments"], key=lambda s: s["segmentation_id"])
    subs = [api.post("/v2.0/subnets", {"subnet": {
        "network_id": net["id"], "cidr": f"10.10.{v}.0/24", "ip_version": 4, "enable_dhcp": False,
        "segment_id": seg["id"], "allocation_pools": [{"start": f"10.10.{v}.10",
                                                       "end": f"10.10.{v}.10"}]}},
        admin=True, expect=201).json()["subnet"] for v, seg in zip((200, 201), segs)]
    segments.record_host_physnets(api.env, {"hv": ["default"]})
    got = [api.post("/v2.0/ports", {"port": {"network_id": net["id"], "binding:host_id": "hv"}},
                    admin=True, expect=201).json()["port"]["fixed_ips"] for _ in range(2)]
    assert sorted(f[0]["subnet_id"] for f in got) == sorted(s["id"] for s in subs)
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "binding:host_id": "hv"}},
                    admin=True, expect=409)
    assert error_type(resp) == "IpAddressGenerationFailure"

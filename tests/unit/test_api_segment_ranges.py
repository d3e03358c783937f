"""Network segment ranges (extension network-segment-range): the resource, its default
ranges and allocation from them (the project's ranges first, then the shared ones)."""

from __future__ import annotations

import pytest
from conftest import Api, error_type

from neutrino.services import segment_ranges

URL = "/v2.0/network-segment-ranges"  # Neutron's path; openstacksdk's has underscores
SETTINGS = {"network_vlan_ranges": "physnet1:100:103,physnet2:200:201,physnet3",
            "vni_ranges": "1000:1999"}


@pytest.fixture
def api(make_api) -> Api:
    return make_api(**SETTINGS)


def create(api: Api, expect: int = 201, **attrs):
    body = {"name": "r", "network_type": "geneve", "minimum": 1100, "maximum": 1105, **attrs}
    return api.post(URL, {"network_segment_range": body}, admin=True, expect=expect)


def project_range(api: Api, project: str = "p1", **attrs) -> dict:
    return create(api, shared=False, project_id=project, **attrs).json()["network_segment_range"]


def ranges(api: Api, query: str = "") -> list[dict]:
    return api.get(f"{URL}{query}", admin=True, expect=200).json()["network_segment_ranges"]


def network(api: Api, project: str, **attrs) -> dict:
    body = {"network": {"name": "n", "project_id": project, **attrs}}
    return api.post("/v2.0/networks", body, admin=True, expect=201).json()["network"]


# --- default ranges -----------------------------------------------------------------

def test_configured_ranges_are_default_shared_read_only_ranges(api):
    found = {(r["network_type"], r["physical_network"], r["minimum"], r["maximum"]): r
             for r in ranges(api)}
    assert set(found) == {("vlan", "physnet1", 100, 103), ("vlan", "physnet2", 200, 201),
                          ("geneve", "", 1000, 1999)}
    vlan = found[("vlan", "physnet1", 100, 103)]
    assert vlan["default"] is True and vlan["shared"] is True and vlan["project_id"] is None
    assert vlan["id"] == segment_ranges.default_range_id("vlan", "physnet1", 100, 103)
    assert vlan["used"] == {} and vlan["available"] == [100, 101, 102, 103]
    resp = api.put(f"{URL}/{vlan['id']}", {"network_segment_range": {"name": "x"}}, admin=True,
                   expect=400)
    assert error_type(resp) == "NetworkSegmentRangeDefaultReadOnly"
    resp = api.delete(f"{URL}/{vlan['id']}", admin=True, expect=400)
    assert error_type(resp) == "NetworkSegmentRangeDefaultReadOnly"


def test_changed_settings_replace_the_default_ranges_at_start(api, make_api):
    old = {r["id"] for r in ranges(api)}
    api.put(f"{URL}/{segment_ranges.default_range_id('geneve', '', 1000, 1999)}/tags/keep", None,
            admin=True, expect=201)
    changed = make_api(network_vlan_ranges="physnet1:100:103", vni_ranges="1000:1999,5000:5009")
    now = {(r["network_type"], r["minimum"]): r for r in ranges(changed)}
    assert set(now) == {("vlan", 100), ("geneve", 1000), ("geneve", 5000)}
    assert now[("geneve", 1000)]["id"] in old and now[("geneve", 1000)]["tags"] == ["keep"]
    assert now[("geneve", 5000)]["available"] == list(range(5000, 5010))


def test_available_is_bounded_for_large_ranges(api):
    (geneve,) = ranges(api, "?network_type=geneve")
    assert len(geneve["available"]) == 1000  # the whole range: below the limit
    big = create(api, minimum=100000, maximum=200000, shared=True).json()["network_segment_range"]
    assert big["available"] == list(range(100000, 100000 + segment_ranges.AVAILABLE_LIMIT))


# --- the resource -------------------------------------------------------------------

def test_create_show_update_delete(api):
    made = project_range(api, "p7", description="d")
    assert {k: made[k] for k in ("name", "description", "default", "shared", "project_id",
                                 "tenant_id", "network_type", "physical_network", "minimum",
                                 "maximum", "used", "tags", "revision_number")} == {
        "name": "r", "description": "d", "default": False, "shared": False, "project_id": "p7",
        "tenant_id": "p7", "network_type": "geneve", "physical_network": "", "minimum": 1100,
        "maximum": 1105, "used": {}, "tags": [], "revision_number": 1}
    assert made["available"] == list(range(1100, 1106))
    shown = api.get(f"{URL}/{made['id']}", admin=True, expect=200).json()["network_segment_range"]
    assert shown == made
    body = {"network_segment_range": {"name": "new", "minimum": 1050, "maximum": 1155}}
    updated = api.put(f"{URL}/{made['id']}", body, admin=True,
                      expect=200).json()["network_segment_range"]
    assert (updated["name"], updated["minimum"], updated["maximum"]) == ("new", 1050, 1155)
    assert updated["revision_number"] == 2
    api.delete(f"{URL}/{made['id']}", admin=True, expect=204)
    api.get(f"{URL}/{made['id']}", admin=True, expect=404)


def test_shared_range_has_no_project_and_unshared_defaults_to_the_callers(api):
    shared = create(api, project_id="").json()["network_segment_range"]
    assert shared["shared"] is True and shared["project_id"] is None
    own = create(api, shared=False, minimum=1200, maximum=1201).json()["network_segment_range"]
    assert own["project_id"] == "p1"  # the admin caller's project, as Neutron fills it in


def test_vlan_range_needs_a_known_physical_network(api):
    made = create(api, network_type="vlan", physical_network="physnet1", minimum=10,
                  maximum=20).json()["network_segment_range"]
    assert made["physical_network"] == "physnet1" and made["available"] == list(range(10, 21))
    resp = create(api, network_type="vlan", minimum=10, maximum=20, expect=400)
    assert error_type(resp) == "BadRequest"
    resp = create(api, network_type="vlan", physical_network="nowhere", minimum=10, maximum=20,
                  expect=400)
    assert error_type(resp) == "InvalidInput"


@pytest.mark.parametrize("attrs, kind", [
    ({"network_type": "vxlan"}, "NetworkSegmentRangeNetTypeNotSupported"),
    ({"network_type": "gre"}, "NetworkSegmentRangeNetTypeNotSupported"),
    ({"network_type": "flat"}, "InvalidInput"),
    ({"minimum": 1105, "maximum": 1100}, "NetworkTunnelRangeError"),
    ({"minimum": 0}, "InvalidInput"),
    ({"minimum": 2 ** 24}, "NetworkTunnelRangeError"),
    ({"network_type": "vlan", "physical_network": "physnet1", "minimum": 4000, "maximum": 4095},
     "NetworkVlanRangeError"),
    ({"default": True}, "HTTPBadRequest"),
    ({"used": {}}, "HTTPBadRequest"),
])
def test_invalid_ranges_are_refused_and_change_nothing(api, attrs, kind):
    before = ranges(api)
    assert error_type(create(api, expect=400, **attrs)) == kind
    assert ranges(api) == before


def test_missing_bounds_are_refused(api):
    body = {"network_segment_range": {"network_type": "geneve", "minimum": 5}}
    resp = api.post(URL, body, admin=True, expect=400)
    assert "maximum" in resp.json()["NeutronError"]["message"]


def test_overlapping_ranges_conflict_but_defaults_may_be_overlapped(api):
    first = project_range(api, "p1")  # inside the default 1000:1999
    resp = create(api, minimum=1105, maximum=1110, expect=409)
    assert error_type(resp) == "NetworkSegmentRangeOverlaps" and first["id"] in resp.text
    other = create(api, minimum=1106, maximum=1110).json()["network_segment_range"]
    body = {"network_segment_range": {"minimum": 1104}}
    resp = api.put(f"{URL}/{other['id']}", body, admin=True, expect=409)
    assert error_type(resp) == "NetworkSegmentRangeOverlaps"
    # the same ids on another physical network do not overlap
    create(api, network_type="vlan", physical_network="physnet1", minimum=10, maximum=20)
    create(api, network_type="vlan", physical_network="physnet2", minimum=10, maximum=20)


def test_bulk_create_is_all_or_nothing(api):
    before = ranges(api)
    items = [{"network_type": "geneve", "minimum": 1, "maximum": 5},
             {"network_type": "geneve", "minimum": 5, "maximum": 9}]
    resp = api.post(URL, {"network_segment_ranges": items}, admin=True, expect=409)
    assert error_type(resp) == "NetworkSegmentRangeOverlaps"
    assert ranges(api) == before


def test_only_admins_see_and_change_ranges(api):
    made = project_range(api, "p1")
    assert api.get(URL, project="p1", expect=200).json() == {"network_segment_ranges": []}
    resp = api.get(f"{URL}/{made['id']}", project="p1", expect=404)
    assert error_type(resp) == "NetworkSegmentRangeNotFound"
    body = {"network_segment_range": {"network_type": "geneve", "minimum": 1, "maximum": 2}}
    assert error_type(api.post(URL, body, project="p1", expect=403)) == "PolicyNotAuthorized"
    api.put(f"{URL}/{made['id']}", {"network_segment_range": {"name": "x"}}, project="p1",
            expect=403)
    api.delete(f"{URL}/{made['id']}", project="p1", expect=403)
    api.get(f"{URL}/{made['id']}/tags", project="p1", expect=404)
    api.get(f"{URL}/00000000-0000-0000-0000-000000000000", admin=True, expect=404)


def test_list_filters_fields_sorting_and_paging(api):
    a = project_range(api, "pa", name="a", minimum=1100, maximum=1101)
    b = project_range(api, "pb", name="b", minimum=1102, maximum=1103)
    assert [r["id"] for r in ranges(api, "?default=false&sort_key=name&sort_dir=desc")] == [
        b["id"], a["id"]]
    assert [r["name"] for r in ranges(api, "?project_id=pa")] == ["a"]
    assert len(ranges(api, "?default=true")) == 3
    assert [r["physical_network"] for r in ranges(api, "?network_type=vlan&sort_key=minimum")] == [
        "physnet1", "physnet2"]
    assert ranges(api, f"?id={a['id']}&fields=id&fields=minimum") == [
        {"id": a["id"], "minimum": 1100}]
    assert ranges(api, "?id=33") == []
    page = api.get(f"{URL}?default=false&sort_key=minimum&limit=1", admin=True,
                   expect=200).json()
    assert [r["id"] for r in page["network_segment_ranges"]] == [a["id"]]
    nxt = ranges(api, f"?default=false&sort_key=minimum&limit=1&marker={a['id']}")
    assert [r["id"] for r in nxt] == [b["id"]]
    resp = api.get(f"{URL}?used=1", admin=True, expect=400)
    assert error_type(resp) == "HTTPBadRequest"


def test_tags(api):
    made = project_range(api)
    api.put(f"{URL}/{made['id']}/tags", {"tags": ["red", "blue"]}, admin=True, expect=200)
    assert [r["id"] for r in ranges(api, "?tags=red")] == [made["id"]]
    shown = api.get(f"{URL}/{made['id']}", admin=True).json()["network_segment_range"]
    assert shown["tags"] == ["blue", "red"] and shown["revision_number"] == 2
    api.delete(f"{URL}/{made['id']}", admin=True, expect=204)
    assert ranges(api, "?tags=red") == []


def test_the_underscore_path_answers_too(api):
    made = project_range(api)
    path = f"/v2.0/network_segment_ranges/{made['id']}"
    assert api.get(path, admin=True, expect=200).json()["network_segment_range"] == made
    api.put(f"{path}/tags/t", None, admin=True, expect=201)
    api.delete(path, admin=True, expect=204)


def test_extension_is_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert "network-segment-range" in aliases


# --- allocation -----------------------------------------------------------------------

def test_project_network_takes_its_vni_from_its_projects_range_first(api):
    made = project_range(api, "p1", minimum=1500, maximum=1501)
    vnis = [network(api, "p1")["provider:segmentation_id"] for _ in range(3)]
    assert vnis[:2] == [1500, 1501]  # the project's range first
    assert 1000 <= vnis[2] <= 1999 and vnis[2] not in (1500, 1501)  # then the shared ones
    other = network(api, "p2")["provider:segmentation_id"]
    assert other not in (1500, 1501)
    shown = api.get(f"{URL}/{made['id']}", admin=True).json()["network_segment_range"]
    assert shown["used"] == {"1500": "p1", "1501": "p1"} and shown["available"] == []


def test_other_projects_ranges_are_not_shared(api):
    project_range(api, "p2", minimum=1000, maximum=1009)
    vni = network(api, "p1")["provider:segmentation_id"]
    assert vni == 1010  # the default range without p2's ids
    assert network(api, "p2")["provider:segmentation_id"] == 1000


def test_shared_range_outside_the_defaults_is_used_after_them(make_api):
    api = make_api(network_vlan_ranges="physnet1:100:100", vni_ranges="1000:1000")
    create(api, minimum=7000, maximum=7001)  # shared
    assert [network(api, "p1")["provider:segmentation_id"] for _ in range(3)] == [
        1000, 7000, 7001]
    resp = api.post("/v2.0/networks", {"network": {"name": "n"}}, project="p1", expect=409)
    assert error_type(resp) == "NoNetworkAvailable"


def test_partially_specified_provider_segments_use_the_projects_range(api):
    project_range(api, "p1", network_type="vlan", physical_network="physnet2", minimum=300,
                  maximum=301)
    net = network(api, "p1", **{"provider:network_type": "vlan",
                                "provider:physical_network": "physnet2"})
    assert net["provider:segmentation_id"] == 300
    net = network(api, "p1", **{"provider:network_type": "vlan"})  # no physnet: any of p1's
    assert (net["provider:physical_network"], net["provider:segmentation_id"]) == ("physnet2", 301)
    net = network(api, "p1", **{"provider:network_type": "vlan"})  # then the shared ones
    assert (net["provider:physical_network"], net["provider:segmentation_id"]) == ("physnet1", 100)
    net = network(api, "p2", **{"provider:network_type": "vlan",
                                "provider:physical_network": "physnet2"})
    assert net["provider:segmentation_id"] == 200


def test_a_physnet_without_configured_ranges_allocates_from_a_project_range(api):
    project_range(api, "p1", network_type="vlan", physical_network="physnet3", minimum=5,
                  maximum=5)
    vlan = {"provider:network_type": "vlan", "provider:physical_network": "physnet3"}
    assert network(api, "p1", **vlan)["provider:segmentation_id"] == 5
    resp = api.post("/v2.0/networks", {"network": {"name": "n", "project_id": "p2", **vlan}},
                    admin=True, expect=400)
    assert "requires segmentation_id" in resp.text


def test_explicit_segmentation_ids_ignore_ranges(api):
    project_range(api, "p2", minimum=1100, maximum=1105)
    net = network(api, "p1", **{"provider:network_type": "geneve",
                                "provider:segmentation_id": 1103})
    assert net["provider:segmentation_id"] == 1103
    net = network(api, "p1", **{"provider:network_type": "vlan",
                                "provider:physical_network": "physnet1",
                                "provider:segmentation_id": 3000})
    assert net["provider:segmentation_id"] == 3000


def test_ranges_in_use_cannot_shrink_past_their_segments_or_be_deleted(api):
    made = project_range(api, "p1")
    net = network(api, "p1", **{"provider:network_type": "geneve"})
    seg = net["provider:segmentation_id"]
    assert seg == 1100
    item = f"{URL}/{made['id']}"
    resp = api.put(item, {"network_segment_range": {"minimum": seg + 1, "maximum": 1155}},
                   admin=True, expect=409)
    assert error_type(resp) == "NetworkSegmentRangeReferencedByProject"
    assert api.get(item, admin=True).json()["network_segment_range"]["minimum"] == 1100
    api.put(item, {"network_segment_range": {"minimum": seg, "maximum": 1155}}, admin=True,
            expect=200)
    resp = api.delete(item, admin=True, expect=409)
    assert error_type(resp) == "NetworkSegmentRangeReferencedByProject"
    api.delete(f"/v2.0/networks/{net['id']}", admin=True, expect=204)
    api.delete(item, admin=True, expect=204)

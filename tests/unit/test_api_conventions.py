"""Neutron's cross-cutting conventions: filters, fields, sorting, paging, tags,
If-Match, bulk create, quotas, IP availability and error envelopes."""

from __future__ import annotations

import pytest

from conftest import error_type


@pytest.fixture
def three_ports(api):
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)  # no metadata port: only the three listed
    ports = [api.port(net["id"], name=n, device_owner=o, fixed_ips=[{"ip_address": ip}])
             for n, o, ip in (("a", "compute:nova", "10.0.0.11"), ("b", "compute:nova", "10.0.0.12"),
                              ("c", "", "10.0.0.13"))]
    return net, ports


def names(resp, key="ports"):
    return [item["name"] for item in resp.json()[key]]


def test_filters_and_or(api, three_ports):
    assert sorted(names(api.get("/v2.0/ports?device_owner=compute:nova"))) == ["a", "b"]
    assert sorted(names(api.get("/v2.0/ports?name=a&name=c"))) == ["a", "c"]
    assert names(api.get("/v2.0/ports?name=a&device_owner=")) == []
    assert names(api.get("/v2.0/ports?device_owner=")) == ["c"]
    assert names(api.get("/v2.0/ports?fixed_ips=ip_address%3D10.0.0.12")) == ["b"]
    assert sorted(names(api.get("/v2.0/ports?fixed_ips=ip_address_substr%3D0.0.1"))) == ["a", "b", "c"]
    assert names(api.get("/v2.0/ports?admin_state_up=false")) == []
    assert len(api.get("/v2.0/ports?admin_state_up=True").json()["ports"]) == 3


def test_unknown_filter_is_400(api):
    resp = api.get("/v2.0/ports?colour=red", expect=400)
    assert "colour" in resp.json()["NeutronError"]["message"]
    assert error_type(api.get("/v2.0/networks?project_id=a&tenant_id=a", expect=400)) == \
        "TenantIdProjectIdFilterConflict"


def test_fields(api, three_ports):
    ports = api.get("/v2.0/ports?fields=id&fields=name&fields=nonsense").json()["ports"]
    assert all(set(p) == {"id", "name"} for p in ports) and len(ports) == 3
    net, _ = three_ports
    one = api.get(f"/v2.0/networks/{net['id']}?fields=name").json()["network"]
    assert one == {"name": "net"}


def test_sorting(api, three_ports):
    assert names(api.get("/v2.0/ports?sort_key=name&sort_dir=desc")) == ["c", "b", "a"]
    assert names(api.get("/v2.0/ports?sort_key=device_owner&sort_dir=asc&sort_key=name&sort_dir=desc")) \
        == ["c", "b", "a"]
    api.get("/v2.0/ports?sort_key=fixed_ips", expect=400)
    api.get("/v2.0/ports?sort_key=name&sort_dir=up", expect=400)
    api.get("/v2.0/ports?sort_key=name&sort_key=id&sort_dir=asc", expect=400)


def test_pagination_forward_and_back(api):
    net = api.network()
    for i in range(5):
        api.port(net["id"], name=f"p{i}")
    page = api.get("/v2.0/ports?sort_key=name&limit=2").json()
    assert names_of(page) == ["p0", "p1"]
    links = {l["rel"]: l["href"] for l in page["ports_links"]}
    assert set(links) == {"next", "previous"}  # Neutron offers both on a full page
    assert names_of(api.get(links["previous"].split("testserver")[1]).json()) == []
    page2 = api.get(links["next"].split("testserver")[1]).json()
    assert names_of(page2) == ["p2", "p3"]
    links2 = {l["rel"]: l["href"] for l in page2["ports_links"]}
    back = api.get(links2["previous"].split("testserver")[1]).json()
    assert names_of(back) == ["p0", "p1"]
    last = api.get(links2["next"].split("testserver")[1]).json()
    assert names_of(last) == ["p4"] and {l["rel"] for l in last["ports_links"]} == {"previous"}
    # a full last page links to an empty one, whose "previous" (no marker) is the end
    full = api.get("/v2.0/ports?sort_key=name&limit=5").json()
    [after] = [l["href"] for l in full["ports_links"] if l["rel"] == "next"]
    empty = api.get(after.split("testserver")[1]).json()
    assert names_of(empty) == [] and [l["rel"] for l in empty["ports_links"]] == ["previous"]
    [end] = [l["href"] for l in empty["ports_links"]]
    assert "marker" not in end
    assert names_of(api.get(end.split("testserver")[1]).json()) == ["p0", "p1", "p2", "p3", "p4"]
    # one past the end (limit 1): an empty page whose previous link pages back from the end
    beyond = api.get(f"/v2.0/ports?sort_key=name&limit=1&marker={last['ports'][0]['id']}").json()
    assert beyond["ports"] == []
    links = {l["rel"]: l["href"] for l in beyond["ports_links"]}
    assert set(links) == {"previous"} and "marker" not in links["previous"]
    back = api.get(links["previous"].split("testserver")[1]).json()
    assert names_of(back) == ["p4"]
    links = {l["rel"]: l["href"] for l in back["ports_links"]}
    assert names_of(api.get(links["previous"].split("testserver")[1]).json()) == ["p3"]
    assert error_type(api.get("/v2.0/ports?limit=2&marker=nope", expect=404)) == "PortNotFound"
    assert "Limit must be" in api.get("/v2.0/ports?limit=x", expect=400).text


def names_of(page):
    return [p["name"] for p in page["ports"]]


def test_tags_subresource_and_filters(api):
    a, b = api.network(name="a"), api.network(name="b")
    base = f"/v2.0/networks/{a['id']}/tags"
    assert api.put(base, {"tags": ["red", "blue"]}, expect=200).json()["tags"] == ["blue", "red"]
    api.put(f"/v2.0/networks/{b['id']}/tags/red", None, expect=201)
    api.post(f"/v2.0/networks/{b['id']}/tags", {"tags": ["green"]}, expect=201)
    api.get(f"{base}/red", expect=204)
    assert error_type(api.get(f"{base}/green", expect=404)) == "TagNotFound"
    assert sorted(names(api.get("/v2.0/networks?tags=red"), "networks")) == ["a", "b"]
    assert names(api.get("/v2.0/networks?tags=red,blue"), "networks") == ["a"]
    assert sorted(names(api.get("/v2.0/networks?tags-any=blue&tags-any=green"), "networks")) == ["a", "b"]
    assert names(api.get("/v2.0/networks?not-tags=red,blue"), "networks") == ["b"]
    assert names(api.get("/v2.0/networks?not-tags-any=green"), "networks") == ["a"]
    got = api.get(f"/v2.0/networks/{a['id']}").json()["network"]
    assert got["tags"] == ["blue", "red"] and got["revision_number"] == 2
    api.delete(f"{base}/red", expect=204)
    api.delete(f"{base}/red", expect=404)
    api.delete(base, expect=204)
    assert api.get(base).json()["tags"] == []
    api.get(f"/v2.0/routers/{a['id']}/tags", expect=404)
    api.get(f"/v2.0/networks/{a['id']}/tags", project="p2", expect=404)
    api.put(base, {"tags": ["x" * 256]}, expect=400)
    api.put(base, {"tags": [f"t{i}" for i in range(51)]}, expect=400)


def test_port_tags_on_create(api):
    net = api.network()
    port = api.port(net["id"], tags=["web", "prod"])
    assert port["tags"] == ["prod", "web"]


def test_if_match_revision(api):
    net = api.network()
    path = f"/v2.0/networks/{net['id']}"
    api.put(path, {"network": {"name": "x"}}, headers={"If-Match": "revision_number=1"}, expect=200)
    resp = api.put(path, {"network": {"name": "y"}}, headers={"If-Match": "revision_number=1"},
                   expect=412)
    assert "current revision is 2" in resp.json()["NeutronError"]["message"]
    api.put(path, {"network": {"name": "y"}}, headers={"If-Match": "rev=2"}, expect=400)
    api.delete(path, headers={"If-Match": "revision_number=1"}, expect=412)
    api.delete(path, headers={"If-Match": "revision_number=2"}, expect=204)


def test_bulk_create_is_all_or_nothing(api):
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)  # no metadata port among the listed ports
    ok = api.post("/v2.0/ports", {"ports": [{"network_id": net["id"], "name": "x"},
                                            {"port": {"network_id": net["id"], "name": "y"}}]},
                  expect=201).json()["ports"]
    assert [p["name"] for p in ok] == ["x", "y"]
    bad = {"ports": [{"network_id": net["id"], "name": "z", "fixed_ips": [{"ip_address": "10.0.0.40"}]},
                     {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.40"}]}]}
    assert error_type(api.post("/v2.0/ports", bad, expect=409)) == "IpAddressAlreadyAllocated"
    assert names(api.get("/v2.0/ports?sort_key=name")) == ["x", "y"]
    api.post("/v2.0/ports", {"ports": []}, expect=400)


def test_bulk_create_rolls_back_on_conflict(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/29", enable_dhcp=False)  # no metadata port: 5 free
    body = {"ports": [{"network_id": net["id"]} for _ in range(6)]}
    assert error_type(api.post("/v2.0/ports", body, expect=409)) == "IpAddressGenerationFailure"
    assert api.get("/v2.0/ports").json()["ports"] == []


@pytest.mark.parametrize("raw, words", [
    (b"{not json", "Malformed JSON"),
    (b"", "Resource body required"),
    (b'{"net": {}}', "Unable to find 'network'"),
    (b'{"network": {"name": "a", "colour": "red"}}', "Unrecognized attribute(s) 'colour'"),
    (b'{"network": {"admin_state_up": "perhaps"}}', "Invalid input for admin_state_up"),
    (b'{"network": {"status": "DOWN"}}', "Attribute 'status' not allowed in POST"),
    (b'{"network": []}', "object is required"),
])
def test_malformed_bodies(api, raw, words):
    resp = api.request("POST", "/v2.0/networks", content=raw, expect=400)
    assert words in resp.json()["NeutronError"]["message"]
    assert api.get("/v2.0/networks").json()["networks"] == []


def test_unknown_url_and_method(api):
    assert error_type(api.get("/v2.0/frobnicators", expect=404)) == "HTTPNotFound"
    api.request("PATCH", "/v2.0/networks", expect=405)


def test_quotas(api):
    assert api.get("/v2.0/quotas/p1").json()["quota"] == {
        "network": 100, "subnet": 100, "port": 50, "router": 10, "floatingip": 50,
        "security_group": 10, "security_group_rule": 100, "rbac_policy": 10}
    api.get("/v2.0/quotas/p2", expect=403)
    api.put("/v2.0/quotas/p1", {"quota": {"network": 1}}, expect=403)
    assert api.put("/v2.0/quotas/p1", {"quota": {"network": 1}}, admin=True,
                   expect=200).json()["quota"]["network"] == 1
    api.network()
    assert error_type(api.post("/v2.0/networks", {"network": {}}, expect=409)) == "OverQuota"
    details = api.get("/v2.0/quotas/p1/details").json()["quota"]
    assert details["network"] == {"limit": 1, "used": 1, "reserved": 0}
    listed = api.get("/v2.0/quotas", admin=True).json()["quotas"]
    assert [q["project_id"] for q in listed] == ["p1"]
    resp = api.put("/v2.0/quotas/p1", {"quota": {"network": 0, "check_limit": True}},
                   admin=True, expect=400)  # below usage: refused by default
    assert "must be greater than or equal to already used 1" in resp.text
    assert api.put("/v2.0/quotas/p1", {"quota": {"network": 0, "force": True}}, admin=True,
                   expect=200).json()["quota"]["network"] == 0
    api.put("/v2.0/quotas/p1", {"quota": {"network": -2}}, admin=True, expect=400)
    api.put("/v2.0/quotas/p1", {"quota": {"bogus": 2}}, admin=True, expect=400)
    api.delete("/v2.0/quotas/p1", admin=True, expect=204)
    assert api.get("/v2.0/quotas/p1/default").json()["quota"]["network"] == 100
    api.network()


@pytest.mark.parametrize("value, message", [
    (-2, "Invalid input for security_group. Reason: '-2' is too small - must be at least '-1'."),
    (2147483648, "Invalid input for security_group. Reason: '2147483648' is too large - must "
                 "be no larger than '2147483647'."),
    ("value", "Invalid input for operation: 'value' is not an integer."),
])
def test_quota_values_out_of_neutrons_range_are_400_and_change_nothing(api, value, message):
    body = {"quota": {"security_group": value, "force": True}}
    resp = api.put("/v2.0/quotas/p1", body, admin=True, expect=400)
    assert resp.json()["NeutronError"]["message"] == message
    assert api.get("/v2.0/quotas/p1").json()["quota"]["security_group"] == 10


def test_quota_values_given_as_text_are_numbers(api):
    body = {"quota": {"security_group": "12", "force": True}}
    quota = api.put("/v2.0/quotas/p1", body, admin=True, expect=200).json()["quota"]
    assert quota["security_group"] == 12
    quota = api.put("/v2.0/quotas/p1", {"quota": {"security_group": 2147483647}}, admin=True,
                    expect=200).json()["quota"]
    assert quota["security_group"] == 2147483647


def test_port_quota_counts_bulk(api):
    api.put("/v2.0/quotas/p1", {"quota": {"port": 2}}, admin=True, expect=200)
    net = api.network()
    resp = api.post("/v2.0/ports", {"ports": [{"network_id": net["id"]}] * 3}, expect=409)
    assert error_type(resp) == "OverQuota"
    api.post("/v2.0/ports", {"ports": [{"network_id": net["id"]}] * 2}, expect=201)


def test_network_ip_availability(api):
    net = api.network(name="n")
    sub = api.subnet(net["id"], "10.0.0.0/24", gateway_ip="10.0.0.1", enable_dhcp=False)
    v6 = api.subnet(net["id"], "2001:db8::/120", gateway_ip="2001:db8::1")
    for _ in range(3):
        api.port(net["id"], fixed_ips=[{"subnet_id": sub["id"]}])
    got = api.get(f"/v2.0/network-ip-availabilities/{net['id']}", expect=200).json()["network_ip_availability"]
    assert got["network_name"] == "n" and got["used_ips"] == 3
    per = {s["subnet_id"]: s for s in got["subnet_ip_availability"]}
    assert per[sub["id"]]["total_ips"] == 2 ** 8 - 3 and per[sub["id"]]["used_ips"] == 3
    assert per[v6["id"]]["total_ips"] == 2 ** 8 - 2 and per[v6["id"]]["ip_version"] == 6
    assert got["total_ips"] == 253 + 254
    listed = api.get("/v2.0/network-ip-availabilities?ip_version=6").json()["network_ip_availabilities"]
    assert [s["ip_version"] for s in listed[0]["subnet_ip_availability"]] == [6]
    api.get(f"/v2.0/network-ip-availabilities/{net['id']}", project="p2", expect=404)
    shared = api.network(project="ops", shared=True)
    seen = {n["network_id"] for n in api.get("/v2.0/network-ip-availabilities", project="p2")
            .json()["network_ip_availabilities"]}
    assert seen == {shared["id"]}


def test_integers_beyond_64_bits_in_filters_and_limit(api):
    """``?mtu=2**70`` or ``?limit=2**70`` answered 500 on SQLite (the driver's
    OverflowError); as Neutron, an integer filter no row holds matches nothing and such a
    limit leaves every item in the page."""
    net = api.network()
    api.subnet(net["id"])
    big, small = str(2**70), str(-2**70)
    for path in (f"/v2.0/networks?mtu={big}", f"/v2.0/networks?mtu={small}",
                 f"/v2.0/networks?provider:segmentation_id={big}",
                 f"/v2.0/subnets?ip_version={big}",
                 f"/v2.0/security-group-rules?port_range_min={big}",
                 f"/v2.0/network-ip-availabilities?ip_version={big}"):
        answer = api.get(path, admin=True, expect=200).json()
        assert list(answer.values())[0] == [], path
    assert [n["id"] for n in api.get(f"/v2.0/networks?limit={big}", expect=200)
            .json()["networks"]] == [net["id"]]
    assert error_type(api.get("/v2.0/networks?mtu=zz", expect=400)) == "InvalidInput"

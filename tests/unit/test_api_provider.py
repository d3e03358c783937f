"""Provider and external networks (extensions ``provider``, ``external-net``; reference B.1)."""

from __future__ import annotations

from conftest import error_type

FLAT = {"provider:network_type": "flat", "provider:physical_network": "physnet1"}


def test_flat_external_network_shows_provider_attributes_to_admin_only(api):
    net = api.network(name="public", **{"router:external": True}, **FLAT)
    assert net["router:external"] is True and net["mtu"] == 1500
    assert (net["provider:network_type"], net["provider:physical_network"],
            net["provider:segmentation_id"]) == ("flat", "physnet1", None)
    seen = api.get(f"/v2.0/networks/{net['id']}", project="p2", expect=200).json()["network"]
    assert seen["router:external"] is True and "provider:network_type" not in seen
    listed = api.get("/v2.0/networks?router:external=true", project="p2").json()["networks"]
    assert [n["id"] for n in listed] == [net["id"]]
    flat = api.get("/v2.0/networks?provider:network_type=flat", admin=True).json()["networks"]
    assert [n["id"] for n in flat] == [net["id"]]


def test_overlay_network_is_geneve(api):
    net = api.get(f"/v2.0/networks/{api.network()['id']}", admin=True).json()["network"]
    assert net["provider:network_type"] == "geneve" and net["router:external"] is False
    listed = api.get("/v2.0/networks?provider:network_type=geneve", admin=True).json()["networks"]
    assert [n["id"] for n in listed] == [net["id"]]


def test_provider_and_external_attributes_are_admin_only(api):
    for attrs in (FLAT, {"router:external": True}):
        resp = api.post("/v2.0/networks", {"network": attrs}, expect=403)
        assert error_type(resp) == "PolicyNotAuthorized"
    net = api.network()
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"router:external": True}}, expect=403)
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"provider:network_type": "flat"}},
            admin=True, expect=400)
    assert api.get("/v2.0/networks", admin=True).json()["networks"][0]["revision_number"] == 1


def test_flat_physnet_taken_once_and_freed_by_delete(api):
    first = api.network(**FLAT)
    resp = api.post("/v2.0/networks", {"network": FLAT}, admin=True, expect=409)
    assert error_type(resp) == "FlatNetworkInUse"
    api.delete(f"/v2.0/networks/{first['id']}", admin=True, expect=204)
    api.network(**FLAT)


def test_bad_provider_combinations(api):
    for body in ({"provider:network_type": "flat"},
                 {**FLAT, "provider:segmentation_id": 5},
                 {"provider:network_type": "vlan", "provider:physical_network": "physnet1"},
                 {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                  "provider:segmentation_id": 4095},
                 {"provider:network_type": "geneve", "provider:physical_network": "physnet1"},
                 {"provider:network_type": "gre"}):
        resp = api.post("/v2.0/networks", {"network": body}, admin=True, expect=400)
        assert error_type(resp) in ("InvalidInput", "HTTPBadRequest")
    vlan = {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
            "provider:segmentation_id": 100}
    api.network(**vlan)
    assert error_type(api.post("/v2.0/networks", {"network": vlan}, admin=True,
                               expect=409)) == "VlanIdInUse"
    assert api.get("/v2.0/networks", admin=True).json()["networks"].__len__() == 1


def test_members_cannot_put_ports_on_external_networks(api):
    net = api.network(**{"router:external": True}, **FLAT)
    api.subnet(net["id"], "172.24.4.0/24")
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"]}}, project="p2", expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"

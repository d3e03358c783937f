"""Service flavors and service profiles (extension ``flavors``, services/flavors.py)."""

from __future__ import annotations

from conftest import error_type

OVN_DRIVER = "neutron.services.ovn_l3.service_providers.ovn.OvnDriver"


def flavor(api, **attrs):
    return api.post("/v2.0/flavors", {"flavor": {"name": "f", "service_type": "FLAVORS",
                                                 **attrs}}, admin=True, expect=201
                    ).json()["flavor"]


def profile(api, **attrs):
    return api.post("/v2.0/service_profiles", {"service_profile": {
        "metainfo": '{"data": "value"}', **attrs}}, admin=True, expect=201
    ).json()["service_profile"]


def test_flavors_crud_admin_writes_readers_read(api):
    f = flavor(api, description="best")
    assert {k: f[k] for k in ("name", "description", "service_type", "enabled",
                              "service_profiles")} == {
        "name": "f", "description": "best", "service_type": "FLAVORS", "enabled": True,
        "service_profiles": []}
    api.post("/v2.0/flavors", {"flavor": {"service_type": "FLAVORS"}}, expect=403)
    assert api.get(f"/v2.0/flavors/{f['id']}", expect=200).json()["flavor"]["name"] == "f"
    assert api.get("/v2.0/flavors?id=33", expect=200).json()["flavors"] == []
    upd = api.put(f"/v2.0/flavors/{f['id']}", {"flavor": {"enabled": False}}, admin=True,
                  expect=200).json()["flavor"]
    assert upd["enabled"] is False
    resp = api.put(f"/v2.0/flavors/{f['id']}", {"flavor": {"service_type": "X"}}, admin=True,
                   expect=400)
    assert "read-only" in resp.text
    resp = api.post("/v2.0/flavors", {"flavor": {"service_type": "LOADBALANCERV2"}},
                    admin=True, expect=400)
    assert error_type(resp) == "InvalidInput"
    api.delete(f"/v2.0/flavors/{f['id']}", admin=True, expect=204)
    assert error_type(api.get(f"/v2.0/flavors/{f['id']}", expect=404)) == "FlavorNotFound"


def test_service_profiles_need_a_known_driver_or_metainfo(api):
    p = profile(api, description="sp")
    assert (p["driver"], p["metainfo"], p["enabled"], p["flavors"]) == (
        "", '{"data": "value"}', True, [])
    with_driver = profile(api, driver=OVN_DRIVER, metainfo="")
    assert with_driver["driver"] == OVN_DRIVER
    resp = api.post("/v2.0/service_profiles", {"service_profile": {"driver": "nope.Driver"}},
                    admin=True, expect=404)
    assert error_type(resp) == "ServiceProfileDriverNotFound"
    resp = api.post("/v2.0/service_profiles", {"service_profile": {}}, admin=True, expect=400)
    assert error_type(resp) == "ServiceProfileEmpty"
    api.get(f"/v2.0/service_profiles/{p['id']}", expect=403)  # admin only
    assert api.get("/v2.0/service_profiles?id=33", admin=True,
                   expect=200).json()["service_profiles"] == []


def test_a_bound_profile_is_in_use_until_unbound(api):
    f, p = flavor(api, service_type="L3_ROUTER_NAT"), profile(api, driver=OVN_DRIVER)
    path = f"/v2.0/flavors/{f['id']}/service_profiles"
    api.post(path, {"service_profile": {"id": p["id"]}}, expect=403)
    got = api.post(path, {"service_profile": {"id": p["id"]}}, admin=True, expect=201).json()
    assert got == {"service_profile": {"id": p["id"]}}
    resp = api.post(path, {"service_profile": {"id": p["id"]}}, admin=True, expect=409)
    assert error_type(resp) == "FlavorServiceProfileBindingExists"
    assert api.get(f"/v2.0/flavors/{f['id']}", expect=200).json()["flavor"][
        "service_profiles"] == [p["id"]]
    assert api.get(f"/v2.0/service_profiles/{p['id']}", admin=True).json()[
        "service_profile"]["flavors"] == [f["id"]]
    assert api.get(f"{path}/{p['id']}", admin=True, expect=200).json() == {
        "service_profile": {"service_profile_id": p["id"], "flavor_id": f["id"]}}
    resp = api.delete(f"/v2.0/service_profiles/{p['id']}", admin=True, expect=409)
    assert error_type(resp) == "ServiceProfileInUse"
    api.put(f"/v2.0/service_profiles/{p['id']}", {"service_profile": {"enabled": False}},
            admin=True, expect=409)
    api.delete(f"{path}/{p['id']}", admin=True, expect=204)
    resp = api.delete(f"{path}/{p['id']}", admin=True, expect=404)
    assert error_type(resp) == "FlavorServiceProfileBindingNotFound"
    api.delete(f"/v2.0/service_profiles/{p['id']}", admin=True, expect=204)
    missing = "00000000-0000-4000-8000-000000000000"
    resp = api.post(path, {"service_profile": {"id": missing}}, admin=True, expect=404)
    assert error_type(resp) == "ServiceProfileNotFound"


def test_a_router_takes_a_flavor_whose_provider_is_ovn(api):
    f, p = flavor(api, service_type="L3_ROUTER_NAT"), profile(api, driver=OVN_DRIVER)
    resp = api.post("/v2.0/routers", {"router": {"flavor_id": f["id"]}}, expect=404)
    assert error_type(resp) == "FlavorServiceProfileBindingNotFound"  # no profile yet
    api.post(f"/v2.0/flavors/{f['id']}/service_profiles", {"service_profile": {"id": p["id"]}},
             admin=True, expect=201)
    r = api.post("/v2.0/routers", {"router": {"flavor_id": f["id"]}}, expect=201).json()["router"]
    assert r["flavor_id"] == f["id"]
    assert api.post("/v2.0/routers", {"router": {}}, expect=201).json()["router"]["flavor_id"] is None
    api.put(f"/v2.0/routers/{r['id']}", {"router": {"flavor_id": f["id"]}}, expect=400)
    resp = api.delete(f"/v2.0/flavors/{f['id']}", admin=True, expect=409)
    assert error_type(resp) == "FlavorInUse"
    missing = "00000000-0000-4000-8000-000000000000"
    resp = api.post("/v2.0/routers", {"router": {"flavor_id": missing}}, expect=404)
    assert error_type(resp) == "FlavorNotFound"
    meta_only = flavor(api, service_type="L3_ROUTER_NAT")
    api.post(f"/v2.0/flavors/{meta_only['id']}/service_profiles",
             {"service_profile": {"id": profile(api)["id"]}}, admin=True, expect=201)
    resp = api.post("/v2.0/routers", {"router": {"flavor_id": meta_only["id"]}}, expect=404)
    assert error_type(resp) == "ServiceProfileDriverNotFound"
    api.delete(f"/v2.0/routers/{r['id']}", expect=204)
    api.delete(f"/v2.0/flavors/{f['id']}", admin=True, expect=204)

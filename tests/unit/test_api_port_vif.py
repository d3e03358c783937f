"""Nova's port attributes (services/port_vif.py) and MAC regeneration: validation and
errors as neutron-lib's definitions, stored, returned by GET and list."""

from __future__ import annotations

import pytest

from tests.unit.conftest import error_type


@pytest.fixture
def net(api):
    net = api.network()
    api.subnet(net["id"])
    return net


def test_defaults(api, net):
    port = api.port(net["id"])
    assert (port["device_profile"], port["numa_affinity_policy"],
            port["propagate_uplink_status"]) == (None, None, True)
    assert "trusted" not in port  # admin only
    admin = api.get(f"/v2.0/ports/{port['id']}", admin=True, expect=200).json()["port"]
    assert admin["trusted"] is None and "trusted" not in admin["binding:profile"]


def test_trusted_is_admin_only_and_shows_in_the_profile(api, net):
    body = {"port": {"network_id": net["id"], "trusted": True}}
    resp = api.post("/v2.0/ports", body, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    port = api.post("/v2.0/ports", body, admin=True, expect=201).json()["port"]
    assert port["trusted"] is True and port["binding:profile"] == {"trusted": True}
    upd = api.put(f"/v2.0/ports/{port['id']}", {"port": {"trusted": False}}, admin=True,
                  expect=200).json()["port"]
    assert upd["trusted"] is False and upd["binding:profile"] == {"trusted": False}
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"trusted": "maybe"}}, admin=True,
                   expect=400)
    assert error_type(resp) == "InvalidInput"
    assert api.get(f"/v2.0/ports/{port['id']}", admin=True).json()["port"]["trusted"] is False


def test_device_profile_is_set_on_create_only(api, net):
    port = api.port(net["id"], device_profile="smartnic-dp")
    assert port["device_profile"] == "smartnic-dp"
    assert api.get(f"/v2.0/ports?id={port['id']}").json()["ports"][0]["device_profile"] == \
        "smartnic-dp"
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"device_profile": "x"}}, expect=400)
    assert error_type(resp) == "HTTPBadRequest"
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "device_profile": "x" * 256}}, expect=400)
    assert error_type(resp) == "InvalidInput"


@pytest.mark.parametrize("policy", ["required", "preferred", "legacy", "socket"])
def test_numa_affinity_policy_values(api, net, policy):
    port = api.port(net["id"], numa_affinity_policy=policy)
    assert port["numa_affinity_policy"] == policy
    cleared = api.put(f"/v2.0/ports/{port['id']}", {"port": {"numa_affinity_policy": None}},
                      expect=200).json()["port"]
    assert cleared["numa_affinity_policy"] is None


def test_numa_affinity_policy_errors(api, net):
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"],
                                             "numa_affinity_policy": "any"}}, expect=400)
    assert error_type(resp) == "InvalidInput"
    port = api.port(net["id"], numa_affinity_policy="legacy")
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "h1"}}, admin=True,
            expect=200)
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"numa_affinity_policy": "required"}},
                   expect=409)
    assert error_type(resp) == "PortBoundNUMAAffinityPolicy" and "h1" in resp.text
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"]["numa_affinity_policy"] == "legacy"


def test_propagate_uplink_status_is_stored_and_updatable(api, net):
    port = api.port(net["id"], propagate_uplink_status=False)
    assert port["propagate_uplink_status"] is False
    upd = api.put(f"/v2.0/ports/{port['id']}", {"port": {"propagate_uplink_status": True}},
                  expect=200).json()["port"]
    assert upd["propagate_uplink_status"] is True
    resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"propagate_uplink_status": None}},
                   expect=400)
    assert error_type(resp) == "InvalidInput"


def test_these_attributes_are_not_filters(api, net):
    # neutron-lib gives them no is_filter: filter-validation refuses them
    resp = api.get("/v2.0/ports?numa_affinity_policy=legacy", expect=400)
    assert error_type(resp) == "HTTPBadRequest"


def test_mac_regenerated_while_unbound(api, net):
    port = api.port(net["id"])
    new = api.put(f"/v2.0/ports/{port['id']}", {"port": {"mac_address": None}},
                  expect=200).json()["port"]
    assert new["mac_address"] != port["mac_address"]
    assert new["mac_address"].startswith(api.env.settings.base_mac[:8])


def test_mac_of_a_bound_port_cannot_change(api, net):
    port = api.port(net["id"])
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "h1"}}, admin=True,
            expect=200)
    for mac in (None, "fa:16:3e:12:34:56"):
        resp = api.put(f"/v2.0/ports/{port['id']}", {"port": {"mac_address": mac}}, expect=409)
        assert error_type(resp) == "PortBound" and "port type: ovs" in resp.text
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"]["mac_address"] == \
        port["mac_address"]

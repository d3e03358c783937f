"""A network's MTU: at most what its segments carry, at least what its subnets need
(``neutrino/services/mtu.py``; Neutron's ML2 and db_base_plugin_v2 rules)."""

from __future__ import annotations

from conftest import error_type

FLAT = {"provider:network_type": "flat", "provider:physical_network": "physnet1"}


def test_the_maximum_is_the_default_and_larger_is_refused(api):
    assert api.network()["mtu"] == 1442  # overlay: the physical MTU less geneve
    assert api.network(mtu=0)["mtu"] == 1442
    assert api.network(mtu=1400)["mtu"] == 1400
    resp = api.post("/v2.0/networks", {"network": {"mtu": 1443}}, expect=400)
    assert error_type(resp) == "InvalidInput"
    assert "Requested MTU is too big, maximum is 1442" in resp.json()["NeutronError"]["message"]
    assert api.network(mtu=1500, **FLAT)["mtu"] == 1500  # a flat one carries more
    net = api.network()
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"mtu": 1501}}, expect=400)
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["mtu"] == 1442


def test_a_subnet_needs_68_for_ipv4_and_1280_for_ipv6(api):
    tiny = api.network(mtu=67)
    body = {"subnet": {"network_id": tiny["id"], "cidr": "10.0.0.0/24", "ip_version": 4}}
    assert error_type(api.post("/v2.0/subnets", body, expect=409)) == "NetworkMTUSubnetConflict"
    small = api.network(mtu=1279)
    api.subnet(small["id"], "10.0.0.0/24")
    body = {"subnet": {"network_id": small["id"], "cidr": "2001:db8::/64", "ip_version": 6}}
    resp = api.post("/v2.0/subnets", body, expect=409)
    assert "requires a minimum of 1280" in resp.json()["NeutronError"]["message"]
    assert len(api.get("/v2.0/subnets").json()["subnets"]) == 1


def test_an_mtu_too_small_for_the_subnets_is_refused(api):
    net = api.network(mtu=1280)
    api.subnet(net["id"], "10.0.0.0/24")
    resp = api.put(f"/v2.0/networks/{net['id']}", {"network": {"mtu": 67}}, expect=409)
    assert error_type(resp) == "NetworkMTUSubnetConflict"
    assert api.put(f"/v2.0/networks/{net['id']}", {"network": {"mtu": 1279}},
                   expect=200).json()["network"]["mtu"] == 1279  # IPv4 only: fine
    body = {"subnet": {"network_id": net["id"], "cidr": "2001:db8::/64", "ip_version": 6}}
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"mtu": 1280}}, expect=200)
    api.post("/v2.0/subnets", body, expect=201)
    resp = api.put(f"/v2.0/networks/{net['id']}", {"network": {"mtu": 1279}}, expect=409)
    assert "requires a minimum of 1280" in resp.json()["NeutronError"]["message"]
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["mtu"] == 1280

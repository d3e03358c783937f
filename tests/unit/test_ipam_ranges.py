"""Table-driven tests of the pure address math (ipam/ranges.py)."""

import ipaddress

import pytest

from neutrino import errors
from neutrino.ipam import ranges
from neutrino.ipam.ranges import Pool


def ip(text):
    return int(ipaddress.ip_address(text))


@pytest.mark.parametrize("cidr, first, last", [
    ("10.0.0.0/24", "10.0.0.1", "10.0.0.254"),
    ("10.0.0.0/30", "10.0.0.1", "10.0.0.2"),
    ("10.0.0.0/31", "10.0.0.0", "10.0.0.1"),
    ("10.0.0.7/32", "10.0.0.7", "10.0.0.7"),
    ("2001:db8::/64", "2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff"),
    ("2001:db8::/127", "2001:db8::", "2001:db8::1"),
    ("2001:db8::5/128", "2001:db8::5", "2001:db8::5"),
])
def test_usable_bounds(cidr, first, last):
    assert ranges.usable_bounds(ranges.parse_cidr(cidr)) == Pool(ip(first), ip(last))


@pytest.mark.parametrize("cidr, gateway", [
    ("10.0.0.0/24", "10.0.0.1"), ("10.0.0.0/30", "10.0.0.1"), ("10.0.0.0/31", None),
    ("2001:db8::/64", "2001:db8::"),
])
def test_default_gateway(cidr, gateway):
    assert ranges.default_gateway(ranges.parse_cidr(cidr)) == gateway


@pytest.mark.parametrize("cidr, gateway, pools", [
    ("10.0.0.0/24", "10.0.0.1", [("10.0.0.2", "10.0.0.254")]),
    ("10.0.0.0/24", "10.0.0.100", [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]),
    ("10.0.0.0/24", "10.0.0.254", [("10.0.0.1", "10.0.0.253")]),
    ("10.0.0.0/24", None, [("10.0.0.1", "10.0.0.254")]),
    ("10.0.0.0/24", "192.168.0.1", [("10.0.0.1", "10.0.0.254")]),
    ("2001:db8::/64", "2001:db8::", [("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")]),
])
def test_default_pools_split_around_gateway(cidr, gateway, pools):
    got = ranges.default_pools(ranges.parse_cidr(cidr), gateway)
    assert got == [Pool(ip(a), ip(b)) for a, b in pools]


def test_parse_cidr_clears_host_bits_and_needs_prefix():
    assert str(ranges.parse_cidr("10.0.0.5/24")) == "10.0.0.0/24"
    with pytest.raises(ValueError):
        ranges.parse_cidr("10.0.0.5")


@pytest.mark.parametrize("pools, error", [
    ([{"start": "10.0.0.0", "end": "10.0.0.10"}], errors.OutOfBoundsAllocationPool),
    ([{"start": "10.0.0.10", "end": "10.0.0.255"}], errors.OutOfBoundsAllocationPool),
    ([{"start": "10.0.0.20", "end": "10.0.0.10"}], errors.InvalidInput),
    ([{"start": "10.0.0.2", "end": "10.0.0.20"}, {"start": "10.0.0.20", "end": "10.0.0.30"}],
     errors.OverlappingAllocationPools),
    ([{"start": "10.0.0.1", "end": "10.0.0.20"}], errors.GatewayConflictWithAllocationPools),
    ([{"start": "2001:db8::1", "end": "2001:db8::2"}], errors.InvalidInput),
])
def test_pools_from_api_rejects(pools, error):
    with pytest.raises(error):
        ranges.pools_from_api(ranges.parse_cidr("10.0.0.0/24"), pools, "10.0.0.1")


def test_pools_from_api_sorts_and_sizes():
    pools = ranges.pools_from_api(ranges.parse_cidr("10.0.0.0/24"),
                                  [{"start": "10.0.0.100", "end": "10.0.0.109"},
                                   {"start": "10.0.0.2", "end": "10.0.0.3"}], "10.0.0.1")
    assert ranges.pools_to_api(pools, 4) == [{"start": "10.0.0.2", "end": "10.0.0.3"},
                                             {"start": "10.0.0.100", "end": "10.0.0.109"}]
    assert ranges.total_size(pools) == 12


@pytest.mark.parametrize("address, ok", [
    ("10.0.0.5", True), ("10.0.0.250", True), ("10.0.0.0", False), ("10.0.0.255", False),
    ("10.0.0.1", False), ("10.0.1.5", False), ("2001:db8::1", False),
])
def test_check_fixed_ip(address, ok):
    net = ranges.parse_cidr("10.0.0.0/24")
    if ok:
        ranges.check_fixed_ip(net, address, "10.0.0.1", router_owner=False)
    else:
        with pytest.raises(errors.InvalidIpForSubnet):
            ranges.check_fixed_ip(net, address, "10.0.0.1", router_owner=False)


def test_router_port_may_take_the_gateway():
    ranges.check_fixed_ip(ranges.parse_cidr("10.0.0.0/24"), "10.0.0.1", "10.0.0.1", router_owner=True)


@pytest.mark.parametrize("gateway", ["10.0.0.0", "10.0.0.255"])
def test_ipv4_gateway_cannot_be_network_or_broadcast(gateway):
    with pytest.raises(errors.BadRequest):
        ranges.check_gateway(ranges.parse_cidr("10.0.0.0/24"), gateway)


def test_eui64_matches_rfc4291_example():
    assert ranges.eui64(ranges.parse_cidr("2001:db8::/64"), "fa:16:3e:12:34:56") == \
        "2001:db8::f816:3eff:fe12:3456"


def test_keys_sort_like_addresses():
    values = [ip("10.0.0.9"), ip("10.0.0.10"), ip("10.0.1.0")]
    keys = [ranges.ip_key(v, 4) for v in values]
    assert keys == sorted(keys)
    assert ranges.block_key(ip("10.0.1.0") >> 8, 4) == ranges.ip_key(ip("10.0.1.0"), 4)[:-2]

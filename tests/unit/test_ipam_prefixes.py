"""Prefix math of subnet pools (neutrino.ipam.prefixes), against what netaddr's IPSet
gives Neutron."""

from __future__ import annotations

import ipaddress

import pytest

from neutrino.ipam import prefixes as px


def nets(*cidrs: str) -> list:
    return [ipaddress.ip_network(c) for c in cidrs]


def test_compact_merges_adjacent_and_nested_prefixes_and_ignores_host_bits():
    assert px.compact(["10.0.0.128/25", "10.0.0.0/25", "10.0.0.7/26", "10.1.0.0/16"]) == \
        nets("10.0.0.0/24", "10.1.0.0/16")
    assert px.to_text(px.compact(["2001:db8:1::/48", "2001:db8::/48"])) == ["2001:db8::/47"]


def test_subtract_leaves_the_free_space_compacted():
    assert px.subtract(nets("10.0.0.0/24"), nets("10.0.0.16/28", "10.0.0.0/28")) == \
        nets("10.0.0.32/27", "10.0.0.64/26", "10.0.0.128/25")
    assert px.subtract(nets("10.0.0.0/24"), nets("10.0.0.0/16")) == []
    assert px.subtract(nets("10.0.0.0/24"), nets("192.168.0.0/16")) == nets("10.0.0.0/24")


@pytest.mark.parametrize("free, prefixlen, chosen", [
    # the smallest block that fits, in address order among equals
    (("10.0.0.0/24", "10.9.0.0/28"), 28, "10.9.0.0/28"),
    (("10.0.0.64/26", "10.0.0.32/27", "10.0.1.32/27"), 27, "10.0.0.32/27"),
    (("10.0.0.0/24",), 26, "10.0.0.0/26"),
    (("10.0.0.0/28",), 27, None),
])
def test_first_fit_takes_the_smallest_free_block_that_holds_the_prefix(free, prefixlen, chosen):
    got = px.first_fit(nets(*free), prefixlen)
    assert (str(got) if got else None) == chosen


def test_fits_needs_one_free_block_holding_the_whole_cidr():
    free = nets("10.0.0.0/25", "10.0.0.128/26")
    assert px.fits(free, ipaddress.ip_network("10.0.0.128/26"))
    assert not px.fits(free, ipaddress.ip_network("10.0.0.0/24"))
    assert not px.fits(free, ipaddress.ip_network("2001:db8::/64"))


def test_overlaps_covers_and_quota_units():
    assert px.overlaps(nets("10.0.0.0/8"), nets("192.168.0.0/16", "10.1.0.0/16"))
    assert not px.overlaps(nets("10.0.0.0/8"), nets("11.0.0.0/8"))
    assert px.covers(nets("10.0.0.0/23"), nets("10.0.1.0/24", "10.0.0.0/25"))
    assert not px.covers(nets("10.0.0.0/24"), nets("10.0.0.0/23"))
    assert px.quota_units(28, 4) == 16 and px.quota_units(64, 6) == 1
    assert px.quota_units(80, 6) == 2.0 ** -16  # as Neutron counts (a fraction)

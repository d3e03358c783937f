"""Response encoding."""

from __future__ import annotations


def test_availability_beyond_64_bits_is_encoded(api):
    net = api.network()
    api.subnet(net["id"], "2001:db8::/63", enable_dhcp=False)
    avail = api.get(f"/v2.0/network-ip-availabilities/{net['id']}", admin=True,
                    expect=200).json()["network_ip_availability"]
    assert avail["total_ips"] > 2 ** 64  # beyond orjson's 64-bit integers

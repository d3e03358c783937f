"""Pure address math: which addresses of a subnet are usable and where they live.

One definition of "usable" (Neutron's ``ipam/utils.py`` ``generate_pools`` and
``check_subnet_ip``) serves allocation, availability and the scheduler.
Addresses are handled as Python ints, so IPv6 sizes never overflow.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from neutrino import errors

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
BLOCK_BITS = 8  # allocation blocks hold 256 addresses


@dataclass(frozen=True, slots=True)
class Pool:
    """An inclusive range of addresses, as ints: ``first <= last``."""

    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def parse_cidr(cidr: str) -> IPNetwork:
    """``"10.0.0.5/24"`` -> ``IPv4Network("10.0.0.0/24")`` (host bits cleared).

    Raises ValueError for text that is not an address with a prefix length.
    """
    if "/" not in cidr:
        raise ValueError(f"'{cidr}' is not a valid IP subnet")
    return ipaddress.ip_network(cidr, strict=False)


def usable_bounds(net: IPNetwork) -> Pool:
    """The addresses hosts may use: IPv4 drops network and broadcast (except
    /31 and /32, RFC 3021); IPv6 drops the subnet-router anycast address
    (the network address itself, RFC 4291 2.6.1) except for /127 and /128."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        return Pool(first + 1, last - 1) if net.prefixlen <= 30 else Pool(first, last)
    return Pool(first + 1, last) if net.prefixlen <= 126 else Pool(first, last)


def default_gateway(net: IPNetwork) -> str | None:
    """Neutron's default ``gateway_ip``: IPv4 network+1; IPv6 the network address."""
    if net.version == 4:
        return str(net.network_address + 1) if net.prefixlen <= 30 else None
    return str(net.network_address)


def default_pools(net: IPNetwork, gateway_ip: str | None) -> list[Pool]:
    """The usable range minus the gateway, split around it (``generate_pools``)."""
    usable = usable_bounds(net)
    if gateway_ip is None:
        return [usable]
    gw = int(ipaddress.ip_address(gateway_ip))
    if not usable.first <= gw <= usable.last:
        return [usable]
    pools = []
    if gw > usable.first:
        pools.append(Pool(usable.first, gw - 1))
    if gw < usable.last:
        pools.append(Pool(gw + 1, usable.last))
    return pools


def check_gateway(net: IPNetwork, gateway_ip: str) -> None:
    """Raise InvalidInput if an IPv4 gateway is the network or broadcast address,
    or the version differs. A gateway outside the CIDR is allowed (Neutron)."""
    gw = ipaddress.ip_address(gateway_ip)
    if gw.version != net.version:
        raise errors.InvalidInput(f"Invalid input for gateway_ip. Reason: '{gateway_ip}' "
                                  f"is not an IPv{net.version} address.")
    if net.version == 4 and net.prefixlen <= 30 and gw in (net.network_address, net.broadcast_address):
        raise errors.BadRequest(f"Gateway is not valid on subnet: {gateway_ip} is the "
                                f"{'network' if gw == net.network_address else 'broadcast'} "
                                f"address of {net}.")


def pools_from_api(net: IPNetwork, items: Iterable[dict], gateway_ip: str | None) -> list[Pool]:
    """Validate user ``allocation_pools`` ``[{"start", "end"}]``; return them sorted.

    Raises InvalidInput (bad address, wrong version, start > end),
    OutOfBoundsAllocationPool, OverlappingAllocationPools,
    GatewayConflictWithAllocationPools.
    """
    usable = usable_bounds(net)
    pools = []
    for item in items:
        start, end = ipaddress.ip_address(item["start"]), ipaddress.ip_address(item["end"])
        text = f"{start}-{end}"
        if start.version != net.version or end.version != net.version:
            raise errors.InvalidInput(f"Invalid input for allocation_pools. Reason: pool {text} "
                                      f"is not IPv{net.version}.")
        if int(start) > int(end):
            raise errors.InvalidInput(f"Invalid input for allocation_pools. Reason: the start "
                                      f"address of pool {text} is after its end address.")
        if int(start) < usable.first or int(end) > usable.last:
            raise errors.OutOfBoundsAllocationPool(text, str(net))
        pools.append(Pool(int(start), int(end)))
    pools.sort(key=lambda p: p.first)
    for a, b in zip(pools, pools[1:]):
        if b.first <= a.last:
            raise errors.OverlappingAllocationPools(format_pool(a, net.version),
                                                    format_pool(b, net.version), str(net))
    if gateway_ip is not None:
        gw = int(ipaddress.ip_address(gateway_ip))
        for p in pools:
            if p.first <= gw <= p.last:
                raise errors.GatewayConflictWithAllocationPools(gateway_ip, format_pool(p, net.version))
    return pools


def pools_to_api(pools: Iterable[Pool], version: int) -> list[dict]:
    """``[Pool]`` -> ``[{"start": "10.0.0.2", "end": "10.0.0.254"}]``."""
    return [{"start": int_to_ip(p.first, version), "end": int_to_ip(p.last, version)}
            for p in pools]


def pools_from_db(items: Iterable[dict]) -> list[Pool]:
    """Stored ``allocation_pools`` (already valid) -> ``[Pool]``."""
    return [Pool(int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"])))
            for p in items]


def total_size(pools: Iterable[Pool]) -> int:
    """Number of addresses in the pools (``network-ip-availability`` total_ips)."""
    return sum(p.size for p in pools)


def format_pool(p: Pool, version: int) -> str:
    return f"{int_to_ip(p.first, version)}-{int_to_ip(p.last, version)}"


def check_fixed_ip(net: IPNetwork, ip: str, gateway_ip: str | None, *, router_owner: bool) -> None:
    """A requested fixed IP must be inside the CIDR and usable (``check_subnet_ip``);
    only router ports may take the gateway address. Raises InvalidIpForSubnet.

    Addresses outside the allocation pools are allowed, as in Neutron.
    """
    addr = ipaddress.ip_address(ip)
    usable = usable_bounds(net)
    if addr.version != net.version or addr not in net or not usable.first <= int(addr) <= usable.last:
        raise errors.InvalidIpForSubnet(ip)
    if not router_owner and gateway_ip is not None and addr == ipaddress.ip_address(gateway_ip):
        raise errors.InvalidIpForSubnet(ip)


def ip_key(ip: int, version: int) -> str:
    """Fixed-width hex of an address: text order equals address order."""
    return format(ip, "08x" if version == 4 else "032x")


def block_key(block: int, version: int) -> str:
    """Fixed-width hex of ``ip >> BLOCK_BITS``."""
    return format(block, "06x" if version == 4 else "030x")


def int_to_ip(value: int, version: int) -> str:
    """``(167772162, 4)`` -> ``"10.0.0.2"``."""
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def eui64(net: IPNetwork, mac: str) -> str:
    """The SLAAC address of a MAC in a /64 (RFC 4291 appendix A, modified EUI-64):
    flip the universal/local bit, insert ff:fe in the middle.

    ``eui64(ip_network("2001:db8::/64"), "fa:16:3e:12:34:56")`` -> ``"2001:db8::f816:3eff:fe12:3456"``.
    """
    octets = [int(o, 16) for o in mac.split(":")]
    octets[0] ^= 0x02
    iid = int.from_bytes(bytes(octets[:3] + [0xFF, 0xFE] + octets[3:]), "big")
    return str(ipaddress.IPv6Address(int(net.network_address) | iid))

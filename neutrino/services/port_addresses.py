"""A port's addresses, its ``fixed_ips`` (reference C.2): which subnets of its
network they come from and which address of each, when a port is created or its
``fixed_ips`` are replaced. Free addresses themselves come from ``neutrino.ipam``.

Without ``fixed_ips`` a port gets one IPv4 address from the first subnet with room
(an instance's port: first in ``services.subnet_scheduler``'s order), one from a
stateful IPv6 subnet and its EUI-64 address on every SLAAC subnet
(:func:`allocate_default`); with ``fixed_ips`` it gets exactly those: given
addresses first, then "any address of subnet X" (:func:`allocate_requested`).
Which subnets a port of a routed network may use is for ``services.routed_ports``
to say; callers pass those in. Errors: IpAddressGenerationFailure (409),
InvalidIpForSubnet, InvalidIpForNetwork, InvalidInput, BadRequest (400),
SubnetNotFound (404).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors
from neutrino.db.models import IPAllocation, Network, Port, Subnet
from neutrino.ipam import allocator, ranges
from neutrino.services import service_subnets, subnet_scheduler

_SUBNETS_OF_NETWORK = (select(Subnet.__table__).where(Subnet.network_id == bindparam("network_id"))
                       .order_by(Subnet.created_at, Subnet.id))
# Owners that take the lowest free address ("prefer next", C.2).
LOWEST_ADDRESS_OWNERS = (c.DEVICE_OWNER_DHCP, c.DEVICE_OWNER_DISTRIBUTED)


def network_subnets(session: Session, network_id: str) -> list[Any]:
    """The network's subnets (result rows), oldest first: the order addresses are
    taken in."""
    return session.execute(_SUBNETS_OF_NETWORK, {"network_id": network_id}).all()


def allocate_default(session: Session, net: Network, port: Any, subnets: list[Any], *,
                     settings: Any = None) -> list[tuple[str, str]]:
    """No fixed_ips given: one IPv4 address from the first subnet with room, one
    from a stateful IPv6 subnet, and the EUI-64 address on every SLAAC subnet (C.2);
    a full subnet passes to the next of its kind (Neutron's ``IpamSubnetGroup``),
    IpAddressGenerationFailure (409) when all of a kind are full.
    Only subnets whose service types admit the port's ``device_owner`` are used,
    those naming it first (``services.service_subnets``; 409
    IpAddressGenerationFailureNoMatchingSubnet when none does). With ``settings``
    (``scheduler_policy``, ``scheduler_required_tag``) an instance's port tries them in
    the order ``services.subnet_scheduler`` gives; without, in creation order.
    Returns ``[(subnet_id, ip_address)]``."""
    subnets = _for_owner(net, port, subnets)
    lowest = port.device_owner in LOWEST_ADDRESS_OWNERS
    fixed = []
    v4 = [s for s in subnets if s.ip_version == 4]
    v6_stateful = [s for s in subnets if s.ip_version == 6 and not _is_auto_address(s)]
    if settings is not None and subnet_scheduler.applies(port.device_owner):
        v4, v6_stateful = subnet_scheduler.order_groups(session, net.id, (v4, v6_stateful),
                                                        settings)
    for group in (v4, v6_stateful):
        for s in group:
            ip = allocator.allocate_any(session, allocator.space_of(s), port.id, lowest=lowest)
            if ip is not None:
                fixed.append((s.id, ip))
                break
        else:
            if group:
                raise _exhausted(session, net.id, group)
    if not port.device_owner.startswith(c.DEVICE_OWNER_ROUTER_PREFIX):
        for s in subnets:
            if s.ip_version == 6 and _is_auto_address(s):
                space = allocator.space_of(s)
                ip = ranges.eui64(space.net, port.mac_address)
                fixed.append((s.id, allocator.allocate_address(session, space, port.id, ip)))
    return fixed


def allocate_requested(session: Session, net: Network, port: Any, subnets: list[Any],
                        requested: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Explicit fixed_ips: specific addresses first, then "any address of subnet X".
    A subnet whose service types do not admit the port's ``device_owner`` is not one
    of the network's for it (BadRequest, InvalidIpForNetwork; as Neutron's IPAM).
    Subnets of two segments: FixedIpsSubnetsNotOnSameSegment (400).
    Returns ``[(subnet_id, ip_address)]``."""
    by_id = {s.id: s for s in _for_owner(net, port, subnets)}
    resolved = [_resolve_fixed_ip(session, net, by_id, f) for f in requested]
    if (len({sub.segment_id for sub, _ in resolved if sub.segment_id}) > 1
            and port.device_owner != c.DEVICE_OWNER_DISTRIBUTED):
        raise errors.FixedIpsSubnetsNotOnSameSegment()  # Neutron exempts distributed ports too
    seen = set()
    for _, ip in resolved:
        if ip is not None:
            if ip in seen:
                raise errors.InvalidInput(f"Invalid input for fixed_ips. Reason: Duplicate IP "
                                          f"address '{ip}'.")
            seen.add(ip)
    router_owner = port.device_owner in c.ROUTER_INTERFACE_OWNERS
    fixed = []
    for sub, ip in resolved:
        if ip is not None:
            space = allocator.space_of(sub)
            ranges.check_fixed_ip(space.net, ip, sub.gateway_ip, router_owner=router_owner)
            fixed.append((sub.id, allocator.allocate_address(session, space, port.id, ip)))
    lowest = port.device_owner in LOWEST_ADDRESS_OWNERS
    for sub, ip in resolved:
        if ip is None:
            space = allocator.space_of(sub)
            if _is_auto_address(sub) and not router_owner:
                got = allocator.allocate_address(session, space, port.id,
                                                 ranges.eui64(space.net, port.mac_address))
            else:
                got = allocator.allocate_any(session, space, port.id, lowest=lowest)
                if got is None:
                    raise _exhausted(session, net.id, [sub])
            fixed.append((sub.id, got))
    return fixed


def _resolve_fixed_ip(session: Session, net: Network, by_id: dict[str, Subnet],
                      entry: dict[str, str]) -> tuple[Subnet, str | None]:
    """``{"subnet_id"?, "ip_address"?}`` -> (subnet, canonical ip or None)."""
    ip = entry.get("ip_address")
    ip = str(ipaddress.ip_address(ip)) if ip is not None else None
    subnet_id = entry.get("subnet_id")
    if subnet_id is not None:
        sub = by_id.get(subnet_id)
        if sub is None:
            if session.get(Subnet, subnet_id) is None:
                raise errors.SubnetNotFound(subnet_id)
            raise errors.BadRequest(f"Invalid input for operation: Failed to create port on "
                                    f"network {net.id}, because fixed_ips included invalid "
                                    f"subnet {subnet_id}.")
        if ip is not None and ipaddress.ip_address(ip) not in ranges.parse_cidr(sub.cidr):
            raise errors.InvalidIpForSubnet(ip)
        return sub, ip
    if ip is None:
        raise errors.BadRequest("IP allocation requires subnet_id or ip_address")
    for sub in by_id.values():
        if ipaddress.ip_address(ip) in ranges.parse_cidr(sub.cidr):
            return sub, ip
    raise errors.InvalidIpForNetwork(ip)


def replace_fixed_ips(session: Session, net: Network, port: Port, requested: list[dict[str, str]]) -> bool:
    """Make ``port``'s addresses those ``requested`` (``[{"subnet_id"?, "ip_address"?}]``,
    as a PUT of fixed_ips): kept, released or allocated. True if anything changed."""
    current = session.execute(select(IPAllocation.subnet_id, IPAllocation.ip_address)
                              .where(IPAllocation.port_id == port.id)).all()
    subnets = network_subnets(session, net.id)
    by_id = {s.id: s for s in subnets}
    resolved = [_resolve_fixed_ip(session, net, by_id, f) for f in requested]
    if (len({sub.segment_id for sub, _ in resolved if sub.segment_id}) > 1
            and port.device_owner != c.DEVICE_OWNER_DISTRIBUTED):
        raise errors.FixedIpsSubnetsNotOnSameSegment()  # Neutron exempts distributed ports too
    keep: set[tuple[str, str]] = set()
    new: list[dict[str, str]] = []
    for sub, ip in resolved:
        if ip is not None and (sub.id, ip) in current:
            keep.add((sub.id, ip))
    for sub, ip in resolved:
        if ip is not None and (sub.id, ip) in keep:
            continue
        if ip is None:
            # "an address of subnet X": an address the port already has there will do.
            held = next(((s, a) for s, a in current if s == sub.id and (s, a) not in keep), None)
            if held is not None:
                keep.add(held)
                continue
        new.append({"subnet_id": sub.id, **({"ip_address": ip} if ip else {})})
    released = [(s, a) for s, a in current if (s, a) not in keep]
    allocator.release_addresses(session, port.id, released)
    if new:
        session.flush()
        allocate_requested(session, net, port, subnets, new)
    return bool(released or new)


def _for_owner(net: Network, port: Any, subnets: list[Any]) -> list[Any]:
    """The subnets the port may take addresses from (``service_subnets.usable``)."""
    usable = service_subnets.usable(subnets, port.device_owner or "")
    service_subnets.check_any(subnets, usable, net.id, port.device_owner or "")
    return usable


def _is_auto_address(sub: Subnet) -> bool:
    return sub.ipv6_address_mode in c.AUTO_ADDRESS_MODES or (
        sub.ipv6_address_mode is None and sub.ipv6_ra_mode in c.AUTO_ADDRESS_MODES)


def _exhausted(session: Session, network_id: str, subnets: list[Subnet]) -> errors.IpAddressGenerationFailure:
    used = allocator.used_counts(session, [s.id for s in subnets])
    detail = "; ".join(
        f"subnet {s.id} ({s.cidr}) has {used[s.id]} of "
        f"{ranges.total_size(ranges.pools_from_db(s.allocation_pools))} addresses in use"
        for s in subnets)
    return errors.IpAddressGenerationFailure(
        f"No more IP addresses available on network {network_id}: {detail}.")


def fixed_ips_of(session: Session, ids: Any) -> dict[str, list[tuple[str, str]]]:
    """``{port id: [(subnet id, ip address)]}``, IPv4 first, then in address order;
    ``ids`` is a list of port ids or a SELECT of them."""
    ips: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for port_id, subnet_id, ip, key in session.execute(
            select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address,
                   IPAllocation.ip_key).where(IPAllocation.port_id.in_(ids))):
        ips[port_id].append((key, subnet_id, ip))
    return {port_id: ([(found[0][1], found[0][2])] if len(found) == 1 else  # most ports
                      [(s, ip) for _, s, ip in sorted(found, key=_by_key)])
            for port_id, found in ips.items()}


def _by_key(item: tuple[str, str, str]) -> tuple[int, str]:
    return len(item[0]), item[0]  # IPv4 keys are shorter: v4 first, then address order

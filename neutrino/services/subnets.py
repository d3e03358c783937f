"""Subnets (reference B.2, C.1, C.3, C.5). One transaction per public call."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import IPAllocation, IPAllocationBlock, Network, Port, Subnet
from neutrino.ipam import allocator, ranges
from neutrino.constants import (AUTO_ADDRESS_MODES, DEVICE_OWNER_ROUTER_PREFIX,
                                ROUTER_INTERFACE_OWNERS)
from neutrino.services import (common, listing, metadata_port, mtu, rbac, segments,
                               subnet_allocation)
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.networks import AUTO_DELETE_PORT_OWNERS, find_owned
from neutrino.services.quotas import check_quotas


SPEC = listing.ResourceSpec(
    id_column=Subnet.id,
    filters={
        **listing.standard_filters(Subnet),
        "network_id": listing.eq(Subnet.network_id),
        "ip_version": listing.eq(Subnet.ip_version, listing.to_int),
        "cidr": listing.eq(Subnet.cidr),
        "gateway_ip": listing.eq(Subnet.gateway_ip),
        "enable_dhcp": listing.eq(Subnet.enable_dhcp, listing.to_bool),
        "ipv6_ra_mode": listing.eq(Subnet.ipv6_ra_mode),
        "ipv6_address_mode": listing.eq(Subnet.ipv6_address_mode),
        "subnetpool_id": common.eq_or_none(Subnet.subnetpool_id),
        "segment_id": common.eq_or_none(Subnet.segment_id),
    },
    sort_keys={k: getattr(Subnet, k) for k in (
        "id", "name", "project_id", "network_id", "ip_version", "cidr", "gateway_ip",
        "enable_dhcp", "ipv6_ra_mode", "ipv6_address_mode", "segment_id", "subnetpool_id",
        "created_at", "updated_at", "revision_number")} | {"tenant_id": Subnet.project_id},
    not_found=errors.SubnetNotFound,
)


def visible(ctx: Context):
    """The caller's subnets and those of networks shared to it (RBAC ``*`` or its project)."""
    if ctx.is_admin:
        return Subnet.id.is_not(None)
    shared = select(Network.id).where(Network.shared.is_(True))
    return or_(Subnet.project_id == ctx.project_id, Subnet.network_id.in_(shared),
               Subnet.network_id.in_(rbac.granted(ctx.project_id, rbac.SHARED)))


def _caller_spec(ctx: Context) -> listing.ResourceSpec:
    """SPEC plus ``shared``: not an attribute of a subnet's body, but a filter on
    its network's ``shared`` as the caller sees it (neutron-lib's subnet ``shared``
    is ``is_visible: False, is_filter: True``)."""
    shared = Subnet.network_id.in_(select(Network.id).where(rbac.shared_for(ctx)))
    return dataclasses.replace(SPEC, filters={**SPEC.filters,
                                              "shared": listing.bool_filter(shared)})


def find_visible(session: Session, ctx: Context, subnet_id: str) -> Subnet:
    sub = session.get(Subnet, subnet_id)
    if sub is None or not (ctx.is_admin or sub.project_id == ctx.project_id
                           or rbac.shared_to(session, session.get(Network, sub.network_id),
                                             ctx.project_id)):
        raise errors.SubnetNotFound(subnet_id)
    return sub


def create_subnets(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create subnets all-or-nothing. ``items`` are validated ``SubnetCreate`` dicts.
    Returns the new rows (the API renders them: ``api/wire/subnets.py``).

    Raises NetworkNotFound, InvalidInput/BadRequest for bad addressing (C.3),
    OverlappingAllocationPools / GatewayConflictWithAllocationPools (409),
    NetworkMTUSubnetConflict (409) on a network whose MTU is too small (``services.mtu``);
    ``segment_id`` (admin only, 403) as ``segments.check_subnet_segment`` says;
    a CIDR from a subnet pool (``subnetpool_id``, ``use_default_subnetpool``,
    ``prefixlen``) with the errors of ``subnet_allocation.allocate_for_subnet``.
    """
    if any(data.get("segment_id") is not None for data in items):
        policy.require(ctx, "create_subnet:segment_id")

    def run(session: Session) -> listing.Written:
        rows = []
        projects = [common.owner_project(ctx, data) for data in items]
        check_quotas(session, env, "subnet", projects)
        for data, project in zip(items, projects):
            net = find_owned(session, ctx, data["network_id"], "create_subnet")
            segments.check_subnet_segment(session, net.id, data.get("segment_id"))
            mtu.check_subnet(net, data["ip_version"])
            pool, data = subnet_allocation.allocate_for_subnet(session, ctx, net, project, data)
            sub = _new_subnet(session, env, net, project, data)
            sub.subnetpool_id = pool.id if pool is not None else None
            session.add(sub)
            session.flush()
            common.touch(net)
            common.enqueue_ovn(session, "subnet", sub.id)
            common.enqueue_ovn(session, "network", net.id)
            if _is_auto_address(sub):
                _add_auto_addresses(session, sub)
            if metadata_port.serves_metadata(
                sub, without_dhcp=env.settings.metadata_without_dhcp):
                metadata_port.ensure_metadata_port(session, env, net)
            rows.append(sub)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def update_subnet(env: Env, ctx: Context, subnet_id: str, data: dict[str, Any],
                  if_match: int | None = None) -> listing.Written:
    """Update name, description, gateway_ip, allocation_pools, dns_nameservers,
    host_routes, enable_dhcp, service_types, dns_publish_fixed_ip; returns the row. Raises
    GatewayIpInUse (409) when gateway_ip changes while a router port holds it.
    Existing allocations outside new pools are kept, as are addresses of subnets
    whose new service types no longer admit their ports (Neutron)."""

    def run(session: Session) -> listing.Written:
        sub = find_visible(session, ctx, subnet_id)
        net = find_owned(session, ctx, sub.network_id, "update_subnet")
        common.check_if_match(sub, if_match)
        cidr = ranges.parse_cidr(sub.cidr)
        merged = {
            "gateway_ip": sub.gateway_ip, "enable_dhcp": sub.enable_dhcp,
            "ipv6_ra_mode": sub.ipv6_ra_mode, "ipv6_address_mode": sub.ipv6_address_mode,
            **data}
        if "gateway_ip" in data and data["gateway_ip"] is not None:
            ranges.check_gateway(cidr, data["gateway_ip"])
            data["gateway_ip"] = str(ipaddress.ip_address(data["gateway_ip"]))
        if "gateway_ip" in data and data["gateway_ip"] != sub.gateway_ip:
            _check_gateway_free(session, sub)
        if "allocation_pools" in data or "gateway_ip" in data:
            pools_in = data.get("allocation_pools", sub.allocation_pools)
            pools = ranges.pools_from_api(cidr, pools_in, merged["gateway_ip"])
            data["allocation_pools"] = ranges.pools_to_api(pools, cidr.version)
        if "dns_nameservers" in data:
            data["dns_nameservers"] = _dns(cidr, data["dns_nameservers"], env)
        if "host_routes" in data:
            data["host_routes"] = _host_routes(cidr, data["host_routes"], env)
        if "enable_dhcp" in data:
            _check_dhcp(cidr, merged)
        dhcp_before = sub.enable_dhcp
        if common.apply_changes(sub, data):
            common.touch(sub)
            common.touch(net)
            common.enqueue_ovn(session, "subnet", sub.id)
        session.flush()
        if sub.ip_version == 4 and sub.enable_dhcp != dhcp_before:
            metadata_port.ensure_metadata_port(session, env, net)
        return listing.Written([sub])
    return env.db.run(run)


class GatewayIpInUse(errors.Conflict):
    def __init__(self, address: str, port_id: str) -> None:
        super().__init__(f"Current gateway ip {address} already in use by port {port_id}. "
                         "Unable to update.")


def _check_gateway_free(session: Session, sub: Subnet) -> None:
    """Neutron's rule: a subnet's gateway_ip cannot move or go while a router port holds
    it (GatewayIpInUse, 409)."""
    if not sub.gateway_ip:
        return
    holder = session.scalar(select(Port.id).join(IPAllocation, IPAllocation.port_id == Port.id)
                            .where(IPAllocation.subnet_id == sub.id,
                                   IPAllocation.ip_address == sub.gateway_ip,
                                   Port.device_owner.startswith(DEVICE_OWNER_ROUTER_PREFIX))
                            .limit(1))
    if holder is not None:
        raise GatewayIpInUse(sub.gateway_ip, holder)


def delete_subnet(env: Env, ctx: Context, subnet_id: str, if_match: int | None = None) -> None:
    """Delete a subnet. Raises SubnetInUse (409) while ports other than
    auto-deleted owners hold addresses in it; theirs are released. A SLAAC or
    DHCPv6-stateless subnet goes while ports hold its automatic addresses (they
    lose them), but not while a router interface is on it (Neutron's
    ``_subnet_check_ip_allocations_internal_router_ports``)."""
    def run(session: Session) -> None:
        sub = find_visible(session, ctx, subnet_id)
        net = find_owned(session, ctx, sub.network_id, "delete_subnet")
        common.check_if_match(sub, if_match)
        holders = session.execute(
            select(Port.id, Port.device_owner).join(IPAllocation, IPAllocation.port_id == Port.id)
            .where(IPAllocation.subnet_id == subnet_id)).all()
        if _is_auto_address(sub):
            in_use = any(h.device_owner in ROUTER_INTERFACE_OWNERS for h in holders)
        else:
            in_use = any(h.device_owner not in AUTO_DELETE_PORT_OWNERS for h in holders)
        if in_use:
            raise errors.SubnetInUse(subnet_id)
        for port in session.scalars(select(Port).where(Port.id.in_([h.id for h in holders]))):
            common.touch(port)  # its fixed_ips change
        served_metadata = metadata_port.serves_metadata(
            sub, without_dhcp=env.settings.metadata_without_dhcp)
        session.execute(delete(IPAllocation).where(IPAllocation.subnet_id == subnet_id))
        session.execute(delete(IPAllocationBlock).where(IPAllocationBlock.subnet_id == subnet_id))
        session.delete(sub)
        common.delete_tags(session, [subnet_id])
        common.touch(net)
        for h in holders:
            common.enqueue_ovn(session, "port", h.id)
        common.enqueue_ovn(session, "subnet", subnet_id)
        common.enqueue_ovn(session, "network", net.id)
        if served_metadata:
            session.flush()
            metadata_port.ensure_metadata_port(session, env, net)
    env.db.run(run)


# --- validation (reference C.3) -----------------------------------------------

def _new_subnet(session: Session, env: Env, net: Network, project: str, data: dict[str, Any]) -> Subnet:
    cidr = ranges.parse_cidr(data["cidr"])
    version = data["ip_version"]
    if cidr.version != version:
        raise errors.InvalidInput(f"Invalid input for operation: Cidr {data['cidr']} does not "
                                  f"match ip_version {version}.")
    if cidr.prefixlen == 0:
        raise errors.InvalidInput("Invalid input for cidr. Reason: a /0 prefix is not allowed.")
    if version == 4 and (data.get("ipv6_ra_mode") or data.get("ipv6_address_mode")):
        raise errors.InvalidInput("Invalid input for operation: ipv6_ra_mode or "
                                  "ipv6_address_mode cannot be set when enable_dhcp is set to "
                                  "False or ip_version is 4.")
    if "gateway_ip" not in data:
        gateway = ranges.default_gateway(cidr)
    elif data["gateway_ip"] is None:
        gateway = None
    else:
        ranges.check_gateway(cidr, data["gateway_ip"])
        gateway = str(ipaddress.ip_address(data["gateway_ip"]))
    fields = {"gateway_ip": gateway, "enable_dhcp": data.get("enable_dhcp", True),
              "ipv6_ra_mode": data.get("ipv6_ra_mode"),
              "ipv6_address_mode": data.get("ipv6_address_mode")}
    _check_dhcp(cidr, fields)
    _check_ipv6_modes(cidr, fields)
    if net.mtu < (1280 if version == 6 else 68):
        raise errors.Conflict(f"MTU {net.mtu} of network {net.id} is too small for an "
                              f"IPv{version} subnet.")
    for other in session.scalars(select(Subnet.cidr).where(Subnet.network_id == net.id)):
        if ranges.parse_cidr(other).overlaps(cidr):
            raise errors.BadRequest(f"Invalid input for operation: Requested subnet with cidr: "
                                    f"{cidr} for network: {net.id} overlaps with another subnet.")
    if data.get("allocation_pools"):
        pools = ranges.pools_from_api(cidr, data["allocation_pools"], gateway)
    else:
        pools = ranges.default_pools(cidr, gateway)
    stamp = common.now()
    return Subnet(
        id=common.new_id(), project_id=project, name=data.get("name", ""),
        description=data.get("description", ""), network_id=net.id, ip_version=version,
        cidr=str(cidr), allocation_pools=ranges.pools_to_api(pools, version),
        dns_nameservers=_dns(cidr, data.get("dns_nameservers", []), env),
        host_routes=_host_routes(cidr, data.get("host_routes", []), env),
        segment_id=data.get("segment_id"),
        service_types=data.get("service_types") or [],
        dns_publish_fixed_ip=data.get("dns_publish_fixed_ip", False),
        created_at=stamp, updated_at=stamp, revision_number=1, **fields)


def _check_dhcp(cidr: ranges.IPNetwork, fields: dict[str, Any]) -> None:
    if not fields["enable_dhcp"]:
        if fields.get("ipv6_ra_mode") or fields.get("ipv6_address_mode"):
            raise errors.InvalidInput("Invalid input for operation: ipv6_ra_mode or "
                                      "ipv6_address_mode cannot be set when enable_dhcp is set "
                                      "to False.")
        return
    max_prefix = 30 if cidr.version == 4 else 126
    if cidr.prefixlen > max_prefix:
        raise errors.InvalidInput(f"Invalid input for operation: the CIDR {cidr} is too small "
                                  f"for DHCP (at most /{max_prefix}).")
    if cidr.is_multicast or cidr.is_loopback:
        raise errors.InvalidInput(f"Invalid input for operation: the CIDR {cidr} is a "
                                  "multicast or loopback range, which cannot use DHCP.")


def _check_ipv6_modes(cidr: ranges.IPNetwork, fields: dict[str, Any]) -> None:
    ra, address = fields["ipv6_ra_mode"], fields["ipv6_address_mode"]
    if ra and address and ra != address:
        raise errors.InvalidInput(f"Invalid input for operation: ipv6_ra_mode set to '{ra}' with "
                                  f"ipv6_address_mode set to '{address}' is not valid. If both "
                                  "attributes are set, they must be the same value.")
    if (ra in AUTO_ADDRESS_MODES or address in AUTO_ADDRESS_MODES) and cidr.prefixlen != 64:
        raise errors.InvalidInput(f"Invalid input for operation: Invalid CIDR {cidr} for IPv6 "
                                  "address mode. OpenStack uses the EUI-64 address format, which "
                                  "requires the prefix to be /64.")


def _dns(cidr: ranges.IPNetwork, servers: list[str], env: Env) -> list[str]:
    if len(servers) > env.settings.max_dns_nameservers:
        raise errors.BadRequest(f"Unable to complete operation for subnet. The number of DNS "
                                f"nameservers exceeds the limit {env.settings.max_dns_nameservers}.")
    result = []
    for server in servers:
        addr = ipaddress.ip_address(server)
        if addr.version != cidr.version:
            raise errors.InvalidInput(f"Invalid input for dns_nameservers. Reason: {server} is "
                                      f"not an IPv{cidr.version} address.")
        if str(addr) in result:
            raise errors.InvalidInput(f"Invalid input for dns_nameservers. Reason: Duplicate "
                                      f"nameserver '{server}'.")
        result.append(str(addr))
    return result


def _host_routes(cidr: ranges.IPNetwork, routes: list[dict[str, str]], env: Env) -> list[dict[str, str]]:
    if len(routes) > env.settings.max_subnet_host_routes:
        raise errors.BadRequest(f"Unable to complete operation for subnet. The number of host "
                                f"routes exceeds the limit {env.settings.max_subnet_host_routes}.")
    result = []
    for route in routes:
        dest = ranges.parse_cidr(route["destination"])
        hop = ipaddress.ip_address(route["nexthop"])
        if dest.version != cidr.version or hop.version != cidr.version:
            raise errors.InvalidInput(f"Invalid input for host_routes. Reason: route {route} is "
                                      f"not IPv{cidr.version}.")
        item = {"destination": str(dest), "nexthop": str(hop)}
        if item in result:
            raise errors.InvalidInput(f"Invalid input for host_routes. Reason: Duplicate "
                                      f"hostroute '{route}'.")
        result.append(item)
    return result


def _is_auto_address(sub: Subnet) -> bool:
    """Addresses come from the prefix and the MAC (SLAAC, DHCPv6 stateless)."""
    return sub.ipv6_address_mode in AUTO_ADDRESS_MODES or sub.ipv6_ra_mode in AUTO_ADDRESS_MODES


def _add_auto_addresses(session: Session, sub: Subnet) -> None:
    """A new SLAAC/stateless subnet gives every existing non-router port of the
    network its EUI-64 address (``add_auto_addrs_on_network_ports``)."""
    space = allocator.space_of(sub)
    for port_id, mac, owner in session.execute(
            select(Port.id, Port.mac_address, Port.device_owner).where(Port.network_id == sub.network_id)):
        if owner.startswith(DEVICE_OWNER_ROUTER_PREFIX):
            continue
        allocator.allocate_address(session, space, port_id, ranges.eui64(space.net, mac))
        common.enqueue_ovn(session, "port", port_id)

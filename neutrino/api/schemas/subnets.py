"""Request bodies for ``/v2.0/subnets`` (reference B.2)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from neutrino.api.schemas.common import (CIDR, STANDARD_ATTRIBUTES, Description, IPAddress, Name,
                                         NeutronBody, ProjectId, UUIDStr)

SUBNET_ATTRIBUTES = STANDARD_ATTRIBUTES | {
    "network_id", "ip_version", "cidr", "gateway_ip", "allocation_pools", "dns_nameservers",
    "host_routes", "enable_dhcp", "ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id",
    "segment_id"}
IPv6Mode = Literal["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]


class AllocationPool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: IPAddress
    end: IPAddress


class HostRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination: CIDR
    nexthop: IPAddress


class SubnetCreate(NeutronBody):
    ATTRIBUTES = SUBNET_ATTRIBUTES
    network_id: UUIDStr
    ip_version: Literal[4, 6]
    cidr: CIDR
    name: Name = ""
    description: Description = ""
    gateway_ip: IPAddress | None = None
    allocation_pools: list[AllocationPool] = []
    dns_nameservers: list[IPAddress] = []
    host_routes: list[HostRoute] = []
    enable_dhcp: bool = True
    ipv6_ra_mode: IPv6Mode | None = None
    ipv6_address_mode: IPv6Mode | None = None
    # Subnet pools are not implemented; clients that send null are fine.
    subnetpool_id: None = None
    # extension segment: the routed network segment the subnet serves (admin)
    segment_id: UUIDStr | None = None
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class SubnetUpdate(NeutronBody):
    ATTRIBUTES = SUBNET_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    gateway_ip: IPAddress | None = None
    allocation_pools: list[AllocationPool] = []
    dns_nameservers: list[IPAddress] = []
    host_routes: list[HostRoute] = []
    enable_dhcp: bool = True

"""Request bodies for ``/v2.0/subnets`` (reference B.2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from neutrino.api.schemas.common import CIDR, IPAddress, IPVersion, NamedBody, ProjectId, UUIDStr
from neutrino.api.wire.subnets import SUBNET
from neutrino.services import service_subnets

SUBNET_ATTRIBUTES = SUBNET.names  # the wire declaration's (api/wire/subnets.py)
# extension subnet-service-types (services/service_subnets.py raises Neutron's errors)
ServiceTypes = Annotated[Any, AfterValidator(service_subnets.validate)]
IPv6Mode = Literal["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]


class AllocationPool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: IPAddress
    end: IPAddress


class HostRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination: CIDR
    nexthop: IPAddress


class SubnetUpdate(NamedBody):
    ATTRIBUTES = SUBNET_ATTRIBUTES
    gateway_ip: IPAddress | None = None
    allocation_pools: list[AllocationPool] = []
    dns_nameservers: list[IPAddress] = []
    host_routes: list[HostRoute] = []
    enable_dhcp: bool = True
    # extensions subnet-service-types and subnet-dns-publish-fixed-ip
    service_types: ServiceTypes = None
    dns_publish_fixed_ip: bool = False


# The updatable attributes and those set only at creation.
class SubnetCreate(SubnetUpdate):
    network_id: UUIDStr
    ip_version: IPVersion
    # without a cidr, one is allocated from the subnet pool (subnet_allocation)
    cidr: CIDR | None = None
    ipv6_ra_mode: IPv6Mode | None = None
    ipv6_address_mode: IPv6Mode | None = None
    # extensions subnet_allocation, default-subnetpools (services/subnetpools.py)
    subnetpool_id: UUIDStr | None = None
    prefixlen: Annotated[int, Field(ge=0)] | None = None
    use_default_subnetpool: bool = False
    # extension segment: the routed network segment the subnet serves (admin)
    segment_id: UUIDStr | None = None
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

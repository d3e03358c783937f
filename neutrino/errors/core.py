"""Errors of the core resources: networks, subnets, ports, their addresses and
allocation pools, tags, extensions, quotas and provider segments (neutron-lib
``exceptions/__init__.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class NetworkNotFound(NotFound):
    template = "Network {net_id} could not be found."


class SubnetNotFound(NotFound):
    template = "Subnet {subnet_id} could not be found."


class PortNotFound(NotFound):
    template = "Port {port_id} could not be found."


class TagNotFound(NotFound):
    template = "Tag {tag} could not be found for resource {resource_id}."
    params = ("resource_id", "tag")


class TagResourceNotFound(NotFound):
    template = "Resource {resource} {resource_id} could not be found."


class ExtensionNotFound(NotFound):
    template = "Extension with alias {alias} does not exist"


class NetworkInUse(Conflict):
    template = ("Unable to complete operation on network {net_id}. There are one or more ports "
                "still in use on the network.")


class SubnetInUse(Conflict):
    template = ("Unable to complete operation on subnet {subnet_id}: One or more ports have an "
                "IP allocation from this subnet.")


class MacAddressInUse(Conflict):
    template = ("Unable to complete operation for network {net_id}. The mac address {mac} is "
                "in use.")


class IpAddressAlreadyAllocated(Conflict):
    template = "IP address {ip} already allocated in subnet {subnet_id}"


class IpAddressGenerationFailure(Conflict):
    pass


class InvalidIpForSubnet(BadRequest):
    template = "IP address {ip} is not a valid IP for the specified subnet."


class InvalidIpForNetwork(BadRequest):
    template = "IP address {ip} is not a valid IP for any of the subnets on the specified network."


class OutOfBoundsAllocationPool(BadRequest):
    template = "The allocation pool {pool} spans beyond the subnet cidr {cidr}."


class OverlappingAllocationPools(Conflict):
    template = ("Found overlapping allocation pools: {pool_1} and {pool_2} for subnet "
                "{subnet_cidr}.")


class GatewayConflictWithAllocationPools(Conflict):
    template = "Gateway ip {ip} conflicts with allocation pool {pool}."


class OverQuota(Conflict):
    template = "Quota exceeded for resources: {resources}."


class TenantIdProjectIdFilterConflict(BadRequest):
    template = "Both tenant_id and project_id passed as filters."


# provider networks

class FlatNetworkInUse(Conflict):
    template = "Unable to create the flat network. Physical network {physical_network} is in use."


class VlanIdInUse(Conflict):
    template = ("Unable to create the network. The VLAN {vlan_id} on physical network "
                "{physical_network} is in use.")


class TunnelIdInUse(Conflict):
    template = "Unable to create the network. The tunnel ID {tunnel_id} is in use."

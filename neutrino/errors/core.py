"""Errors of the core resources: networks, subnets, ports, their addresses and
allocation pools, tags, extensions, quotas and provider segments (neutron-lib
``exceptions/__init__.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class NetworkNotFound(NotFound):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"Network {net_id} could not be found.")


class SubnetNotFound(NotFound):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(f"Subnet {subnet_id} could not be found.")


class PortNotFound(NotFound):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} could not be found.")


class TagNotFound(NotFound):
    def __init__(self, resource_id: str, tag: str) -> None:
        super().__init__(f"Tag {tag} could not be found for resource {resource_id}.")


class TagResourceNotFound(NotFound):
    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"Resource {resource} {resource_id} could not be found.")


class ExtensionNotFound(NotFound):
    def __init__(self, alias: str) -> None:
        super().__init__(f"Extension with alias {alias} does not exist")


class NetworkInUse(Conflict):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"Unable to complete operation on network {net_id}. "
                         "There are one or more ports still in use on the network.")


class SubnetInUse(Conflict):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(f"Unable to complete operation on subnet {subnet_id}: "
                         "One or more ports have an IP allocation from this subnet.")


class MacAddressInUse(Conflict):
    def __init__(self, net_id: str, mac: str) -> None:
        super().__init__(f"Unable to complete operation for network {net_id}. "
                         f"The mac address {mac} is in use.")


class IpAddressAlreadyAllocated(Conflict):
    def __init__(self, ip: str, subnet_id: str) -> None:
        super().__init__(f"IP address {ip} already allocated in subnet {subnet_id}")


class IpAddressGenerationFailure(Conflict):
    pass


class InvalidIpForSubnet(BadRequest):
    def __init__(self, ip: str) -> None:
        super().__init__(f"IP address {ip} is not a valid IP for the specified subnet.")


class InvalidIpForNetwork(BadRequest):
    def __init__(self, ip: str) -> None:
        super().__init__(f"IP address {ip} is not a valid IP for any of the subnets "
                         "on the specified network.")


class OutOfBoundsAllocationPool(BadRequest):
    def __init__(self, pool: str, cidr: str) -> None:
        super().__init__(f"The allocation pool {pool} spans beyond the subnet cidr {cidr}.")


class OverlappingAllocationPools(Conflict):
    def __init__(self, pool_1: str, pool_2: str, subnet_cidr: str) -> None:
        super().__init__(f"Found overlapping allocation pools: {pool_1} and {pool_2} "
                         f"for subnet {subnet_cidr}.")


class GatewayConflictWithAllocationPools(Conflict):
    def __init__(self, ip: str, pool: str) -> None:
        super().__init__(f"Gateway ip {ip} conflicts with allocation pool {pool}.")


class OverQuota(Conflict):
    def __init__(self, resources: list[str]) -> None:
        super().__init__(f"Quota exceeded for resources: {resources}.")


class TenantIdProjectIdFilterConflict(BadRequest):
    def __init__(self) -> None:
        super().__init__("Both tenant_id and project_id passed as filters.")


# provider networks

class FlatNetworkInUse(Conflict):
    def __init__(self, physical_network: str) -> None:
        super().__init__(f"Unable to create the flat network. Physical network "
                         f"{physical_network} is in use.")


class VlanIdInUse(Conflict):
    def __init__(self, vlan_id: int, physical_network: str) -> None:
        super().__init__(f"Unable to create the network. The VLAN {vlan_id} on physical "
                         f"network {physical_network} is in use.")


class TunnelIdInUse(Conflict):
    def __init__(self, tunnel_id: int) -> None:
        super().__init__(f"Unable to create the network. The tunnel ID {tunnel_id} is in use.")

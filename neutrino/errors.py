"""Errors named and numbered as Neutron's (neutron-lib ``exceptions``, ``api/faults.py``).

Every layer raises these; ``api/errors.py`` renders them as
``{"NeutronError": {"type": <class name>, "message": ..., "detail": ""}}``
with ``status``. Kept at the package root so ``ipam`` and ``services`` share them.
"""

from __future__ import annotations


class NeutronError(Exception):
    """Base: ``status`` is the HTTP status, the class name is the error type."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def type(self) -> str:
        return type(self).__name__


class BadRequest(NeutronError):
    status = 400


class InvalidInput(BadRequest):
    pass


class HTTPBadRequest(BadRequest):
    """Malformed requests (body shape, unknown attributes), as webob names them."""


class NotAuthorized(NeutronError):
    status = 403


class PolicyNotAuthorized(NotAuthorized):
    def __init__(self, action: str) -> None:
        super().__init__(f"({action}) is disallowed by policy")


class NotFound(NeutronError):
    status = 404


class HTTPNotFound(NotFound):
    def __init__(self, message: str = "The resource could not be found.") -> None:
        super().__init__(message)


class Conflict(NeutronError):
    status = 409


class PreconditionFailed(NeutronError):
    status = 412


# --- resources ---------------------------------------------------------------

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

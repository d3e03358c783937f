"""Errors of subnet pools and address scopes (neutron-lib ``exceptions/__init__.py``,
``exceptions/address_scope.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class SubnetPoolNotFound(NotFound):
    def __init__(self, subnetpool_id: str) -> None:
        super().__init__(f"Subnet pool {subnetpool_id} could not be found.")


class SubnetPoolDeleteError(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Unable to delete subnet pool: {reason}.")


class EmptySubnetPoolPrefixList(BadRequest):
    def __init__(self) -> None:
        super().__init__("Empty subnet pool prefix list.")


class PrefixVersionMismatch(BadRequest):
    def __init__(self) -> None:
        super().__init__("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")


class UnsupportedMinSubnetPoolPrefix(BadRequest):
    def __init__(self, prefix: int, version: int) -> None:
        super().__init__(f"Prefix '{prefix}' not supported in IPv{version} pool.")


class IllegalSubnetPoolPrefixBounds(BadRequest):
    def __init__(self, prefix_type: str, prefixlen: int, base_prefix_type: str,
                 base_prefixlen: int) -> None:
        super().__init__(f"Illegal prefix bounds: {prefix_type}={prefixlen}, "
                         f"{base_prefix_type}={base_prefixlen}.")


class IllegalSubnetPoolPrefixUpdate(BadRequest):
    def __init__(self, msg: str) -> None:
        super().__init__(f"Illegal update to prefixes: {msg}.")


class IllegalSubnetPoolUpdate(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Illegal subnetpool update : {reason}.")


class SubnetAllocationError(Conflict):
    """No room in the pool for the requested prefix. Neutron's exception has no
    HTTP mapping, so Neutron answers 500 with this type; neutrino answers 409
    (the request cannot be served in the pool's current state, as a full
    subnet's IpAddressGenerationFailure), with Neutron's type and message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Failed to allocate subnet: {reason}.")


class MinPrefixSubnetAllocationError(BadRequest):
    def __init__(self, prefixlen: int, min_prefixlen: int) -> None:
        super().__init__(f"Unable to allocate subnet with prefix length {prefixlen}, "
                         f"minimum allowed prefix is {min_prefixlen}.")


class MaxPrefixSubnetAllocationError(BadRequest):
    def __init__(self, prefixlen: int, max_prefixlen: int) -> None:
        super().__init__(f"Unable to allocate subnet with prefix length {prefixlen}, "
                         f"maximum allowed prefix is {max_prefixlen}.")


class SubnetPoolQuotaExceeded(Conflict):
    """neutron-lib's is an OverQuota (409)."""

    def __init__(self) -> None:
        super().__init__("Per-project subnet pool prefix quota exceeded.")


class NetworkSubnetPoolAffinityError(BadRequest):
    def __init__(self) -> None:
        super().__init__("Subnets hosted on the same network must be allocated from the same "
                         "subnet pool.")


class AddressScopeNotFound(NotFound):
    def __init__(self, address_scope_id: str) -> None:
        super().__init__(f"Address scope {address_scope_id} could not be found.")


class AddressScopeInUse(Conflict):
    def __init__(self, address_scope_id: str) -> None:
        super().__init__(f"Unable to complete operation on address scope {address_scope_id}. "
                         "There are one or more subnet pools in use on the address scope.")


class AddressScopeUpdateError(BadRequest):
    def __init__(self, address_scope_id: str, reason: str) -> None:
        super().__init__(f"Unable to update address scope {address_scope_id} : {reason}.")


class AddressScopePrefixConflict(Conflict):
    def __init__(self) -> None:
        super().__init__("Failed to associate address scope: subnetpools within an address "
                         "scope must have unique prefixes.")


class IllegalSubnetPoolAssociationToAddressScope(BadRequest):
    def __init__(self, subnetpool_id: str, address_scope_id: str) -> None:
        super().__init__(f"Illegal subnetpool association: subnetpool {subnetpool_id} cannot be "
                         f"associated with address scope {address_scope_id}.")


class IllegalSubnetPoolIpVersionAssociationToAddressScope(BadRequest):
    def __init__(self, subnetpool_id: str, address_scope_id: str, ip_version: int) -> None:
        super().__init__(f"Illegal subnetpool association: subnetpool {subnetpool_id} cannot "
                         f"associate with address scope {address_scope_id} because subnetpool "
                         f"ip_version is not {ip_version}.")


class NetworkAddressScopeAffinityError(BadRequest):
    def __init__(self) -> None:
        super().__init__("Subnets of the same address family hosted on the same network must "
                         "all participate in the same address scope.")

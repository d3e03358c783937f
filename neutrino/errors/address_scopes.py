"""Errors of subnet pools and address scopes (neutron-lib ``exceptions/__init__.py``,
``exceptions/address_scope.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class SubnetPoolNotFound(NotFound):
    template = "Subnet pool {subnetpool_id} could not be found."


class SubnetPoolDeleteError(BadRequest):
    template = "Unable to delete subnet pool: {reason}."


class EmptySubnetPoolPrefixList(BadRequest):
    template = "Empty subnet pool prefix list."


class PrefixVersionMismatch(BadRequest):
    template = "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."


class UnsupportedMinSubnetPoolPrefix(BadRequest):
    template = "Prefix '{prefix}' not supported in IPv{version} pool."


class IllegalSubnetPoolPrefixBounds(BadRequest):
    template = ("Illegal prefix bounds: {prefix_type}={prefixlen}, "
                "{base_prefix_type}={base_prefixlen}.")


class IllegalSubnetPoolPrefixUpdate(BadRequest):
    template = "Illegal update to prefixes: {msg}."


class IllegalSubnetPoolUpdate(BadRequest):
    template = "Illegal subnetpool update : {reason}."


class SubnetAllocationError(Conflict):
    """No room in the pool for the requested prefix. Neutron's exception has no
    HTTP mapping, so Neutron answers 500 with this type; neutrino answers 409
    (the request cannot be served in the pool's current state, as a full
    subnet's IpAddressGenerationFailure), with Neutron's type and message."""

    template = "Failed to allocate subnet: {reason}."


class MinPrefixSubnetAllocationError(BadRequest):
    template = ("Unable to allocate subnet with prefix length {prefixlen}, minimum allowed "
                "prefix is {min_prefixlen}.")


class MaxPrefixSubnetAllocationError(BadRequest):
    template = ("Unable to allocate subnet with prefix length {prefixlen}, maximum allowed "
                "prefix is {max_prefixlen}.")


class SubnetPoolQuotaExceeded(Conflict):
    """neutron-lib's is an OverQuota (409)."""

    template = "Per-project subnet pool prefix quota exceeded."


class NetworkSubnetPoolAffinityError(BadRequest):
    template = "Subnets hosted on the same network must be allocated from the same subnet pool."


class AddressScopeNotFound(NotFound):
    template = "Address scope {address_scope_id} could not be found."


class AddressScopeInUse(Conflict):
    template = ("Unable to complete operation on address scope {address_scope_id}. There are "
                "one or more subnet pools in use on the address scope.")


class AddressScopeUpdateError(BadRequest):
    template = "Unable to update address scope {address_scope_id} : {reason}."


class AddressScopePrefixConflict(Conflict):
    template = ("Failed to associate address scope: subnetpools within an address scope must "
                "have unique prefixes.")


class IllegalSubnetPoolAssociationToAddressScope(BadRequest):
    template = ("Illegal subnetpool association: subnetpool {subnetpool_id} cannot be "
                "associated with address scope {address_scope_id}.")


class IllegalSubnetPoolIpVersionAssociationToAddressScope(BadRequest):
    template = ("Illegal subnetpool association: subnetpool {subnetpool_id} cannot associate "
                "with address scope {address_scope_id} because subnetpool ip_version is not "
                "{ip_version}.")


class NetworkAddressScopeAffinityError(BadRequest):
    template = ("Subnets of the same address family hosted on the same network must all "
                "participate in the same address scope.")

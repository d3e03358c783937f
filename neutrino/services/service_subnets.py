"""Subnet service types (extension ``subnet-service-types``): which ports may take
addresses from which subnets of a network.

A subnet's ``service_types`` lists ``device_owner`` values (``network:floatingip``,
``network:router_gateway``, ``compute:nova``, ...). As Neutron's IPAM
(``neutron/objects/subnet.py`` ``find_candidate_subnets`` with
``SubnetServiceType._query_entity_service_subnets``, sorted by
``neutron/db/ipam_backend_mixin.py`` ``_ipam_get_subnets``):

* a port may use the subnets whose ``service_types`` hold its ``device_owner``
  exactly, and the subnets without service types; the former come first, so an
  external network with a ``network:floatingip`` subnet gives floating IPs their
  addresses there and everything else from the plain subnets;
* a DHCP port (``network:dhcp``) may use any DHCP-enabled subnet; so may neutrino's
  metadata port (``network:distributed``, ML2/OVN's DHCP-and-metadata port), which
  must sit on every DHCP-enabled IPv4 subnet for the metadata route;
* a network with subnets none of which a port may use: 409
  ``IpAddressGenerationFailureNoMatchingSubnet``.

Validation is neutron-lib's ``validate_subnet_service_types``: a list (else
HTTPBadRequest), of strings (else ``InvalidInputSubnetServiceType``) starting with
``network:``, ``neutron:`` or ``compute:`` (else ``InvalidSubnetServiceType``).
neutron-lib builds its prefix list by adding the string ``"compute:"`` to a list,
which adds its characters, so any type starting with one of ``c o m p u t e :``
passes there too; neutrino keeps that, to accept exactly what Neutron accepts.
"""

from __future__ import annotations

from typing import Any, Sequence

from neutrino import constants as c
from neutrino import errors

_PREFIXES = ("network:", "neutron:", *"compute:")
#: Owners that may use any DHCP-enabled subnet, whatever its service types.
DHCP_OWNERS = (c.DEVICE_OWNER_DHCP, c.DEVICE_OWNER_DISTRIBUTED)


class InvalidSubnetServiceType(errors.InvalidInput):
    def __init__(self, service_type: str) -> None:
        super().__init__(f"Subnet service type {service_type} does not correspond to a valid "
                         "device owner.")


class InvalidInputSubnetServiceType(errors.InvalidInput):
    def __init__(self, service_type: Any) -> None:
        super().__init__(f"Subnet service type {service_type} is not a string.")


class IpAddressGenerationFailureNoMatchingSubnet(errors.IpAddressGenerationFailure):
    def __init__(self, network_id: str, service_type: str) -> None:
        super().__init__("No valid service subnet for the given device owner, network "
                         f"{network_id}, service type {service_type}.")


def validate(value: Any) -> list[str]:
    """A request's ``service_types``: None is []; raises HTTPBadRequest (not a list),
    InvalidInputSubnetServiceType or InvalidSubnetServiceType (400)."""
    if not value:
        return []
    if not isinstance(value, list):
        raise errors.HTTPBadRequest("Subnet service types must be a list.")
    for service_type in value:
        if not isinstance(service_type, str):
            raise InvalidInputSubnetServiceType(service_type)
        if not service_type.startswith(_PREFIXES):
            raise InvalidSubnetServiceType(service_type)
    return list(dict.fromkeys(value))


def allows(subnet: Any, device_owner: str) -> bool:
    """Whether a port owned by ``device_owner`` may take an address from ``subnet``."""
    types = getattr(subnet, "service_types", None) or ()
    return (not types or device_owner in types
            or (device_owner in DHCP_OWNERS and bool(subnet.enable_dhcp)))


def usable(subnets: Sequence[Any], device_owner: str) -> list[Any]:
    """The ``subnets`` a port of ``device_owner`` may use, those whose service types
    name it first (each group in the given order)."""
    allowed = [s for s in subnets if allows(s, device_owner)]
    return ([s for s in allowed if getattr(s, "service_types", None)]
            + [s for s in allowed if not getattr(s, "service_types", None)])


def check_any(subnets: Sequence[Any], usable_subnets: Sequence[Any], network_id: str,
              device_owner: str) -> None:
    """IpAddressGenerationFailureNoMatchingSubnet (409) when the network has subnets
    but the port may use none of them."""
    if subnets and not usable_subnets:
        raise IpAddressGenerationFailureNoMatchingSubnet(network_id, device_owner)

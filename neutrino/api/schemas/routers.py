"""Request bodies for ``/v2.0/routers`` and ``/v2.0/floatingips`` (reference B.4, B.5)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from neutrino.api.schemas.common import (CIDR, Description, IPAddress, NamedBody, NeutronBody,
                                         ProjectId, UUIDStr)
from neutrino.api.schemas.networks import AvailabilityZoneHints
from neutrino.api.schemas.ports import FixedIp
from neutrino.api.wire.floatingips import FLOATINGIP
from neutrino.api.wire.routers import ROUTER
from neutrino.services import dns

ROUTER_ATTRIBUTES = ROUTER.names  # the wire declaration's (api/wire/routers.py)
FLOATINGIP_ATTRIBUTES = FLOATINGIP.names  # the wire declaration's (api/wire/floatingips.py)


class GatewayInfo(BaseModel):
    """``external_gateway_info``: network_id required; enable_snat and
    external_fixed_ips admin-only (checked by the service)."""

    model_config = ConfigDict(extra="forbid")
    network_id: UUIDStr
    enable_snat: bool = True
    external_fixed_ips: list[FixedIp] | None = None
    qos_policy_id: UUIDStr | None = None  # extension qos-gateway-ip


class ExternalGateway(NeutronBody):
    """One entry of ``external_gateways`` in a router's gateway actions (extension
    ``external-gateway-multihoming``): ``external_gateway_info``'s keys."""

    ATTRIBUTES = frozenset({"network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"})
    network_id: UUIDStr
    enable_snat: bool = True
    external_fixed_ips: list[FixedIp] | None = None
    qos_policy_id: UUIDStr | None = None


class Route(NeutronBody):
    """One extra route (extension ``extraroute``)."""

    ATTRIBUTES = frozenset({"destination", "nexthop"})
    destination: CIDR
    nexthop: IPAddress


def _empty_is_none(value: Any) -> Any:
    return None if value == {} else value


def _none_is_empty_list(value: Any) -> Any:
    """``routes: null`` means no routes (Neutron's ``convert_none_to_empty_list``)."""
    return [] if value is None else value


class _RouterBody(NamedBody):
    """What a router's create and update bodies share: ``routes`` is update-only
    (``extraroute``), the owner, zones and flavor create-only."""

    ATTRIBUTES = ROUTER_ATTRIBUTES
    admin_state_up: bool = True
    external_gateway_info: GatewayInfo | None = None  # None or {}: none (update: removed)
    ha: bool | None = None  # l3-ha: always true on OVN (services/router_extras.py)
    enable_default_route_bfd: bool | None = None
    enable_default_route_ecmp: bool | None = None

    _no_gateway = field_validator("external_gateway_info", mode="before")(_empty_is_none)


class RouterCreate(_RouterBody):
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    availability_zone_hints: AvailabilityZoneHints = []  # router_availability_zone
    flavor_id: UUIDStr | None = None  # l3-flavors (services/flavors.py)


class RouterUpdate(_RouterBody):
    routes: list[Route] = []

    _no_routes = field_validator("routes", mode="before")(_none_is_empty_list)


class FloatingIPUpdate(NeutronBody):
    ATTRIBUTES = FLOATINGIP_ATTRIBUTES
    qos_policy_id: UUIDStr | None = None  # extension qos-fip
    port_id: UUIDStr | None = None
    fixed_ip_address: IPAddress | None = None
    description: Description = ""


# The updatable attributes and those set only at creation.
class FloatingIPCreate(FloatingIPUpdate):
    # extension dns-integration: checked, then shown as "" (an external DNS service
    # would publish them; neutrino has none, as ML2/OVN without a DNS driver)
    dns_name: Annotated[str, AfterValidator(dns.validate_fip_dns_name)] = ""
    dns_domain: Annotated[str, AfterValidator(dns.validate_dns_domain)] = ""
    floating_network_id: UUIDStr
    floating_ip_address: IPAddress | None = None
    subnet_id: UUIDStr | None = None
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

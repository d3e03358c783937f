"""Request bodies for ``/v2.0/networks`` (reference B.1, extensions external-net, provider
and multi-provider)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from neutrino.api.schemas.common import NamedBody, ProjectId, UUIDStr
from neutrino.api.wire.networks import NETWORK
from neutrino.services.dns import validate_dns_domain

NETWORK_ATTRIBUTES = NETWORK.names  # the wire declaration's (api/wire/networks.py)
PhysicalNetwork = Annotated[str, StringConstraints(min_length=1, max_length=64)]
NetworkType = Literal["flat", "vlan", "geneve"]
# Extension dns-integration: "" or an FQDN (InvalidInput otherwise).
DnsDomain = Annotated[str, AfterValidator(validate_dns_domain)]


def _zone_hints(hints: list[str]) -> list[str]:
    """neutron-lib's ``availability_zone_hint_list``: unique strings whose JSON form
    fits 255 characters (existence is checked by the service)."""
    if len(set(hints)) != len(hints):
        raise ValueError(f"Duplicate items in the list: '{', '.join(hints)}'")
    if len(json.dumps(hints)) > 255:
        raise ValueError("Too many availability_zone_hints specified")
    return hints


AvailabilityZoneHints = Annotated[list[str], AfterValidator(_zone_hints)]


class ProviderSegment(BaseModel):
    """One entry of ``segments`` (extension ``multi-provider``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    provider_network_type: NetworkType | None = Field(None, alias="provider:network_type")
    provider_physical_network: PhysicalNetwork | None = Field(
        None, alias="provider:physical_network")
    provider_segmentation_id: int | None = Field(None, alias="provider:segmentation_id")


class NetworkUpdate(NamedBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    ATTRIBUTES = NETWORK_ATTRIBUTES
    admin_state_up: bool = True
    shared: bool = False
    mtu: int = Field(0, ge=0)
    router_external: bool = Field(False, alias="router:external")
    is_default: bool = False
    port_security_enabled: bool = True
    dns_domain: DnsDomain = ""
    qos_policy_id: UUIDStr | None = None  # extension qos


# The updatable attributes (``mtu`` left out is None: the service picks it) and those set
# only at creation: owner, provider segments, availability zone hints.
class NetworkCreate(NetworkUpdate):
    mtu: int | None = Field(None, ge=0)  # 0: the maximum (services/mtu.py)
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    provider_network_type: NetworkType | None = Field(None, alias="provider:network_type")
    provider_physical_network: PhysicalNetwork | None = Field(
        None, alias="provider:physical_network")
    provider_segmentation_id: int | None = Field(None, alias="provider:segmentation_id")
    segments: list[ProviderSegment] | None = None
    availability_zone_hints: AvailabilityZoneHints = []

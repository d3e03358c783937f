"""Request bodies for ``/v2.0/flavors`` and ``/v2.0/service_profiles`` (neutron-lib
``api/definitions/flavors.py``). Shape only; services/flavors.py checks service types
and drivers."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from neutrino.api.schemas.common import Name, NeutronBody, UUIDStr
from neutrino.api.wire.flavors import FLAVOR, SERVICE_PROFILE

# the wire declarations' (api/wire/flavors.py)
FLAVOR_ATTRIBUTES = FLAVOR.names
PROFILE_ATTRIBUTES = SERVICE_PROFILE.names
LongDescription = Annotated[str, StringConstraints(max_length=1024)]


class FlavorCreate(NeutronBody):
    ATTRIBUTES = FLAVOR_ATTRIBUTES
    name: Name = ""
    description: LongDescription | None = ""
    service_type: str
    service_profiles: list[UUIDStr] = []
    enabled: bool = True


class FlavorUpdate(NeutronBody):
    ATTRIBUTES = FLAVOR_ATTRIBUTES
    name: Name = ""
    description: LongDescription | None = ""
    service_profiles: list[UUIDStr] = []
    enabled: bool = True


class ServiceProfileCreate(NeutronBody):
    ATTRIBUTES = PROFILE_ATTRIBUTES
    description: LongDescription | None = ""
    driver: Annotated[str, StringConstraints(max_length=1024)] = ""
    metainfo: Annotated[str, StringConstraints(max_length=4096)] = ""
    enabled: bool = True


class ServiceProfileUpdate(ServiceProfileCreate):
    pass


class FlavorProfileBinding(NeutronBody):
    """``{"service_profile": {"id"}}`` of ``POST /flavors/{id}/service_profiles``."""

    ATTRIBUTES = frozenset({"id"})
    id: UUIDStr

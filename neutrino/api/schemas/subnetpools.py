"""Request bodies for ``/v2.0/subnetpools`` and ``/v2.0/address-scopes`` (neutron-lib
``api/definitions/subnetpool.py``, ``address_scope.py``). Shape only: prefix bounds,
defaults and scopes are checked in ``services/subnetpools.py`` with Neutron's errors.

Prefix lengths and ``default_quota`` accept integers or their text (Neutron's
``convert_to_int``; tempest sends ``"29"``), never negative.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from neutrino.api.schemas.common import (CIDR, Description, IPVersion, Name, NeutronBody,
                                         ProjectId, UUIDStr)
from neutrino.api.wire.address_scopes import ADDRESS_SCOPE
from neutrino.api.wire.subnetpools import SUBNETPOOL

# the wire declarations' (api/wire/subnetpools.py, api/wire/address_scopes.py)
SUBNETPOOL_ATTRIBUTES = SUBNETPOOL.names
ADDRESS_SCOPE_ATTRIBUTES = ADDRESS_SCOPE.names
# up to the database's INTEGER (neutron-lib's DB_INTEGER_MAX_VALUE): beyond, PostgreSQL's
# int4 overflowed (500)
NonNegative = Annotated[int, Field(ge=0, le=2**31 - 1)]


class SubnetPoolCreate(NeutronBody):
    ATTRIBUTES = SUBNETPOOL_ATTRIBUTES
    name: Name
    prefixes: list[CIDR]
    description: Description = ""
    default_prefixlen: NonNegative | None = None
    min_prefixlen: NonNegative | None = None
    max_prefixlen: NonNegative | None = None
    default_quota: NonNegative | None = None
    is_default: bool = False
    shared: bool = False
    address_scope_id: UUIDStr | None = None
    tags: list[str] = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class SubnetPoolUpdate(NeutronBody):
    ATTRIBUTES = SUBNETPOOL_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    prefixes: list[CIDR] = []
    default_prefixlen: NonNegative | None = None
    min_prefixlen: NonNegative | None = None
    max_prefixlen: NonNegative | None = None
    default_quota: NonNegative | None = None
    is_default: bool = False
    address_scope_id: UUIDStr | None = None


class AddressScopeCreate(NeutronBody):
    ATTRIBUTES = ADDRESS_SCOPE_ATTRIBUTES
    ip_version: IPVersion
    name: Name = ""
    shared: bool = False
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class AddressScopeUpdate(NeutronBody):
    ATTRIBUTES = ADDRESS_SCOPE_ATTRIBUTES
    name: Name = ""
    shared: bool = False

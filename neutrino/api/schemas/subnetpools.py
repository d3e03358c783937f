"""Request bodies for ``/v2.0/subnetpools`` and ``/v2.0/address-scopes`` (neutron-lib
``api/definitions/subnetpool.py``, ``address_scope.py``). Shape only: prefix bounds,
defaults and scopes are checked in ``services/subnetpools.py`` with Neutron's errors.

Prefix lengths and ``default_quota`` accept integers or their text (Neutron's
``convert_to_int``; tempest sends ``"29"``), never negative.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from neutrino.api.schemas.common import (CIDR, IPVersion, NamedBody, Name, NeutronBody,
                                         ProjectId, UUIDStr)
from neutrino.api.wire.address_scopes import ADDRESS_SCOPE
from neutrino.api.wire.subnetpools import SUBNETPOOL

# the wire declarations' (api/wire/subnetpools.py, api/wire/address_scopes.py)
SUBNETPOOL_ATTRIBUTES = SUBNETPOOL.names
ADDRESS_SCOPE_ATTRIBUTES = ADDRESS_SCOPE.names
# up to the database's INTEGER (neutron-lib's DB_INTEGER_MAX_VALUE): beyond, PostgreSQL's
# int4 overflowed (500)
NonNegative = Annotated[int, Field(ge=0, le=2**31 - 1)]


class SubnetPoolUpdate(NamedBody):
    ATTRIBUTES = SUBNETPOOL_ATTRIBUTES
    prefixes: list[CIDR] = []
    default_prefixlen: NonNegative | None = None
    min_prefixlen: NonNegative | None = None
    max_prefixlen: NonNegative | None = None
    default_quota: NonNegative | None = None
    is_default: bool = False
    address_scope_id: UUIDStr | None = None


# The updatable attributes (``name`` and ``prefixes`` required) and those set only at
# creation.
class SubnetPoolCreate(SubnetPoolUpdate):
    name: Name
    prefixes: list[CIDR]
    shared: bool = False
    tags: list[str] = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class AddressScopeUpdate(NeutronBody):
    ATTRIBUTES = ADDRESS_SCOPE_ATTRIBUTES
    name: Name = ""
    shared: bool = False


# The updatable attributes and those set only at creation.
class AddressScopeCreate(AddressScopeUpdate):
    ip_version: IPVersion
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

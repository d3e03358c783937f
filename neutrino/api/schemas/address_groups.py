"""Request bodies for ``/v2.0/address-groups`` (neutron-lib
``api/definitions/address_group.py``). Shape only: ``addresses`` are CIDRs
(``type:subnet_list``: a prefix length is required, host bits are allowed and
dropped by ``services/address_groups.py``); ``null`` is the empty list."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, StringConstraints

from neutrino.api.schemas.common import CIDR, Name, NeutronBody, ProjectId
from neutrino.api.wire.address_groups import ADDRESS_GROUP

# the wire declaration's (api/wire/address_groups.py)
ADDRESS_GROUP_ATTRIBUTES = ADDRESS_GROUP.names
LongDescription = Annotated[str, StringConstraints(max_length=1024)]  # LONG_DESCRIPTION_FIELD_SIZE
Addresses = Annotated[list[CIDR], BeforeValidator(lambda v: [] if v is None else v)]


class AddressGroupUpdate(NeutronBody):
    """Only ``name`` and ``description`` change; addresses have member actions."""

    ATTRIBUTES = ADDRESS_GROUP_ATTRIBUTES
    name: Name = ""
    description: LongDescription = ""


# The updatable attributes and those set only at creation.
class AddressGroupCreate(AddressGroupUpdate):
    addresses: Addresses = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

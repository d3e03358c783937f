"""Request bodies for ``/v2.0/networks`` (reference B.1)."""

from __future__ import annotations

from pydantic import Field

from neutrino.api.schemas.common import STANDARD_ATTRIBUTES, Description, Name, NeutronBody, ProjectId

NETWORK_ATTRIBUTES = STANDARD_ATTRIBUTES | {"admin_state_up", "status", "shared", "mtu", "subnets"}


class NetworkCreate(NeutronBody):
    ATTRIBUTES = NETWORK_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    shared: bool = False
    mtu: int | None = Field(None, ge=68, le=9216)
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class NetworkUpdate(NeutronBody):
    ATTRIBUTES = NETWORK_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    shared: bool = False
    mtu: int = Field(1442, ge=68, le=9216)

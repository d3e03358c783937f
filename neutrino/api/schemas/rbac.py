"""Request bodies for ``/v2.0/rbac-policies`` (extension ``rbac-policies``,
``neutron/extensions/rbac.py``). Object type and action are checked in
``services/rbac.py`` with Neutron's messages."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from neutrino.api.schemas.common import NeutronBody, ProjectId, UUIDStr
from neutrino.api.wire.rbac_policies import RBAC_POLICY

RBAC_ATTRIBUTES = RBAC_POLICY.names  # the wire declaration's (api/wire/rbac_policies.py)
Action = Annotated[str, StringConstraints(max_length=255)]


class RbacPolicyCreate(NeutronBody):
    ATTRIBUTES = RBAC_ATTRIBUTES
    object_type: str
    object_id: UUIDStr
    action: Action
    target_tenant: ProjectId
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class RbacPolicyUpdate(NeutronBody):
    ATTRIBUTES = RBAC_ATTRIBUTES
    target_tenant: ProjectId

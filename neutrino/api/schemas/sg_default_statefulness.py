"""Request bodies of ``/v2.0/security-groups-default-statefulness``
(extension ``security-groups-default-statefulness``)."""

from __future__ import annotations

from neutrino.api.schemas.common import NeutronBody, ProjectId

ATTRIBUTES = frozenset({"id", "project_id", "tenant_id", "stateful"})


class SettingCreate(NeutronBody):
    ATTRIBUTES = ATTRIBUTES
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    stateful: bool = True


class SettingUpdate(NeutronBody):
    ATTRIBUTES = ATTRIBUTES
    stateful: bool = True

"""Request bodies of ``/v2.0/security-groups-default-statefulness``
(extension ``security-groups-default-statefulness``)."""

from __future__ import annotations

from neutrino.api.schemas.common import NeutronBody, ProjectId
from neutrino.api.wire.sg_default_statefulness import SG_DEFAULT_STATEFULNESS

ATTRIBUTES = SG_DEFAULT_STATEFULNESS.names  # the wire declaration's


class SettingCreate(NeutronBody):
    ATTRIBUTES = ATTRIBUTES
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    stateful: bool = True


class SettingUpdate(NeutronBody):
    ATTRIBUTES = ATTRIBUTES
    stateful: bool = True

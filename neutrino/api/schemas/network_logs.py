"""Request bodies for ``/v2.0/log/logs`` (neutron-lib ``api/definitions/logging.py``).
Shape only: ``event`` one of ``ACCEPT``/``DROP``/``ALL`` (default ``ALL``),
``resource_id``/``target_id`` UUIDs or null; ``resource_type`` any string (its
meaning, and the 400 ``InvalidLogResourceType``, is ``services/network_logs.py``'s).
Only ``name``, ``description`` and ``enabled`` change after creation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from neutrino.api.schemas.common import NamedBody, ProjectId, UUIDStr
from neutrino.api.wire.network_logs import NETWORK_LOG

LOG_ATTRIBUTES = NETWORK_LOG.names  # the wire declaration's (api/wire/network_logs.py)
ResourceType = Annotated[str, StringConstraints(max_length=36)]  # RESOURCE_TYPE_FIELD_SIZE


class LogUpdate(NamedBody):
    ATTRIBUTES = LOG_ATTRIBUTES
    enabled: bool = True


# The updatable attributes and those set only at creation.
class LogCreate(LogUpdate):
    resource_type: ResourceType
    resource_id: UUIDStr | None = None
    target_id: UUIDStr | None = None
    event: Literal["ACCEPT", "DROP", "ALL"] = "ALL"
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

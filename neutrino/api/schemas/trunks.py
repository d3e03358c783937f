"""Request bodies for ``/v2.0/trunks`` (neutron-lib ``api/definitions/trunk.py``).
Shape only: ``sub_ports`` is checked as ``type:subports`` (``services.trunks.
subports_problem``), everything else about subports by ``services.trunks``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from neutrino.api.schemas.common import NamedBody, ProjectId, UUIDStr
from neutrino.api.wire.trunks import TRUNK
from neutrino.services.trunks import subports_problem

TRUNK_ATTRIBUTES = TRUNK.names  # the wire declaration's (api/wire/trunks.py)


def _subports(value: Any) -> Any:
    problem = subports_problem(value)
    if problem:
        raise ValueError(problem)
    return value


SubPorts = Annotated[Any, AfterValidator(_subports)]


class TrunkUpdate(NamedBody):
    ATTRIBUTES = TRUNK_ATTRIBUTES
    admin_state_up: bool = True


# The updatable attributes and those set only at creation.
class TrunkCreate(TrunkUpdate):
    port_id: UUIDStr
    sub_ports: SubPorts = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

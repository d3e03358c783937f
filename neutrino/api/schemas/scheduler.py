"""Request bodies of the network scheduler's routes (``/v2.0/scheduled-ports``)."""

from __future__ import annotations

from neutrino.api.schemas.common import Description, MACAddress, Name, ProjectId
from neutrino.api.schemas.ports import PORT_ATTRIBUTES, DeviceString, PortSecurity


class ScheduledPortCreate(PortSecurity):
    """A PortCreate without ``network_id`` and ``fixed_ips``: the scheduler picks the
    network, and with it the subnets (either attribute is 400 "not allowed in POST")."""

    ATTRIBUTES = PORT_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MACAddress | None = None
    device_id: DeviceString = ""
    device_owner: DeviceString = ""
    tags: list[str] = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None

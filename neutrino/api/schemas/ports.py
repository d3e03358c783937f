"""Request bodies for ``/v2.0/ports`` (reference B.3)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StringConstraints
from typing import Annotated

from neutrino.api.schemas.common import (STANDARD_ATTRIBUTES, Description, IPAddress, MACAddress,
                                         Name, NeutronBody, ProjectId, UUIDStr)

PORT_ATTRIBUTES = STANDARD_ATTRIBUTES | {
    "network_id", "mac_address", "admin_state_up", "status", "fixed_ips", "device_id",
    "device_owner"}
DeviceString = Annotated[str, StringConstraints(max_length=255)]


class FixedIp(BaseModel):
    """``{"subnet_id"?, "ip_address"?}``; at least one is checked by the service."""

    model_config = ConfigDict(extra="forbid")
    subnet_id: UUIDStr | None = None
    ip_address: IPAddress | None = None


class PortCreate(NeutronBody):
    ATTRIBUTES = PORT_ATTRIBUTES
    network_id: UUIDStr
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MACAddress | None = None
    fixed_ips: list[FixedIp] | None = None
    device_id: DeviceString = ""
    device_owner: DeviceString = ""
    tags: list[str] = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class PortUpdate(NeutronBody):
    ATTRIBUTES = PORT_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MACAddress = ""
    fixed_ips: list[FixedIp] = []
    device_id: DeviceString = ""
    device_owner: DeviceString = ""

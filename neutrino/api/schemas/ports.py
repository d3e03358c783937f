"""Request bodies for ``/v2.0/ports`` (reference B.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from neutrino.api.schemas.common import (STANDARD_ATTRIBUTES, Description, IPAddress, MACAddress,
                                         Name, NeutronBody, ProjectId, UUIDStr)

PORT_ATTRIBUTES = STANDARD_ATTRIBUTES | {
    "network_id", "mac_address", "admin_state_up", "status", "fixed_ips", "device_id",
    "device_owner", "binding:host_id", "binding:vnic_type", "binding:profile",
    "binding:vif_type", "binding:vif_details"}
DeviceString = Annotated[str, StringConstraints(max_length=255)]
# Reference B.3; OVN binds these (ZED OVN_SUPPORTED_VNIC_TYPES plus the rest Nova may send).
VnicType = Literal["normal", "direct", "macvtap", "baremetal", "direct-physical",
                   "virtio-forwarder", "smart-nic", "vdpa", "accelerator-direct",
                   "accelerator-direct-physical", "remote-managed"]


class Binding(NeutronBody):
    """``binding:*`` attributes (extension ``binding``), shared by create and update."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    binding_host_id: DeviceString = Field("", alias="binding:host_id")
    binding_vnic_type: VnicType = Field("normal", alias="binding:vnic_type")
    binding_profile: dict[str, Any] = Field({}, alias="binding:profile")


class FixedIp(BaseModel):
    """``{"subnet_id"?, "ip_address"?}``; at least one is checked by the service."""

    model_config = ConfigDict(extra="forbid")
    subnet_id: UUIDStr | None = None
    ip_address: IPAddress | None = None


class PortCreate(Binding):
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


class PortUpdate(Binding):
    ATTRIBUTES = PORT_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MACAddress = ""
    fixed_ips: list[FixedIp] = []
    device_id: DeviceString = ""
    device_owner: DeviceString = ""

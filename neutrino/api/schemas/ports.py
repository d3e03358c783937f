"""Request bodies for ``/v2.0/ports`` (reference B.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from neutrino.api.schemas.common import (Description, IPAddress, MACAddress, Name, NeutronBody,
                                         ProjectId, UUIDStr)
from neutrino.api.schemas.security_groups import IPOrCIDR
from neutrino.api.wire.ports import PORT
from neutrino.services import dns

PORT_ATTRIBUTES = PORT.names  # the wire declaration's (api/wire/ports.py)
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


class AddressPair(BaseModel):
    """One allowed address pair (extension ``allowed-address-pairs``): an
    address or network the port may also send from; the MAC defaults to the port's."""

    model_config = ConfigDict(extra="forbid")
    ip_address: IPOrCIDR
    mac_address: MACAddress | None = None


def _none_is_empty(value: Any) -> Any:
    return [] if value is None else value


def _no_duplicates(value: list[str]) -> list[str]:
    """Neutron's ``type:uuid_list``: each id once."""
    dups = sorted({v for v in value if value.count(v) > 1})
    if dups:
        raise ValueError(f"Duplicate items in the list: '{', '.join(dups)}'")
    return value


SecurityGroupIds = Annotated[list[UUIDStr], BeforeValidator(_none_is_empty),
                             AfterValidator(_no_duplicates)]
AddressPairs = Annotated[list[AddressPair], BeforeValidator(_none_is_empty)]
# Extensions port-numa-affinity-policy(-socket): services/port_vif.py NUMA_POLICIES.
NumaPolicy = Literal["required", "preferred", "legacy", "socket"]
# Extension port-device-profile: type:string_or_none, DESCRIPTION_FIELD_SIZE.
DeviceProfile = Annotated[str, StringConstraints(max_length=255)]
# Extension dns-domain-ports: "" or an FQDN (services/dns.py raises InvalidInput).
DnsDomain = Annotated[str, AfterValidator(dns.validate_dns_domain)]


class PortSecurity(Binding):
    """Extensions ``port-security``, ``security-group`` and ``allowed-address-pairs``,
    shared by create and update (unset on create: from the network / the default
    group; the None defaults are never set: only given attributes are kept)."""

    port_security_enabled: bool = Field(None)
    security_groups: SecurityGroupIds = Field(None)
    allowed_address_pairs: AddressPairs = Field(None)
    # Extensions dns-integration, dns-domain-ports and extra_dhcp_opt: dns_name depends on
    # the dns_domain setting and extra_dhcp_opts on the port's vnic type, so both are
    # checked by the service (services/dns.py, services/extra_dhcp_opts.py).
    dns_name: str = Field(None)
    dns_domain: DnsDomain = Field(None)
    extra_dhcp_opts: Any = Field(None)
    # Extensions port-trusted-vif, port-numa-affinity-policy(-socket),
    # uplink-status-propagation(-updatable): services/port_vif.py.
    trusted: bool = Field(None)
    numa_affinity_policy: NumaPolicy | None = Field(None)
    propagate_uplink_status: bool = Field(None)


class PortCreate(PortSecurity):
    ATTRIBUTES = PORT_ATTRIBUTES
    network_id: UUIDStr
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MACAddress | None = None
    fixed_ips: list[FixedIp] | None = None
    device_profile: DeviceProfile | None = None  # port-device-profile: create only
    device_id: DeviceString = ""
    device_owner: DeviceString = ""
    tags: list[str] = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    qos_policy_id: UUIDStr | None = None  # extension qos


class PortUpdate(PortSecurity):
    ATTRIBUTES = PORT_ATTRIBUTES
    name: Name = ""
    description: Description = ""
    admin_state_up: bool = True
    mac_address: MACAddress | None = ""  # null: a new one (port-mac-address-regenerate)
    fixed_ips: list[FixedIp] = []
    device_id: DeviceString = ""
    device_owner: DeviceString = ""
    qos_policy_id: UUIDStr | None = None  # extension qos


BINDING_ATTRIBUTES = frozenset({"host", "vif_type", "vif_details", "vnic_type", "profile",
                                "status", "project_id"})


class PortBindingCreate(NeutronBody):
    """``{"binding": {...}}`` of ``POST /v2.0/ports/{id}/bindings`` (extension
    ``binding-extended``, neutron-lib ``portbindings_extended``)."""

    ATTRIBUTES = BINDING_ATTRIBUTES
    host: DeviceString
    vnic_type: VnicType = "normal"
    profile: dict[str, Any] | None = None
    project_id: ProjectId | None = None  # allowed, as Neutron's; the port's project counts


class PortBindingUpdate(NeutronBody):
    """``{"binding": {...}}`` of ``PUT /v2.0/ports/{id}/bindings/{host}``."""

    ATTRIBUTES = BINDING_ATTRIBUTES
    host: DeviceString = Field(None)  # the path's host decides
    vnic_type: VnicType = Field(None)
    profile: dict[str, Any] | None = Field(None)

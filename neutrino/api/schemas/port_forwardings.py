"""Request bodies for ``/v2.0/floatingips/{id}/port_forwardings`` (neutron-lib
``floating_ip_port_forwarding``, ``fip_pf_description``, ``fip_pf_port_range``).
Shape only: ports 1..65535 (strings of digits accepted, ``convert_to_int``),
ranges ``"a:b"`` or one port, ``protocol`` tcp or udp (what OVN load balancers
forward, Neutron's ``LB_PROTOCOL_MAP``); how they combine is
``services/port_forwardings.py``'s."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from neutrino.api.schemas.common import Description, IPAddress, NeutronBody, ProjectId, UUIDStr
from neutrino.api.wire.port_forwardings import PORT_FORWARDING


def _int_or_text(value: object) -> object:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _range(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        parts = value.split(":")
        if 1 <= len(parts) <= 2 and all(p.strip().isdigit() for p in parts):
            return value.replace(" ", "")
    raise ValueError(f"'{value}' is not a valid port range")


PF_ATTRIBUTES = PORT_FORWARDING.names  # the wire declaration's (api/wire/port_forwardings.py)
L4Port = Annotated[int, Field(ge=1, le=65535), BeforeValidator(_int_or_text)]
PortRange = Annotated[str, BeforeValidator(_range)]
Protocol = Annotated[Literal["tcp", "udp"],
                     BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]


class PortForwardingCreate(NeutronBody):
    ATTRIBUTES = PF_ATTRIBUTES
    protocol: Protocol
    internal_port_id: UUIDStr
    internal_ip_address: IPAddress | None = None
    external_port: L4Port | None = None
    internal_port: L4Port | None = None
    external_port_range: PortRange | None = None
    internal_port_range: PortRange | None = None
    description: Description = ""
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class PortForwardingUpdate(NeutronBody):
    ATTRIBUTES = PF_ATTRIBUTES
    protocol: Protocol | None = None
    internal_port_id: UUIDStr | None = None
    internal_ip_address: IPAddress | None = None
    external_port: L4Port | None = None
    internal_port: L4Port | None = None
    external_port_range: PortRange | None = None
    internal_port_range: PortRange | None = None
    description: Description = ""

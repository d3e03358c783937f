"""Request bodies for ``/v2.0/security-groups`` and ``/v2.0/security-group-rules``
(reference B.6). Rule meaning (protocol names, port values and ranges, ethertype
against the prefix) is checked by ``services.security_groups``; group ids are
looked up there, not validated as UUIDs (Neutron: 404 SecurityGroupNotFound)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, StringConstraints

from neutrino.api.schemas.common import Description, NamedBody, NeutronBody, ProjectId, UUIDStr
from neutrino.api.wire.default_security_group_rules import DEFAULT_SECURITY_GROUP_RULE
from neutrino.api.wire.security_groups import SECURITY_GROUP, SECURITY_GROUP_RULE

# the wire declarations' (api/wire/security_groups.py)
SECURITY_GROUP_ATTRIBUTES = SECURITY_GROUP.names
RULE_ATTRIBUTES = SECURITY_GROUP_RULE.names


def _ip_or_cidr(value: str) -> str:
    """An address or a network, host bits allowed; returned canonical
    (``2001:DB8::1/64`` -> ``2001:db8::1/64``)."""
    try:
        if "/" in value:
            iface = ipaddress.ip_interface(value)
            return f"{iface.ip}/{iface.network.prefixlen}"
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"'{value}' is neither a valid IP address, nor is it a valid IP "
                         "subnet") from None


def _ethertype(value: Any) -> Any:
    """``ipv4``/``IPV6``... -> ``IPv4``/``IPv6`` (Neutron's case-insensitive converter)."""
    if isinstance(value, str) and value.lower() in ("ipv4", "ipv6"):
        return "IPv" + value[-1]
    return value


def _protocol(value: Any) -> Any:
    """Numbers become text (``6`` -> ``"6"``); names are lower-cased by the service."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


IPOrCIDR = Annotated[str, AfterValidator(_ip_or_cidr)]
Ethertype = Annotated[Literal["IPv4", "IPv6"], BeforeValidator(_ethertype)]
# Any value: converted by the service as Neutron's convert_validate_port_value.
Port = Any
# Neutron's security_group_id is a string of at most 36 characters; remote_group_id any.
GroupId = Annotated[str, StringConstraints(max_length=36)]


class SecurityGroupUpdate(NamedBody):
    ATTRIBUTES = SECURITY_GROUP_ATTRIBUTES
    stateful: bool = True


# The updatable attributes and the owner.
class SecurityGroupCreate(SecurityGroupUpdate):
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class _RuleMatch(NeutronBody):
    """What a rule (or a rule template) matches: the fields both share."""

    direction: Literal["ingress", "egress"]
    ethertype: Ethertype = "IPv4"
    protocol: Annotated[str | None, BeforeValidator(_protocol)] = None
    port_range_min: Port | None = None
    port_range_max: Port | None = None
    remote_ip_prefix: IPOrCIDR | None = None
    remote_address_group_id: UUIDStr | None = None
    description: Description = ""


class SecurityGroupRuleCreate(_RuleMatch):
    ATTRIBUTES = RULE_ATTRIBUTES
    security_group_id: GroupId
    remote_group_id: str | None = None
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class SecurityGroupRuleUpdate(NeutronBody):
    """Rules are immutable but for their description."""

    ATTRIBUTES = RULE_ATTRIBUTES
    description: Description = ""


# the wire declaration's (api/wire/default_security_group_rules.py)
DEFAULT_RULE_ATTRIBUTES = DEFAULT_SECURITY_GROUP_RULE.names


class DefaultSecurityGroupRuleCreate(_RuleMatch):
    """A rule template (extension ``security-groups-default-rules``): both
    ``used_in_*`` flags are required, as they have no default in Neutron's
    definition. ``remote_group_id`` is a group id or ``PARENT``."""

    ATTRIBUTES = DEFAULT_RULE_ATTRIBUTES
    remote_group_id: GroupId | None = None
    used_in_default_sg: bool
    used_in_non_default_sg: bool
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None


class DefaultSecurityGroupRuleUpdate(NeutronBody):
    """Templates are immutable: every attribute is read-only on update."""

    ATTRIBUTES = DEFAULT_RULE_ATTRIBUTES

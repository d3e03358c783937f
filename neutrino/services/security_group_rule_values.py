"""Security group rule values: Neutron's checks and conversions of a rule's
protocol, ports, ethertype and remote (``securitygroups_db``
``_validate_base_security_group_rule_attributes``), and a rule's canonical key
(``_rule_to_key``). Shared by rules and their templates (extension
``security-groups-default-rules``). Pure: no database.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from neutrino import errors
from neutrino.db.models import IP_PROTOCOL_NUMBERS

INGRESS, EGRESS = "ingress", "egress"
IPV4, IPV6 = "IPv4", "IPv6"
# Protocols with ports (neutron-lib SG_PORT_PROTO_NAMES / _NUMS) and ICMP (type/code).
PORT_PROTOCOLS = ("tcp", "udp", "dccp", "sctp", "udplite")
PORT_PROTOCOL_NUMBERS = frozenset(IP_PROTOCOL_NUMBERS[p] for p in PORT_PROTOCOLS)
ICMP_NUMBERS = frozenset({1, 58})
# Protocols that only exist over IPv6 (``_validate_ethertype_and_protocol``).
IPV6_ONLY = frozenset({"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt",
                       "ipv6-opts", "ipv6-route", "41", "44", "58", "59", "60", "43"})
ANY_PREFIXES = ("0.0.0.0/0", "::/0")


def protocol_number(protocol: str | None) -> int | None:
    """A stored protocol (name or number text) as its IP protocol number; None is any."""
    if protocol is None:
        return None
    return int(protocol) if protocol.isdigit() else IP_PROTOCOL_NUMBERS[protocol]


def normalize_rule(data: dict[str, Any]) -> dict[str, Any]:
    """Neutron's rule checks and conversions (``securitygroups_db``
    ``_validate_security_group_rule``): protocol by name or number (IPv6 ICMP
    spelt ``ipv6-icmp``/``58``), ports or ICMP type/code, one remote, the
    prefix's version matching the ethertype. Returns the rule's columns."""
    rule = dict(data)
    low, high = _port(rule.get("port_range_min")), _port(rule.get("port_range_max"))
    ethertype = rule.get("ethertype", IPV4)
    protocol = _protocol(rule.get("protocol"))
    if ethertype == IPV6 and protocol in ("icmp", "icmpv6"):
        protocol = "ipv6-icmp"
    elif ethertype == IPV6 and protocol == "1":
        protocol = "58"
    if ethertype == IPV4 and protocol in IPV6_ONLY:
        raise errors.SecurityGroupEthertypeConflictWithProtocol(ethertype, protocol)
    number = protocol_number(protocol)
    if low is not None or high is not None:
        if number is None:
            raise errors.SecurityGroupProtocolRequiredWithPorts()
        if number in PORT_PROTOCOL_NUMBERS:
            if low == 0 or high == 0:
                raise errors.SecurityGroupInvalidPortValue(0)
            if low is None or high is None or low > high:
                raise errors.SecurityGroupInvalidPortRange()
            if (low, high) == (1, 65535):
                low = high = None  # the whole range is "any port" (stored as null)
        elif number in ICMP_NUMBERS:
            for value, field, attr in ((low, "type", "port_range_min"),
                                       (high, "code", "port_range_max")):
                if value is not None and not 0 <= value <= 255:
                    raise errors.SecurityGroupInvalidIcmpValue(field, attr, value)
            if low is None:
                raise errors.SecurityGroupMissingIcmpType(high)
        else:
            raise errors.SecurityGroupInvalidProtocolForPort(
                protocol, ", ".join(p.upper() for p in PORT_PROTOCOLS))
    prefix = rule.get("remote_ip_prefix")
    remotes = (prefix, rule.get("remote_group_id"), rule.get("remote_address_group_id"))
    if sum(r is not None for r in remotes) > 1:
        raise errors.SecurityGroupMultipleRemoteEntites()
    if prefix is not None:
        prefix = _prefix(prefix)
        if ipaddress.ip_interface(prefix).version != int(ethertype[-1]):
            raise errors.SecurityGroupRuleParameterConflict(ethertype, prefix)
    rule.update(ethertype=ethertype, protocol=protocol, port_range_min=low,
                port_range_max=high, remote_ip_prefix=prefix)
    return rule


def _port(value: Any) -> int | None:
    """Neutron's ``convert_validate_port_value``: None, or anything ``int()``
    takes to 0-65535; else SecurityGroupInvalidPortValue (400)."""
    if value is None:
        return None
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise errors.SecurityGroupInvalidPortValue(value) from None
    if not 0 <= port <= 65535:
        raise errors.SecurityGroupInvalidPortValue(value)
    return port


def _protocol(value: str | None) -> str | None:
    """Name (lower-cased) or number 0-255 as text; None or ``any`` is any protocol."""
    if value is None or value.lower() == "any":
        return None
    value = value.lower()
    if value.isdigit() and int(value) <= 255:
        return str(int(value))
    if value not in IP_PROTOCOL_NUMBERS:
        raise errors.SecurityGroupRuleInvalidProtocol(value, ["any", *sorted(IP_PROTOCOL_NUMBERS)])
    return value


def _prefix(value: str) -> str:
    """An address or network with its mask, host bits kept: ``10.0.0.5`` -> ``10.0.0.5/32``."""
    iface = ipaddress.ip_interface(value)
    return f"{iface.ip}/{iface.network.prefixlen}"


def _parses(value: str) -> bool:
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        return False
    return True


def rule_key(row: dict[str, Any]) -> str:
    """Equal rules have equal keys (Neutron's ``_rule_to_key``): protocol by
    number, 0.0.0.0/0 and ::/0 as no prefix; the remote address group only when set."""
    prefix = row.get("remote_ip_prefix")
    key = "|".join(str(v) if v is not None else "" for v in (
        row["direction"], row.get("ethertype", IPV4), protocol_number(row.get("protocol")),
        row.get("port_range_min"), row.get("port_range_max"),
        None if prefix in ANY_PREFIXES else prefix, row.get("remote_group_id")))
    if row.get("remote_address_group_id"):  # keys of rules without one stay as they were
        key += f"|ag:{row['remote_address_group_id']}"
    return key

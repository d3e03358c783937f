"""Security groups -> OVN port groups and ACLs (reference D.6). Pure: no I/O.

A security group becomes the ``Port_Group`` ``pg_<group id with _ for ->``
(``external_ids:neutron:security_group_id``) whose ACLs are its rules, one
stateful ``allow-related`` ACL per rule at priority 1002, matching as
Neutron's ``common/ovn/acl.py`` builds them. Every port with port security is
also in ``neutron_pg_drop``, whose priority-1001 ACLs drop all other IP
traffic in both directions. A rule's remote group is the address set
``$pg_<group>_ip4``/``_ip6`` that ovn-northd keeps for each port group: it
follows membership with no write of ours. A rule's remote address group is
the group's ``$ag_<group>_ip4``/``_ip6`` address set (``ovn.address_groups``).

neutrino adds three allow ACLs to ``neutron_pg_drop`` so that a port whose
groups allow no egress still gets DHCP (v4 and v6) and reaches the metadata
service at 169.254.169.254:80 (through the network's metadata localport).
DHCP replies are let through by ovn-northd itself (its priority-34000 flows).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neutrino import constants as c
from neutrino.db.models import IP_PROTOCOL_NUMBERS
from neutrino.ovn.address_groups import address_set_name

PG_PREFIX = "pg_"
PG_DROP = "neutron_pg_drop"
EXT_SG_ID = "neutron:security_group_id"
EXT_SG_RULE_ID = "neutron:security_group_rule_id"
EXT_SG_IDS = "neutron:security_group_ids"  # on a port's LSP, space-separated
ACL_PRIORITY_ALLOW = 1002  # Neutron's ACL_PRIORITY_ALLOW
ACL_PRIORITY_DROP = 1001  # zed's ACL_PRIORITY_DROP
TO_LPORT, FROM_LPORT = "to-lport", "from-lport"
# tcp, udp, sctp take port matches; other protocols with ports are matched by number only.
_TRANSPORT = {6: "tcp", 17: "udp", 132: "sctp"}
_ICMP = (1, 58)


@dataclass(frozen=True)
class PortGroup:
    """A ``Port_Group`` row; its members are the LSPs' ``port_groups`` and its
    ACLs the ``Acl`` rows naming it."""

    TABLE = "Port_Group"
    name: str
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Acl:
    """An ``ACL`` of a port group, known (as Neutron deletes it) by its port
    group, direction, priority and match."""

    TABLE = "ACL"
    port_group: str
    direction: str
    priority: int
    match: str
    action: str
    external_ids: Mapping[str, str] = field(default_factory=dict)
    # logging (``ovn.network_log``): "" is the empty optional column
    log: bool = False
    name: str = ""
    severity: str = ""
    meter: str = ""

    @property
    def key(self) -> str:
        return f"{self.port_group} {self.direction} {self.priority} {self.match}"


def pg_name(sg_id: str) -> str:
    """``pg_<security group id>`` with ``-`` as ``_`` (D.1)."""
    return PG_PREFIX + sg_id.replace("-", "_")


def sg_id_of(port_group: str) -> str | None:
    """The security group id in a port group name; None for ``neutron_pg_drop``."""
    if not port_group.startswith(PG_PREFIX):
        return None
    return port_group[len(PG_PREFIX):].replace("_", "-")


def is_owned(name: str, external_ids: Mapping[str, str]) -> bool:
    """A port group neutrino (or Neutron) made: ``neutron_pg_drop``, or ``pg_*``
    marked with its security group id."""
    return name == PG_DROP or (name.startswith(PG_PREFIX) and EXT_SG_ID in external_ids)


def acl_match(rule: Any, port_group: str) -> str:
    """The ACL match of a rule on ``port_group``, concatenated exactly as
    Neutron's ``_add_sg_rule_acl_for_port_group`` does (D.6): port, ethertype,
    remote prefix (its network form), remote group address set, remote address
    group address set, protocol with ports or ICMP type/code, else ``ip.proto``."""
    ingress = rule.direction == "ingress"
    match = f"{'outport' if ingress else 'inport'} == @{port_group}"
    ip, icmp = ("ip4", "icmp4") if rule.ethertype == "IPv4" else ("ip6", "icmp6")
    match += f" && {ip}"
    side = "src" if ingress else "dst"
    if rule.remote_ip_prefix:
        network = ipaddress.ip_interface(rule.remote_ip_prefix).network
        match += f" && {ip}.{side} == {network}"
    if rule.remote_group_id:
        match += f" && {ip}.{side} == ${pg_name(rule.remote_group_id)}_{ip}"
    if getattr(rule, "remote_address_group_id", None):
        match += f" && {ip}.{side} == ${address_set_name(rule.remote_address_group_id, ip)}"
    number = _protocol_number(rule.protocol)
    low, high = rule.port_range_min, rule.port_range_max
    if number in _TRANSPORT:
        name = _TRANSPORT[number]
        match += f" && {name}"
        if low is not None and low == high:
            match += f" && {name}.dst == {low}"
        else:
            if low is not None:
                match += f" && {name}.dst >= {low}"
            if high is not None:
                match += f" && {name}.dst <= {high}"
    elif number in _ICMP:
        match += f" && {icmp}"
        if low is not None:
            match += f" && {icmp}.type == {low}"
        if high is not None:
            match += f" && {icmp}.code == {high}"
    elif number is not None:
        match += f" && ip.proto == {number}"
    return match


def desired_acl(rule: Any, *, stateful: bool = True) -> Acl:
    """The ACL of one security group rule (D.6)."""
    pg = pg_name(rule.security_group_id)
    return Acl(pg, TO_LPORT if rule.direction == "ingress" else FROM_LPORT, ACL_PRIORITY_ALLOW,
               acl_match(rule, pg), "allow-related" if stateful else "allow-stateless",
               {EXT_SG_RULE_ID: rule.id})


def desired_port_group(group: Any) -> PortGroup:
    """A security group's port group."""
    return PortGroup(pg_name(group.id), {EXT_SG_ID: group.id})


def desired_drop_group() -> tuple[PortGroup, list[Acl]]:
    """``neutron_pg_drop`` with its drop ACLs (both directions, ``ip``) and
    neutrino's DHCP and metadata allowances (see the module docstring)."""
    pg = PortGroup(PG_DROP)
    acls = [Acl(PG_DROP, FROM_LPORT, ACL_PRIORITY_DROP, f"inport == @{PG_DROP} && ip", "drop"),
            Acl(PG_DROP, TO_LPORT, ACL_PRIORITY_DROP, f"outport == @{PG_DROP} && ip", "drop")]
    allowed = ("ip4 && udp && udp.src == 68 && udp.dst == 67",
               "ip6 && udp && udp.src == 546 && udp.dst == 547",
               "ip4 && ip4.dst == 169.254.169.254 && tcp && tcp.dst == 80")
    acls += [Acl(PG_DROP, FROM_LPORT, ACL_PRIORITY_ALLOW, f"inport == @{PG_DROP} && {m}",
                 "allow-related") for m in allowed]
    return pg, acls


def port_groups_of(port: Any, group_ids: Iterable[str]) -> tuple[str, ...]:
    """The port groups a port's LSP belongs to: ``neutron_pg_drop`` and one per
    security group when it has port security (and is not a trusted
    ``network:*`` port), else none (D.3)."""
    if not port_security(port):
        return ()
    return (PG_DROP, *sorted(pg_name(g) for g in group_ids))


def port_security(port: Any) -> bool:
    """Whether anti-spoofing and security groups apply to the port."""
    return (not (port.device_owner or "").startswith(c.DEVICE_OWNER_NETWORK_PREFIX)
            and bool(getattr(port, "port_security_enabled", True)))


def desired_port_groups(groups: Iterable[Any], rules: Iterable[Any]
                        ) -> tuple[dict[str, PortGroup], dict[str, Acl]]:
    """Port groups of the given security groups plus ``neutron_pg_drop``, and
    their ACLs by key: the rules of the given groups (others are ignored).
    Two rules making the same ACL keep the one with the smaller id."""
    drop, drop_acls = desired_drop_group()
    pgs = {drop.name: drop}
    stateful = {}
    for group in groups:
        pg = desired_port_group(group)
        pgs[pg.name] = pg
        stateful[group.id] = bool(group.stateful)
    acls = {a.key: a for a in drop_acls}
    for rule in sorted(rules, key=lambda r: r.id, reverse=True):
        if rule.security_group_id in stateful:
            acl = desired_acl(rule, stateful=stateful[rule.security_group_id])
            acls[acl.key] = acl
    return pgs, acls


def _protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return int(protocol) if protocol.isdigit() else IP_PROTOCOL_NUMBERS[protocol]

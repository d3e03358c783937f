"""ovn-controller's ``acl_log`` lines in Neutron terms (``neutrino logs security-groups``).

An ACL with ``log=true`` (``ovn.network_log``) makes ovn-controller write, for each
packet it lets through or drops (rate limited by the ACL's meter), one line to its
log file (OVN ``lib/acl-log.c``)::

    2026-12-07T10:00:00.123Z|00042|acl_log(ovn_pinctrl0)|INFO|name="neutron-<log id>",
    verdict=allow, severity=info, direction=to-lport: tcp,vlan_tci=0x0000,
    dl_src=fa:16:3e:..,dl_dst=..,nw_src=10.0.0.3,nw_dst=10.0.0.4,...,tp_src=40000,tp_dst=22,...

* :func:`parse` -- the lines of a log text as :class:`Entry` (time, log id, verdict,
  direction, protocol, addresses, ports; ICMP type/code as the ports).
* :func:`attribute` -- each entry's port (the sender's MAC for ``from-lport``, the
  receiver's for ``to-lport``), its security groups, the log objects it belongs to and
  the rule that allowed it or ``default drop`` for a drop. Reads the database.
* :func:`summary` -- counts per (log, security group, rule, verdict).

Attribution, as ML2/OVN's log driver names ACLs (``neutron/services/logapi/drivers/
ovn/driver.py``: ``name`` = ``neutron-<log id>``, the only field of the ACL that
ovn-controller prints; OVN 23.03 does not print the ACL ``label``):

* an ``allow`` line belongs to the log its ACL names (the oldest enabled log covering
  the rule's group, ``ovn.network_log``); its rule is the first rule, of the port's
  groups that log covers, whose direction, ethertype, protocol, port range and remote
  (prefix; a remote group's port addresses; an address group's CIDRs) admit the packet;
* a ``drop`` line comes from ``neutron_pg_drop``'s ACLs, shared by every port, named by
  whichever ``DROP``/``ALL`` log is oldest: it belongs to the enabled ``DROP``/``ALL``
  logs covering the port's groups (and, for a log with a ``target_id``, that port), none
  when no such log covers the port (another project's log had it logged); its rule is
  ``default drop`` and its groups the port's (none of whose rules admitted it).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import select

from neutrino.ovn.network_log import log_id_of

_LINE = re.compile(r'^(?P<time>\S+)\|\d+\|acl_log\([^)]*\)\|\w+\|name="(?P<name>[^"]*)", '
                   r'verdict=(?P<verdict>\w+), severity=\w+(?:, direction=(?P<direction>[\w-]+))?'
                   r': (?P<flow>.*)$')
_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "icmp": "icmp", "icmp6": "ipv6-icmp",
              "tcp6": "tcp", "udp6": "udp", "sctp6": "sctp"}
DEFAULT_DROP = "default drop (neutron_pg_drop)"


@dataclass(frozen=True)
class Entry:
    """One acl_log line. ``time`` as logged (UTC, ``%Y-%m-%dT%H:%M:%S.%fZ``),
    ``log_id`` None for ACLs not named ``neutron-<id>``, ``verdict`` ``allow``/
    ``drop``/``reject``, ``direction`` ``from-lport``/``to-lport`` ("" when not
    logged), ``protocol`` Neutron's name (``tcp``, ``icmp``, ``ipv6-icmp``, ...),
    ``sport``/``dport`` the transport ports (ICMP: type and code), or None."""

    time: str
    log_id: str | None
    verdict: str
    direction: str
    protocol: str
    src_mac: str
    dst_mac: str
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    # filled in by ``attribute``
    port_id: str | None = None
    security_groups: tuple[str, ...] = ()
    rule: str = ""
    logs: tuple[str, ...] = field(default=())

    @property
    def log(self) -> str:
        """The log objects the entry belongs to, comma-separated (``attribute``'s
        ``logs``; "-" for a port no log covers), or the ACL's name's log id for an entry
        not attributed to a port."""
        if self.port_id:
            return ",".join(self.logs) or "-"
        return self.log_id or "-"

    @property
    def five_tuple(self) -> str:
        """``proto src[:sport] -> dst[:dport]`` (IPv6 as ``[addr]:port``); ICMP as
        ``icmp src -> dst type T code C``."""
        if self.protocol in ("icmp", "ipv6-icmp"):
            return f"{self.protocol} {self.src} -> {self.dst} type {self.sport} code {self.dport}"

        def end(address: str, port: int | None) -> str:
            if port is None:
                return address
            return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        return f"{self.protocol} {end(self.src, self.sport)} -> {end(self.dst, self.dport)}"


def parse(text: str, since: datetime | None = None) -> list[Entry]:
    """The acl_log lines of ``text`` (other lines ignored), those logged at or after
    ``since`` (an aware or UTC-naive datetime) only."""
    result = []
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        if since is not None and _time(m["time"]) < since.replace(tzinfo=None):
            continue
        kind, _, rest = m["flow"].partition(",")
        fields = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
        v6 = "ipv6_src" in fields
        src = fields.get("ipv6_src" if v6 else "nw_src", "")
        dst = fields.get("ipv6_dst" if v6 else "nw_dst", "")
        if kind.startswith("icmp"):
            sport, dport = fields.get("icmp_type"), fields.get("icmp_code")
        else:
            sport, dport = fields.get("tp_src"), fields.get("tp_dst")
        result.append(Entry(
            time=m["time"], log_id=log_id_of(m["name"]), verdict=m["verdict"],
            direction=m["direction"] or "", protocol=_PROTOCOLS.get(kind, kind),
            src_mac=fields.get("dl_src", ""), dst_mac=fields.get("dl_dst", ""), src=src, dst=dst,
            sport=int(sport) if sport is not None else None,
            dport=int(dport) if dport is not None else None))
    return result


def _time(value: str) -> datetime:
    return datetime.strptime(value.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")


def rule_matches(rule: Any, entry: Entry,
                 remotes: Mapping[str, list[Any]] | None = None) -> bool:
    """Whether a security group rule (a ``securitygrouprules`` row) admits the
    entry's packet, as its ACL match would (``ovn.security_groups.acl_match``).
    ``remotes`` maps a remote group or address group id to its addresses/CIDRs
    (``ipaddress`` networks; :func:`remote_addresses`); without it, remote groups
    and address groups are taken as matching."""
    ingress = entry.direction == "to-lport"
    if rule.direction != ("ingress" if ingress else "egress"):
        return False
    remote = entry.src if ingress else entry.dst
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    if rule.ethertype != f"IPv{address.version}":
        return False
    if rule.remote_ip_prefix and address not in ipaddress.ip_network(rule.remote_ip_prefix,
                                                                      strict=False):
        return False
    for column in ("remote_group_id", "remote_address_group_id"):
        remote_id = getattr(rule, column, None)
        if remote_id and remotes is not None and not any(
                address in net for net in remotes.get(remote_id, ())
                if net.version == address.version):
            return False
    if rule.protocol is None:
        return True
    protocol = {"icmpv6": "ipv6-icmp", "1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp",
                "132": "sctp"}.get(rule.protocol, rule.protocol)
    if protocol != entry.protocol:
        return False
    low, high = rule.port_range_min, rule.port_range_max
    if entry.protocol in ("icmp", "ipv6-icmp"):
        return (low is None or low == entry.sport) and (high is None or high == entry.dport)
    value = entry.dport
    return value is None or ((low is None or value >= low) and (high is None or value <= high))


def remote_addresses(session: Any, rules: Iterable[Any]) -> dict[str, list[Any]]:
    """``{remote group or address group id: [ipaddress networks]}`` for the remotes
    of ``rules``: a group's ports' fixed IPs (what ovn-northd puts in
    ``$pg_<id>_ip4/_ip6``), an address group's CIDRs (``$ag_<id>_ip4/_ip6``)."""
    from neutrino.db.models import AddressAssociation, IPAllocation, SecurityGroupPortBinding
    rules = list(rules)
    groups = {r.remote_group_id for r in rules if r.remote_group_id}
    address_groups = {r.remote_address_group_id for r in rules
                      if getattr(r, "remote_address_group_id", None)}
    result: dict[str, list[Any]] = {}
    if groups:
        for gid, ip in session.execute(select(
                SecurityGroupPortBinding.security_group_id, IPAllocation.ip_address).join(
                IPAllocation, IPAllocation.port_id == SecurityGroupPortBinding.port_id).where(
                SecurityGroupPortBinding.security_group_id.in_(groups))):
            result.setdefault(gid, []).append(ipaddress.ip_network(ip))
    if address_groups:
        for agid, cidr in session.execute(select(
                AddressAssociation.address_group_id, AddressAssociation.address).where(
                AddressAssociation.address_group_id.in_(address_groups))):
            result.setdefault(agid, []).append(ipaddress.ip_network(cidr, strict=False))
    return result


def _events(verdict: str) -> tuple[str, ...]:
    return ("ACCEPT", "ALL") if verdict == "allow" else ("DROP", "ALL")


def attribute(session: Any, entries: Iterable[Entry]) -> list[Entry]:
    """The entries with their port, its security groups, the logs they belong to and
    the rule (an allow's matching rule id, or :data:`DEFAULT_DROP`), as the module
    says (``logs``: the named log for an allow, the covering ``DROP``/``ALL`` logs for a
    drop; ``rule`` "" when no rule matches). Entries of ports not in the database keep
    ``port_id`` None."""
    from neutrino.db.models import SecurityGroupPortBinding, SecurityGroupRule
    from neutrino.services import network_logs

    logs = network_logs.logs_for_sync(session)
    by_id = {log.id: (log, covered) for log, covered in logs}
    result = []
    for e in entries:
        mac = e.src_mac if e.direction == "from-lport" else e.dst_mac
        port = network_logs.port_of_mac(session, mac) if mac else None
        if port is None:
            result.append(e)
            continue
        groups = tuple(sorted(session.scalars(select(SecurityGroupPortBinding.security_group_id)
                                              .where(SecurityGroupPortBinding.port_id == port.id))))
        covering = tuple(log.id for log, covered in logs
                         if log.enabled and log.event in _events(e.verdict)
                         and set(groups) & covered
                         and (not log.target_id or log.target_id == port.id))
        rule = DEFAULT_DROP
        if e.verdict == "allow":
            named = by_id.get(e.log_id or "")
            candidates = [g for g in groups if named is None or g in named[1]]
            rows = list(session.scalars(select(SecurityGroupRule).where(
                SecurityGroupRule.security_group_id.in_(candidates))
                .order_by(SecurityGroupRule.id)))
            remotes = remote_addresses(session, rows)
            rule = next((r.id for r in rows if rule_matches(r, e, remotes)), "")
            if named is not None:
                covering = (named[0].id,)
        result.append(replace(e, port_id=port.id, security_groups=groups, rule=rule,
                              logs=covering))
    return result


def summary(entries: Iterable[Entry]) -> list[tuple[str, str, str, str, int]]:
    """``(log id, security groups, rule, verdict, count)`` most frequent first.
    The log is the entry's ``logs`` (:func:`attribute`; "-" for a port no log
    covers), the ACL's name for an entry of an unknown port."""
    counts: Counter = Counter()
    for e in entries:
        counts[(e.log, ",".join(e.security_groups) or "-", e.rule or "-", e.verdict)] += 1
    return [(*key, n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

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
  receiver's for ``to-lport``), its security groups and the rule that allowed it (the
  first of the port's groups' rules of that direction whose ethertype, protocol, port
  range and remote prefix match; remote groups and address groups are taken as
  matching) or ``default drop`` for a drop. Reads the database.
* :func:`summary` -- counts per (log, security group, rule, verdict).

A drop is logged by ``neutron_pg_drop``'s ACLs whichever group's log asked for it
(``ovn.network_log``), so ``attribute`` names the logs covering the port's groups.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable

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


def rule_matches(rule: Any, entry: Entry) -> bool:
    """Whether a security group rule (a ``securitygrouprules`` row) admits the
    entry's packet, as its ACL match would (``ovn.security_groups.acl_match``)
    except for remote groups and address groups, which are taken as matching."""
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


def attribute(session: Any, entries: Iterable[Entry]) -> list[Entry]:
    """The entries with their port, its security groups, the rule (an allow's
    matching rule id, or :data:`DEFAULT_DROP`) and the enabled or disabled logs
    covering those groups (``services.network_logs.covered_groups``). Entries of
    ports not in the database keep ``port_id`` None."""
    from neutrino.db.models import SecurityGroupPortBinding, SecurityGroupRule
    from neutrino.services import network_logs

    logs = network_logs.logs_for_sync(session)
    result = []
    for e in entries:
        mac = e.src_mac if e.direction == "from-lport" else e.dst_mac
        port = network_logs.port_of_mac(session, mac) if mac else None
        if port is None:
            result.append(e)
            continue
        groups = tuple(sorted(session.scalars(select(SecurityGroupPortBinding.security_group_id)
                                              .where(SecurityGroupPortBinding.port_id == port.id))))
        rule = DEFAULT_DROP
        if e.verdict == "allow":
            rows = session.scalars(select(SecurityGroupRule).where(
                SecurityGroupRule.security_group_id.in_(groups)).order_by(SecurityGroupRule.id))
            rule = next((r.id for r in rows if rule_matches(r, e)), "")
        covering = tuple(log.id for log, covered in logs if set(groups) & covered
                         and (not log.target_id or log.target_id == port.id))
        result.append(replace(e, port_id=port.id, security_groups=groups, rule=rule,
                              logs=covering))
    return result


def summary(entries: Iterable[Entry]) -> list[tuple[str, str, str, str, int]]:
    """``(log id, security groups, rule, verdict, count)`` most frequent first.
    The log is the ACL's name (for a drop, the logs covering the port's groups)."""
    counts: Counter = Counter()
    for e in entries:
        log = e.log_id if e.verdict == "allow" or not e.logs else ",".join(e.logs)
        counts[(log or "-", ",".join(e.security_groups) or "-", e.rule or "-", e.verdict)] += 1
    return [(*key, n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

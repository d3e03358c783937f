"""Security groups and their rules (reference B.6). One transaction per public
call. Which groups a port is in, and its other port security attributes
(``port_security_enabled``, ``allowed_address_pairs``), are
``services.port_security``'s.

A group belongs to ports, never to bare addresses: OVN realises it as a port
group whose ACLs match ``@pg_<group>`` (``ovn.security_groups``), so two
projects using the same addresses never share a rule.

Every project gets a ``default`` group on first use (listing groups or rules,
creating a group, creating a port), with Neutron's default rules: egress IPv4
and IPv6 to anywhere, ingress IPv4 and IPv6 from members of the group itself.
``default_security_groups`` has the project as primary key, so two first
requests racing make one group: the loser's transaction is retried and finds it.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from types import SimpleNamespace
from typing import Any, Iterable

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import (IP_PROTOCOL_NUMBERS, DefaultSecurityGroup, SecurityGroup,
                                SecurityGroupPortBinding, SecurityGroupRule)
from neutrino.services import address_groups, common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quota, check_quotas

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"
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
_INSERT_RULE = insert(SecurityGroupRule)

SPEC = listing.ResourceSpec(
    id_column=SecurityGroup.id,
    filters={
        **listing.standard_filters(SecurityGroup),
        "stateful": listing.eq(SecurityGroup.stateful, listing.to_bool),
        # RBAC sharing is not implemented: no group is shared.
        "shared": lambda values: SecurityGroup.id.is_(None) if any(
            listing.to_bool(v) for v in values) else SecurityGroup.id.is_not(None),
    },
    sort_keys={k: getattr(SecurityGroup, k) for k in (
        "id", "name", "project_id", "stateful", "created_at", "updated_at", "revision_number")}
    | {"tenant_id": SecurityGroup.project_id},
    not_found=errors.SecurityGroupNotFound,
)
_RULE_COLUMNS = ("id", "project_id", "security_group_id", "direction", "ethertype", "protocol",
                 "port_range_min", "port_range_max", "remote_ip_prefix", "normalized_cidr",
                 "remote_group_id", "remote_address_group_id", "description", "created_at",
                 "updated_at", "revision_number")
RULE_SPEC = listing.ResourceSpec(
    id_column=SecurityGroupRule.id,
    filters={
        **{k: listing.eq(getattr(SecurityGroupRule, k)) for k in _RULE_COLUMNS
           if k not in ("port_range_min", "port_range_max", "revision_number", "ethertype",
                        "protocol", "remote_ip_prefix")},
        "tenant_id": listing.eq(SecurityGroupRule.project_id),
        "ethertype": listing.eq(SecurityGroupRule.ethertype, lambda v: "IPv" + v[-1]
                                if v.lower() in ("ipv4", "ipv6") else v),
        "protocol": listing.eq(SecurityGroupRule.protocol, str.lower),
        "remote_ip_prefix": listing.eq(SecurityGroupRule.remote_ip_prefix, lambda v: _prefix(v)
                                       if _parses(v) else v),
        "port_range_min": listing.eq(SecurityGroupRule.port_range_min, listing.to_int),
        "port_range_max": listing.eq(SecurityGroupRule.port_range_max, listing.to_int),
        "revision_number": listing.eq(SecurityGroupRule.revision_number, listing.to_int),
        "changed_since": lambda values: SecurityGroupRule.updated_at >= max(values),
    },
    sort_keys={k: getattr(SecurityGroupRule, k) for k in _RULE_COLUMNS}
    | {"tenant_id": SecurityGroupRule.project_id},
    not_found=errors.SecurityGroupRuleNotFound,
)


# --- visibility -------------------------------------------------------------------

def visible(ctx: Context):
    """Groups the caller may see: its own (admins: all). Rules likewise."""
    if ctx.is_admin:
        return SecurityGroup.id.is_not(None)
    return SecurityGroup.project_id == ctx.project_id


def find_visible(session: Session, ctx: Context, sg_id: str) -> SecurityGroup:
    """The group, or SecurityGroupNotFound when it does not exist or is hidden."""
    sg = session.get(SecurityGroup, sg_id)
    if sg is None or not (ctx.is_admin or sg.project_id == ctx.project_id):
        raise errors.SecurityGroupNotFound(sg_id)
    return sg


def _find_rule(session: Session, ctx: Context, rule_id: str) -> SecurityGroupRule:
    rule = session.get(SecurityGroupRule, rule_id)
    if rule is None or not (ctx.is_admin or rule.project_id == ctx.project_id):
        raise errors.SecurityGroupRuleNotFound(rule_id)
    return rule


# --- the default group ------------------------------------------------------------------

def default_group_id(session: Session, project_id: str) -> str | None:
    return session.scalar(select(DefaultSecurityGroup.security_group_id)
                          .where(DefaultSecurityGroup.project_id == project_id))


def ensure_default(session: Session, project_id: str) -> str:
    """The id of the project's ``default`` group, made (with its four rules and
    an outbox row) if the project has none. A concurrent maker of the same
    group makes the transaction fail on ``pk_default_security_groups``; it is
    retried by ``Database.run`` and then finds the group."""
    sg_id = default_group_id(session, project_id)
    if sg_id is not None:
        return sg_id
    sg = _insert_group(session, project_id, DEFAULT_NAME, DEFAULT_DESCRIPTION, stateful=True,
                       default=True)
    session.execute(insert(DefaultSecurityGroup), {"project_id": project_id,
                                                   "security_group_id": sg.id})
    return sg.id


def _ensure_caller_default(env: Env, ctx: Context) -> None:
    """Make the caller's default group unless it exists (checked without a write)."""
    if env.db.run(lambda s: default_group_id(s, ctx.project_id), write=False) is None:
        env.db.run(lambda s: ensure_default(s, ctx.project_id))


def _insert_group(session: Session, project_id: str, name: str, description: str, *,
                  stateful: bool, default: bool = False) -> SecurityGroup:
    """Insert a group with Neutron's initial rules and enqueue it: egress IPv4 and
    IPv6 anywhere, plus for ``default`` ingress from the group itself."""
    stamp = common.now()
    sg = SecurityGroup(id=common.new_id(), project_id=project_id, name=name,
                       description=description, stateful=stateful, created_at=stamp,
                       updated_at=stamp, revision_number=1)
    session.add(sg)
    session.flush()  # the rules refer to it
    rules = [(EGRESS, IPV4, None), (EGRESS, IPV6, None)]
    if default:
        rules += [(INGRESS, IPV4, sg.id), (INGRESS, IPV6, sg.id)]
    session.execute(_INSERT_RULE, [_rule_row(sg, {
        "direction": direction, "ethertype": ethertype, "remote_group_id": remote})
        for direction, ethertype, remote in rules])
    common.enqueue_ovn(session, "security_group", sg.id)
    return sg


# --- security groups ----------------------------------------------------------------

def create_security_groups(env: Env, ctx: Context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create groups all-or-nothing, each with its two egress rules. The owner
    project's default group is made first if missing.

    Raises SecurityGroupDefaultAlreadyExists (409) for the name ``default``,
    OverQuota (409) for groups or for their rules.
    """
    for data in items:
        _check_name(data)

    def run(session: Session) -> list[dict[str, Any]]:
        projects = [common.owner_project(ctx, data) for data in items]
        # quotas first: Neutron checks them before its plugin makes the default group
        check_quotas(session, env, "security_group", projects)
        check_quotas(session, env, "security_group_rule", projects * 2)
        for project in dict.fromkeys(projects):
            ensure_default(session, project)
        rows = [_insert_group(session, project, data.get("name", ""), data.get("description", ""),
                              stateful=data.get("stateful", True))
                for data, project in zip(items, projects)]
        return group_dicts(session, rows)
    return env.db.run(run)


def get_security_group(env: Env, ctx: Context, sg_id: str,
                       fields: list[str] | None = None) -> dict[str, Any]:
    """One group with its rules; SecurityGroupNotFound (404) when hidden or missing."""
    def run(session: Session) -> dict[str, Any]:
        return group_dicts(session, [find_visible(session, ctx, sg_id)], fields)[0]
    return env.db.run(run, write=False)


def list_security_groups(env: Env, ctx: Context, query: listing.ListQuery) -> list[dict[str, Any]]:
    """Groups visible to the caller; its project's default group is made first if missing."""
    _ensure_caller_default(env, ctx)

    def run(session: Session) -> list[dict[str, Any]]:
        stmt = listing.apply_list_query(
            session, select(SecurityGroup.__table__).where(visible(ctx)), SPEC, query)
        return group_dicts(session, listing.fetch(session, stmt, query), query.fields,
                           ids=stmt.with_only_columns(SecurityGroup.id))
    return env.db.run(run, write=False)


def update_security_group(env: Env, ctx: Context, sg_id: str, data: dict[str, Any],
                          if_match: int | None = None) -> dict[str, Any]:
    """Change name, description or stateful.

    Raises SecurityGroupCannotUpdateDefault (409) for the name of ``default``,
    SecurityGroupDefaultAlreadyExists (409) when naming another group
    ``default``, SecurityGroupInUse (409) when changing ``stateful`` of a
    group with ports.
    """
    _check_name(data)

    def run(session: Session) -> dict[str, Any]:
        sg = find_visible(session, ctx, sg_id)
        common.check_if_match(sg, if_match)
        if "name" in data and default_group_id(session, sg.project_id) == sg.id:
            raise errors.SecurityGroupCannotUpdateDefault()
        if "stateful" in data and data["stateful"] != sg.stateful and _in_use(session, sg.id):
            raise errors.SecurityGroupInUse(sg.id)
        if common.apply_changes(sg, data):
            common.touch(sg)
            common.enqueue_ovn(session, "security_group", sg.id)
        session.flush()
        return group_dicts(session, [sg])[0]
    return env.db.run(run)


def delete_security_group(env: Env, ctx: Context, sg_id: str, if_match: int | None = None) -> None:
    """Delete a group and its rules; rules of other groups naming it as their
    remote group go too (Neutron's foreign key cascade).

    Raises SecurityGroupCannotRemoveDefault (409) when a non-admin deletes
    ``default``, SecurityGroupInUse (409) while ports use the group.
    """
    def run(session: Session) -> None:
        sg = find_visible(session, ctx, sg_id)
        common.check_if_match(sg, if_match)
        if not ctx.is_admin and default_group_id(session, sg.project_id) == sg.id:
            raise errors.SecurityGroupCannotRemoveDefault()
        if _in_use(session, sg.id):
            raise errors.SecurityGroupInUse(sg.id)
        referring = session.scalars(select(SecurityGroupRule.security_group_id).where(
            SecurityGroupRule.remote_group_id == sg.id,
            SecurityGroupRule.security_group_id != sg.id).distinct()).all()
        session.execute(delete(SecurityGroupRule).where(or_(
            SecurityGroupRule.security_group_id == sg.id,
            SecurityGroupRule.remote_group_id == sg.id)))
        for other in referring:
            common.touch(session.get(SecurityGroup, other))
            common.enqueue_ovn(session, "security_group", other)
        session.execute(delete(DefaultSecurityGroup).where(
            DefaultSecurityGroup.security_group_id == sg.id))
        common.delete_tags(session, [sg.id])
        session.delete(sg)
        common.enqueue_ovn(session, "security_group", sg_id)
    env.db.run(run)


def group_dicts(session: Session, rows: Iterable[Any], fields: list[str] | None = None,
                ids: Any = None) -> list[dict[str, Any]]:
    """API dicts for group rows, each with its ``security_group_rules``."""
    rows = list(rows)
    if not rows:
        return []
    if ids is None:
        ids = [r.id for r in rows]
    want = common.wanted(fields)
    tags = common.tags_of(session, ids) if want("tags") else {}
    rules: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if want("security_group_rules"):
        for rule in session.execute(select(SecurityGroupRule.__table__).where(
                SecurityGroupRule.security_group_id.in_(ids)).order_by(
                SecurityGroupRule.created_at, SecurityGroupRule.id)):
            rules[rule.security_group_id].append(rule_dict(rule))
    result = []
    for r in rows:
        d = common.api_dict(r, tags.get(r.id, []))
        d["shared"] = False
        d["security_group_rules"] = rules.get(r.id, [])
        result.append(d)
    return result


def _check_name(data: dict[str, Any]) -> None:
    if data.get("name", "").lower() == DEFAULT_NAME:
        raise errors.SecurityGroupDefaultAlreadyExists()


def _in_use(session: Session, sg_id: str) -> bool:
    return session.scalar(select(SecurityGroupPortBinding.port_id).where(
        SecurityGroupPortBinding.security_group_id == sg_id).limit(1)) is not None


# --- rules --------------------------------------------------------------------------

def create_security_group_rules(env: Env, ctx: Context,
                                items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create rules all-or-nothing; all of one group (reference B.6). A rule
    belongs to its group's project. The group's revision goes up and its ACLs
    are recomputed.

    Raises SecurityGroupNotSingleGroupRules, SecurityGroupRuleInvalidProtocol,
    the port range and ethertype errors (400), SecurityGroupNotFound (404; for
    the group or the remote group), AddressGroupNotFound (404, the remote address
    group unseen by the group's project), SecurityGroupRuleExists,
    DuplicateSecurityGroupRuleInPost, OverQuota (409).
    """
    if len({d["security_group_id"] for d in items}) > 1:
        raise errors.SecurityGroupNotSingleGroupRules()
    normalized = [_normalize_rule(data) for data in items]

    def run(session: Session) -> list[dict[str, Any]]:
        for data in items:
            common.owner_project(ctx, data)  # a non-admin names no other project
        sg = find_visible(session, ctx, items[0]["security_group_id"])
        for data in normalized:
            if data.get("remote_group_id") not in (None, sg.id):
                find_visible(session, ctx, data["remote_group_id"])
            if data.get("remote_address_group_id") is not None:
                address_groups.check_remote(session, data["remote_address_group_id"],
                                            sg.project_id)
        rows = [_rule_row(sg, data) for data in normalized]
        keys = [r["rule_key"] for r in rows]
        if len(set(keys)) != len(keys):
            raise errors.DuplicateSecurityGroupRuleInPost()
        existing = session.scalar(select(SecurityGroupRule.id).where(
            SecurityGroupRule.security_group_id == sg.id, SecurityGroupRule.rule_key.in_(keys)))
        if existing is not None:
            raise errors.SecurityGroupRuleExists(existing)
        check_quota(session, env, sg.project_id, "security_group_rule", len(rows))
        session.execute(_INSERT_RULE, rows)
        common.touch(sg)
        common.enqueue_ovn(session, "security_group", sg.id)
        return [rule_dict(r) for r in rows]
    return env.db.run(run)


def get_security_group_rule(env: Env, ctx: Context, rule_id: str,
                            fields: list[str] | None = None) -> dict[str, Any]:
    """One rule; SecurityGroupRuleNotFound (404) when hidden or missing."""
    return env.db.run(lambda s: rule_dict(_find_rule(s, ctx, rule_id)), write=False)


def list_security_group_rules(env: Env, ctx: Context,
                              query: listing.ListQuery) -> list[dict[str, Any]]:
    """Rules visible to the caller; its project's default group is made first if missing."""
    _ensure_caller_default(env, ctx)

    def run(session: Session) -> list[dict[str, Any]]:
        stmt = select(SecurityGroupRule.__table__)
        if not ctx.is_admin:
            stmt = stmt.where(SecurityGroupRule.project_id == ctx.project_id)
        stmt = listing.apply_list_query(session, stmt, RULE_SPEC, query)
        return [rule_dict(r) for r in listing.fetch(session, stmt, query)]
    return env.db.run(run, write=False)


def update_security_group_rule(env: Env, ctx: Context, rule_id: str, data: dict[str, Any],
                               if_match: int | None = None) -> dict[str, Any]:
    """Only the description of a rule changes; the rest is fixed at creation."""
    def run(session: Session) -> dict[str, Any]:
        rule = _find_rule(session, ctx, rule_id)
        common.check_if_match(rule, if_match)
        if common.apply_changes(rule, data):
            common.touch(rule)
        session.flush()
        return rule_dict(rule)
    return env.db.run(run)


def delete_security_group_rule(env: Env, ctx: Context, rule_id: str,
                               if_match: int | None = None) -> None:
    """Delete a rule; its group's revision goes up and its ACLs are recomputed."""
    def run(session: Session) -> None:
        rule = _find_rule(session, ctx, rule_id)
        common.check_if_match(rule, if_match)
        sg = session.get(SecurityGroup, rule.security_group_id)
        session.delete(rule)
        common.touch(sg)
        common.enqueue_ovn(session, "security_group", sg.id)
    env.db.run(run)


def rule_dict(row: Any) -> dict[str, Any]:
    """One rule as the API shows it (no tags, no internal key); ``row`` may be a dict."""
    d = common.api_dict(SimpleNamespace(**row) if isinstance(row, dict) else row, [])
    for key in ("tags", "rule_key"):
        d.pop(key, None)
    return d


def protocol_number(protocol: str | None) -> int | None:
    """A stored protocol (name or number text) as its IP protocol number; None is any."""
    if protocol is None:
        return None
    return int(protocol) if protocol.isdigit() else IP_PROTOCOL_NUMBERS[protocol]


def _normalize_rule(data: dict[str, Any]) -> dict[str, Any]:
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


def _rule_row(sg: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The ``securitygrouprules`` row of a normalised rule of group ``sg``."""
    stamp = common.now()
    prefix = data.get("remote_ip_prefix")
    number = protocol_number(data.get("protocol"))
    row = {"id": common.new_id(), "project_id": sg.project_id, "security_group_id": sg.id,
           "direction": data["direction"], "ethertype": data.get("ethertype", IPV4),
           "protocol": data.get("protocol"), "port_range_min": data.get("port_range_min"),
           "port_range_max": data.get("port_range_max"), "remote_ip_prefix": prefix,
           "normalized_cidr": str(ipaddress.ip_interface(prefix).network) if prefix else None,
           "remote_group_id": data.get("remote_group_id"),
           "remote_address_group_id": data.get("remote_address_group_id"),
           "description": data.get("description", ""), "created_at": stamp,
           "updated_at": stamp, "revision_number": 1}
    # Equal rules (Neutron's _rule_to_key): protocol by number, 0.0.0.0/0 and ::/0 as no prefix.
    row["rule_key"] = "|".join(str(v) if v is not None else "" for v in (
        row["direction"], row["ethertype"], number, row["port_range_min"],
        row["port_range_max"], None if prefix in ANY_PREFIXES else prefix,
        row["remote_group_id"]))
    if row["remote_address_group_id"]:  # keys of rules without one stay as they were
        row["rule_key"] += f"|ag:{row['remote_address_group_id']}"
    return row

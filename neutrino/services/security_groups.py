"""Security groups and their rules (reference B.6). One transaction per public
call. Which groups a port is in, and its other port security attributes
(``port_security_enabled``, ``allowed_address_pairs``), are
``services.port_security``'s.

A group belongs to ports, never to bare addresses: OVN realises it as a port
group whose ACLs match ``@pg_<group>`` (``ovn.security_groups``), so two
projects using the same addresses never share a rule.

Every project gets a ``default`` group on first use (listing groups or rules,
creating a group, creating a port). A new group's rules are copies of the
templates (``services.default_security_group_rules``): for a default group those
``used_in_default_sg``, else those ``used_in_non_default_sg`` (Neutron's
``_create_rules_from_template``; seeded as egress IPv4 and IPv6 anywhere for
every group, ingress from the group itself for default groups). A rule of a
default group shows ``belongs_to_default_sg`` true. Who sees, uses and changes
a group (RBAC sharing) is ``services.security_group_access``'.
``default_security_groups`` has the project as primary key, so two first
requests racing make one group: the loser's transaction is retried and finds it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import defaultdict
from types import SimpleNamespace
from typing import Any, Iterable

from sqlalchemy import delete, exists, insert, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import (IP_PROTOCOL_NUMBERS, DefaultSecurityGroup, SecurityGroup,
                                SecurityGroupDefaultRule, SecurityGroupPortBinding,
                                SecurityGroupRule)
from neutrino.services import address_groups, common, listing, sg_default_statefulness
from neutrino.services import security_group_access as access
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quota, check_quotas
from neutrino.services.security_group_rule_values import (  # noqa: F401 (re-exported)
    ANY_PREFIXES, ICMP_NUMBERS, IPV4, IPV6, PORT_PROTOCOL_NUMBERS, PORT_PROTOCOLS,
    _parses, _prefix, normalize_rule, protocol_number, rule_key)

DEFAULT_NAME = "default"
DEFAULT_DESCRIPTION = "Default security group"
_INSERT_RULE = insert(SecurityGroupRule)

SPEC = listing.ResourceSpec(
    id_column=SecurityGroup.id,
    filters={
        **listing.standard_filters(SecurityGroup),
        "stateful": listing.eq(SecurityGroup.stateful, listing.to_bool),
        # "shared" depends on the caller: list_security_groups applies it
    },
    sort_keys={k: getattr(SecurityGroup, k) for k in (
        "id", "name", "project_id", "stateful", "created_at", "updated_at", "revision_number")}
    | {"tenant_id": SecurityGroup.project_id},
    not_found=errors.SecurityGroupNotFound,
)
PARENT = "PARENT"  # a template's remote_group_id naming the new group itself
# The rule's group is a project's default group (extension
# security-groups-rules-belongs-to-default-sg).
BELONGS_TO_DEFAULT = exists().where(
    DefaultSecurityGroup.security_group_id == SecurityGroupRule.security_group_id)
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
        "belongs_to_default_sg": lambda values: BELONGS_TO_DEFAULT if listing.to_bool(
            values[-1]) else ~BELONGS_TO_DEFAULT,
    },
    sort_keys={k: getattr(SecurityGroupRule, k) for k in _RULE_COLUMNS}
    | {"tenant_id": SecurityGroupRule.project_id},
    not_found=errors.SecurityGroupRuleNotFound,
)


# --- visibility -------------------------------------------------------------------

visible = access.visible
find_visible = access.find_visible


def _find_rule(session: Session, ctx: Context, rule_id: str) -> SecurityGroupRule:
    return common.get_own(session, ctx, SecurityGroupRule, rule_id,
                          errors.SecurityGroupRuleNotFound)


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


def _ensure_caller_default(env: Env, ctx: Context, query: listing.ListQuery) -> None:
    """Make the default group of the project listed (the ``project_id`` or
    ``tenant_id`` filter's first value if the caller is admin, else the
    caller's) unless it exists, as ``get_security_groups`` does."""
    named = query.filters.get("project_id") or query.filters.get("tenant_id")
    project = named[0] if named and ctx.is_admin else ctx.project_id
    if env.db.run(lambda s: default_group_id(s, project), write=False) is None:
        env.db.run(lambda s: ensure_default(s, project))


def _insert_group(session: Session, project_id: str, name: str, description: str, *,
                  stateful: bool, default: bool = False) -> SecurityGroup:
    """Insert a group with its rules from the templates (``default``: those
    ``used_in_default_sg``, else ``used_in_non_default_sg``) and enqueue it."""
    stamp = common.now()
    sg = SecurityGroup(id=common.new_id(), project_id=project_id, name=name,
                       description=description, stateful=stateful, created_at=stamp,
                       updated_at=stamp, revision_number=1)
    session.add(sg)
    session.flush()  # the rules refer to it
    rows = [_rule_row(sg, {k: getattr(t, k) for k in _TEMPLATED}
                      | {"remote_group_id": sg.id if t.remote_group_id == PARENT
                         else t.remote_group_id}) for t in templates(session, default)]
    if rows:
        session.execute(_INSERT_RULE, rows)
    common.enqueue_ovn(session, "security_group", sg.id)
    return sg


_TEMPLATED = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
              "remote_ip_prefix", "remote_address_group_id")


def templates(session: Session, default: bool) -> list[SecurityGroupDefaultRule]:
    """The template rules of a new default (or other) group."""
    column = (SecurityGroupDefaultRule.used_in_default_sg if default
              else SecurityGroupDefaultRule.used_in_non_default_sg)
    return list(session.scalars(select(SecurityGroupDefaultRule).where(column.is_(True))
                                .order_by(SecurityGroupDefaultRule.id)))


# --- security groups ----------------------------------------------------------------

def create_security_groups(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create groups all-or-nothing, each with the non-default template rules, and
    return the new rows (the API renders them: ``api/wire/security_groups.py``).
    The owner project's default group is made first if missing.

    Raises SecurityGroupDefaultAlreadyExists (409) for the name ``default``,
    OverQuota (409) for groups or for their rules.
    """
    for data in items:
        _check_name(data)

    def run(session: Session) -> listing.Written:
        projects = [common.owner_project(ctx, data) for data in items]
        # quotas first: Neutron checks them before its plugin makes the default group
        check_quotas(session, env, "security_group", projects)
        check_quotas(session, env, "security_group_rule",
                     projects * len(templates(session, default=False)))
        for project in dict.fromkeys(projects):
            ensure_default(session, project)
        rows = [_insert_group(session, project, data.get("name", ""), data.get("description", ""),
                              stateful=_stateful(session, project, data))
                for data, project in zip(items, projects)]
        return listing.Written(rows)
    return env.db.run(run)


def _stateful(session: Session, project: str, data: dict[str, Any]) -> bool:
    """The request's ``stateful``, else the project's default (extension
    security-groups-default-statefulness)."""
    if "stateful" in data:
        return data["stateful"]
    return sg_default_statefulness.default_stateful(session, project)


def list_statement(session: Session, ctx: Context, query: listing.ListQuery,
                   columns: Iterable[Any]) -> Any:
    """The SELECT of ``columns`` (of ``securitygroups``) a list request of groups makes:
    the caller's visible groups, ``?shared=`` as the caller sees it, then ``SPEC``'s
    filters, order and page. Raises what ``listing.apply_list_query`` raises."""
    shared = query.filters.get("shared")
    query = dataclasses.replace(query, filters={k: v for k, v in query.filters.items()
                                                if k != "shared"})
    stmt = select(*columns).where(visible(ctx))
    if shared:
        cond = access.shared_for(ctx.project_id)
        stmt = stmt.where(cond if listing.to_bool(shared[-1]) else ~cond)
    return listing.apply_list_query(session, stmt, SPEC, query)


def update_security_group(env: Env, ctx: Context, sg_id: str, data: dict[str, Any],
                          if_match: int | None = None) -> listing.Written:
    """Change name, description or stateful; returns the row.

    Raises SecurityGroupCannotUpdateDefault (409) for the name of ``default``,
    SecurityGroupDefaultAlreadyExists (409) when naming another group
    ``default``, SecurityGroupInUse (409) when changing ``stateful`` of a
    group with ports.
    """
    _check_name(data)

    def run(session: Session) -> listing.Written:
        sg = access.find_owned(session, ctx, sg_id, "update_security_group")
        common.check_if_match(sg, if_match)
        if "name" in data and default_group_id(session, sg.project_id) == sg.id:
            raise errors.SecurityGroupCannotUpdateDefault()
        if "stateful" in data and data["stateful"] != sg.stateful and _in_use(session, sg.id):
            raise errors.SecurityGroupInUse(sg.id)
        if common.apply_changes(sg, data):
            common.touch(sg)
            common.enqueue_ovn(session, "security_group", sg.id)
        session.flush()
        return listing.Written([sg])
    return env.db.run(run)


def delete_security_group(env: Env, ctx: Context, sg_id: str, if_match: int | None = None) -> None:
    """Delete a group and its rules; rules of other groups naming it as their
    remote group go too (Neutron's foreign key cascade).

    Raises SecurityGroupCannotRemoveDefault (409) when a non-admin deletes
    ``default``, SecurityGroupInUse (409) while ports use the group.
    """
    def run(session: Session) -> None:
        sg = access.find_owned(session, ctx, sg_id, "delete_security_group")
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
        from neutrino.services import network_logs
        network_logs.clean_logs(session, sg_id=sg.id)
        session.execute(delete(DefaultSecurityGroup).where(
            DefaultSecurityGroup.security_group_id == sg.id))
        common.delete_tags(session, [sg.id])
        session.delete(sg)
        common.enqueue_ovn(session, "security_group", sg_id)
    env.db.run(run)


def rules_of(session: Session, ids: Any) -> tuple[dict[str, list[Any]], set[str]]:
    """``({group id: [rule row]}, the ids of those groups that are a project's default)``
    for groups ``ids`` (a list or a SELECT of ids), in one query: the rule rows carry
    every ``securitygrouprules`` column (oldest rule first; ``api/wire`` renders them as
    ``SECURITY_GROUP_RULE``); groups without rules are absent from both."""
    rules: dict[str, list[Any]] = defaultdict(list)
    defaults: set[str] = set()
    for rule in session.execute(select(
            SecurityGroupRule.__table__, BELONGS_TO_DEFAULT.label("belongs_to_default_sg")).where(
            SecurityGroupRule.security_group_id.in_(ids)).order_by(
            SecurityGroupRule.created_at, SecurityGroupRule.id)):
        rules[rule.security_group_id].append(rule)
        if rule.belongs_to_default_sg:
            defaults.add(rule.security_group_id)
    return rules, defaults


def _check_name(data: dict[str, Any]) -> None:
    if data.get("name", "").lower() == DEFAULT_NAME:
        raise errors.SecurityGroupDefaultAlreadyExists()


def _in_use(session: Session, sg_id: str) -> bool:
    return session.scalar(select(SecurityGroupPortBinding.port_id).where(
        SecurityGroupPortBinding.security_group_id == sg_id).limit(1)) is not None


# --- rules --------------------------------------------------------------------------

def create_security_group_rules(env: Env, ctx: Context,
                                items: list[dict[str, Any]]) -> listing.Written:
    """Create rules all-or-nothing; all of one group (reference B.6), and return them
    (the API renders them: ``api/wire/security_groups.py``). A rule belongs to its
    group's project. The group's revision goes up and its ACLs are recomputed.

    Raises SecurityGroupNotSingleGroupRules, SecurityGroupRuleInvalidProtocol,
    the port range and ethertype errors (400), SecurityGroupNotFound (404; for
    the group or the remote group), PolicyNotAuthorized (403: the group is only
    shared with the caller), AddressGroupNotFound (404, the remote address
    group unseen by the group's project), SecurityGroupRuleExists,
    DuplicateSecurityGroupRuleInPost, OverQuota (409).
    """
    if len({d["security_group_id"] for d in items}) > 1:
        raise errors.SecurityGroupNotSingleGroupRules()
    normalized = [normalize_rule(data) for data in items]

    def run(session: Session) -> listing.Written:
        for data in items:
            common.owner_project(ctx, data)  # a non-admin names no other project
        sg = access.find_owned(session, ctx, items[0]["security_group_id"],
                               "create_security_group_rule")
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
        # inserted as rows, not objects; known: whether their group is a default one
        defaults = {sg.id} if default_group_id(session, sg.project_id) == sg.id else set()
        return listing.Written([SimpleNamespace(**r) for r in rows], {"defaults": defaults})
    return env.db.run(run)


def update_security_group_rule(env: Env, ctx: Context, rule_id: str, data: dict[str, Any],
                               if_match: int | None = None) -> listing.Written:
    """Only the description of a rule changes; the rest is fixed at creation. Returns
    the rule."""
    def run(session: Session) -> listing.Written:
        rule = _find_rule(session, ctx, rule_id)
        common.update_row(rule, data, if_match)
        session.flush()
        return listing.Written([rule])
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


def _rule_row(sg: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The ``securitygrouprules`` row of a normalised rule of group ``sg``."""
    stamp = common.now()
    prefix = data.get("remote_ip_prefix")
    row = {"id": common.new_id(), "project_id": sg.project_id, "security_group_id": sg.id,
           "direction": data["direction"], "ethertype": data.get("ethertype", IPV4),
           "protocol": data.get("protocol"), "port_range_min": data.get("port_range_min"),
           "port_range_max": data.get("port_range_max"), "remote_ip_prefix": prefix,
           "normalized_cidr": str(ipaddress.ip_interface(prefix).network) if prefix else None,
           "remote_group_id": data.get("remote_group_id"),
           "remote_address_group_id": data.get("remote_address_group_id"),
           "description": data.get("description", ""), "created_at": stamp,
           "updated_at": stamp, "revision_number": 1}
    row["rule_key"] = rule_key(row)
    return row

"""Security groups and their rules as the API reads them: the domain rows of list and
show with only the columns and related data a request's ``fields=`` needs
(``api/wire/security_groups.py`` renders them). Visibility, filters and making the
listed project's default group are ``services.security_groups``'. Errors: those of
``listing.apply_list_query``; SecurityGroupNotFound, SecurityGroupRuleNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import DefaultSecurityGroup, SecurityGroup, SecurityGroupRule
from neutrino.services import common, listing
from neutrino.services import security_group_access as access
from neutrino.services import security_groups as groups
from neutrino.services.context import Context
from neutrino.services.env import Env

# tags; shared (the ids shared with the caller, ``access.shared_ids``); rules (the
# groups' rule dicts, ``security_groups.rules_of``)
LOADS = ("tags", "shared", "rules")
# defaults: the rules' groups that are a project's default group
RULE_LOADS = ("defaults",)


def list_security_group_rows(env: Env, ctx: Context, query: listing.ListQuery,
                             columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The groups a list request selects, with only ``columns`` of ``securitygroups``
    and only the related ``loads`` (of ``LOADS``); the listed project's default group
    is made first if missing. Raises what ``listing.apply_list_query`` raises."""
    groups._ensure_caller_default(env, ctx, query)

    def run(session: Session) -> listing.Rows:
        stmt = groups.list_statement(session, ctx, query,
                                     listing.columns_of(SecurityGroup, columns))
        rows = listing.fetch(session, stmt, query)
        ids = stmt.with_only_columns(SecurityGroup.id)
        return listing.Rows(rows, _related(session, ctx, rows, ids, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_security_group_rows(env: Env, ctx: Context, sg_id: str, columns: Iterable[str],
                            loads: Iterable[str]) -> listing.Rows:
    """One visible group as ``list_security_group_rows`` gives it. Raises
    SecurityGroupNotFound."""
    def run(session: Session) -> listing.Rows:
        sg = groups.find_visible(session, ctx, sg_id)
        return listing.Rows(listing.rows_of([sg], columns),
                            _related(session, ctx, [sg], [sg.id], set(loads)))
    return env.db.run(run, write=False)


def list_rule_rows(env: Env, ctx: Context, query: listing.ListQuery, columns: Iterable[str],
                   loads: Iterable[str]) -> listing.Rows:
    """The rules a list request selects (the caller's; admins: all), with only
    ``columns`` of ``securitygrouprules`` and the ``loads`` (of ``RULE_LOADS``); the
    listed project's default group is made first if missing. Raises what
    ``listing.apply_list_query`` raises."""
    groups._ensure_caller_default(env, ctx, query)

    def run(session: Session) -> listing.Rows:
        stmt = select(*listing.columns_of(SecurityGroupRule, columns))
        if not ctx.is_admin:
            stmt = stmt.where(SecurityGroupRule.project_id == ctx.project_id)
        stmt = listing.apply_list_query(session, stmt, groups.RULE_SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _rule_related(session, rows, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_rule_rows(env: Env, ctx: Context, rule_id: str, columns: Iterable[str],
                  loads: Iterable[str]) -> listing.Rows:
    """One visible rule as ``list_rule_rows`` gives it. Raises
    SecurityGroupRuleNotFound."""
    def run(session: Session) -> listing.Rows:
        rule = groups._find_rule(session, ctx, rule_id)
        return listing.Rows(listing.rows_of([rule], columns),
                            _rule_related(session, [rule], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "shared" in loads:
        related["shared"] = access.shared_ids(session, ctx, [r.id for r in rows])
    if "rules" in loads:
        related["rules"] = groups.rules_of(session, ids)
    return related


def _rule_related(session: Session, rows: list[Any], loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "defaults" in loads:
        related["defaults"] = set(session.scalars(
            select(DefaultSecurityGroup.security_group_id).where(
                DefaultSecurityGroup.security_group_id.in_(
                    list({r.security_group_id for r in rows})))))
    return related

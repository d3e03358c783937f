"""Security groups and their rules as the API reads them: the domain rows of list and
show with only the columns and related data a request's ``fields=`` needs
(``api/wire/security_groups.py`` renders them). Visibility, filters and making the
listed project's default group are ``services.security_groups``'. Errors: those of
``listing.apply_list_query``; SecurityGroupNotFound, SecurityGroupRuleNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import DefaultSecurityGroup, SecurityGroup, SecurityGroupRule
from neutrino.services import common, listing
from neutrino.services import security_group_access as access
from neutrino.services import security_groups as groups
from neutrino.services.context import Context

# tags; shared (the ids shared with the caller, ``access.shared_ids``); rules (the
# groups' rule rows, ``security_groups.rules_of``, which also gives ``rule_defaults``:
# the ids of those groups that are a project's default)
LOADS = ("tags", "shared", "rules")
# defaults: the rules' groups that are a project's default group
RULE_LOADS = ("defaults",)


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "shared" in loads:
        related["shared"] = access.shared_ids(session, ctx, [r.id for r in rows])
    if "rules" in loads:
        related["rules"], related["rule_defaults"] = groups.rules_of(session, ids)
    return related


def _rule_related(session: Session, ctx: Context, rows: list[Any], ids: Any,
                  loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "defaults" in loads:
        related["defaults"] = set(session.scalars(
            select(DefaultSecurityGroup.security_group_id).where(
                DefaultSecurityGroup.security_group_id.in_(
                    list({r.security_group_id for r in rows})))))
    return related


def _own_rules(ctx: Context) -> Any:
    """The rules a caller sees: its project's; admins: all."""
    return None if ctx.is_admin else SecurityGroupRule.project_id == ctx.project_id


# List and show of groups and of rules (a list first makes the listed project's default
# group if missing). Raise what ``listing.apply_list_query`` raises, SecurityGroupNotFound
# or SecurityGroupRuleNotFound (404).
READER = listing.Reader(SecurityGroup, None, groups.find_visible, related=_related,
                        statement=groups.list_statement,
                        before_list=groups._ensure_caller_default)
RULE_READER = listing.Reader(SecurityGroupRule, groups.RULE_SPEC, groups._find_rule,
                             _own_rules, _rule_related,
                             before_list=groups._ensure_caller_default)

"""Templates of the rules every new security group gets (extension
``security-groups-default-rules``, ``/v2.0/default-security-group-rules``).

A template is a rule without a group: ``used_in_default_sg`` templates are
copied into each project's new ``default`` group, ``used_in_non_default_sg``
ones into every other new group (``services.security_groups._insert_group``);
``remote_group_id`` ``PARENT`` becomes the new group's own id. Existing groups
never change. Migration 0019 seeds Neutron's four legacy templates (egress IPv4
and IPv6 for all groups, ingress from ``PARENT`` for default groups).

Admins create and delete templates; anyone with the reader role reads them
(``neutron/conf/policies/default_security_group_rules.py``); templates have no
update. Values are checked and converted as a rule's
(``security_group_rule_values.normalize_rule``). A template equal to another of
the same kind (both used in default groups, or both in other groups) is
DefaultSecurityGroupRuleExists (409), two equal in one POST
DuplicateDefaultSgRuleInPost (409). Sources: ``neutron/db/securitygroups_db.py``
(``create_default_security_group_rule``, ``_check_for_duplicate_default_rules``),
``neutron/extensions/security_groups_default_rules.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import SecurityGroupDefaultRule as Template
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.security_group_rule_values import _parses, _prefix, normalize_rule, rule_key

_COLUMNS = ("id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
            "remote_ip_prefix", "remote_group_id", "remote_address_group_id", "description",
            "used_in_default_sg", "used_in_non_default_sg")
_KINDS = ("used_in_default_sg", "used_in_non_default_sg")

SPEC = listing.ResourceSpec(
    id_column=Template.id,
    filters={
        **{k: listing.eq(getattr(Template, k)) for k in (
            "id", "direction", "remote_group_id", "remote_address_group_id", "description")},
        "ethertype": listing.eq(Template.ethertype, lambda v: "IPv" + v[-1]
                                if v.lower() in ("ipv4", "ipv6") else v),
        "protocol": listing.eq(Template.protocol, str.lower),
        "remote_ip_prefix": listing.eq(Template.remote_ip_prefix,
                                       lambda v: _prefix(v) if _parses(v) else v),
        "port_range_min": listing.eq(Template.port_range_min, listing.to_int),
        "port_range_max": listing.eq(Template.port_range_max, listing.to_int),
        **{k: listing.eq(getattr(Template, k), listing.to_bool) for k in _KINDS},
    },
    sort_keys={k: getattr(Template, k) for k in _COLUMNS if k not in _KINDS + ("description",)},
    not_found=errors.DefaultSecurityGroupRuleNotFound,
)


def find(session: Session, rule_id: str) -> Template:
    """The template; DefaultSecurityGroupRuleNotFound (404)."""
    row = session.get(Template, rule_id)
    if row is None:
        raise errors.DefaultSecurityGroupRuleNotFound(rule_id)
    return row


def create_default_security_group_rules(env: Env, ctx: Context,
                                        items: list[dict[str, Any]]) -> listing.Written:
    """Create templates all-or-nothing. ``items`` are validated
    ``DefaultSecurityGroupRuleCreate`` dicts (both ``used_in_*`` flags given). Returns
    the new rows (the API renders them: ``api/wire/default_security_group_rules.py``).

    Raises the rule value errors of ``normalize_rule`` (400),
    DuplicateDefaultSgRuleInPost and DefaultSecurityGroupRuleExists (409).
    """
    normalized = [normalize_rule(data) for data in items]
    for data in normalized:
        data["key"] = rule_key(data)
    for kind in _KINDS:
        keys = [d["key"] for d in normalized if d[kind]]
        if len(set(keys)) != len(keys):
            raise errors.DuplicateDefaultSgRuleInPost()

    def run(session: Session) -> listing.Written:
        for kind in _KINDS:
            keys = [d["key"] for d in normalized if d[kind]]
            existing = session.scalar(select(Template.id).where(
                getattr(Template, kind).is_(True), Template.rule_key.in_(keys)).limit(1))
            if keys and existing is not None:
                raise errors.DefaultSecurityGroupRuleExists(existing)
        stamp = common.now()
        rows = [Template(id=common.new_id(), rule_key=d["key"], created_at=stamp,
                         description=d.get("description") or "",
                         **{k: d.get(k) for k in _COLUMNS if k not in ("id", "description")})
                for d in normalized]
        session.add_all(rows)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def delete_default_security_group_rule(env: Env, ctx: Context, rule_id: str,
                                       if_match: int | None = None) -> None:
    """Delete a template (groups made from it keep their rules);
    DefaultSecurityGroupRuleNotFound (404)."""
    def run(session: Session) -> None:
        session.delete(find(session, rule_id))
    env.db.run(run)


def update_default_security_group_rule(env: Env, ctx: Context, rule_id: str,
                                       data: dict[str, Any],
                                       if_match: int | None = None) -> listing.Written:
    """Templates have no writable attribute (the request schema refuses any:
    400); an empty update returns the template, DefaultSecurityGroupRuleNotFound (404)."""
    return env.db.run(lambda s: listing.Written([find(s, rule_id)]), write=False)

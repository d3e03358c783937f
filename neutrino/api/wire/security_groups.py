"""``security_group`` and ``security_group_rule`` as the API shows them (reference
B.6; neutron-lib ``security_groups``, ``stateful_security_group``,
``rbac_security_groups``, ``security_groups_normalized_cidr``,
``security_groups_remote_address_group``, ``security_groups_rules_belongs_to_default_sg``
definitions).

Columns are ``db.models.SecurityGroup``'s and ``SecurityGroupRule``'s; loads are
``services.security_group_reads.LOADS`` and ``RULE_LOADS``. A group's ``shared`` is
as the caller sees it (its RBAC grants, not the ``*`` column), and it holds its rules
(``security_groups.rules_of``: rule rows, oldest first, rendered as
``SECURITY_GROUP_RULE``). A rule has no
name and no tags; ``belongs_to_default_sg`` says its group is a project's default.
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import Attribute, Related, Resource, standard


def _rules(row: Any, rel: Related) -> list[dict[str, Any]]:
    """The group's rules as a rule's show answers them."""
    rules = rel["rules"].get(row["id"])
    if not rules:
        return []
    return SECURITY_GROUP_RULE.render_objects(rules, Related({"defaults": rel["rule_defaults"]}))


SECURITY_GROUP = Resource("security_group", "security_groups", standard() + (
    Attribute("stateful", "boolean", "stateful", default=True),
    # extension rbac-security-groups: as the caller sees it (a filter the service applies)
    Attribute("shared", "boolean", load="shared", default=False,
              value=lambda row, rel: row["id"] in rel["shared"]),
    Attribute("security_group_rules", "list", load="rules", value=_rules),
))

_RULE_COLUMNS = (
    ("security_group_id", "uuid"), ("direction", "string"), ("ethertype", "string"),
    ("protocol", "string"), ("port_range_min", "integer"), ("port_range_max", "integer"),
    ("remote_ip_prefix", "cidr"), ("normalized_cidr", "cidr"), ("remote_group_id", "uuid"),
    ("remote_address_group_id", "uuid"))

# the rule's standard attributes, without name; its description sorts too
_RULE_STANDARD = tuple(a for a in standard(tags=False)
                       if a.name != "name")

_RULE_OWN = tuple(Attribute(name, kind, name)
                  for name, kind in _RULE_COLUMNS)

# extension security-groups-rules-belongs-to-default-sg
_BELONGS = Attribute("belongs_to_default_sg", "boolean", load="defaults",
                     needs=("security_group_id",),
                     value=lambda row, rel: row["security_group_id"] in rel["defaults"])

SECURITY_GROUP_RULE = Resource("security_group_rule", "security_group_rules",
                               _RULE_STANDARD + _RULE_OWN + (_BELONGS,))

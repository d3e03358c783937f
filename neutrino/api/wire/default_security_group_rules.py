"""``default_security_group_rule`` as the API shows it (neutron-lib
``security_groups_default_rules`` definition).

Columns are ``db.models.SecurityGroupDefaultRule``'s and every attribute is one
(``services.default_security_group_rule_reads`` has no loads). The match attributes are
a security group rule's (``SECURITY_GROUP_RULE``'s: each filters and sorts); the
description and the two ``used_in_*`` flags filter but do not sort. A template has no
project: ``project_id``/``tenant_id`` are request attributes only. Every reader reads
every template.
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource
from neutrino.api.wire.security_groups import SECURITY_GROUP_RULE

_MATCH = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
          "remote_ip_prefix", "remote_group_id", "remote_address_group_id")

DEFAULT_SECURITY_GROUP_RULE = Resource(
    "default_security_group_rule", "default_security_group_rules", (
        Attribute("id", "uuid", "id"),
        Attribute("project_id", "string", shown=False),
        Attribute("tenant_id", "string", shown=False),
        *(SECURITY_GROUP_RULE[name] for name in _MATCH),
        Attribute("description", "string", "description", default=""),
        Attribute("used_in_default_sg", "boolean", "used_in_default_sg"),
        Attribute("used_in_non_default_sg", "boolean", "used_in_non_default_sg"),
    ))

"""``<type>_rule`` (``/v2.0/qos/policies/{policy_id}/<type>_rules``, and the alias
routes ``/v2.0/qos/alias_<type>_rules/{id}``) as the API shows it (neutron-lib ``qos``,
``qos_bw_limit_direction``, ``qos_bw_minimum_ingress``, ``qos_pps_rule`` definitions),
one declaration per type of ``services.qos_rules.RULE_TYPES``; and a policy's ``rules``.

Columns are the type's table's: ``id`` and the type's parameters, shown alike to every
caller who sees the policy (``services.qos_rule_reads``). ``qos_policy_id``, ``type``
and the project are known to request bodies but not shown in a rule's own answers.
Nothing filters or sorts: a policy's rules of a type list by id, whatever the query
says but ``fields=``.
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import Attribute, Resource

_DIRECTION = Attribute("direction", "string", "direction", default="egress")


def _rule(rule_type: str, *parameters: Attribute) -> Resource:
    """The declaration of one rule type: ``id``, ``parameters``, then the attributes
    only request bodies name."""
    return Resource(f"{rule_type}_rule", f"{rule_type}_rules", (
        Attribute("id", "uuid", "id"), *parameters,
        Attribute("qos_policy_id", "uuid", shown=False),
        Attribute("type", "string", shown=False),
        Attribute("project_id", "string", shown=False),
        Attribute("tenant_id", "string", shown=False)))


# rule type -> its declaration
RULES = {
    "bandwidth_limit": _rule("bandwidth_limit", Attribute("max_kbps", "integer", "max_kbps"),
                             Attribute("max_burst_kbps", "integer", "max_burst_kbps",
                                       default=0), _DIRECTION),
    "dscp_marking": _rule("dscp_marking", Attribute("dscp_mark", "integer", "dscp_mark")),
    "minimum_bandwidth": _rule("minimum_bandwidth",
                               Attribute("min_kbps", "integer", "min_kbps"), _DIRECTION),
    "packet_rate_limit": _rule("packet_rate_limit", Attribute("max_kpps", "integer", "max_kpps"),
                               Attribute("max_burst_kpps", "integer", "max_burst_kpps",
                                         default=0), _DIRECTION),
}


def policy_rules(rules: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """A policy's ``rules``: each ``(type, rule row)`` (``services.qos_rules.rule_rows``)
    as its type's declaration shows it, then its ``qos_policy_id`` and ``type``."""
    result = []
    for rule_type, row in rules:
        resource = RULES[rule_type]
        rule = resource.render_objects([row])[0]
        rule["qos_policy_id"], rule["type"] = row.qos_policy_id, rule_type
        result.append(rule)
    return result

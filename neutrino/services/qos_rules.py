"""QoS rules and rule types (extensions ``qos``, ``qos-bw-limit-direction``,
``qos-bw-minimum-ingress``, ``qos-pps``, ``qos-rules-alias``, ``qos-rule-type-details``).

A policy holds at most one rule per type and direction (DSCP marking: one per policy);
a second is ``QoSRulesConflict`` (409). A minimum bandwidth above the bandwidth limit of
the same direction is ``QoSRuleParameterConflict`` (409, ``checker.check_bandwidth_rule_conflict``).
The only backend is OVN, whose QoS driver supports what ML2/OVN's does
(``neutron/services/qos/drivers/ovn/driver.py`` ``SUPPORTED_RULES``): bandwidth limit
and minimum bandwidth in both directions, DSCP marking; a policy holding a rule it does
not support (packet rate limit) cannot be put on a port (``QosRuleNotSupported``, 409)
or network (``QosRuleNotSupportedByNetwork``, 409), and such a rule cannot be added to a
policy in use (Neutron's ``validate_policy``). ``GET /v2.0/qos/rule-types`` lists the
supported types; ``/{type}`` their driver and parameters as Neutron's driver manager
renders them (``_parse_parameter_values``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.policy import enforce
from neutrino.db.models import (QosBandwidthLimitRule, QosDscpMarkingRule,
                                    QosMinimumBandwidthRule, QosPacketRateLimitRule)
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env

DIRECTIONS = ("egress", "ingress")  # neutron-lib VALID_DIRECTIONS
VALID_DSCP_MARKS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44,
                    46, 48, 56)  # neutron-lib constants.VALID_DSCP_MARKS
DB_INTEGER_MAX_VALUE = 2 ** 31 - 1
DRIVER_NAME = "OVNQosDriver"  # ML2/OVN's driver name (OVNQosDriver.create)
_RANGE = {"type:range": [0, DB_INTEGER_MAX_VALUE]}
# ML2/OVN's SUPPORTED_RULES: rule type -> parameter -> validator
SUPPORTED_RULES: dict[str, dict[str, dict[str, Any]]] = {
    "bandwidth_limit": {"max_kbps": _RANGE, "max_burst_kbps": _RANGE,
                        "direction": {"type:values": list(DIRECTIONS)}},
    "dscp_marking": {"dscp_mark": {"type:values": list(VALID_DSCP_MARKS)}},
    "minimum_bandwidth": {"min_kbps": _RANGE, "direction": {"type:values": list(DIRECTIONS)}},
}


@dataclass(frozen=True)
class RuleType:
    """One rule type: its table, its parameters and its URL collection."""

    name: str
    model: Any
    fields: tuple[str, ...]
    directional: bool = True

    @property
    def collection(self) -> str:
        return f"{self.name}_rules"


RULE_TYPES = {t.name: t for t in (
    RuleType("bandwidth_limit", QosBandwidthLimitRule, ("max_kbps", "max_burst_kbps", "direction")),
    RuleType("dscp_marking", QosDscpMarkingRule, ("dscp_mark",), directional=False),
    RuleType("minimum_bandwidth", QosMinimumBandwidthRule, ("min_kbps", "direction")),
    RuleType("packet_rate_limit", QosPacketRateLimitRule,
             ("max_kpps", "max_burst_kpps", "direction")),
)}


def rule_rows(session: Session, policy_ids: Iterable[str]) -> dict[str, list[tuple[str, Any]]]:
    """``{policy id: [(rule type, rule row)]}``, by type (``RULE_TYPES``' order) then id;
    four queries (a policy's ``rules``: ``api/wire/qos_rules.py`` renders them)."""
    ids = list(policy_ids)
    result: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    if not ids:
        return result
    for rtype in RULE_TYPES.values():
        for row in session.scalars(select(rtype.model).where(
                rtype.model.qos_policy_id.in_(ids)).order_by(rtype.model.id)):
            result[row.qos_policy_id].append((rtype.name, row))
    return result


def rules_of(session: Session, policy_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """``{policy id: [{"type": rule type, parameter: value...}]}``: what the NB sync
    (``ovn.qos``) and the OVN support check read of a policy's rules; four queries."""
    return {pid: [{"type": name, **{f: getattr(row, f) for f in RULE_TYPES[name].fields}}
                  for name, row in rules]
            for pid, rules in rule_rows(session, policy_ids).items()}


def unsupported(session: Session, policy_id: str) -> str | None:
    """The first rule type of the policy OVN does not support (or whose values it
    does not accept), else None (the driver's ``is_rule_supported``)."""
    for rule in rules_of(session, [policy_id]).get(policy_id, []):
        params = SUPPORTED_RULES.get(rule["type"])
        if params is None or not all(_accepts(v, rule.get(p)) for p, v in params.items()):
            return rule["type"]
    return None


def _accepts(validator: dict[str, Any], value: Any) -> bool:
    if "type:range" in validator:
        low, high = validator["type:range"]
        return value is None or low <= value <= high
    return value in validator["type:values"]


# --- rules of a policy ----------------------------------------------------------------

def _policy(session: Session, ctx: Context, policy_id: str, *, change: str | None = None,
            rule_type: str = "", alias: bool = False) -> Any:
    """The rule's policy: visible to the caller, and for a ``change`` (``create``,
    ``update``, ``delete``) owned by it, then the change's rule checked (PolicyNotAuthorized,
    403, after the 404: Neutron finds the policy before its policy engine refuses; a
    ``create`` is checked first, as Neutron's POST)."""
    from neutrino.services import qos  # the policy service imports this module
    if change is None:
        return qos.find_visible(session, ctx, policy_id)
    rule = f"{change}_{'alias' if alias else 'policy'}_{rule_type}_rule"
    if change == "create":  # Neutron's POST checks its rule before looking the parent up
        enforce(ctx, rule)
    found = qos.find_owned(session, ctx, policy_id)
    enforce(ctx, rule)
    return found


def _find_rule(session: Session, rtype: RuleType, policy_id: str, rule_id: str) -> Any:
    row = session.get(rtype.model, rule_id)
    if row is None or row.qos_policy_id != policy_id:
        raise errors.QosRuleNotFound(policy_id, rule_id)
    return row


def _check(session: Session, rtype: RuleType, policy_id: str, row: Any) -> None:
    """One rule per type and direction (QoSRulesConflict); min <= max bandwidth
    (QoSRuleParameterConflict); a policy in use keeps to what OVN supports."""
    model = rtype.model
    stmt = select(model).where(model.qos_policy_id == policy_id, model.id != row.id)
    if rtype.directional:
        stmt = stmt.where(model.direction == row.direction)
    other = session.scalars(stmt.limit(1)).first()
    if other is not None:
        raise errors.QoSRulesConflict(rtype.name, other.id, policy_id)
    if rtype.name in ("bandwidth_limit", "minimum_bandwidth"):
        mins = row if rtype.name == "minimum_bandwidth" else session.scalars(
            select(QosMinimumBandwidthRule).where(
                QosMinimumBandwidthRule.qos_policy_id == policy_id,
                QosMinimumBandwidthRule.direction == row.direction)).first()
        maxs = row if rtype.name == "bandwidth_limit" else session.scalars(
            select(QosBandwidthLimitRule).where(
                QosBandwidthLimitRule.qos_policy_id == policy_id,
                QosBandwidthLimitRule.direction == row.direction)).first()
        if mins is not None and maxs is not None and mins.min_kbps > maxs.max_kbps:
            if rtype.name == "minimum_bandwidth":
                raise errors.QoSRuleParameterConflict(mins.min_kbps, policy_id,
                                                      "bandwidth_limit", maxs.max_kbps)
            raise errors.QoSRuleParameterConflict(maxs.max_kbps, policy_id,
                                                  "minimum_bandwidth", mins.min_kbps)


def _changed(session: Session, ctx: Context, policy: Any) -> None:
    """A rule change: a new policy revision, bound resources re-synced and checked."""
    from neutrino.services import qos_bindings
    session.flush()
    qos_bindings.validate_users(session, policy.id)
    common.touch(policy)
    qos_bindings.enqueue_users(session, policy.id)


def create_rule(env: Env, ctx: Context, rule_type: str, policy_id: str,
                data: dict[str, Any]) -> listing.Written:
    """Add a rule of ``rule_type`` to a policy the caller owns: the rule it wrote.
    ``data`` is validated by its schema. Raises QosPolicyNotFound (404),
    QoSRulesConflict, QoSRuleParameterConflict, QosRuleNotSupported (409)."""
    rtype = RULE_TYPES[rule_type]

    def run(session: Session) -> listing.Written:
        policy = _policy(session, ctx, policy_id, change="create", rule_type=rule_type)
        row = rtype.model(id=common.new_id(), qos_policy_id=policy_id,
                          **{f: data[f] for f in rtype.fields})
        _check(session, rtype, policy_id, row)
        session.add(row)
        _changed(session, ctx, policy)
        return listing.Written([row])
    return env.db.run(run)


def find_visible(session: Session, ctx: Context, rule_type: str, rule_id: str,
                 policy_id: str | None = None) -> Any:
    """The rule ``rule_id`` of ``rule_type`` of policy ``policy_id`` visible to the caller
    (None: the rule's own policy, the alias routes ``/v2.0/qos/alias_<type>_rules/{id}``
    of extension ``qos-rules-alias``). Raises QosRuleNotFound, QosPolicyNotFound (404)."""
    rtype = RULE_TYPES[rule_type]
    pid = policy_id or _policy_of(session, rtype, rule_id)
    _policy(session, ctx, pid)
    return _find_rule(session, rtype, pid, rule_id)


def of_visible_policy(session: Session, ctx: Context, rule_type: str, policy_id: str) -> Any:
    """The WHERE clause of the rules of ``rule_type`` of policy ``policy_id``, visible to
    the caller. Raises QosPolicyNotFound (404)."""
    _policy(session, ctx, policy_id)
    return RULE_TYPES[rule_type].model.qos_policy_id == policy_id


def update_rule(env: Env, ctx: Context, rule_type: str, policy_id: str | None, rule_id: str,
                data: dict[str, Any]) -> listing.Written:
    """Change a rule's parameters: the rule it wrote. ``policy_id`` None: the alias route
    (the rule's own policy). Raises as :func:`create_rule` and QosRuleNotFound (404)."""
    rtype = RULE_TYPES[rule_type]

    def run(session: Session) -> listing.Written:
        pid = policy_id or _policy_of(session, rtype, rule_id)
        policy = _policy(session, ctx, pid, change="update", rule_type=rule_type,
                         alias=policy_id is None)
        row = _find_rule(session, rtype, pid, rule_id)
        with session.no_autoflush:
            for f in rtype.fields:
                if f in data:
                    setattr(row, f, data[f])
            _check(session, rtype, pid, row)
        _changed(session, ctx, policy)
        return listing.Written([row])
    return env.db.run(run)


def delete_rule(env: Env, ctx: Context, rule_type: str, policy_id: str | None,
                rule_id: str) -> None:
    """Remove a rule (``policy_id`` None: the alias route). QosRuleNotFound (404)."""
    rtype = RULE_TYPES[rule_type]

    def run(session: Session) -> None:
        pid = policy_id or _policy_of(session, rtype, rule_id)
        policy = _policy(session, ctx, pid, change="delete", rule_type=rule_type,
                         alias=policy_id is None)
        session.delete(_find_rule(session, rtype, pid, rule_id))
        _changed(session, ctx, policy)
    env.db.run(run)


def _policy_of(session: Session, rtype: RuleType, rule_id: str) -> str:
    row = session.get(rtype.model, rule_id)
    if row is None:
        raise errors.QosRuleNotFound("", rule_id)
    return row.qos_policy_id


# --- rule types -------------------------------------------------------------------------

def list_rule_types(env: Env, ctx: Context, all_supported: bool = False,
                    all_rules: bool = False) -> list[dict[str, str]]:
    """``GET /v2.0/qos/rule-types``: the types the OVN driver supports (``all_rules``:
    every type the API knows)."""
    names = RULE_TYPES if all_rules else SUPPORTED_RULES
    return [{"type": name} for name in sorted(names)]


def get_rule_type(env: Env, ctx: Context, rule_type: str) -> dict[str, Any]:
    """``GET /v2.0/qos/rule-types/{type}``: the type and its drivers' parameters
    (``parameter_type`` ``range`` with ``start``/``end``, or ``choices``). Raises
    RuleTypeNotFound (404) for a type the API does not know, NotAuthorized (403) unless
    admin (``QoSPlugin.get_rule_type``)."""
    if not ctx.is_admin:  # Neutron's plugin answers 403 whatever the policy says
        raise errors.NotAuthorized("Not authorized.")
    if rule_type not in RULE_TYPES:
        raise errors.RuleTypeNotFound(rule_type)
    drivers = []
    if rule_type in SUPPORTED_RULES:
        params = []
        for name, validator in SUPPORTED_RULES[rule_type].items():
            if "type:range" in validator:
                start, end = validator["type:range"]
                params.append({"parameter_name": name, "parameter_type": "range",
                               "parameter_values": {"start": start, "end": end}})
            else:
                params.append({"parameter_name": name, "parameter_type": "choices",
                               "parameter_values": list(validator["type:values"])})
        drivers.append({"name": DRIVER_NAME, "supported_parameters": params})
    return {"type": rule_type, "drivers": drivers}

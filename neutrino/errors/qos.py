"""Errors of QoS policies and rules (neutron-lib ``exceptions/qos.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, NotFound


class QosPolicyNotFound(NotFound):
    template = "QoS policy {policy_id} could not be found."


class QosRuleNotFound(NotFound):
    template = "QoS rule {rule_id} for policy {policy_id} could not be found."
    params = ("policy_id", "rule_id")


class QoSPolicyDefaultAlreadyExists(Conflict):
    template = "A default QoS policy exists for project {project_id}."


class QosPolicyInUse(Conflict):
    template = "QoS Policy {policy_id} is used by {object_type} {object_id}."


class QosRuleNotSupported(Conflict):
    template = "Rule {rule_type} is not supported by port {port_id}"


class QosRuleNotSupportedByNetwork(Conflict):
    template = "Rule {rule_type} is not supported by network {network_id}"


class QoSRulesConflict(Conflict):
    template = ("Rule {new_rule_type} conflicts with rule {rule_id} which already exists in "
                "QoS Policy {policy_id}.")


class QoSRuleParameterConflict(Conflict):
    template = ("Unable to add the rule with value {rule_value} to the policy {policy_id} as "
                "the existing rule of type {existing_rule} has value {existing_value}.")


class RuleTypeNotFound(NotFound):
    template = "Rule type {rule_type} could not be found."

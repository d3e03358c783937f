"""Errors of QoS policies and rules (neutron-lib ``exceptions/qos.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, NotFound


class QosPolicyNotFound(NotFound):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"QoS policy {policy_id} could not be found.")


class QosRuleNotFound(NotFound):
    def __init__(self, policy_id: str, rule_id: str) -> None:
        super().__init__(f"QoS rule {rule_id} for policy {policy_id} could not be found.")


class QoSPolicyDefaultAlreadyExists(Conflict):
    def __init__(self, project_id: str) -> None:
        super().__init__(f"A default QoS policy exists for project {project_id}.")


class QosPolicyInUse(Conflict):
    def __init__(self, policy_id: str, object_type: str, object_id: str) -> None:
        super().__init__(f"QoS Policy {policy_id} is used by {object_type} {object_id}.")


class QosRuleNotSupported(Conflict):
    def __init__(self, rule_type: str, port_id: str) -> None:
        super().__init__(f"Rule {rule_type} is not supported by port {port_id}")


class QosRuleNotSupportedByNetwork(Conflict):
    def __init__(self, rule_type: str, network_id: str) -> None:
        super().__init__(f"Rule {rule_type} is not supported by network {network_id}")


class QoSRulesConflict(Conflict):
    def __init__(self, new_rule_type: str, rule_id: str, policy_id: str) -> None:
        super().__init__(f"Rule {new_rule_type} conflicts with rule {rule_id} which already "
                         f"exists in QoS Policy {policy_id}.")


class QoSRuleParameterConflict(Conflict):
    def __init__(self, rule_value: int, policy_id: str, existing_rule: str,
                 existing_value: int) -> None:
        super().__init__(f"Unable to add the rule with value {rule_value} to the policy "
                         f"{policy_id} as the existing rule of type {existing_rule} has value "
                         f"{existing_value}.")


class RuleTypeNotFound(NotFound):
    def __init__(self, rule_type: str) -> None:
        super().__init__(f"Rule type {rule_type} could not be found.")

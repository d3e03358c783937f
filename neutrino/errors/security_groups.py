"""Errors of security groups, port security and allowed address pairs (neutron-lib
``exceptions/securitygroup.py``, ``port_security.py``, ``allowedaddresspairs.py``;
the default rules: ``neutron/extensions/security_groups_default_rules.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InvalidInput, NotFound


class SecurityGroupNotFound(NotFound):
    def __init__(self, sg_id: str) -> None:
        super().__init__(f"Security group {sg_id} does not exist")


class SecurityGroupRuleNotFound(NotFound):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Security group rule {rule_id} does not exist")


# extension security-groups-default-rules (neutron/extensions/security_groups_default_rules.py)
class DefaultSecurityGroupRuleNotFound(NotFound):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Default Security Group rule {rule_id} does not exist")


class DefaultSecurityGroupRuleExists(Conflict):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Default Security group rule already exists. Rule id is {rule_id}.")


class DuplicateDefaultSgRuleInPost(Conflict):
    def __init__(self) -> None:
        super().__init__("Duplicate Default Security Group Rule in POST.")


class SecurityGroupInUse(Conflict):
    def __init__(self, sg_id: str) -> None:
        super().__init__(f"Security Group {sg_id} in use.")


class SecurityGroupCannotRemoveDefault(Conflict):
    def __init__(self) -> None:
        super().__init__("Insufficient rights for removing default security group.")


class SecurityGroupCannotUpdateDefault(Conflict):
    def __init__(self) -> None:
        super().__init__("Updating default security group not allowed.")


class SecurityGroupDefaultAlreadyExists(Conflict):
    def __init__(self) -> None:
        super().__init__("Default security group already exists.")


class SecurityGroupConflict(Conflict):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Error {reason} while attempting the operation.")


class SecurityGroupRuleExists(Conflict):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"Security group rule already exists. Rule id is {rule_id}.")


class DuplicateSecurityGroupRuleInPost(Conflict):
    def __init__(self) -> None:
        super().__init__("Duplicate Security Group Rule in POST.")


class SecurityGroupRuleInvalidProtocol(InvalidInput):
    def __init__(self, protocol: str, values: list[str]) -> None:
        super().__init__(f"Security group rule protocol {protocol} not supported. Only protocol "
                         f"values {values} and integer representations [0 to 255] are supported.")


class SecurityGroupProtocolRequiredWithPorts(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Must also specify protocol if port range is given.")


class SecurityGroupInvalidPortRange(InvalidInput):
    def __init__(self) -> None:
        super().__init__("For TCP/UDP protocols, port_range_min must be <= port_range_max")


class SecurityGroupInvalidPortValue(InvalidInput):
    def __init__(self, port: object) -> None:
        super().__init__(f"Invalid value for port {port}")


class SecurityGroupInvalidIcmpValue(InvalidInput):
    def __init__(self, field: str, attr: str, value: int) -> None:
        super().__init__(f"Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255.")


class SecurityGroupMissingIcmpType(InvalidInput):
    def __init__(self, value: int) -> None:
        super().__init__(f"ICMP code (port-range-max) {value} is provided but ICMP type "
                         "(port-range-min) is missing.")


class SecurityGroupInvalidProtocolForPort(InvalidInput):
    def __init__(self, protocol: str, valid: str) -> None:
        super().__init__(f"Invalid protocol {protocol} for port range, only supported for "
                         f"{valid} protocols.")


class SecurityGroupEthertypeConflictWithProtocol(InvalidInput):
    def __init__(self, ethertype: str, protocol: str) -> None:
        super().__init__(f"Invalid ethertype {ethertype} for protocol {protocol}.")


class SecurityGroupRuleParameterConflict(InvalidInput):
    def __init__(self, ethertype: str, cidr: str) -> None:
        super().__init__(f"Conflicting value ethertype {ethertype} for CIDR {cidr}")


class SecurityGroupMultipleRemoteEntites(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Only one of remote_ip_prefix or remote_group_id or "
                         "remote_address_group_id may be provided.")


class SecurityGroupNotSingleGroupRules(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Only allowed to update rules for one security profile at a time")


class PortSecurityAndIPRequiredForSecurityGroups(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Port security must be enabled and port must have an IP address in "
                         "order to use security groups.")


class PortSecurityPortHasSecurityGroup(Conflict):
    def __init__(self) -> None:
        super().__init__("Port has security group associated. Cannot disable port security or "
                         "IP address until security group is removed")


class AddressPairAndPortSecurityRequired(Conflict):
    def __init__(self) -> None:
        super().__init__("Port Security must be enabled in order to have allowed address pairs "
                         "on a port.")


class AllowedAddressPairExhausted(BadRequest):
    def __init__(self, quota: int) -> None:
        super().__init__(f"The number of allowed address pair exceeds the maximum {quota}.")


class DuplicateAddressPairInRequest(InvalidInput):
    def __init__(self, mac: str, ip: str) -> None:
        super().__init__(f"Request contains duplicate address pair: mac_address {mac} "
                         f"ip_address {ip}.")

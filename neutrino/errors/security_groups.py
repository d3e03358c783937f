"""Errors of security groups, port security and allowed address pairs (neutron-lib
``exceptions/securitygroup.py``, ``port_security.py``, ``allowedaddresspairs.py``;
the default rules: ``neutron/extensions/security_groups_default_rules.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InvalidInput, NotFound


class SecurityGroupNotFound(NotFound):
    template = "Security group {sg_id} does not exist"


class SecurityGroupRuleNotFound(NotFound):
    template = "Security group rule {rule_id} does not exist"


# extension security-groups-default-rules (neutron/extensions/security_groups_default_rules.py)
class DefaultSecurityGroupRuleNotFound(NotFound):
    template = "Default Security Group rule {rule_id} does not exist"


class DefaultSecurityGroupRuleExists(Conflict):
    template = "Default Security group rule already exists. Rule id is {rule_id}."


class DuplicateDefaultSgRuleInPost(Conflict):
    template = "Duplicate Default Security Group Rule in POST."


class SecurityGroupInUse(Conflict):
    template = "Security Group {sg_id} in use."


class SecurityGroupCannotRemoveDefault(Conflict):
    template = "Insufficient rights for removing default security group."


class SecurityGroupCannotUpdateDefault(Conflict):
    template = "Updating default security group not allowed."


class SecurityGroupDefaultAlreadyExists(Conflict):
    template = "Default security group already exists."


class SecurityGroupConflict(Conflict):
    template = "Error {reason} while attempting the operation."


class SecurityGroupRuleExists(Conflict):
    template = "Security group rule already exists. Rule id is {rule_id}."


class DuplicateSecurityGroupRuleInPost(Conflict):
    template = "Duplicate Security Group Rule in POST."


class SecurityGroupRuleInvalidProtocol(InvalidInput):
    template = ("Security group rule protocol {protocol} not supported. Only protocol values "
                "{values} and integer representations [0 to 255] are supported.")


class SecurityGroupProtocolRequiredWithPorts(InvalidInput):
    template = "Must also specify protocol if port range is given."


class SecurityGroupInvalidPortRange(InvalidInput):
    template = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(InvalidInput):
    template = "Invalid value for port {port}"


class SecurityGroupInvalidIcmpValue(InvalidInput):
    template = "Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255."


class SecurityGroupMissingIcmpType(InvalidInput):
    template = ("ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) "
                "is missing.")


class SecurityGroupInvalidProtocolForPort(InvalidInput):
    template = "Invalid protocol {protocol} for port range, only supported for {valid} protocols."


class SecurityGroupEthertypeConflictWithProtocol(InvalidInput):
    template = "Invalid ethertype {ethertype} for protocol {protocol}."


class SecurityGroupRuleParameterConflict(InvalidInput):
    template = "Conflicting value ethertype {ethertype} for CIDR {cidr}"


class SecurityGroupMultipleRemoteEntites(InvalidInput):
    template = ("Only one of remote_ip_prefix or remote_group_id or remote_address_group_id "
                "may be provided.")


class SecurityGroupNotSingleGroupRules(InvalidInput):
    template = "Only allowed to update rules for one security profile at a time"


class PortSecurityAndIPRequiredForSecurityGroups(InvalidInput):
    template = ("Port security must be enabled and port must have an IP address in order to "
                "use security groups.")


class PortSecurityPortHasSecurityGroup(Conflict):
    template = ("Port has security group associated. Cannot disable port security or IP "
                "address until security group is removed")


class AddressPairAndPortSecurityRequired(Conflict):
    template = "Port Security must be enabled in order to have allowed address pairs on a port."


class AllowedAddressPairExhausted(BadRequest):
    template = "The number of allowed address pair exceeds the maximum {quota}."


class DuplicateAddressPairInRequest(InvalidInput):
    template = "Request contains duplicate address pair: mac_address {mac} ip_address {ip}."

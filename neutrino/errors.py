"""Errors named and numbered as Neutron's (neutron-lib ``exceptions``, ``api/faults.py``).

Every layer raises these; ``api/errors.py`` renders them as
``{"NeutronError": {"type": <class name>, "message": ..., "detail": ""}}``
with ``status``. Kept at the package root so ``ipam`` and ``services`` share them.
"""

from __future__ import annotations


class NeutronError(Exception):
    """Base: ``status`` is the HTTP status, the class name is the error type."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def type(self) -> str:
        return type(self).__name__


class BadRequest(NeutronError):
    status = 400


class FixedIpsSubnetsNotOnSameSegment(BadRequest):
    """A port's fixed IPs on subnets of different segments (neutron-lib
    ``exceptions/segments.py``): a port sits on one segment."""

    def __init__(self) -> None:
        super().__init__("Cannot allocate addresses from different segments.")


class InvalidInput(BadRequest):
    pass


class HTTPBadRequest(BadRequest):
    """Malformed requests (body shape, unknown attributes), as webob names them."""


class NotAuthorized(NeutronError):
    status = 403


class PolicyNotAuthorized(NotAuthorized):
    def __init__(self, action: str) -> None:
        super().__init__(f"({action}) is disallowed by policy")


class NotFound(NeutronError):
    status = 404


class HTTPNotFound(NotFound):
    def __init__(self, message: str = "The resource could not be found.") -> None:
        super().__init__(message)


class Conflict(NeutronError):
    status = 409


class PreconditionFailed(NeutronError):
    status = 412


# --- resources ---------------------------------------------------------------

class NetworkNotFound(NotFound):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"Network {net_id} could not be found.")


class SubnetNotFound(NotFound):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(f"Subnet {subnet_id} could not be found.")


class PortNotFound(NotFound):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} could not be found.")


class TagNotFound(NotFound):
    def __init__(self, resource_id: str, tag: str) -> None:
        super().__init__(f"Tag {tag} could not be found for resource {resource_id}.")


class TagResourceNotFound(NotFound):
    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"Resource {resource} {resource_id} could not be found.")


class ExtensionNotFound(NotFound):
    def __init__(self, alias: str) -> None:
        super().__init__(f"Extension with alias {alias} does not exist")


class NetworkInUse(Conflict):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"Unable to complete operation on network {net_id}. "
                         "There are one or more ports still in use on the network.")


class SubnetInUse(Conflict):
    def __init__(self, subnet_id: str) -> None:
        super().__init__(f"Unable to complete operation on subnet {subnet_id}: "
                         "One or more ports have an IP allocation from this subnet.")


class MacAddressInUse(Conflict):
    def __init__(self, net_id: str, mac: str) -> None:
        super().__init__(f"Unable to complete operation for network {net_id}. "
                         f"The mac address {mac} is in use.")


class IpAddressAlreadyAllocated(Conflict):
    def __init__(self, ip: str, subnet_id: str) -> None:
        super().__init__(f"IP address {ip} already allocated in subnet {subnet_id}")


class IpAddressGenerationFailure(Conflict):
    pass


class InvalidIpForSubnet(BadRequest):
    def __init__(self, ip: str) -> None:
        super().__init__(f"IP address {ip} is not a valid IP for the specified subnet.")


class InvalidIpForNetwork(BadRequest):
    def __init__(self, ip: str) -> None:
        super().__init__(f"IP address {ip} is not a valid IP for any of the subnets "
                         "on the specified network.")


class OutOfBoundsAllocationPool(BadRequest):
    def __init__(self, pool: str, cidr: str) -> None:
        super().__init__(f"The allocation pool {pool} spans beyond the subnet cidr {cidr}.")


class OverlappingAllocationPools(Conflict):
    def __init__(self, pool_1: str, pool_2: str, subnet_cidr: str) -> None:
        super().__init__(f"Found overlapping allocation pools: {pool_1} and {pool_2} "
                         f"for subnet {subnet_cidr}.")


class GatewayConflictWithAllocationPools(Conflict):
    def __init__(self, ip: str, pool: str) -> None:
        super().__init__(f"Gateway ip {ip} conflicts with allocation pool {pool}.")


class OverQuota(Conflict):
    def __init__(self, resources: list[str]) -> None:
        super().__init__(f"Quota exceeded for resources: {resources}.")


class TenantIdProjectIdFilterConflict(BadRequest):
    def __init__(self) -> None:
        super().__init__("Both tenant_id and project_id passed as filters.")


# --- provider networks (neutron-lib exceptions) --------------------------------

class FlatNetworkInUse(Conflict):
    def __init__(self, physical_network: str) -> None:
        super().__init__(f"Unable to create the flat network. Physical network "
                         f"{physical_network} is in use.")


class VlanIdInUse(Conflict):
    def __init__(self, vlan_id: int, physical_network: str) -> None:
        super().__init__(f"Unable to create the network. The VLAN {vlan_id} on physical "
                         f"network {physical_network} is in use.")


class TunnelIdInUse(Conflict):
    def __init__(self, tunnel_id: int) -> None:
        super().__init__(f"Unable to create the network. The tunnel ID {tunnel_id} is in use.")


# --- L3 (neutron-lib exceptions/l3.py) -------------------------------------------

class RouterNotFound(NotFound):
    def __init__(self, router_id: str) -> None:
        super().__init__(f"Router {router_id} could not be found")


class RouterInUse(Conflict):
    def __init__(self, router_id: str, reason: str = "still has ports") -> None:
        super().__init__(f"Router {router_id} {reason}")


class RouterInterfaceNotFound(NotFound):
    def __init__(self, router_id: str, port_id: str) -> None:
        super().__init__(f"Router {router_id} does not have an interface with id {port_id}")


class RouterInterfaceNotFoundForSubnet(NotFound):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router {router_id} has no interface on subnet {subnet_id}")


class RouterInterfaceInUseByFloatingIP(Conflict):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router interface for subnet {subnet_id} on router {router_id} cannot "
                         "be deleted, as it is required by one or more floating IPs.")


class RouterInterfaceInUseByRoute(Conflict):
    def __init__(self, router_id: str, subnet_id: str) -> None:
        super().__init__(f"Router interface for subnet {subnet_id} on router {router_id} cannot "
                         "be deleted, as it is required by one or more routes.")


class RouterExternalGatewayInUseByFloatingIp(Conflict):
    def __init__(self, router_id: str, net_id: str) -> None:
        super().__init__(f"Gateway cannot be updated for router {router_id}, since a gateway to "
                         f"external network {net_id} is required by one or more floating IPs.")


class InvalidRoutes(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid format for routes: {reason}")


class PortInUse(Conflict):
    def __init__(self, net_id: str, port_id: str, device_id: str) -> None:
        super().__init__(f"Unable to complete operation on port {port_id} for network {net_id}. "
                         f"Port already has an attached device {device_id}.")


class ServicePortInUse(Conflict):
    def __init__(self, port_id: str, device_owner: str) -> None:
        super().__init__(f"Port {port_id} cannot be deleted directly via the port API: has "
                         f"device owner {device_owner}.")


class FloatingIPNotFound(NotFound):
    def __init__(self, fip_id: str) -> None:
        super().__init__(f"Floating IP {fip_id} could not be found")


class FloatingIPPortAlreadyAssociated(Conflict):
    def __init__(self, fip: str, fip_id: str, port_id: str, fixed_ip: str, net_id: str) -> None:
        super().__init__(f"Cannot associate floating IP {fip} ({fip_id}) with port {port_id} "
                         f"using fixed IP {fixed_ip}, as that fixed IP already has a floating IP "
                         f"on external network {net_id}.")


class ExternalGatewayForFloatingIPNotFound(NotFound):
    def __init__(self, subnet_id: str, external_network_id: str, port_id: str) -> None:
        super().__init__(f"External network {external_network_id} is not reachable from subnet "
                         f"{subnet_id}.  Therefore, cannot associate Port {port_id} with a "
                         "Floating IP.")


class ExternalIpAddressExhausted(BadRequest):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"Unable to find any IP address on external network {net_id}.")


# --- security groups (neutron-lib exceptions/securitygroup.py, port_security.py,
# allowedaddresspairs.py) ------------------------------------------------------

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


# --- RBAC policies (neutron/extensions/rbac.py, neutron/db/rbac_db_models.py) ------

class RbacPolicyNotFound(NotFound):
    def __init__(self, policy_id: str, object_type: str = "unknown") -> None:
        super().__init__(f"RBAC policy of type {object_type} with ID {policy_id} not found")


class RbacPolicyInUse(Conflict):
    def __init__(self, object_id: str, details: str) -> None:
        super().__init__(f"RBAC policy on object {object_id} cannot be removed because other "
                         f"objects depend on it.\nDetails: {details}")


class DuplicateRbacPolicy(Conflict):
    def __init__(self) -> None:
        super().__init__("An RBAC policy already exists with those values.")


class InvalidActionForType(InvalidInput):
    def __init__(self, action: str, object_type: str, valid_actions: tuple[str, ...]) -> None:
        super().__init__(f"Invalid action '{action}' for object type '{object_type}'. "
                         f"Valid actions: {valid_actions}")


# --- subnet pools and address scopes (neutron-lib exceptions/__init__.py,
# exceptions/address_scope.py) ------------------------------------------------------

class SubnetPoolNotFound(NotFound):
    def __init__(self, subnetpool_id: str) -> None:
        super().__init__(f"Subnet pool {subnetpool_id} could not be found.")


class SubnetPoolDeleteError(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Unable to delete subnet pool: {reason}.")


class EmptySubnetPoolPrefixList(BadRequest):
    def __init__(self) -> None:
        super().__init__("Empty subnet pool prefix list.")


class PrefixVersionMismatch(BadRequest):
    def __init__(self) -> None:
        super().__init__("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")


class UnsupportedMinSubnetPoolPrefix(BadRequest):
    def __init__(self, prefix: int, version: int) -> None:
        super().__init__(f"Prefix '{prefix}' not supported in IPv{version} pool.")


class IllegalSubnetPoolPrefixBounds(BadRequest):
    def __init__(self, prefix_type: str, prefixlen: int, base_prefix_type: str,
                 base_prefixlen: int) -> None:
        super().__init__(f"Illegal prefix bounds: {prefix_type}={prefixlen}, "
                         f"{base_prefix_type}={base_prefixlen}.")


class IllegalSubnetPoolPrefixUpdate(BadRequest):
    def __init__(self, msg: str) -> None:
        super().__init__(f"Illegal update to prefixes: {msg}.")


class IllegalSubnetPoolUpdate(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Illegal subnetpool update : {reason}.")


class SubnetAllocationError(Conflict):
    """No room in the pool for the requested prefix. Neutron's exception has no
    HTTP mapping, so Neutron answers 500 with this type; neutrino answers 409
    (the request cannot be served in the pool's current state, as a full
    subnet's IpAddressGenerationFailure), with Neutron's type and message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Failed to allocate subnet: {reason}.")


class MinPrefixSubnetAllocationError(BadRequest):
    def __init__(self, prefixlen: int, min_prefixlen: int) -> None:
        super().__init__(f"Unable to allocate subnet with prefix length {prefixlen}, "
                         f"minimum allowed prefix is {min_prefixlen}.")


class MaxPrefixSubnetAllocationError(BadRequest):
    def __init__(self, prefixlen: int, max_prefixlen: int) -> None:
        super().__init__(f"Unable to allocate subnet with prefix length {prefixlen}, "
                         f"maximum allowed prefix is {max_prefixlen}.")


class SubnetPoolQuotaExceeded(Conflict):
    """neutron-lib's is an OverQuota (409)."""

    def __init__(self) -> None:
        super().__init__("Per-project subnet pool prefix quota exceeded.")


class NetworkSubnetPoolAffinityError(BadRequest):
    def __init__(self) -> None:
        super().__init__("Subnets hosted on the same network must be allocated from the same "
                         "subnet pool.")


class AddressScopeNotFound(NotFound):
    def __init__(self, address_scope_id: str) -> None:
        super().__init__(f"Address scope {address_scope_id} could not be found.")


class AddressScopeInUse(Conflict):
    def __init__(self, address_scope_id: str) -> None:
        super().__init__(f"Unable to complete operation on address scope {address_scope_id}. "
                         "There are one or more subnet pools in use on the address scope.")


class AddressScopeUpdateError(BadRequest):
    def __init__(self, address_scope_id: str, reason: str) -> None:
        super().__init__(f"Unable to update address scope {address_scope_id} : {reason}.")


class AddressScopePrefixConflict(Conflict):
    def __init__(self) -> None:
        super().__init__("Failed to associate address scope: subnetpools within an address "
                         "scope must have unique prefixes.")


class IllegalSubnetPoolAssociationToAddressScope(BadRequest):
    def __init__(self, subnetpool_id: str, address_scope_id: str) -> None:
        super().__init__(f"Illegal subnetpool association: subnetpool {subnetpool_id} cannot be "
                         f"associated with address scope {address_scope_id}.")


class IllegalSubnetPoolIpVersionAssociationToAddressScope(BadRequest):
    def __init__(self, subnetpool_id: str, address_scope_id: str, ip_version: int) -> None:
        super().__init__(f"Illegal subnetpool association: subnetpool {subnetpool_id} cannot "
                         f"associate with address scope {address_scope_id} because subnetpool "
                         f"ip_version is not {ip_version}.")


class NetworkAddressScopeAffinityError(BadRequest):
    def __init__(self) -> None:
        super().__init__("Subnets of the same address family hosted on the same network must "
                         "all participate in the same address scope.")


class AgentNotFound(NotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"Agent {agent_id} could not be found.")


class AvailabilityZoneNotFound(NotFound):
    def __init__(self, zone: str) -> None:
        super().__init__(f"AvailabilityZone {zone} could not be found.")


# --- address groups (neutron-lib exceptions/address_group.py) ---------------------------

class AddressGroupNotFound(NotFound):
    def __init__(self, address_group_id: str) -> None:
        super().__init__(f"Address group {address_group_id} could not be found.")


class AddressGroupInUse(Conflict):
    def __init__(self, address_group_id: str) -> None:
        super().__init__(f"Address group {address_group_id} is in use on one or more "
                         "security group rules.")


class AddressesNotFound(NotFound):
    def __init__(self, addresses: list[str], address_group_id: str) -> None:
        super().__init__(f"Addresses {addresses} not found in the address group "
                         f"{address_group_id}.")


class AddressesAlreadyExist(BadRequest):
    def __init__(self, addresses: list[str], address_group_id: str) -> None:
        super().__init__(f"Addresses {addresses} already exist in the address group "
                         f"{address_group_id}.")


# --- port bindings and Nova's port attributes (neutron_lib.exceptions) --------

class PortBound(Conflict):
    """A bound port's MAC cannot change (Neutron's ``_check_mac_update_allowed``)."""

    def __init__(self, port_id: str, vif_type: str, old_mac: str, new_mac: str) -> None:
        super().__init__(f"Unable to complete operation on port {port_id}, port is already "
                         f"bound, port type: {vif_type}, old_mac {old_mac}, new_mac {new_mac}.")


class PortBoundNUMAAffinityPolicy(Conflict):
    def __init__(self, port_id: str, host_id: str, policy: str | None) -> None:
        super().__init__(f"Unable to complete operation on port {port_id}, port is already "
                         f"bound to host {host_id}, numa_affinity_policy value given {policy}.")


class PortBindingNotFound(NotFound):
    def __init__(self, port_id: str, host: str) -> None:
        super().__init__(f"Binding for port {port_id} for host {host} could not be found.")


class PortBindingAlreadyActive(Conflict):
    def __init__(self, port_id: str, host: str) -> None:
        super().__init__(f"Binding for port {port_id} on host {host} is already active.")


class PortBindingAlreadyExists(Conflict):
    def __init__(self, port_id: str, host: str) -> None:
        super().__init__(f"Binding for port {port_id} on host {host} already exists.")


# --- network logs (neutron/services/logapi/common/exceptions.py) ------------------------

class LogResourceNotFound(NotFound):
    def __init__(self, log_id: str) -> None:
        super().__init__(f"Log resource {log_id} could not be found.")


class InvalidLogResourceType(InvalidInput):
    def __init__(self, resource_type: str) -> None:
        super().__init__(f"Invalid log resource_type: {resource_type}.")


class LoggingTypeNotSupported(Conflict):
    def __init__(self, log_type: str, port_id: str) -> None:
        super().__init__(f"Logging type {log_type} is not supported on port {port_id}.")


class TargetResourceNotFound(NotFound):
    def __init__(self, target_id: str) -> None:
        super().__init__(f"Target resource {target_id} could not be found.")


class ResourceNotFound(NotFound):
    def __init__(self, resource_id: str) -> None:
        super().__init__(f"Resource {resource_id} could not be found.")


class InvalidResourceConstraint(InvalidInput):
    def __init__(self, resource: str, resource_id: str, target_resource: str,
                 target_id: str) -> None:
        super().__init__(f"Invalid resource constraint between resource ({resource} "
                         f"{resource_id}) and target resource ({target_resource} {target_id}).")


# --- flavors (neutron_lib.exceptions.flavors) ---------------------------------------------

class FlavorNotFound(NotFound):
    def __init__(self, flavor_id: str) -> None:
        super().__init__(f"Flavor {flavor_id} could not be found.")


class ServiceProfileNotFound(NotFound):
    def __init__(self, sp_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} could not be found.")


class ServiceProfileInUse(Conflict):
    def __init__(self, sp_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} is used by some service instance.")


class FlavorServiceProfileBindingExists(Conflict):
    def __init__(self, sp_id: str, fl_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} is already associated with flavor {fl_id}.")


class FlavorServiceProfileBindingNotFound(NotFound):
    def __init__(self, sp_id: str, fl_id: str) -> None:
        super().__init__(f"Service Profile {sp_id} is not associated with flavor {fl_id}.")


class ServiceProfileDriverNotFound(NotFound):
    def __init__(self, driver: str) -> None:
        super().__init__(f"Service Profile driver {driver} could not be found.")


class ServiceProfileEmpty(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Service Profile needs either a driver or metainfo.")


class FlavorInUse(Conflict):
    def __init__(self, flavor_id: str) -> None:
        super().__init__(f"Flavor {flavor_id} is used by some service instance.")


class ServiceProfileDisabled(NeutronError):
    status = 503

    def __init__(self) -> None:
        super().__init__("Service Profile is not enabled.")


# --- trunks (neutron/services/trunk/exceptions.py) ---------------------------------

class TrunkNotFound(NotFound):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} could not be found.")


class SubPortNotFound(NotFound):
    def __init__(self, trunk_id: str, port_id: str) -> None:
        super().__init__(f"SubPort {port_id} on trunk {trunk_id} could not be found.")


class TrunkPortInUse(Conflict):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} is in use by another trunk.")


class DuplicateSubPort(Conflict):
    def __init__(self, segmentation_type: str, segmentation_id: int, trunk_id: str) -> None:
        super().__init__(f"segmentation_type {segmentation_type} and segmentation_id "
                         f"{segmentation_id} already in use on trunk {trunk_id}.")


class ParentPortInUse(Conflict):
    def __init__(self, port_id: str) -> None:
        super().__init__(f"Port {port_id} is currently in use and is not eligible for use "
                         "as a parent port.")


class SubPortMtuGreaterThanTrunkPortMtu(Conflict):
    def __init__(self, port_id: str, port_mtu: int, trunk_id: str, trunk_mtu: int) -> None:
        super().__init__(f"MTU {port_mtu} of subport {port_id} cannot be greater than MTU "
                         f"{trunk_mtu} of trunk {trunk_id}.")


class PortInUseAsTrunkParent(Conflict):
    def __init__(self, port_id: str, trunk_id: str) -> None:
        super().__init__(f"Port {port_id} is currently a parent port for trunk {trunk_id}.")


class PortInUseAsSubPort(Conflict):
    def __init__(self, port_id: str, trunk_id: str) -> None:
        super().__init__(f"Port {port_id} is currently a subport for trunk {trunk_id}.")


class TrunkDisabled(Conflict):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} is currently disabled.")


class TrunkInErrorState(Conflict):
    def __init__(self, trunk_id: str) -> None:
        super().__init__(f"Trunk {trunk_id} is in error state. Attempt to resolve the error "
                         "condition before proceeding.")


# --- QoS (neutron-lib exceptions/qos.py) ------------------------------------------

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

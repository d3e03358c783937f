"""Version documents and the extension list (reference A.1).

Clients (openstacksdk, Nova, tempest) decide what to use from
``GET /v2.0/extensions``, so it lists exactly what is implemented.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api.responses import JSONResponse

UPDATED = "2026-11-21T00:00:00-00:00"

# alias -> (name, description)
EXTENSIONS = {
    "network-ip-availability": ("Network IP Availability",
                                "Provides IP availability data for each network and subnet."),
    "network-ip-availability-details": ("Network IP Availability Details Extension",
                                        "Add ip_availability_details attribute to "
                                        "network-ip-availabilities resource."),
    # DNS names and extra DHCP options (services/dns.py, services/extra_dhcp_opts.py,
    # ovn/dns.py, ovn/port_dhcp.py) and subnet service types (services/service_subnets.py).
    "dns-integration": ("DNS Integration", "Provides integration with DNS."),
    "dns-domain-ports": ("dns_domain for ports",
                         "Allows the DNS domain to be specified for a network port."),
    "dns-integration-domain-keywords": ("DNS domain names with keywords allowed",
                                        "Allows to use keywords like <project_id>, "
                                        "<project_name>, <user_id> and <user_name> as DNS "
                                        "domain name"),
    "subnet-dns-publish-fixed-ip": ("Subnet DNS publish fixed IP",
                                    "Support choosing to publish DNS records for IPs from a "
                                    "subnet"),
    "extra_dhcp_opt": ("Neutron Extra DHCP options",
                       "Extra options configuration for DHCP. For example PXE boot options to "
                       "DHCP clients can be specified (e.g. tftp-server, server-ip-address, "
                       "bootfile-name)"),
    "subnet-service-types": ("Subnet service types",
                             "Provides ability to set the subnet service_types field"),
    "rbac-policies": ("RBAC Policies", "Allows creation and modification of policies that "
                      "control tenant access to resources."),
    "quotas": ("Quota management support", "Expose functions for quotas management per project"),
    "quota_details": ("Quota details management support",
                      "Expose functions for quotas usage statistics per project"),
    "quota-check-limit": ("Quota engine limit check", "Support for checking the resource "
                          "usage before applying a new quota limit"),
    "quota-check-limit-default": ("Quota engine limit check by default", "By default, the "
                                  "Neutron quota engine checks the resource usage before "
                                  "applying a new quota limit"),
    "net-mtu": ("Network MTU", "Provides MTU attribute for a network resource."),
    "net-mtu-writable": ("Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard attributes"),
    "standard-attr-revisions": ("Resource revision numbers",
                                "This extension will display the revision number of neutron resources."),
    "standard-attr-timestamp": ("Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources."),
    "standard-attr-tag": ("Tag support for resources with standard attribute",
                          "Enables to set tag on resources with standard attribute."),
    "tag-creation": ("Tag creation extension", "Allows adding several tags at once with POST."),
    "tag-ports-during-bulk-creation": ("Tag Ports During Bulk Creation",
                                       "Allow to tag ports during bulk creation"),
    "revision-if-match": ("If-Match constraints based on revision_number",
                          "Extension indicating that If-Match based on revision_number is supported."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "filter-validation": ("Filter parameters validation",
                          "Provides validation on filtering parameters."),
    "empty-string-filtering": ("Empty String Filtering Extension",
                               "Allow filtering by attributes with empty string value"),
    "ip-substring-filtering": ("IP address substring filtering",
                               "Provides IP address substring filtering when listing ports"),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application"),
    # Nova's: multiple bindings for live migration (services/port_bindings.py) and the
    # port attributes of services/port_vif.py (stored and returned, as ML2/OVN does).
    "binding-extended": ("Port Bindings Extended",
                         "Expose port bindings of a virtual port to external application"),
    "port-mac-address-regenerate": ("Neutron Port MAC address regenerate",
                                    "Network port MAC address regenerate"),
    "port-trusted-vif": ("Port trusted vif", "Expose port 'trusted' attribute in the API"),
    "port-device-profile": ("Port device profile", "Expose the port device profile (Cyborg)"),
    "port-numa-affinity-policy": ("Port NUMA affinity policy",
                                  "Expose the port NUMA affinity policy"),
    "port-numa-affinity-policy-socket": ("Port NUMA affinity policy \"socket\"",
                                         'Adds "socket" to the supported port NUMA affinity '
                                         "policies"),
    "uplink-status-propagation": ("Uplink status propagation extension",
                                  "Provides ability to propagate port uplink status."),
    "uplink-status-propagation-updatable": ("Uplink status propagation updatable extension",
                                            "Provides ability to update the port uplink "
                                            "status."),
    "changed-since": ("Changed since filter", "Allow filtering resources by their updated_at time"),
    # neutrino's own: the registry the metadata service serves (/v2.0/instances, admin only).
    "instance-metadata": ("Instance metadata registry",
                          "Registers instances' metadata (keys, user data, hostname) served at "
                          "169.254.169.254."),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks"),
    "multi-provider": ("Multi Provider Network",
                       "Expose mapping of virtual networks to multiple physical networks"),
    "segment": ("Segment", "Segments extension."),
    "network-segment-range": ("Neutron Network Segment Range",
                              "Provides support for the network segment range management"),
    "ip_allocation": ("IP Allocation", "IP allocation extension."),
    "l2_adjacency": ("L2 Adjacency", "Display L2 Adjacency for Neutron Networks."),
    "router": ("Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron "
               "networks and access to external networks via a NAT gateway."),
    "ext-gw-mode": ("Neutron L3 Configurable external gateway mode",
                    "Extension of the router abstraction for specifying whether SNAT should occur "
                    "on the external gateway"),
    "extraroute": ("Neutron Extra Route", "Extra routes configuration for L3 router"),
    "extraroute-atomic": ("Atomically add/remove extra routes",
                          "Edit extra routes of a router on server side by atomically adding/"
                          "removing extra routes"),
    "fip-port-details": ("Floating IP Port Details Extension",
                         "Add port_details attribute to Floating IP resource"),
    # floating IP port forwardings (services/port_forwardings.py, ovn/port_forwarding.py)
    "floating-ip-port-forwarding": ("Floating IP Port Forwarding",
                                    "Allow port forwarding from floating IP port to an "
                                    "internal port"),
    "floating-ip-port-forwarding-description": (
        "Floating IP Port Forwarding new attribute description",
        "Add a description field to Port Forwarding rules"),
    "floating-ip-port-forwarding-port-ranges": ("Floating IP Port Forwarding support port "
                                                "ranges", "Add support to port ranges"),
    "floating-ip-port-forwarding-detail": ("Floating IP port forwarding detail",
                                           "Allow list floating ip return more port "
                                           "forwarding data, include'id' and "
                                           "'internal_port_id'"),
    "expose-port-forwarding-in-fip": ("Expose Floating IP port forwardings",
                                      "Expose port forwarding fields in floating IP response"),
    "security-group": ("security-group", "The security groups extension."),
    "port-security": ("Port Security", "Provides port security"),
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs"),
    "stateful-security-group": ("Stateful security group",
                                "Indicates if the security group is stateful or not"),
    "security-groups-normalized-cidr": ("Normalized CIDR field for security group rules",
                                        "Add new field with normalized remote_ip_prefix cidr in "
                                        "SG rule"),
    "port-security-groups-filtering": ("Port filtering on security groups",
                                       "Provides security groups filtering when listing ports"),
    # sharing and rule templates (services/security_group_access.py,
    # services/default_security_group_rules.py)
    "rbac-security-groups": ("Add security_group type to network RBAC",
                             "Add security_group type to network RBAC"),
    "security-groups-shared-filtering": ("Security group filtering on the shared field",
                                         "Support filtering security groups on the shared "
                                         "field"),
    "security-groups-default-rules": ("Default rules for security groups",
                                      "Configure set of security group rules used as default "
                                      "rules for every new security group"),
    "security-groups-rules-belongs-to-default-sg": (
        "Security group rule belongs to the project's default security group",
        "Flag to determine if the security group rule belongs to the project's default "
        "security group"),
    "auto-allocated-topology": ("Auto Allocated Topology Services",
                                "Auto Allocated Topology Services."),
    # neutrino's own: /v2.0/network-candidates and /v2.0/scheduled-ports (services/scheduler.py).
    "network-scheduler": ("Network scheduler",
                          "Ranks a project's networks by free addresses, with the reason each "
                          "excluded one is excluded, and creates ports on the chosen network."),
    # subnet pools and address scopes (services/subnetpools.py, services/address_scopes.py)
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    "default-subnetpools": ("Default Subnetpools",
                            "Provides ability to mark and use a subnetpool as the default."),
    "subnetpool-prefix-ops": ("Subnet Pool Prefix Operations",
                              "Provides support for adjusting the prefix list of subnet pools"),
    "subnet_onboard": ("Subnet Onboard",
                       "Provides support for onboarding subnets into subnet pools"),
    "address-scope": ("Address scope", "Address scopes extension."),
    "rbac-address-scope": ("Add address_scope type to RBAC", "Add address_scope type to RBAC"),
    # address groups as security group remotes (services/address_groups.py)
    "address-group": ("Address group", "Support address group"),
    "rbac-address-group": ("Add address_group type to RBAC",
                           "Add address_group type to network RBAC"),
    "security-groups-remote-address-group": (
        "Remote address group id field for security group rules",
        "Add new field of remote address group id in SG rules"),
    # agents and availability zones, mirrored from the SB (services/agents.py, ovn/agents.py)
    "agent": ("agent", "The agent management extension."),
    "availability_zone": ("Availability Zone", "The availability zone extension."),
    "security-groups-default-statefulness": (
        "Security Groups Default Statefulness",
        "Allows configuring the default value of the 'stateful' attribute for new security "
        "groups, on a per-project or system-wide basis"),
    # network logs: security group logging as OVN ACL logs (services/network_logs.py)
    "logging": ("Logging API Extension",
                "Provides a logging API for resources such as security group and firewall."),
    # trunk ports as OVN child ports (services/trunks.py, services/trunk_ports.py)
    "trunk": ("Trunk Extension", "Provides support for trunk ports"),
    "trunk-details": ("Trunk port details",
                      "Expose trunk port details"),
    # neutrino's own: POST /v2.0/ports/{id}/explain (ovn/explain.py, ovn-trace on the SB)
    "explain": ("Port reachability explanation",
                "Explains whether a port can reach an address or another port, and why: the "
                "security group rules, routers, routes, NAT and chassis on the way, from "
                "ovn-trace."),
    "network_availability_zone": ("Network Availability Zone",
                                  "Availability zone support for network."),
    # router attributes of ML2/OVN's L3 (services/router_extras.py, ovn/router_az.py)
    # and floating IP pools (services/floatingip_pools.py)
    "router_availability_zone": ("Router Availability Zone",
                                 "Availability zone support for router."),
    "l3-ha": ("HA Router extension", "Adds HA capability to routers."),
    "router-enable-snat": ('Exposes the router "enable_snat" read-only configuration flag',
                           'Exposes the router "enable_snat" read-only configuration flag'),
    "floatingip-pools": ("Floating IP Pools Extension", "Provides a floating IP pools API."),
    "flavors": ("Neutron Service Flavors", "Flavor specification for Neutron advanced "
                "services."),
    "l3-flavors": ("Router Flavor Extension", "Flavor support for routers."),
    "service-type": ("Neutron Service Type Management",
                     "API for retrieving service providers for Neutron advanced services"),
    # several gateways per router (services/router_gateways.py); ECMP spreads the default
    # routes over them, BFD watches each (ovn/desired_routers.py, ovn/bfd.py)
    "external-gateway-multihoming": ("Neutron L3 External Gateway Multihoming",
                                     "Allow multiple external gateway ports per router"),
    "enable-default-route-bfd": ("Enable Default Route BFD",
                                 "Enables configurable BFD behavior for default routes"),
    "enable-default-route-ecmp": ("Enable Default Route ECMP",
                                  "Enables configurable ECMP behavior for default routes"),
    # QoS realised as OVN QoS rows (services/qos*.py, ovn/qos.py)
    "qos": ("Quality of Service", "The Quality of Service extension."),
    "qos-default": ("QoS default policy", "Expose the QoS default policy per project"),
    "qos-rule-type-details": ("Details of QoS rule types",
                              "Expose details about QoS rule types supported by loaded "
                              "backend drivers"),
    "qos-bw-limit-direction": ("Direction for QoS bandwidth limit rule",
                               "Allow to configure QoS bandwidth limit rule with specific "
                               "direction: ingress or egress"),
    "qos-bw-minimum-ingress": ("Ingress direction for QoS minimum bandwidth rule",
                               "Allow to configure QoS minumum bandwidth rule with ingress "
                               "direction."),
    "qos-pps": ("QoS Rule Type Packet per Second Extension",
                "Add QoS Rule Type Packet per Second"),
    "qos-gateway-ip": ("Router gateway IP QoS", "The Router gateway IP Quality of Service "
                                                "extension"),
    "qos-fip": ("Floating IP QoS", "The floating IP Quality of Service extension"),
    "qos-rules-alias": ("Quality of Service rules alias API",
                        "API to enable GET, PUT and DELETE operations on QoS policy rules "
                        "without specifying policy ID"),
    "qos-port-network-policy": ("QoS port network policy ID",
                                "Adds a the QoS network ID to the port definition"),
    "qos-fip-network-policy": ("QoS floating IP network policy ID",
                               "Adds a the QoS network ID to the floating IP definition"),
}

CORE_RESOURCES = [("network", "networks"), ("subnet", "subnets"), ("port", "ports")]

router = APIRouter()


def _extension(alias: str) -> dict:
    name, description = EXTENSIONS[alias]
    return {"alias": alias, "name": name, "description": description, "updated": UPDATED,
            "links": []}


@router.get("/")
async def versions(request: Request) -> JSONResponse:
    href = str(request.base_url).rstrip("/") + "/v2.0/"
    return JSONResponse({"versions": [{"id": "v2.0", "status": "CURRENT",
                                       "links": [{"rel": "self", "href": href}]}]})


@router.get("/v2.0")
@router.get("/v2.0/")
async def resources(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/") + "/v2.0/"
    return JSONResponse({"resources": [
        {"name": name, "collection": plural, "links": [{"rel": "self", "href": base + plural}]}
        for name, plural in CORE_RESOURCES]})


@router.get("/v2.0/extensions")
@router.get("/v2.0/extensions.json")
async def list_extensions() -> JSONResponse:
    return JSONResponse({"extensions": [_extension(a) for a in sorted(EXTENSIONS)]})


@router.get("/v2.0/extensions/{alias}")
async def show_extension(alias: str) -> JSONResponse:
    alias = alias.removesuffix(".json")
    if alias not in EXTENSIONS:
        raise errors.ExtensionNotFound(alias)
    return JSONResponse({"extension": _extension(alias)})

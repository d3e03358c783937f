"""Errors of routers and floating IPs (neutron-lib ``exceptions/l3.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class RouterNotFound(NotFound):
    template = "Router {router_id} could not be found"


class RouterInUse(Conflict):
    template = "Router {router_id} {reason}"
    defaults = {"reason": "still has ports"}


class RouterInterfaceNotFound(NotFound):
    template = "Router {router_id} does not have an interface with id {port_id}"


class RouterInterfaceNotFoundForSubnet(NotFound):
    template = "Router {router_id} has no interface on subnet {subnet_id}"


class RouterInterfaceInUseByFloatingIP(Conflict):
    template = ("Router interface for subnet {subnet_id} on router {router_id} cannot be "
                "deleted, as it is required by one or more floating IPs.")
    params = ("router_id", "subnet_id")


class RouterInterfaceInUseByRoute(Conflict):
    template = ("Router interface for subnet {subnet_id} on router {router_id} cannot be "
                "deleted, as it is required by one or more routes.")
    params = ("router_id", "subnet_id")


class RouterExternalGatewayInUseByFloatingIp(Conflict):
    template = ("Gateway cannot be updated for router {router_id}, since a gateway to external "
                "network {net_id} is required by one or more floating IPs.")


class InvalidRoutes(BadRequest):
    template = "Invalid format for routes: {reason}"


class PortInUse(Conflict):
    template = ("Unable to complete operation on port {port_id} for network {net_id}. Port "
                "already has an attached device {device_id}.")
    params = ("net_id", "port_id", "device_id")


class ServicePortInUse(Conflict):
    template = ("Port {port_id} cannot be deleted directly via the port API: has device owner "
                "{device_owner}.")


class FloatingIPNotFound(NotFound):
    template = "Floating IP {fip_id} could not be found"


class FloatingIPPortAlreadyAssociated(Conflict):
    template = ("Cannot associate floating IP {fip} ({fip_id}) with port {port_id} using fixed "
                "IP {fixed_ip}, as that fixed IP already has a floating IP on external network "
                "{net_id}.")


class ExternalGatewayForFloatingIPNotFound(NotFound):
    template = ("External network {external_network_id} is not reachable from subnet "
                "{subnet_id}.  Therefore, cannot associate Port {port_id} with a Floating IP.")
    params = ("subnet_id", "external_network_id", "port_id")


class ExternalIpAddressExhausted(BadRequest):
    template = "Unable to find any IP address on external network {net_id}."

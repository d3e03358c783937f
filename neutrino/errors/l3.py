"""Errors of routers and floating IPs (neutron-lib ``exceptions/l3.py``)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


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

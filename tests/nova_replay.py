"""The Networking API calls unmodified Nova makes to boot a server, replayed against a
neutrino server (issue 20, seed 004).

:class:`NovaNetworkReplay` follows Nova 2025.x's ``nova/network/neutron.py``
(openstack/nova master, August 2026) call for call, with the client Nova uses:
python-neutronclient's v2 ``Client`` on a keystoneauth session (``get_client``), the
user's client for the project's member and the admin client for what Nova does with
its ``[neutron]`` credentials. Same methods, arguments, query filters and bodies;
Nova's own control flow is kept (its error translations are the exceptions below)
and everything not about networks (placement, the hypervisor, the info cache) is left
out. Without Keystone the identity rides in neutrino's noauth headers: the member is
``X-Project-Id: <project>`` with roles ``member,reader``, Nova's service user is
project ``service`` with ``admin``.

Every request is recorded (:attr:`NovaNetworkReplay.calls`, ``"GET /v2.0/..."`` with
its query string) so a test can pin the exact sequence.

A boot is what ``openstack server create`` without ``--nic`` asks for from compute
API 2.37 on: ``networks: "auto"``. nova-api runs :meth:`validate_networks`
(``_check_requested_networks``) and refuses the boot when it returns fewer
instances than asked (``PortLimitExceeded``); nova-compute runs
:meth:`allocate_for_instance` with the chosen host.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from keystoneauth1 import noauth, session
from neutronclient.common import exceptions as neutron_client_exc
from neutronclient.v2_0 import client as clientv20

SERVICE_PROJECT = "service"


class NovaError(Exception):
    """A Nova exception the replay raises where Nova would."""


class NetworkAmbiguous(NovaError):
    pass


class UnableToAutoAllocateNetwork(NovaError):
    pass


class InterfaceAttachFailedNoNetwork(NovaError):
    pass


class PortLimitExceeded(NovaError):
    pass


class NoMoreFixedIps(NovaError):
    pass


class SecurityGroupCannotBeApplied(NovaError):
    pass


class PortBindingFailed(NovaError):
    pass


@dataclass
class Instance:
    """The fields of ``nova.objects.Instance`` the network API reads."""

    project_id: str
    hostname: str
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    availability_zone: str = "nova"


class NovaNetworkReplay:
    """Nova's network API (``nova.network.neutron.API``) for one neutrino ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls: list[str] = []
        self.created_ports: list[dict] = []  # as POST /v2.0/ports answered them
        self._extensions: dict[str, dict] | None = None

    # --- get_client ------------------------------------------------------------
    def get_client(self, project_id: str, admin: bool = False) -> clientv20.Client:
        """``get_client(context, admin)``: a neutronclient on a keystoneauth session."""
        headers = ({"X-Project-Id": SERVICE_PROJECT, "X-Roles": "admin", "X-User-Id": "nova"}
                   if admin else
                   {"X-Project-Id": project_id, "X-Roles": "member,reader", "X-User-Id": "demo"})
        sess = session.Session(auth=noauth.NoAuth(endpoint=self.url), additional_headers=headers)
        sess.session.hooks["response"].append(self._record)
        return clientv20.Client(session=sess, endpoint_override=self.url,
                                global_request_id=f"req-{uuid.uuid4()}")

    def _record(self, response, *args, **kwargs) -> None:
        parts = urlsplit(response.request.url)
        self.calls.append(f"{response.request.method} {parts.path}"
                          + (f"?{parts.query}" if parts.query else ""))

    # --- extensions (``_refresh_neutron_extensions_cache``) ------------------------
    def _has_extension(self, neutron, alias: str) -> bool:
        if self._extensions is None:
            self._extensions = {e["alias"]: e for e in neutron.list_extensions()["extensions"]}
        return alias in self._extensions

    # --- nova-api: validate_networks -----------------------------------------------
    def _get_available_networks(self, neutron, project_id: str, net_ids=None,
                                auto_allocate: bool = False) -> list[dict]:
        if net_ids:
            return neutron.list_networks(id=net_ids).get("networks", [])
        search_opts = {"tenant_id": project_id, "shared": False}
        if auto_allocate:
            search_opts["admin_state_up"] = True
        nets = neutron.list_networks(**search_opts).get("networks", [])
        nets += neutron.list_networks(shared=True).get("networks", [])
        return nets

    def _can_auto_allocate_network(self, project_id: str, neutron) -> bool:
        try:
            neutron.validate_auto_allocated_topology_requirements(project_id)
            return True
        except neutron_client_exc.Conflict:
            return False

    def _ports_needed_per_instance(self, project_id: str, neutron) -> int:
        """For ``networks: "auto"`` (``requested_networks.auto_allocate``)."""
        nets = self._get_available_networks(neutron, project_id)
        if len(nets) > 1:
            raise NetworkAmbiguous("Multiple possible networks found, use a Network ID to be "
                                   "more specific.")
        if not nets and not self._can_auto_allocate_network(project_id, neutron):
            raise UnableToAutoAllocateNetwork(project_id)
        return 1

    def validate_networks(self, project_id: str, num_instances: int) -> int:
        """How many of ``num_instances`` the port quota allows (Nova's arithmetic)."""
        neutron = self.get_client(project_id)
        ports_needed_per_instance = self._ports_needed_per_instance(project_id, neutron)
        quotas = neutron.show_quota(project_id)["quota"]
        if quotas.get("port", -1) == -1:
            return num_instances
        ports = neutron.list_ports(tenant_id=project_id, fields=["id"])["ports"]
        free_ports = quotas.get("port") - len(ports)
        if free_ports < 0:
            raise PortLimitExceeded(f"{len(ports)} ports over the limit {quotas.get('port')}")
        ports_needed = ports_needed_per_instance * num_instances
        if free_ports >= ports_needed:
            return num_instances
        return free_ports // ports_needed_per_instance

    # --- nova-compute: allocate_for_instance -----------------------------------------
    def _auto_allocate_network(self, instance: Instance, neutron) -> dict:
        try:
            topology = neutron.get_auto_allocated_topology(
                instance.project_id)["auto_allocated_topology"]
        except neutron_client_exc.Conflict:
            raise UnableToAutoAllocateNetwork(instance.project_id)
        return neutron.show_network(topology["id"])["network"]

    def _validate_requested_network_ids(self, instance: Instance, neutron) -> dict[str, dict]:
        nets = self._get_available_networks(neutron, instance.project_id, auto_allocate=True)
        if not nets:
            nets = [self._auto_allocate_network(instance, neutron)]
        if len(nets) > 1:
            raise NetworkAmbiguous("Multiple possible networks found")
        return {net["id"]: net for net in nets}

    def _create_port_minimal(self, port_client, instance: Instance, network_id: str) -> dict:
        port_req_body = {"port": {"device_id": instance.uuid}}
        port_req_body["port"]["network_id"] = network_id
        port_req_body["port"]["admin_state_up"] = True
        port_req_body["port"]["tenant_id"] = instance.project_id
        try:
            port = port_client.create_port(port_req_body)["port"]
        except neutron_client_exc.OverQuotaClient:
            raise PortLimitExceeded(instance.project_id)
        except neutron_client_exc.IpAddressGenerationFailureClient:
            raise NoMoreFixedIps(network_id)
        self.created_ports.append(port)
        resource_request = port.get("resource_request") or {}  # _has_resource_request
        if (resource_request.get("request_groups")
                if self._has_extension(port_client, "port-resource-request-groups")
                else resource_request):
            port_client.delete_port(port["id"])
            raise NovaError("NetworksWithQoSPolicyNotSupported")
        _ensure_no_port_binding_failure(port)
        return port

    def allocate_for_instance(self, instance: Instance, bind_host_id: str) -> list[dict]:
        """Nova's network info for the instance: ``[{"port": ..., "subnets": [...]}]``."""
        neutron = self.get_client(instance.project_id)
        admin_client = self.get_client(instance.project_id, admin=True)
        nets = self._validate_requested_network_ids(instance, neutron)
        created = []
        for network in nets.values():  # _create_ports_for_instance
            if network.get("port_security_enabled", True) and not network.get("subnets"):
                raise SecurityGroupCannotBeApplied(network["id"])
            try:
                created.append((network, self._create_port_minimal(neutron, instance,
                                                                   network["id"])))
            except NovaError:
                for _, port in created:
                    neutron.delete_port(port["id"])
                raise
        for network, port in created:  # _update_ports_for_instance
            port_req_body = {"port": {"device_id": instance.uuid,
                                      "device_owner": f"compute:{instance.availability_zone}"}}
            # _populate_neutron_extension_values
            port_req_body["port"]["binding:host_id"] = bind_host_id
            if self._has_extension(neutron, "dns-integration") and not network.get("dns_domain"):
                port_req_body["port"]["dns_name"] = instance.hostname
            updated = admin_client.update_port(port["id"], port_req_body)["port"]
            _ensure_no_port_binding_failure(updated)
        return self._build_network_info_model(instance, neutron, admin_client)

    def _build_network_info_model(self, instance: Instance, neutron, admin_client) -> list[dict]:
        ports = admin_client.list_ports(tenant_id=instance.project_id,
                                        device_id=instance.uuid)["ports"]
        return [{"port": p, "subnets": self._get_subnets_from_port(p, neutron)} for p in ports]

    def _get_subnets_from_port(self, port: dict, client) -> list[dict]:
        if not port["fixed_ips"]:
            return []
        subnets = client.list_subnets(
            id=list({ip["subnet_id"] for ip in port["fixed_ips"]})).get("subnets", [])
        result = []
        for subnet in subnets:
            info = {"id": subnet["id"], "cidr": subnet["cidr"], "gateway": subnet["gateway_ip"],
                    "enable_dhcp": bool(subnet.get("enable_dhcp"))}
            for p in client.list_ports(network_id=subnet["network_id"],
                                       device_owner="network:dhcp").get("ports", []):
                for ip_pair in p["fixed_ips"]:
                    if ip_pair["subnet_id"] == subnet["id"]:
                        info["dhcp_server"] = ip_pair["ip_address"]
            result.append(info)
        return result

    # --- the whole boot --------------------------------------------------------------
    def boot(self, instance: Instance, host: str, min_count: int = 1) -> list[dict]:
        """``openstack server create`` without ``--nic``: nova-api's check, then
        nova-compute's allocation on ``host``."""
        if self.validate_networks(instance.project_id, min_count) < min_count:
            raise PortLimitExceeded(instance.project_id)
        return self.allocate_for_instance(instance, host)


def _ensure_no_port_binding_failure(port: dict) -> None:
    if port.get("binding:vif_type") == "binding_failed":
        raise PortBindingFailed(port["id"])

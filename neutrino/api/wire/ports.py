"""``port`` as the API shows it (reference B.3; neutron-lib ``port``, ``portbindings``,
``port_security``, ``securitygroup``, ``allowedaddresspairs``, ``dns``/``dns_domain_ports``,
``extra_dhcp_opt``, ``ip_allocation``, ``port_trusted_vif``, ``port_device_profile``,
``port_numa_affinity_policy``, ``uplink_status_propagation``, ``qos``/
``qos_port_network_policy``, ``trunk_details`` definitions).

Columns are ``db.models.Port``'s; loads are ``services.ports.LOADS``. Read
visibility follows Neutron's port policy (A.5): ``binding:host_id``, ``binding:profile``,
``binding:vif_type`` and ``binding:vif_details`` admin or service (Nova), ``trusted``
admin only.
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import (ABSENT, ADMIN, ADMIN_OR_SERVICE, Attribute, Related,
                                       Resource, standard)
from neutrino.services import dns
from neutrino.services.ports import VIF_DETAILS


def _fixed_ips(row: Any, rel: Related) -> list[dict[str, str]]:
    return [{"subnet_id": s, "ip_address": ip} for s, ip in rel["fixed_ips"].get(row["id"], ())]


def _dns_assignment(row: Any, rel: Related) -> list[dict[str, str]]:
    domain, enabled = rel.once("dns_domain", dns.assignment_domain)
    return dns.assignment(row["dns_name"] if enabled else "",
                          [ip for _, ip in rel["fixed_ips"].get(row["id"], ())], domain)


def _profile(row: Any, rel: Related) -> dict[str, Any]:
    """``binding:profile``, with ``trusted`` once set (Neutron's ``_extend_port_dict``,
    what Nova reads for SR-IOV VFs)."""
    if row["trusted"] is None:
        return row["binding_profile"]
    return {**(row["binding_profile"] or {}), "trusted": row["trusted"]}


def _vif_details(row: Any, rel: Related) -> dict[str, Any]:
    # OVN binds every port whose host is a chassis (reference D.3, zed vif_details).
    return dict(VIF_DETAILS) if row["binding_host_id"] else {}


PORT = Resource("port", "ports", standard() + (
    Attribute("network_id", "uuid", "network_id"),
    Attribute("mac_address", "mac_address", "mac_address"),
    Attribute("admin_state_up", "boolean", "admin_state_up", default=True),
    Attribute("status", "string", "status"),
    Attribute("device_id", "string", "device_id", default=""),
    Attribute("device_owner", "string", "device_owner", default=""),
    Attribute("fixed_ips", "fixed_ips", value=_fixed_ips, load="fixed_ips"),
    Attribute("ip_allocation", "string", "ip_allocation", named_in_requests=False),
    Attribute("binding:host_id", "string", "binding_host_id", default="", read=ADMIN_OR_SERVICE),
    Attribute("binding:vnic_type", "string", "binding_vnic_type", default="normal"),
    Attribute("binding:profile", "dict", value=_profile, needs=("binding_profile", "trusted"),
              default={}, read=ADMIN_OR_SERVICE),
    Attribute("binding:vif_type", "string", needs=("binding_host_id",), read=ADMIN_OR_SERVICE,
              value=lambda row, rel: "ovs" if row["binding_host_id"] else "unbound"),
    Attribute("binding:vif_details", "dict", value=_vif_details, needs=("binding_host_id",),
              read=ADMIN_OR_SERVICE),
    Attribute("port_security_enabled", "boolean", "port_security_enabled"),
    Attribute("security_groups", "list", load="security_groups",
              value=lambda row, rel: rel["security_groups"].get(row["id"], [])),
    Attribute("allowed_address_pairs", "list", "allowed_address_pairs", default=[]),
    Attribute("dns_name", "string", "dns_name", default=""),
    Attribute("dns_domain", "string", "dns_domain", default=""),
    Attribute("dns_assignment", "list", value=_dns_assignment, needs=("dns_name",),
              load="fixed_ips"),
    Attribute("extra_dhcp_opts", "list", "extra_dhcp_opts", default=[]),
    Attribute("trusted", "boolean", "trusted", read=ADMIN),
    Attribute("device_profile", "string", "device_profile"),
    Attribute("numa_affinity_policy", "string", "numa_affinity_policy"),
    Attribute("propagate_uplink_status", "boolean", "propagate_uplink_status", default=True),
    Attribute("qos_policy_id", "uuid", load="qos", needs=("network_id",),
              value=lambda row, rel: rel["qos"].get(row["id"])),
    Attribute("qos_network_policy_id", "uuid", load="qos", needs=("network_id",),
              value=lambda row, rel: rel["qos_network"].get(row["network_id"])),
    # extension trunk-details: trunk parents only
    Attribute("trunk_details", "dict", load="trunk_details", named_in_requests=False,
              value=lambda row, rel: rel["trunk_details"].get(row["id"], ABSENT)),
))

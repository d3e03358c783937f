"""A port's DNS name and extra DHCP options in the port's own transaction: the
``dns_name``, ``dns_domain`` and ``extra_dhcp_opts`` columns of new and updated
ports, and ``dns_assignment`` in the API view.

Rules are in ``services.dns`` (Neutron's DNS extension driver and validators) and
``services.extra_dhcp_opts`` (Neutron's extra DHCP option mixin, ML2/OVN's
supported options); this module applies them to port rows and API dicts. Errors:
InvalidInput (400) from those modules.
"""

from __future__ import annotations

from typing import Any

from neutrino.services import dns, extra_dhcp_opts
from neutrino.services.env import Env


def new_port_columns(env: Env, data: dict[str, Any]) -> dict[str, Any]:
    """``{"dns_name", "dns_domain", "extra_dhcp_opts"}`` of a new port from its
    ``PortCreate`` dict (``dns_domain`` already validated by the schema)."""
    request = dict(data)
    if "dns_name" in request:
        request["dns_name"] = dns.validate_dns_name(request["dns_name"], env.settings)
    entries = extra_dhcp_opts.validate_entries(data.get("extra_dhcp_opts"))
    return {**dns.port_create_columns(env.settings, request),
            "extra_dhcp_opts": extra_dhcp_opts.on_create(
                entries, data.get("binding_vnic_type", "normal"))}


def prepare_update(env: Env, port: Any, data: dict[str, Any]) -> None:
    """Turn a ``PortUpdate`` dict's DNS and DHCP attributes into the new column values,
    in place: ``dns_name`` checked (and dropped with the default ``dns_domain``
    setting, as Neutron ignores it then), ``extra_dhcp_opts`` merged into the port's
    current options. A new ``binding:vnic_type`` re-checks the options it keeps."""
    if "dns_name" in data:
        data["dns_name"] = dns.validate_dns_name(data["dns_name"], env.settings)
    dns.port_update_columns(env.settings, data)
    vnic_type = data.get("binding_vnic_type", port.binding_vnic_type)
    if "extra_dhcp_opts" in data:
        entries = extra_dhcp_opts.validate_entries(data.pop("extra_dhcp_opts"))
        if entries:  # an empty list changes nothing (Neutron)
            data["extra_dhcp_opts"] = extra_dhcp_opts.on_update(
                port.extra_dhcp_opts or [], entries, vnic_type)
    elif "binding_vnic_type" in data and port.extra_dhcp_opts:
        extra_dhcp_opts.check_supported(port.extra_dhcp_opts, vnic_type)


def publishes_dns(port: Any) -> bool:
    """Whether the port has OVN DNS records (ML2/OVN's ``is_dns_required_for_port``:
    a ``dns_name`` and a ``device_id``)."""
    return bool(getattr(port, "dns_name", "") and port.device_id)

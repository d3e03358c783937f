"""``floatingip`` as the API shows it (reference B.5; neutron-lib ``l3``,
``fip_port_details``, ``expose_port_forwarding_in_fip``, ``dns``, ``qos_fip``/
``qos_fip_network_policy`` definitions).

Columns are ``db.models.FloatingIP``'s (``port_id`` is ``fixed_port_id``); loads are
``services.floatingip_reads.LOADS``. A floating IP has no ``name`` (a filter only, as
Neutron's standard attribute); ``subnet_id`` is request-only; ``dns_name`` and
``dns_domain`` are always "" (dns-integration without an external DNS service).
"""

from __future__ import annotations

import dataclasses

from neutrino.api.wire.declare import Attribute, Resource, standard
from neutrino.api.wire.port_forwardings import floatingip_forwardings

_STANDARD = tuple(dataclasses.replace(a, shown=False) if a.name == "name" else a
                  for a in standard())

FLOATINGIP = Resource("floatingip", "floatingips", _STANDARD + (
    Attribute("floating_network_id", "uuid", "floating_network_id"),
    Attribute("floating_ip_address", "ip_address", "floating_ip_address"),
    Attribute("subnet_id", "uuid", shown=False),
    Attribute("port_id", "uuid", "fixed_port_id"),
    Attribute("fixed_ip_address", "ip_address", "fixed_ip_address"),
    Attribute("router_id", "uuid", "router_id"),
    Attribute("status", "string", "status"),
    # extension fip-port-details: a few attributes of the associated port
    Attribute("port_details", "dict", load="port_details", needs=("fixed_port_id",),
              value=lambda row, rel: rel["port_details"].get(row["fixed_port_id"])),
    # extension expose-port-forwarding-in-fip
    Attribute("port_forwardings", "list", load="port_forwardings",
              value=lambda row, rel: floatingip_forwardings(
                  rel["port_forwardings"].get(row["id"], []))),
    Attribute("dns_name", "string", value=lambda row, rel: "", default=""),
    Attribute("dns_domain", "string", value=lambda row, rel: "", default=""),
    Attribute("qos_policy_id", "uuid", load="qos", needs=("floating_network_id",),
              value=lambda row, rel: rel["qos"].get(row["id"])),
    Attribute("qos_network_policy_id", "uuid", load="qos", needs=("floating_network_id",),
              value=lambda row, rel: rel["qos_network"].get(row["floating_network_id"])),
))

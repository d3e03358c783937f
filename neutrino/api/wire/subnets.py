"""``subnet`` as the API shows it (reference B.2; neutron-lib ``subnet``,
``subnet_segmentid_writable``, ``subnet_service_types``, ``subnet_dns_publish_fixed_ip``,
``subnetpool`` definitions).

Every attribute is a column of ``db.models.Subnet``; ``segment_id`` is admin only
(A.5). ``prefixlen`` and ``use_default_subnetpool`` are request-only; ``shared``
only filters (on the network's ``shared`` as the caller sees it, neutron-lib's
``is_visible: False, is_filter: True``).
"""

from __future__ import annotations

from neutrino.api.wire.declare import ADMIN, Attribute, Resource, standard

SUBNET = Resource("subnet", "subnets", standard() + (
    Attribute("network_id", "uuid", "network_id"),
    Attribute("ip_version", "integer", "ip_version"),
    Attribute("cidr", "cidr", "cidr"),
    Attribute("gateway_ip", "ip_address", "gateway_ip"),
    Attribute("enable_dhcp", "boolean", "enable_dhcp", default=True),
    Attribute("ipv6_ra_mode", "string", "ipv6_ra_mode"),
    Attribute("ipv6_address_mode", "string", "ipv6_address_mode"),
    Attribute("allocation_pools", "list", "allocation_pools"),
    Attribute("dns_nameservers", "list", "dns_nameservers", default=[]),
    Attribute("host_routes", "list", "host_routes", default=[]),
    Attribute("subnetpool_id", "uuid", "subnetpool_id"),
    Attribute("segment_id", "uuid", "segment_id", read=ADMIN),
    Attribute("service_types", "list", "service_types", default=[]),
    Attribute("dns_publish_fixed_ip", "boolean", "dns_publish_fixed_ip", default=False),
    Attribute("prefixlen", "integer", shown=False),
    Attribute("use_default_subnetpool", "boolean", default=False, shown=False),
    Attribute("shared", "boolean", shown=False, named_in_requests=False),
))

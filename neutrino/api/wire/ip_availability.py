"""``network_ip_availability`` as the API shows it (reference B.8; neutron-lib
``network_ip_availability`` and ``network_ip_availability_details`` definitions).

Rows are ``services.ip_availability.NetworkUsage``: a network's totals are its
subnets' sums, and each subnet is shown with its own counts
(``SubnetUsage.details`` for ``ip_availability_details``).
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import Attribute, Related, Resource

DETAILS = "ip_availability_details"
_DETAIL_KEYS = ("total_ips_in_subnet", "total_ips_in_allocation_pool", "used_ips_in_subnet",
                "used_ips_in_allocation_pool")


def _subnets(row: Any, rel: Related) -> list[dict[str, Any]]:
    return [{"subnet_id": s.id, "subnet_name": s.name, "ip_version": s.ip_version,
             "cidr": s.cidr, "segment_id": s.segment_id, "total_ips": s.total_ips,
             "used_ips": s.used_ips, DETAILS: s.details} for s in row["subnets"]]


def _details(row: Any, rel: Related) -> dict[str, int]:
    per_subnet = [s.details for s in row["subnets"]]
    return {k: sum(d[k] for d in per_subnet) for k in _DETAIL_KEYS}


NETWORK_IP_AVAILABILITY = Resource("network_ip_availability", "network_ip_availabilities", (
    Attribute("network_id", "uuid", "id"),
    Attribute("network_name", "string", "name"),
    Attribute("project_id", "string", "project_id"),
    Attribute("tenant_id", "string", "project_id"),
    Attribute("total_ips", "integer", needs=("subnets",),
              value=lambda row, rel: sum(s.total_ips for s in row["subnets"])),
    Attribute("used_ips", "integer", needs=("subnets",),
              value=lambda row, rel: sum(s.used_ips for s in row["subnets"])),
    Attribute("subnet_ip_availability", "list", needs=("subnets",), value=_subnets),
    Attribute(DETAILS, "dict", needs=("subnets",), value=_details),
))

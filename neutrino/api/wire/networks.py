"""``network`` as the API shows it (reference B.1; neutron-lib ``network``,
``external_net``, ``provider_net``/``multiprovidernet``, ``l2_adjacency``,
``address_scope``, ``network_availability_zone``, ``dns``, ``port_security``,
``auto_allocated_topology`` (``is_default``), ``qos`` definitions).

Columns are ``db.models.Network``'s; loads are ``services.network_reads.LOADS``.
``shared`` and ``router:external`` are as the caller sees them (its RBAC grants, not
only the ``*`` columns). The provider attributes and ``segments`` are admin only
(A.5); a network with one segment (or none: an overlay network, ``geneve``) shows
``provider:*``, one with several shows ``segments`` instead (multi-provider's rule).
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import ABSENT, ADMIN, Attribute, Related, Resource, standard
from neutrino.services import rbac, segments


def _shared(row: dict[str, Any], rel: Related) -> bool:
    return bool(row["shared"]) or (row["id"], rbac.SHARED) in rel["rbac"]["named"]


def _external(row: dict[str, Any], rel: Related) -> bool:
    grants = rel["rbac"]
    return (bool(row["router_external"]) or (row["id"], rbac.EXTERNAL) in grants["named"]
            or row["id"] in grants["external"])


def _provider(key: str):
    def value(row: dict[str, Any], rel: Related) -> Any:
        return rel["provider"].get(row["id"], segments.OVERLAY).get(key, ABSENT)
    return value


def _scope(version: int):
    def value(row: dict[str, Any], rel: Related) -> str | None:
        return rel["scopes"].get(row["id"], {}).get(version)
    return value


NETWORK = Resource("network", "networks", standard() + (
    Attribute("admin_state_up", "boolean", "admin_state_up", default=True),
    Attribute("status", "string", "status"),
    Attribute("shared", "boolean", value=_shared, needs=("shared",), load="rbac", default=False),
    Attribute("mtu", "integer", "mtu"),
    Attribute("router:external", "boolean", value=_external, needs=("router_external",),
              load="rbac", default=False),
    Attribute("is_default", "boolean", "is_default", default=False),
    Attribute("port_security_enabled", "boolean", "port_security_enabled", default=True),
    Attribute("dns_domain", "string", "dns_domain", default=""),
    Attribute("availability_zone_hints", "list", "availability_zone_hints", default=[]),
    # extension network_availability_zone: ML2/OVN reports the hints back
    Attribute("availability_zones", "list", needs=("availability_zone_hints",),
              value=lambda row, rel: list(row["availability_zone_hints"] or [])),
    Attribute("subnets", "list", load="subnets",
              value=lambda row, rel: rel["subnets"].get(row["id"], [])),
    # extension l2_adjacency: a routed network's ports share no L2 domain
    Attribute("l2_adjacency", "boolean", load="subnets",
              value=lambda row, rel: row["id"] not in rel["routed"]),
    *(Attribute(key, "integer" if key.endswith("_id") else "string", value=_provider(key),
                load="provider", read=ADMIN)
      for key in segments.OVERLAY),
    Attribute(segments.SEGMENTS, "list", value=_provider(segments.SEGMENTS), load="provider",
              read=ADMIN),
    # extension address-scope: the scope of the pool of its subnets, per IP version
    Attribute("ipv4_address_scope", "uuid", value=_scope(4), load="scopes"),
    Attribute("ipv6_address_scope", "uuid", value=_scope(6), load="scopes"),
    Attribute("qos_policy_id", "uuid", load="qos",
              value=lambda row, rel: rel["qos"].get(row["id"])),
))

"""``router`` as the API shows it (reference B.4; neutron-lib ``l3``, ``extraroute``,
``router_availability_zone``, ``l3_ext_ha_mode``, ``router_enable_snat``,
``enable_default_route_bfd``/``_ecmp``, ``l3_flavors``, ``external_gateway_multihoming``,
``qos_gateway_ip`` definitions).

Columns are ``db.models.Router``'s; loads are ``services.router_reads.LOADS``.
``external_gateway_info`` is the first gateway (``None`` without one) with the router's
``enable_snat`` and, once a gateway exists, its ``qos_policy_id`` (qos-gateway-ip);
``external_gateways`` every gateway. ``ha`` is always true (ML2/OVN) and admin only
(Neutron's ``get_router:ha``); ``availability_zones`` reports the hints back.
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import ADMIN, Attribute, Related, Resource, standard
from neutrino.services import gateway_ports


def _gateway_info(row: dict[str, Any], rel: Related) -> dict[str, Any] | None:
    own = rel["gateways"].get(row["id"])
    if not own:
        return None
    return {"network_id": own[0]["network_id"], "enable_snat": row["enable_snat"],
            "external_fixed_ips": own[0]["external_fixed_ips"],
            "qos_policy_id": rel["qos"].get(row["id"])}


def _gateways(row: dict[str, Any], rel: Related) -> list[dict[str, Any]]:
    return [gateway_ports.api_gateway(g) for g in rel["gateways"].get(row["id"], [])]


ROUTER = Resource("router", "routers", standard() + (
    Attribute("admin_state_up", "boolean", "admin_state_up", default=True),
    Attribute("status", "string", "status"),
    Attribute("external_gateway_info", "dict", value=_gateway_info, load="gateway_info",
              needs=("gw_port_id", "enable_snat")),
    # extension external-gateway-multihoming
    Attribute("external_gateways", "list", value=_gateways, load="gateways",
              needs=("gw_port_id",), default=[]),
    # extension extraroute
    Attribute("routes", "list", "routes", default=[]),
    # extension router_availability_zone: ML2/OVN reports the hints back
    Attribute("availability_zone_hints", "list", "availability_zone_hints", default=[]),
    Attribute("availability_zones", "list", needs=("availability_zone_hints",),
              value=lambda row, rel: list(row["availability_zone_hints"] or [])),
    # extension l3-ha: always true on OVN
    Attribute("ha", "boolean", value=lambda row, rel: True, read=ADMIN),
    # extension router-enable-snat (read-only here, set in external_gateway_info)
    Attribute("enable_snat", "boolean", "enable_snat"),
    Attribute("enable_default_route_bfd", "boolean", "enable_default_route_bfd", default=False),
    Attribute("enable_default_route_ecmp", "boolean", "enable_default_route_ecmp", default=False),
    # extension l3-flavors
    Attribute("flavor_id", "uuid", "flavor_id"),
))

# The answer of add/remove_router_interface (``services.routers.RouterInterface``): not a
# collection, Neutron's interface info (``l3_db._make_router_interface_info``); ``tags``
# is always empty, as Neutron's answer carries it.
ROUTER_INTERFACE = Resource("router_interface", "router_interfaces", (
    Attribute("id", "uuid", "id"),
    Attribute("subnet_id", "uuid", needs=("subnet_ids",),
              value=lambda row, rel: row["subnet_ids"][0] if row["subnet_ids"] else None),
    Attribute("subnet_ids", "list", needs=("subnet_ids",),
              value=lambda row, rel: list(row["subnet_ids"])),
    Attribute("port_id", "uuid", "port_id"),
    Attribute("network_id", "uuid", "network_id"),
    Attribute("project_id", "string", "project_id"),
    Attribute("tenant_id", "string", "project_id"),
    Attribute("tags", "list", value=lambda row, rel: []),
))

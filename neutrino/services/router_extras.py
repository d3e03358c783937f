"""Router attributes of ML2/OVN's L3 extensions beyond ``router``: availability zones
(``router_availability_zone``), ``ha`` (``l3-ha``), the default-route flags
(``enable-default-route-bfd``, ``enable-default-route-ecmp``) and the top-level
``enable_snat`` (``router-enable-snat``).

* ``availability_zone_hints``: create only; every zone must be one a chassis declares
  (``services.agents.check_zones``: 404 ``AvailabilityZoneNotFound``, as ML2/OVN's
  ``validate_availability_zones``). ``availability_zones`` reports the hints back, as
  ML2/OVN's ``get_router_availability_zones`` reads them from the Logical_Router's
  ``external_ids:neutron:availability_zone_hints``. The gateway chassis are chosen among
  the chassis of those zones (``ovn/router_az.py``).
* ``ha``: always true. ML2/OVN's OVN driver has ``ha_support = MANDATORY``: a router is
  created with ha true whatever the request says (``ovn_l3_hamode_db``), and an update
  asking ``ha=false`` is 400 ``InvalidInput`` "Provider ovn does not support ha=False"
  (``driver_controller._ensure_driver_supports_request``). Setting or reading it is
  admin only (Neutron's ``create_router:ha``, ``update_router:ha``, ``get_router:ha``).
* ``enable_default_route_bfd`` / ``enable_default_route_ecmp``: set by admins only
  (Neutron's policy), default false, read by everyone. BFD puts each default route on
  its gateway LRP with a BFD session to the next hop (``ovn/bfd.py``), as ML2/OVN.
  ECMP: a router with several gateways (``external-gateway-multihoming``,
  ``services/router_gateways.py``) gets the default routes of every gateway, all of
  one prefix, and OVN spreads traffic over them; without it only the first gateway's
  (``ovn/desired_routers.py``, as ML2/OVN's ``_add_router_ext_gw``).
* ``flavor_id`` (``l3-flavors``): create only, checked by ``services/flavors.py``.
* ``enable_snat``: the gateway's SNAT flag, read-only, also outside
  ``external_gateway_info`` (neutron-lib ``router_enable_snat``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.services import agents, flavors
from neutrino.services.context import Context

DEFAULT_ROUTE_FLAGS = ("enable_default_route_bfd", "enable_default_route_ecmp")


def check_create(ctx: Context, data: dict[str, Any]) -> None:
    """Policy of a create request's ``ha`` and default-route flags (admin only;
    PolicyNotAuthorized, 403)."""
    for attr in ("ha", *DEFAULT_ROUTE_FLAGS):
        if attr in data:
            policy.require(ctx, f"create_router:{attr}")


def default_route_flags(data: dict[str, Any]) -> dict[str, bool]:
    """The create request's ``enable_default_route_bfd``/``_ecmp`` (None or absent:
    false, Neutron's ``enable_default_route_*`` defaults)."""
    return {attr: bool(data.get(attr)) for attr in DEFAULT_ROUTE_FLAGS}


def flavor(session: Session, data: dict[str, Any]) -> str | None:
    """The create request's ``flavor_id`` (extension ``l3-flavors``) once its provider
    is found (``services.flavors.check_router_flavor``); None when not given."""
    return flavors.check_router_flavor(session, data["flavor_id"]) if data.get(
        "flavor_id") else None


def zone_hints(session: Session, data: dict[str, Any]) -> list[str]:
    """The create request's ``availability_zone_hints`` once every zone is known
    (AvailabilityZoneNotFound, 404, otherwise); [] when not given."""
    return agents.check_zones(session, data.get("availability_zone_hints") or [])


def check_update(ctx: Context, data: dict[str, Any]) -> None:
    """Take ``ha`` out of an update: admin only (403); false is refused with 400
    InvalidInput as ML2/OVN's OVN provider refuses it; true changes nothing."""
    for attr in DEFAULT_ROUTE_FLAGS:
        if attr in data:
            policy.require(ctx, f"update_router:{attr}")
            if data[attr] is None:  # convert_to_boolean_if_not_none: nothing to change
                del data[attr]
    if "ha" not in data:
        return
    policy.require(ctx, "update_router:ha")
    if data.pop("ha") is False:
        raise errors.InvalidInput("Invalid input for operation: Provider ovn does not "
                                  "support ha=False.")

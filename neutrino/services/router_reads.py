"""Routers as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/routers.py``
renders them). Visibility and filters are ``services.routers``'. Errors: those of
``listing.apply_list_query``; RouterNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import Router
from neutrino.services import common, gateway_ports, listing, qos_bindings
from neutrino.services.context import Context
from neutrino.services.routers import SPEC, find_visible, visible

# tags; gateways (``gateway_ports.by_router``, rows need ``gw_port_id``); gateway_info:
# the gateways and the gateway's QoS policy (``qos``, qos-gateway-ip)
LOADS = ("tags", "gateways", "gateway_info")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "gateways" in loads or "gateway_info" in loads:
        related["gateways"] = gateway_ports.by_router(session, rows)
    if "gateway_info" in loads:
        with_gateway = list(related["gateways"])
        related["qos"] = qos_bindings.policies_of(session, "router", with_gateway) \
            if with_gateway else {}
    return related


# list and show; raise what ``listing.apply_list_query`` raises, RouterNotFound (404)
READER = listing.Reader(Router, SPEC, find_visible, visible, _related)

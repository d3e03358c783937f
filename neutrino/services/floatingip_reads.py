"""Floating IPs as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/floatingips.py``
renders them). Visibility and filters are ``services.floatingips``'. Errors: those of
``listing.apply_list_query``; FloatingIPNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import FloatingIP
from neutrino.services import common, listing, port_forwardings, qos_bindings
from neutrino.services.context import Context
from neutrino.services.floatingips import SPEC, find_visible, port_details_of, visible

# tags, port_details (keyed by port id), port_forwardings (rows), qos (also qos_network,
# keyed by external network id)
LOADS = ("tags", "port_details", "port_forwardings", "qos")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    fip_ids = [r.id for r in rows]  # the forwardings' answer starts from a list
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "port_details" in loads:
        related["port_details"] = port_details_of(
            session, [r.fixed_port_id for r in rows if r.fixed_port_id])
    if "port_forwardings" in loads:
        related["port_forwardings"] = port_forwardings.of_floatingips(session, fip_ids)
    if "qos" in loads:
        related["qos"], related["qos_network"] = qos_bindings.with_network(
            session, "floatingip", ids, {r.floating_network_id for r in rows})
    return related


# list and show; raise what ``listing.apply_list_query`` raises, FloatingIPNotFound (404)
READER = listing.Reader(FloatingIP, SPEC, find_visible, visible, _related)

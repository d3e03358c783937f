"""Ports as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/ports.py`` renders
them, ``api/wire/declare.py`` plans which). Visibility and filters are
``services.ports``' (``visible``, ``find_visible``, ``SPEC``). Errors: those of
``listing.apply_list_query``; PortNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import Port
from neutrino.services import (common, listing, port_addresses, port_security, qos_bindings,
                               trunk_ports)
from neutrino.services.context import Context
from neutrino.services.ports import SPEC, find_visible, visible

# Related data a port's wire format may need (``api/wire/ports.py``), one query each.
LOADS = ("tags", "fixed_ips", "security_groups", "trunk_details", "qos")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    """``{load: {key: value}}`` for ``loads``; ``ids`` lists the rows' ids or SELECTs
    them. ``qos`` also gives ``qos_network`` (keyed by network id).

    The queries run on the session's connection: their column rows need none of the
    ORM's result processing (which costs ~0.15 ms a query and ~10% a row), and the
    helpers only call ``execute``."""
    related: dict[str, Any] = {}
    conn: Any = session.connection()
    if "tags" in loads:
        related["tags"] = common.tags_of(conn, ids)
    if "fixed_ips" in loads:
        related["fixed_ips"] = port_addresses.fixed_ips_of(conn, ids)
    if "security_groups" in loads:
        related["security_groups"] = port_security.groups_of_ports(conn, ids)
    if "trunk_details" in loads:  # extension "trunk-details": trunk parents only
        related["trunk_details"] = trunk_ports.details_of(conn, ids)
    if "qos" in loads:
        related["qos"], related["qos_network"] = qos_bindings.with_network(
            conn, "port", ids, {r.network_id for r in rows})
    return related


# list and show; raise what ``listing.apply_list_query`` raises, PortNotFound (404)
READER = listing.Reader(Port, SPEC, find_visible, visible, _related)

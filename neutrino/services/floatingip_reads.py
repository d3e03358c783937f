"""Floating IPs as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/floatingips.py``
renders them). Visibility and filters are ``services.floatingips``'. Errors: those of
``listing.apply_list_query``; FloatingIPNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import FloatingIP
from neutrino.services import common, listing, port_forwardings, qos_bindings
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.floatingips import SPEC, find_visible, port_details_of, visible

# tags, port_details (keyed by port id), port_forwardings, qos (also qos_network,
# keyed by external network id)
LOADS = ("tags", "port_details", "port_forwardings", "qos")


def list_floatingip_rows(env: Env, ctx: Context, query: listing.ListQuery,
                         columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The floating IPs a list request selects, with only ``columns`` of
    ``floatingips`` and only the related ``loads`` (of ``LOADS``). Raises what
    ``listing.apply_list_query`` raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(FloatingIP, columns)).where(visible(ctx)),
            SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _related(session, rows, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_floatingip_rows(env: Env, ctx: Context, fip_id: str, columns: Iterable[str],
                        loads: Iterable[str]) -> listing.Rows:
    """One visible floating IP as ``list_floatingip_rows`` gives it. Raises
    FloatingIPNotFound."""
    def run(session: Session) -> listing.Rows:
        fip = find_visible(session, ctx, fip_id)
        return listing.Rows(listing.rows_of([fip], columns),
                            _related(session, [fip], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, rows: list[Any], loads: set[str]) -> dict[str, Any]:
    ids = [r.id for r in rows]
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "port_details" in loads:
        related["port_details"] = port_details_of(
            session, [r.fixed_port_id for r in rows if r.fixed_port_id])
    if "port_forwardings" in loads:
        related["port_forwardings"] = port_forwardings.for_floatingips(session, ids)
    if "qos" in loads:
        related["qos"], related["qos_network"] = qos_bindings.with_network(
            session, "floatingip", ids, {r.floating_network_id for r in rows})
    return related

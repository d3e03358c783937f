"""Routers as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/routers.py``
renders them). Visibility and filters are ``services.routers``'. Errors: those of
``listing.apply_list_query``; RouterNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import Router
from neutrino.services import common, gateway_ports, listing, qos_bindings
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.routers import SPEC, find_visible, visible

# tags; gateways (``gateway_ports.by_router``, rows need ``gw_port_id``); gateway_info:
# the gateways and the gateway's QoS policy (``qos``, qos-gateway-ip)
LOADS = ("tags", "gateways", "gateway_info")


def list_router_rows(env: Env, ctx: Context, query: listing.ListQuery,
                     columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The routers a list request selects, with only ``columns`` of ``routers`` and
    only the related ``loads`` (of ``LOADS``). Raises what ``listing.apply_list_query``
    raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(Router, columns)).where(visible(ctx)),
            SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _related(session, rows, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_router_rows(env: Env, ctx: Context, router_id: str, columns: Iterable[str],
                    loads: Iterable[str]) -> listing.Rows:
    """One visible router as ``list_router_rows`` gives it. Raises RouterNotFound."""
    def run(session: Session) -> listing.Rows:
        router = find_visible(session, ctx, router_id)
        return listing.Rows(listing.rows_of([router], columns),
                            _related(session, [router], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, rows: list[Any], loads: set[str]) -> dict[str, Any]:
    ids = [r.id for r in rows]
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

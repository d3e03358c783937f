"""Networks as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/networks.py``
renders them). Visibility and filters are ``services.networks``'. Errors: those of
``listing.apply_list_query``; NetworkNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import Network
from neutrino.services import address_scopes, common, listing, qos_bindings, rbac, segments
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.networks import _caller_spec, find_visible, subnets_of, visible

# Related data a network's wire format may need, one query each (``rbac`` two): tags,
# subnets (also ``routed``: the networks with a subnet on a segment), provider (the
# segments, ``segments.provider_attributes``), scopes (address scope per IP version),
# rbac (``{"named", "external"}``, the caller's grants: ``rbac.caller_grants``), qos.
LOADS = ("tags", "subnets", "provider", "scopes", "rbac", "qos")


def list_network_rows(env: Env, ctx: Context, query: listing.ListQuery,
                      columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The networks a list request selects, with only ``columns`` of ``networks`` and
    only the related ``loads`` (of ``LOADS``). Raises what ``listing.apply_list_query``
    raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(Network, columns)).where(visible(ctx)),
            _caller_spec(ctx), query)
        rows = listing.fetch(session, stmt, query)
        ids = stmt.with_only_columns(Network.id)
        return listing.Rows(rows, _related(session, ctx, ids, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_network_rows(env: Env, ctx: Context, network_id: str, columns: Iterable[str],
                     loads: Iterable[str]) -> listing.Rows:
    """One visible network as ``list_network_rows`` gives it. Raises NetworkNotFound."""
    def run(session: Session) -> listing.Rows:
        net = find_visible(session, ctx, network_id)
        return listing.Rows(listing.rows_of([net], columns),
                            _related(session, ctx, [net.id], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, ctx: Context, ids: Any, loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "subnets" in loads:
        related["subnets"], related["routed"] = subnets_of(session, ids)
    if "provider" in loads:
        related["provider"] = segments.provider_attributes(session, ids)
    if "scopes" in loads:
        related["scopes"] = address_scopes.network_scopes(session, ids)
    if "rbac" in loads:
        named, external = rbac.caller_grants(session, ctx)
        related["rbac"] = {"named": named, "external": external}
    if "qos" in loads:
        related["qos"] = qos_bindings.policies_of(session, "network", ids)
    return related

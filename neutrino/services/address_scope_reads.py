"""Address scopes as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/address_scopes.py``
renders them). Visibility and filters are ``services.address_scopes``'. Errors: those
of ``listing.apply_list_query``; AddressScopeNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import AddressScope
from neutrino.services import listing
from neutrino.services.address_scopes import SPEC, find_visible, granted, visible
from neutrino.services.context import Context
from neutrino.services.env import Env

# granted: the ids of scopes an RBAC entry names the caller's project in
LOADS = ("granted",)


def list_address_scope_rows(env: Env, ctx: Context, query: listing.ListQuery,
                            columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The scopes a list request selects, with only ``columns`` of ``address_scopes``
    and only the related ``loads`` (of ``LOADS``). Raises what
    ``listing.apply_list_query`` raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(AddressScope, columns)).where(visible(ctx)),
            SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _related(session, ctx, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_address_scope_rows(env: Env, ctx: Context, scope_id: str, columns: Iterable[str],
                           loads: Iterable[str]) -> listing.Rows:
    """One visible scope as ``list_address_scope_rows`` gives it. Raises
    AddressScopeNotFound."""
    def run(session: Session) -> listing.Rows:
        scope = find_visible(session, ctx, scope_id)
        return listing.Rows(listing.rows_of([scope], columns),
                            _related(session, ctx, set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, ctx: Context, loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "granted" in loads:
        related["granted"] = set(session.scalars(granted(ctx.project_id)))
    return related

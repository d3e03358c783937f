"""Subnets as the API reads them: the domain rows of list and show with only the
columns (and tags) a request's ``fields=`` needs (``api/wire/subnets.py`` renders
them). Visibility and filters are ``services.subnets``'. Errors: those of
``listing.apply_list_query``; SubnetNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import Subnet
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.subnets import _caller_spec, find_visible, visible

LOADS = ("tags",)


def list_subnet_rows(env: Env, ctx: Context, query: listing.ListQuery, columns: Iterable[str],
                     loads: Iterable[str]) -> listing.Rows:
    """The subnets a list request selects, with only ``columns`` of ``subnets`` and
    only the related ``loads`` (of ``LOADS``). Raises what
    ``listing.apply_list_query`` raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(Subnet, columns)).where(visible(ctx)),
            _caller_spec(ctx), query)
        rows = listing.fetch(session, stmt, query)
        ids = stmt.with_only_columns(Subnet.id)
        return listing.Rows(rows, _related(session, ids, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_subnet_rows(env: Env, ctx: Context, subnet_id: str, columns: Iterable[str],
                    loads: Iterable[str]) -> listing.Rows:
    """One visible subnet as ``list_subnet_rows`` gives it. Raises SubnetNotFound."""
    def run(session: Session) -> listing.Rows:
        sub = find_visible(session, ctx, subnet_id)
        return listing.Rows(listing.rows_of([sub], columns),
                            _related(session, [sub.id], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, ids: Any, loads: set[str]) -> dict[str, Any]:
    return {"tags": common.tags_of(session, ids)} if "tags" in loads else {}

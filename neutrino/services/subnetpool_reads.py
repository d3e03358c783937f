"""Subnet pools as the API reads them: the domain rows of list and show with only the
columns (and tags) a request's ``fields=`` needs (``api/wire/subnetpools.py`` renders
them). Visibility and filters are ``services.subnetpools``'. Errors: those of
``listing.apply_list_query``; SubnetPoolNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import SubnetPool
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.subnetpools import SPEC, find_visible, visible

LOADS = ("tags",)


def list_subnetpool_rows(env: Env, ctx: Context, query: listing.ListQuery,
                         columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The pools a list request selects, with only ``columns`` of ``subnetpools`` and
    only the related ``loads`` (of ``LOADS``). Raises what
    ``listing.apply_list_query`` raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(SubnetPool, columns)).where(visible(ctx)),
            SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _related(session, [r[0] for r in rows], set(loads))
                            if rows else {})
    return env.db.run(run, write=False)


def get_subnetpool_rows(env: Env, ctx: Context, pool_id: str, columns: Iterable[str],
                        loads: Iterable[str]) -> listing.Rows:
    """One visible pool as ``list_subnetpool_rows`` gives it. Raises SubnetPoolNotFound."""
    def run(session: Session) -> listing.Rows:
        pool = find_visible(session, ctx, pool_id)
        return listing.Rows(listing.rows_of([pool], columns),
                            _related(session, [pool.id], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, ids: list[str], loads: set[str]) -> dict[str, Any]:
    return {"tags": common.tags_of(session, ids)} if "tags" in loads else {}

"""Segments as the API reads them: the domain rows of list and show with only the
columns a request's ``fields=`` needs (``api/wire/segments.py`` renders them). Admins
read every segment; anyone else lists none and shows none (SegmentNotFound, 404), as
``services.segments``. Errors: those of ``listing.apply_list_query``; SegmentNotFound.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import NetworkSegment
from neutrino.services import listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.segments import SPEC, _find

LOADS: tuple[str, ...] = ()  # every attribute is a column


def list_segment_rows(env: Env, ctx: Context, query: listing.ListQuery,
                      columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The segments a list request selects (none unless the caller is admin), with only
    ``columns`` of ``network_segments``. Raises what ``listing.apply_list_query`` raises."""
    if not ctx.is_admin:
        return listing.Rows([], {})

    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(NetworkSegment, columns)), SPEC, query)
        return listing.Rows(listing.fetch(session, stmt, query), {})
    return env.db.run(run, write=False)


def get_segment_rows(env: Env, ctx: Context, segment_id: str, columns: Iterable[str],
                     loads: Iterable[str]) -> listing.Rows:
    """One segment as ``list_segment_rows`` gives it. Raises SegmentNotFound (also
    when the caller is not admin)."""
    def run(session: Session) -> listing.Rows:
        return listing.Rows(listing.rows_of([_find(session, ctx, segment_id)], columns), {})
    return env.db.run(run, write=False)

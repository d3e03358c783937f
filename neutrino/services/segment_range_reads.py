"""Network segment ranges as the API reads them: the domain rows of list and show with
only the columns, tags and ``used``/``available`` a request's ``fields=`` needs
(``api/wire/segment_ranges.py`` renders them). Admins read every range; anyone else
lists none and shows none (NetworkSegmentRangeNotFound, 404), as
``services.segment_ranges``. Errors: those of ``listing.apply_list_query``;
NetworkSegmentRangeNotFound.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import NetworkSegmentRange
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.segment_ranges import SPEC, available_ids, find_visible, used_ids

# used/available: {range id: value}, one query (a window of ids for available) a range;
# they read the rows' network_type, physical_network, minimum and maximum
LOADS = ("tags", "used", "available")


def list_segment_range_rows(env: Env, ctx: Context, query: listing.ListQuery,
                            columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The ranges a list request selects (none unless the caller is admin), with only
    ``columns`` of ``network_segment_ranges`` and only the related ``loads`` (of
    ``LOADS``). Raises what ``listing.apply_list_query`` raises."""
    if not ctx.is_admin:
        return listing.Rows([], {})

    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(NetworkSegmentRange, columns)), SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _related(session, rows, set(loads)) if rows else {})
    return env.db.run(run, write=False)


def get_segment_range_rows(env: Env, ctx: Context, range_id: str, columns: Iterable[str],
                           loads: Iterable[str]) -> listing.Rows:
    """One range as ``list_segment_range_rows`` gives it. Raises
    NetworkSegmentRangeNotFound (also when the caller is not admin)."""
    def run(session: Session) -> listing.Rows:
        row = find_visible(session, ctx, range_id)
        return listing.Rows(listing.rows_of([row], columns),
                            _related(session, [row], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, rows: list[Any], loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, [r.id for r in rows])
    if "used" in loads:
        related["used"] = {r.id: used_ids(session, r) for r in rows}
    if "available" in loads:
        related["available"] = {r.id: available_ids(session, r) for r in rows}
    return related

"""Network segment ranges as the API reads them: the domain rows of list and show with
only the columns, tags and ``used``/``available`` a request's ``fields=`` needs
(``api/wire/segment_ranges.py`` renders them). Admins read every range; anyone else
lists none and shows none (NetworkSegmentRangeNotFound, 404), as
``services.segment_ranges``. Errors: those of ``listing.apply_list_query``;
NetworkSegmentRangeNotFound.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import NetworkSegmentRange
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.segment_ranges import SPEC, available_ids, find_visible, used_ids

# used/available: {range id: value}, one query (a window of ids for available) a range;
# they read the rows' network_type, physical_network, minimum and maximum
LOADS = ("tags", "used", "available")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, [r.id for r in rows])
    if "used" in loads:
        related["used"] = {r.id: used_ids(session, r) for r in rows}
    if "available" in loads:
        related["available"] = {r.id: available_ids(session, r) for r in rows}
    return related


# list and show (none unless the caller is admin); raise what
# ``listing.apply_list_query`` raises, NetworkSegmentRangeNotFound (404, also to a caller
# that is not admin)
READER = listing.Reader(NetworkSegmentRange, SPEC, find_visible, listing.admin_only, _related)

"""Trunks as the API reads them: the domain rows of list and show with only the columns
and related data a request's ``fields=`` needs (``api/wire/trunks.py`` renders them).
Visibility and filters are ``services.trunks``'. Errors: those of
``listing.apply_list_query``; TrunkNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import Trunk
from neutrino.services import common, listing, trunks
from neutrino.services.context import Context

# tags; sub_ports ({trunk id: [sub_port dict]}, ``trunks.sub_port_dicts``)
LOADS = ("tags", "sub_ports")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related = common.tags_related(session, ctx, rows, ids, loads)
    if "sub_ports" in loads:
        related["sub_ports"] = trunks.sub_port_dicts(session, [r.id for r in rows])
    return related


# list and show; raise what ``listing.apply_list_query`` raises, TrunkNotFound (404)
READER = listing.Reader(Trunk, trunks.SPEC, trunks.find_visible, trunks.visible, _related)

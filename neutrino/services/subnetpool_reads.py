"""Subnet pools as the API reads them: the domain rows of list and show with only the
columns (and tags) a request's ``fields=`` needs (``api/wire/subnetpools.py`` renders
them). Visibility and filters are ``services.subnetpools``'. Errors: those of
``listing.apply_list_query``; SubnetPoolNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import SubnetPool
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.subnetpools import SPEC, find_visible, visible

LOADS = ("tags",)


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    return {"tags": common.tags_of(session, ids)} if "tags" in loads else {}


# list and show; raise what ``listing.apply_list_query`` raises, SubnetPoolNotFound (404)
READER = listing.Reader(SubnetPool, SPEC, find_visible, visible, _related)

"""Address scopes as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/address_scopes.py``
renders them). Visibility and filters are ``services.address_scopes``'. Errors: those
of ``listing.apply_list_query``; AddressScopeNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import AddressScope
from neutrino.services import listing
from neutrino.services.address_scopes import SPEC, find_visible, granted, visible
from neutrino.services.context import Context

# granted: the ids of scopes an RBAC entry names the caller's project in
LOADS = ("granted",)


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "granted" in loads:
        related["granted"] = set(session.scalars(granted(ctx.project_id)))
    return related


# list and show; raise what ``listing.apply_list_query`` raises, AddressScopeNotFound (404)
READER = listing.Reader(AddressScope, SPEC, find_visible, visible, _related)

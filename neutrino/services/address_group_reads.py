"""Address groups as the API reads them: the domain rows of list and show with only the
columns (and addresses) a request's ``fields=`` needs (``api/wire/address_groups.py``
renders them). Visibility and filters are ``services.address_groups``'. Errors: those
of ``listing.apply_list_query``; AddressGroupNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import AddressGroup
from neutrino.services import listing
from neutrino.services.address_groups import SPEC, addresses_of, find_visible, visible
from neutrino.services.context import Context

# addresses: {group id: [CIDR, ...]} in address order
LOADS = ("addresses",)


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    if "addresses" not in loads:
        return {}
    return {"addresses": addresses_of(session, [r.id for r in rows])}


# list and show; raise what ``listing.apply_list_query`` raises, AddressGroupNotFound (404)
READER = listing.Reader(AddressGroup, SPEC, find_visible, visible, _related)

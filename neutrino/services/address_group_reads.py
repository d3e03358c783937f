"""Address groups as the API reads them: the domain rows of list and show with only the
columns (and addresses) a request's ``fields=`` needs (``api/wire/address_groups.py``
renders them). Visibility and filters are ``services.address_groups``'. Errors: those
of ``listing.apply_list_query``; AddressGroupNotFound (404).
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.db.models import AddressGroup
from neutrino.services import listing
from neutrino.services.address_groups import SPEC, addresses_of, find_visible, visible
from neutrino.services.context import Context
from neutrino.services.env import Env

# addresses: {group id: [CIDR, ...]} in address order
LOADS = ("addresses",)


def list_address_group_rows(env: Env, ctx: Context, query: listing.ListQuery,
                            columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The groups a list request selects, with only ``columns`` of ``address_groups``
    and only the related ``loads`` (of ``LOADS``). Raises what
    ``listing.apply_list_query`` raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*listing.columns_of(AddressGroup, columns)).where(visible(ctx)),
            SPEC, query)
        rows = listing.fetch(session, stmt, query)
        return listing.Rows(rows, _related(session, [r[0] for r in rows], set(loads))
                            if rows else {})
    return env.db.run(run, write=False)


def get_address_group_rows(env: Env, ctx: Context, group_id: str, columns: Iterable[str],
                           loads: Iterable[str]) -> listing.Rows:
    """One visible group as ``list_address_group_rows`` gives it. Raises
    AddressGroupNotFound."""
    def run(session: Session) -> listing.Rows:
        group = find_visible(session, ctx, group_id)
        return listing.Rows(listing.rows_of([group], columns),
                            _related(session, [group.id], set(loads)))
    return env.db.run(run, write=False)


def _related(session: Session, ids: list[str], loads: set[str]) -> dict[str, Any]:
    return {"addresses": addresses_of(session, ids)} if "addresses" in loads else {}

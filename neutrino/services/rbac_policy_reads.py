"""RBAC policies as the API reads them: the domain rows of list and show with only the
columns a request's ``fields=`` needs (``api/wire/rbac_policies.py`` renders them),
selected from the union of every object type's RBAC table (``services.rbac``).
Visibility and filters are ``services.rbac``'s: a policy is read by its project and
admins. Errors: those of ``listing.apply_list_query``; RbacPolicyNotFound (404).
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.services import listing
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.rbac import _P, SPEC, _visible_policies

LOADS: tuple[str, ...] = ()  # every attribute is a column


def list_rbac_policy_rows(env: Env, ctx: Context, query: listing.ListQuery,
                          columns: Iterable[str], loads: Iterable[str]) -> listing.Rows:
    """The policies a list request selects, with only ``columns`` of the union. Raises
    what ``listing.apply_list_query`` raises."""
    def run(session: Session) -> listing.Rows:
        stmt = listing.apply_list_query(
            session, select(*(_P[c] for c in columns)).where(_visible_policies(ctx)),
            SPEC, query)
        return listing.Rows(listing.fetch(session, stmt, query), {})
    return env.db.run(run, write=False)


def get_rbac_policy_rows(env: Env, ctx: Context, policy_id: str, columns: Iterable[str],
                         loads: Iterable[str]) -> listing.Rows:
    """One policy as ``list_rbac_policy_rows`` gives it. Raises RbacPolicyNotFound
    unless the caller's project made it or the caller is admin."""
    def run(session: Session) -> listing.Rows:
        row = session.execute(select(*(_P[c] for c in columns)).where(
            _P.id == policy_id, _visible_policies(ctx))).first()
        if row is None:
            raise errors.RbacPolicyNotFound(policy_id)
        return listing.Rows([row], {})
    return env.db.run(run, write=False)

"""RBAC policies as the API reads them: the domain rows of list and show with only the
columns a request's ``fields=`` needs (``api/wire/rbac_policies.py`` renders them),
selected from the union of every object type's RBAC table (``services.rbac``).
Visibility and filters are ``services.rbac``'s: a policy is read by its project and
admins. Errors: those of ``listing.apply_list_query``; RbacPolicyNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.services import listing
from neutrino.services.context import Context
from neutrino.services.rbac import _P, _POLICIES, SPEC, _visible_policies

LOADS: tuple[str, ...] = ()  # every attribute is a column


def _find(session: Session, ctx: Context, policy_id: str) -> Any:
    """The policy row; RbacPolicyNotFound unless the caller's project made it or the
    caller is admin."""
    row = session.execute(select(_POLICIES).where(
        _P.id == policy_id, _visible_policies(ctx))).first()
    if row is None:
        raise errors.RbacPolicyNotFound(policy_id)
    return row


# list and show; raise what ``listing.apply_list_query`` raises, RbacPolicyNotFound (404)
READER = listing.Reader(_POLICIES, SPEC, _find, _visible_policies)

"""Who sees a resource shared by RBAC ``access_as_shared`` entries: one rule for
address scopes, address groups and security groups (Neutron's ``RbacNeutronDbObjectMixin``
``is_accessible`` / ``query_with_hooks``; networks, with their external action, keep
their own in ``services.rbac``).

``model`` is the resource's table (``id``, ``project_id`` and ``shared``: the wildcard
entry's mirror); ``rbac_model`` its RBAC table (``object_id``, ``target_tenant``).
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from neutrino.services import common
from neutrino.services.context import Context

SHARED = "access_as_shared"
WILDCARD = "*"


def granted(rbac_model: Any, project_id: str):
    """SELECT of the ids of objects an entry names ``project_id`` in (``*`` excluded)."""
    return select(rbac_model.object_id).where(rbac_model.target_tenant == project_id)


def shared_for(model: Any, rbac_model: Any, project_id: str):
    """SQL condition: the row is shared to ``project_id`` (``*`` or by name)."""
    return or_(model.shared.is_(True), model.id.in_(granted(rbac_model, project_id)))


def visible(model: Any, rbac_model: Any, ctx: Context):
    """SQL condition: the caller sees the row -- its own or shared to it; admins all."""
    if ctx.is_admin:
        return model.id.is_not(None)
    return or_(model.project_id == ctx.project_id, shared_for(model, rbac_model, ctx.project_id))


def visible_to(session: Session, row: Any, rbac_model: Any, project_id: str) -> bool:
    """The row form: ``project_id`` may see and use ``row`` (owner, ``*`` or named)."""
    return (row.project_id == project_id or bool(row.shared)
            or session.scalar(granted(rbac_model, project_id).where(
                rbac_model.object_id == row.id).limit(1)) is not None)


def find_visible(session: Session, ctx: Context, model: Any, rbac_model: Any, row_id: str,
                 not_found: Callable[[str], Exception], *, for_update: bool = False) -> Any:
    """The row ``row_id`` of ``model`` if the caller sees it (admins: any; others: as
    :func:`visible_to`), locked ``FOR UPDATE`` on request; else raises
    ``not_found(row_id)`` (Neutron answers 404 for absent and hidden alike)."""
    row = session.get(model, row_id, with_for_update=for_update)
    if row is None or not (ctx.is_admin or visible_to(session, row, rbac_model, ctx.project_id)):
        raise not_found(row_id)
    return row


def mirror_wildcard(session: Session, row: Any, rbac_model: Any, on: bool) -> None:
    """Make ``row``'s ``*`` ``access_as_shared`` entry follow ``shared`` set to ``on``:
    added (owned by the row's project) when missing, deleted when off. ``row.shared``
    itself is the caller's to set."""
    if on:
        if session.scalar(select(rbac_model.id).where(
                rbac_model.object_id == row.id, rbac_model.target_tenant == WILDCARD)) is None:
            session.add(rbac_model(id=common.new_id(), project_id=row.project_id,
                                   object_id=row.id, action=SHARED, target_tenant=WILDCARD))
        return
    session.execute(delete(rbac_model).where(rbac_model.object_id == row.id,
                                             rbac_model.target_tenant == WILDCARD))

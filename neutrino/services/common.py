"""Helpers shared by the resource services. None of them commits."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any, Callable, Iterable

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db import outbox_wake, pg_pipeline
from neutrino.db.models import OvnOutbox, Tag
from neutrino.services import listing
from neutrino.services.context import Context

# Nothing reads its result (no RETURNING of the new id): it waits in a PostgreSQL
# write transaction's pipeline (db.pg_pipeline) for the next statement answered.
_INSERT_OUTBOX = insert(OvnOutbox.__table__).inline().execution_options(**{pg_pipeline.DEFERRED: True})
MAX_TAGS = 50
MAX_TAG_LEN = 255


def now() -> str:
    """The current UTC time as Neutron prints it: ``2026-11-21T07:28:38Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: object) -> bool:
    """Whether ``value`` is a string holding a UUID (neutron-lib's ``validate_uuid``)."""
    try:
        uuid.UUID(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def enqueue_ovn(session: Session, resource_type: str, resource_id: str) -> None:
    """Tell the northbound sync that this resource's OVN rows must be recomputed
    (an ``ovn_outbox`` row; the commit wakes the sync, ``db.outbox_wake``)."""
    session.execute(_INSERT_OUTBOX, {"resource_type": resource_type,
                                     "resource_id": resource_id, "created_at": now()})
    outbox_wake.mark(session)


def touch(row: Any) -> None:
    """Record a committed change: bump ``revision_number`` and ``updated_at``."""
    row.revision_number += 1
    row.updated_at = now()


def apply_changes(row: Any, data: dict[str, Any]) -> bool:
    """Set the attributes in ``data`` on ``row``; True if any value changed."""
    changed = False
    for key, value in data.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def check_if_match(row: Any, if_match: int | None) -> None:
    """``If-Match: revision_number=N`` (ext ``revision-if-match``): 412 on mismatch."""
    if if_match is not None and row.revision_number != if_match:
        raise errors.PreconditionFailed(
            f"Constrained to {if_match}, but current revision is {row.revision_number}")


def own(ctx: Context, model: Any):
    """SQL condition on ``model``'s table: the caller's project's rows (admins: all) --
    who sees a resource that is never shared (routers, floating IPs, trunks, logs)."""
    return model.id.is_not(None) if ctx.is_admin else model.project_id == ctx.project_id


def get_own(session: Session, ctx: Context, model: Any, row_id: str,
            not_found: Callable[[str], Exception], *, for_update: bool = False) -> Any:
    """The row form of :func:`own`: row ``row_id`` of ``model`` (locked ``FOR UPDATE`` on
    request) if the caller's project owns it or the caller is admin; else raises
    ``not_found(row_id)`` (Neutron answers 404 for absent and another project's alike)."""
    row = session.get(model, row_id, with_for_update=for_update)
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise not_found(row_id)
    return row


def require_owned(ctx: Context, row: Any, denied: Exception) -> Any:
    """``row`` (one the caller sees) if the caller may change it: its project owns it or
    the caller is admin; else raises ``denied`` (PolicyNotAuthorized, 403, for a resource
    only shared with the caller; a 404 where Neutron hides that it exists)."""
    if not ctx.is_admin and row.project_id != ctx.project_id:
        raise denied
    return row


def update_row(row: Any, data: dict[str, Any], if_match: int | None) -> bool:
    """A plain update of a standard-attribute row: ``If-Match`` checked (412,
    :func:`check_if_match`), ``data`` set, and a change recorded (:func:`touch`).
    Returns whether any value changed."""
    check_if_match(row, if_match)
    changed = apply_changes(row, data)
    if changed:
        touch(row)
    return changed


def eq_or_none(column: Any) -> Callable[[list[str]], listing.Clause]:
    """A list filter on an optional reference (``subnetpool_id``, ``segment_id``,
    ``address_scope_id``): ``<attr>=<id>`` matches those ids, and an empty value (or
    ``None``) the rows without one."""
    def clause(values: list[str]) -> listing.Clause:
        ids = [v for v in values if v and v != "None"]
        matched = column.in_(ids)
        return or_(matched, column.is_(None)) if len(ids) < len(values) else matched
    return clause


def owner_project(ctx: Context, data: dict[str, Any]) -> str:
    """The project a new resource belongs to: the body's ``project_id``/``tenant_id``
    for admins, else the caller's (A.4). Raises BadRequest on a mismatch."""
    project = data.get("project_id")
    tenant = data.get("tenant_id")
    if project is not None and tenant is not None and project != tenant:
        raise errors.BadRequest("'project_id' and 'tenant_id' do not match")
    requested = project if project is not None else tenant
    if requested is None or requested == ctx.project_id:
        return ctx.project_id
    if not ctx.is_admin:
        raise errors.BadRequest("Specifying 'project_id' or 'tenant_id' other than the "
                                "authenticated project in request requires admin privileges")
    return requested


# --- tags ---------------------------------------------------------------------

def tags_related(session: Session, ctx: Any, rows: list[Any], ids: Any,
                 loads: set[str]) -> dict[str, Any]:
    """The related loads (``listing.Reader``'s ``related``) of a resource whose only
    related data is its tags: ``{"tags": {id: [tag, ...]}}`` when asked."""
    return {"tags": tags_of(session, ids)} if "tags" in loads else {}


def tags_of(session: Session, ids: Any) -> dict[str, list[str]]:
    """``{resource_id: sorted tags}`` for many resources in one query;
    ``ids`` is a list of ids or a SELECT of them."""
    result: dict[str, list[str]] = defaultdict(list)
    if isinstance(ids, list) and not ids:
        return result
    for rid, tag in session.execute(
            select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(ids)).order_by(Tag.tag)):
        result[rid].append(tag)
    return result


def validate_tags(tags: list[str]) -> list[str]:
    """Neutron's tag rules: strings of at most 255 characters, no commas, at most 50."""
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LEN or "," in tag:
            raise errors.InvalidInput(f"Invalid input for operation: '{tag}' is not a valid tag.")
    unique = sorted(set(tags))
    if len(unique) > MAX_TAGS:
        raise errors.BadRequest(f"The number of tags exceed the per-resource limit of {MAX_TAGS}")
    return unique


def add_tags(session: Session, resource_id: str, tags: Iterable[str]) -> None:
    existing = set(session.scalars(select(Tag.tag).where(Tag.resource_id == resource_id)))
    for tag in tags:
        if tag not in existing:
            session.add(Tag(resource_id=resource_id, tag=tag))
            existing.add(tag)
    if len(existing) > MAX_TAGS:
        raise errors.BadRequest(f"The number of tags exceed the per-resource limit of {MAX_TAGS}")


def delete_tags(session: Session, resource_ids: Iterable[str]) -> None:
    ids = list(resource_ids)
    if ids:
        session.execute(delete(Tag).where(Tag.resource_id.in_(ids)))

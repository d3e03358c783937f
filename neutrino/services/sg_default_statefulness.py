"""The default ``stateful`` of new security groups, per project and system-wide
(extension ``security-groups-default-statefulness``; Neutron's
``db/security_groups_default_statefulness.py``).

A group created without ``stateful`` takes its project's setting, else the system-wide
one (``project_id`` null), else true. Admins manage every setting; a project's manager
its own project's (Neutron's ADMIN_OR_PROJECT_MANAGER), its readers read it; the
system-wide setting is the admin's. Others' settings are hidden (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import SecurityGroupDefaultStatefulness as Row
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env


class SecurityGroupDefaultStatefulnessNotFound(errors.NotFound):
    def __init__(self, setting_id: str) -> None:
        super().__init__(f"Security group default statefulness {setting_id} could not be "
                         "found.")


class SecurityGroupDefaultStatefulnessAlreadyExists(errors.Conflict):
    def __init__(self, project_id: str | None) -> None:
        super().__init__("A security group default statefulness setting already exists "
                         f"for project '{project_id or 'system-wide'}'.")


SPEC = listing.ResourceSpec(
    id_column=Row.id,
    filters={"id": listing.eq(Row.id), "project_id": listing.eq(Row.project_id),
             "stateful": listing.eq(Row.stateful, listing.to_bool)},
    sort_keys={"id": Row.id, "project_id": Row.project_id, "stateful": Row.stateful},
    not_found=SecurityGroupDefaultStatefulnessNotFound,
)


def default_stateful(session: Session, project_id: str) -> bool:
    """The ``stateful`` of a new group of ``project_id`` that names none."""
    rows = dict(session.execute(select(Row.project_key, Row.stateful).where(
        Row.project_key.in_([project_id, ""]))).all())
    return rows.get(project_id, rows.get("", True))


def create_settings(env: Env, ctx: Context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create settings; ``project_id`` null (or absent, for admins) is system-wide.
    Raises PolicyNotAuthorized (403) for another project's or the system-wide setting
    without admin, SecurityGroupDefaultStatefulnessAlreadyExists (409)."""
    def run(session: Session) -> list[dict[str, Any]]:
        rows = []
        for data in items:
            project = data.get("project_id", data.get("tenant_id"))
            if not ctx.is_admin and project != ctx.project_id:
                raise errors.PolicyNotAuthorized("create_security_groups_default_statefulness")
            key = project or ""
            if session.scalar(select(Row.id).where(Row.project_key == key)) is not None:
                raise SecurityGroupDefaultStatefulnessAlreadyExists(project)
            row = Row(id=common.new_id(), project_id=project or None, project_key=key,
                      stateful=data.get("stateful", True))
            session.add(row)
            session.flush()
            rows.append(row)
        return [_dict(r) for r in rows]
    return env.db.run(run)


def get_setting(env: Env, ctx: Context, setting_id: str,
                fields: list[str] | None = None) -> dict[str, Any]:
    """One setting; 404 when absent or not the caller's to see."""
    return env.db.run(lambda s: _dict(_find(s, ctx, setting_id)), write=False)


def list_settings(env: Env, ctx: Context, query: listing.ListQuery) -> list[dict[str, Any]]:
    """Every setting for admins; a project's own for its members."""
    stmt = select(Row.__table__)
    if not ctx.is_admin:
        stmt = stmt.where(Row.project_key == ctx.project_id)
    return common.list_rows(env, stmt, SPEC, query, lambda session, rows: [_dict(r) for r in rows])


def update_setting(env: Env, ctx: Context, setting_id: str, data: dict[str, Any],
                   if_match: int | None = None) -> dict[str, Any]:
    """Change ``stateful`` (groups already made keep theirs). Raises 404 as
    :func:`get_setting`."""
    def run(session: Session) -> dict[str, Any]:
        row = _find(session, ctx, setting_id)
        common.apply_changes(row, data)
        session.flush()
        return _dict(row)
    return env.db.run(run)


def delete_setting(env: Env, ctx: Context, setting_id: str, if_match: int | None = None) -> None:
    """Delete a setting (its project falls back to the system-wide one)."""
    env.db.run(lambda s: s.delete(_find(s, ctx, setting_id)))


def _find(session: Session, ctx: Context, setting_id: str) -> Row:
    row = session.get(Row, setting_id)
    if row is None or not (ctx.is_admin or row.project_key == ctx.project_id):
        raise SecurityGroupDefaultStatefulnessNotFound(setting_id)
    return row


def _dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "project_id": row.project_id, "tenant_id": row.project_id,
            "stateful": row.stateful}

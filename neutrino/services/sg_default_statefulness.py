"""The default ``stateful`` of new security groups, per project and system-wide
(extension ``security-groups-default-statefulness``; Neutron's
``db/security_groups_default_statefulness.py``).

A group created without ``stateful`` takes its project's setting, else the system-wide
one (``project_id`` null), else true. Admins manage every setting; a project's manager
its own project's (Neutron's ADMIN_OR_PROJECT_MANAGER), its readers read it; the
system-wide setting is the admin's. Others' settings are hidden (404).

Lists and shows are ``services.sg_default_statefulness_reads.READER``'s rows, rendered
by ``api/wire/sg_default_statefulness.py``; creates and updates return the rows they
wrote.
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


def visible(ctx: Context) -> listing.Clause | None:
    """Settings the caller lists: admins every one, others their project's."""
    return None if ctx.is_admin else Row.project_key == ctx.project_id


def create_settings(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create settings; ``project_id`` null (or absent, for admins) is system-wide.
    Returns the new rows (the API renders them: ``api/wire/sg_default_statefulness.py``).
    Raises PolicyNotAuthorized (403) for another project's or the system-wide setting
    without admin, SecurityGroupDefaultStatefulnessAlreadyExists (409)."""
    def run(session: Session) -> listing.Written:
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
        return listing.Written(rows)
    return env.db.run(run)


def update_setting(env: Env, ctx: Context, setting_id: str, data: dict[str, Any],
                   if_match: int | None = None) -> listing.Written:
    """Change ``stateful`` (groups already made keep theirs); returns the setting.
    Raises 404 as :func:`find_visible`."""
    def run(session: Session) -> listing.Written:
        row = find_visible(session, ctx, setting_id)
        common.apply_changes(row, data)
        session.flush()
        return listing.Written([row])
    return env.db.run(run)


def delete_setting(env: Env, ctx: Context, setting_id: str, if_match: int | None = None) -> None:
    """Delete a setting (its project falls back to the system-wide one)."""
    env.db.run(lambda s: s.delete(find_visible(s, ctx, setting_id)))


def find_visible(session: Session, ctx: Context, setting_id: str) -> Row:
    """The setting; SecurityGroupDefaultStatefulnessNotFound (404) when absent or not
    the caller's to see."""
    row = session.get(Row, setting_id)
    if row is None or not (ctx.is_admin or row.project_key == ctx.project_id):
        raise SecurityGroupDefaultStatefulnessNotFound(setting_id)
    return row

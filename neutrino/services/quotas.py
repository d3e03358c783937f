"""Quotas (``quotas`` and ``quota_details`` extensions; reference B.9).

Limits are per project and resource; ``-1`` is unlimited. A create that
would exceed a limit fails with 409 OverQuota and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import (FloatingIP, Network, NetworkRBAC, Port, Quota, Router,
                                SecurityGroup, SecurityGroupRule, Subnet)
from neutrino.services.context import Context
from neutrino.services.env import Env

# resource name -> model counted for usage
COUNTED = {"network": Network, "subnet": Subnet, "port": Port, "router": Router,
           "floatingip": FloatingIP, "security_group": SecurityGroup,
           "security_group_rule": SecurityGroupRule, "rbac_policy": NetworkRBAC}
_COUNT = {name: select(func.count(model.id)).where(model.project_id == bindparam("project_id"))
          for name, model in COUNTED.items()}
MAX_LIMIT = 2**31 - 1  # neutron-lib DB_INTEGER_MAX_VALUE
_OVERRIDES = select(Quota.resource, Quota.limit).where(Quota.project_id == bindparam("project_id"))


def limit_and_usage(resource: str) -> tuple[Any, Any]:
    """Scalar subqueries of a project's override of the ``resource`` limit (NULL: the
    default) and of its usage, the project being the ``project_id`` bind parameter:
    columns to add to a statement a request runs anyway (``services.ports`` reads them
    with the network). Check them with :func:`check_limit`."""
    return (select(Quota.limit).where(Quota.project_id == bindparam("project_id"),
                                      Quota.resource == resource).scalar_subquery(),
            _COUNT[resource].scalar_subquery())


# A resource's override (NULL: the default) and its usage, in one round trip.
_LIMIT_AND_COUNT = {name: select(*limit_and_usage(name)) for name in COUNTED}


def check_quotas(session: Session, env: Env, resource: str, projects: list[str]) -> None:
    """Raise OverQuota if creating one ``resource`` per entry of ``projects``
    would exceed a limit. Call before inserting the new rows."""
    for project_id, adding in Counter(projects).items():
        check_quota(session, env, project_id, resource, adding)


def check_quota(session: Session, env: Env, project_id: str, resource: str, adding: int) -> None:
    """Raise OverQuota if ``adding`` more ``resource`` would exceed the project's limit."""
    override, used = session.execute(_LIMIT_AND_COUNT[resource],
                                     {"project_id": project_id}).one()
    check_limit(env, resource, override, used, adding)


def check_limit(env: Env, resource: str, override: int | None, used: int, adding: int) -> None:
    """Raise OverQuota (409) if ``adding`` more ``resource`` to ``used`` would exceed the
    limit: ``override``, or the configured default when None; -1 is unlimited."""
    limit = env.settings.quota_defaults()[resource] if override is None else override
    if limit >= 0 and used + adding > limit:
        raise errors.OverQuota([resource])


def get_quota(env: Env, ctx: Context, project_id: str) -> dict[str, int]:
    """``{"network": 100, ...}`` for a project: own project, or any for admins."""
    _check_visible(ctx, project_id)
    return env.db.run(lambda s: _limits(s, env, project_id), write=False)


def default_quota(env: Env, ctx: Context, project_id: str) -> dict[str, int]:
    _check_visible(ctx, project_id)
    return env.settings.quota_defaults()


def quota_details(env: Env, ctx: Context, project_id: str) -> dict[str, dict[str, int]]:
    """``{"port": {"limit": 500, "used": 3, "reserved": 0}, ...}``."""
    _check_visible(ctx, project_id)

    def run(session: Session) -> dict[str, dict[str, int]]:
        limits = _limits(session, env, project_id)
        details = {}
        for resource, model in COUNTED.items():
            used = session.scalar(select(func.count(model.id)).where(model.project_id == project_id))
            details[resource] = {"limit": limits[resource], "used": used or 0, "reserved": 0}
        return details
    return env.db.run(run, write=False)


def list_quotas(env: Env, ctx: Context) -> dict[str, dict[str, int]]:
    """``{project id: {resource: limit}}`` of the projects with non-default quotas, in
    project order, every limit each (admin only: PolicyNotAuthorized, 403)."""
    policy.require(ctx, "get_quota")

    def run(session: Session) -> dict[str, dict[str, int]]:
        projects = session.scalars(select(Quota.project_id).distinct().order_by(Quota.project_id))
        return {p: _limits(session, env, p) for p in projects}
    return env.db.run(run, write=False)


def update_quota(env: Env, ctx: Context, project_id: str, data: dict[str, Any]) -> dict[str, int]:
    """Set limits (admin only). ``data`` maps resource -> integer from -1 to
    2**31 - 1 (Neutron's convert_to_int and type:range; InvalidInput 400), plus
    optional ``force``; a limit below current usage is refused unless forced (400), by
    default (extensions quota-check-limit and quota-check-limit-default; ``check_limit``
    is accepted and ignored, as Neutron since 2025.1)."""
    policy.require(ctx, "update_quota")
    force = bool(data.pop("force", False))
    data.pop("check_limit", None)
    unknown = [k for k in data if k not in COUNTED]
    if unknown:
        raise errors.HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for resource, value in data.items():
        data[resource] = _limit(resource, value)

    def run(session: Session) -> dict[str, int]:
        for resource, value in data.items():
            model = COUNTED[resource]
            used = session.scalar(select(func.count(model.id)).where(model.project_id == project_id))
            if not force and value >= 0 and (used or 0) > value:  # Neutron's quotasv2
                raise errors.HTTPBadRequest(f"Quota limit {value} for {resource} must be "
                                            f"greater than or equal to already used {used}")
            row = session.get(Quota, (project_id, resource))
            if row is None:
                session.add(Quota(project_id=project_id, resource=resource, limit=value))
            else:
                row.limit = value
        session.flush()
        return _limits(session, env, project_id)
    return env.db.run(run)


def _limit(resource: str, value: Any) -> int:
    """One limit as Neutron's quota attribute takes it: ``int(value)`` (``"10"``
    too), then within -1..2**31-1. Raises InvalidInput (400) with Neutron's words."""
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise errors.InvalidInput(
            f"Invalid input for operation: '{value}' is not an integer.") from None
    if limit < -1:
        raise errors.InvalidInput(f"Invalid input for {resource}. Reason: '{limit}' is too "
                                  "small - must be at least '-1'.")
    if limit > MAX_LIMIT:
        raise errors.InvalidInput(f"Invalid input for {resource}. Reason: '{limit}' is too "
                                  f"large - must be no larger than '{MAX_LIMIT}'.")
    return limit


def delete_quota(env: Env, ctx: Context, project_id: str) -> None:
    """Reset a project to the defaults (admin only)."""
    policy.require(ctx, "delete_quota")
    env.db.run(lambda s: s.execute(delete(Quota).where(Quota.project_id == project_id)))


def _limits(session: Session, env: Env, project_id: str) -> dict[str, int]:
    limits = env.settings.quota_defaults()
    for resource, limit in session.execute(_OVERRIDES, {"project_id": project_id}):
        limits[resource] = limit
    return limits


def _check_visible(ctx: Context, project_id: str) -> None:
    if not ctx.is_admin and project_id != ctx.project_id:
        raise errors.PolicyNotAuthorized("get_quota")

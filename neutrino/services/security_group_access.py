"""Who may see, use and change a security group (extensions
``rbac-security-groups``, ``security-groups-shared-filtering``).

A group is shared by RBAC entries (table ``securitygrouprbacs``, object type
``security_group``, action ``access_as_shared``, to a project or ``*``;
``securitygroups.shared`` mirrors the ``*`` entry). A project an entry names
sees the group (GET, list), puts it on its ports and names it as a rule's
remote group; only the owner (or an admin) changes it: for the others the
group is visible, so Neutron's API layer answers 403 (``PolicyNotAuthorized``)
rather than 404 (``neutron/api/v2/base.py`` ``_update``/``_delete`` re-raise
when the SHOW rule passes; ``get_security_group`` passes by
``rule:shared_security_group``). ``shared`` is as the caller sees it: an entry
targets ``*`` or the caller's project (``rbac_db.is_network_shared``).

A policy is in use while ports of the project losing access are in the group
(``SecurityGroup.get_bound_project_ids``), enforced by ``services.rbac``.
Sources: ``neutron/objects/securitygroup.py``, ``neutron/db/securitygroups_db.py``
(``_get_security_groups_on_port``), ``neutron/conf/policies/security_group.py``.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Port, SecurityGroup, SecurityGroupPortBinding, SecurityGroupRBAC
from neutrino.services import common, shared_access
from neutrino.services.context import Context

SHARED = "access_as_shared"
WILDCARD = "*"


def granted(project_id: str):
    """SELECT of the ids of groups an entry names ``project_id`` in (``*`` excluded)."""
    return shared_access.granted(SecurityGroupRBAC, project_id)


def shared_for(project_id: str):
    """SQL condition on ``securitygroups``: shared to ``project_id`` (``*`` or by name)."""
    return shared_access.shared_for(SecurityGroup, SecurityGroupRBAC, project_id)


def visible(ctx: Context):
    """SQL condition on ``securitygroups``: the caller sees the group (its own,
    shared to it; admins: all)."""
    return shared_access.visible(SecurityGroup, SecurityGroupRBAC, ctx)


def visible_to(session: Session, sg: SecurityGroup, project_id: str) -> bool:
    """``project_id`` may see and use ``sg`` (owner, ``*`` or named by an entry)."""
    return shared_access.visible_to(session, sg, SecurityGroupRBAC, project_id)


def find_visible(session: Session, ctx: Context, sg_id: str, *,
                 for_update: bool = False) -> SecurityGroup:
    """The group, or SecurityGroupNotFound (404) when absent or hidden from the caller."""
    return shared_access.find_visible(session, ctx, SecurityGroup, SecurityGroupRBAC, sg_id,
                                      errors.SecurityGroupNotFound, for_update=for_update)


def find_owned(session: Session, ctx: Context, sg_id: str, action: str) -> SecurityGroup:
    """A group the caller may change: SecurityGroupNotFound (404) when hidden,
    PolicyNotAuthorized (403, rule ``action``) when only shared with the caller."""
    return common.require_owned(ctx, find_visible(session, ctx, sg_id),
                                errors.PolicyNotAuthorized(action))


def usable_by(session: Session, ids: Iterable[str], project_id: str) -> set[str]:
    """Those of ``ids`` a port of ``project_id`` may be in: own or shared to it."""
    ids = list(ids)
    return set(session.scalars(select(SecurityGroup.id).where(
        SecurityGroup.id.in_(ids),
        or_(SecurityGroup.project_id == project_id, shared_for(project_id)))))


def shared_ids(session: Session, ctx: Context, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` shared to the caller's project: the API's ``shared``."""
    ids = list(ids)
    if not ids:
        return set()
    return set(session.scalars(select(SecurityGroup.id).where(
        SecurityGroup.id.in_(ids), shared_for(ctx.project_id))))


def users(session: Session, sg_id: str) -> set[str]:
    """Projects whose ports are in the group (``get_bound_project_ids``)."""
    return set(session.scalars(select(Port.project_id).distinct().join(
        SecurityGroupPortBinding, SecurityGroupPortBinding.port_id == Port.id).where(
        SecurityGroupPortBinding.security_group_id == sg_id)))

"""Network logs (extension ``logging``): ``/v2.0/log/logs`` and
``/v2.0/log/loggable-resources``.

A log says which packets of which security groups OVN writes to the chassis'
ovn-controller log: ``resource_type`` ``security_group`` (the only loggable
type, as ML2/OVN's driver), ``resource_id`` a security group (None: every
group of the log's project), ``target_id`` a port (None: every port; with a
port only its groups are logged), ``event`` ``ACCEPT`` (allow ACLs),
``DROP`` (``neutron_pg_drop``'s drop ACLs) or ``ALL``, while ``enabled``.
``ovn/network_log.py`` turns the logs into ACL ``log``/``name``/``severity``/
``meter`` columns and the NB ``Meter`` rows.

Every change enqueues ``("security_group", id)`` for each group the log
covers (before and after the change), so the sync rewrites exactly those
groups' ACLs; ``neutron_pg_drop`` is in every sync's scope. The covered
groups are computed at every sync (``logs_for_sync``), so a project-wide log
covers a group created after it once that group is synced; a port with a
``target_id`` log that changes groups enqueues the groups it leaves
(``port_security.update_port_security``).

Validation as Neutron's ``logging_plugin`` and ``common/sg_validate.py``:
unknown ``resource_type`` 400 ``InvalidLogResourceType``; a ``resource_id``
the caller does not see 404 ``ResourceNotFound``; a ``target_id`` it does not
see 404 ``TargetResourceNotFound``; an unbound port whose ``binding:vnic_type``
is not ``normal`` (ML2/OVN's driver supports vif types ``ovs``/``vhostuser``,
vnic ``normal``) 409 ``LoggingTypeNotSupported``; a port not in the group 400
``InvalidResourceConstraint``; an unknown log 404 ``LogResourceNotFound``.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Log, Port, SecurityGroup, SecurityGroupPortBinding
from neutrino.services import common, listing, ports, security_group_access
from neutrino.services.context import Context
from neutrino.services.env import Env

SECURITY_GROUP = "security_group"
LOGGABLE_RESOURCES = (SECURITY_GROUP,)  # ML2/OVN's SUPPORTED_LOGGING_TYPES
EVENTS = ("ACCEPT", "DROP", "ALL")
_COLUMNS = ("id", "name", "description", "project_id", "resource_type", "resource_id",
            "target_id", "event", "enabled", "created_at", "updated_at", "revision_number")

SPEC = listing.ResourceSpec(
    id_column=Log.id,
    filters={**listing.standard_filters(Log), "enabled": listing.eq(Log.enabled, listing.to_bool),
             **{k: listing.eq(getattr(Log, k)) for k in ("resource_type", "resource_id",
                                                        "target_id", "event")}},
    sort_keys={k: getattr(Log, k) for k in _COLUMNS} | {"tenant_id": Log.project_id},
    not_found=errors.LogResourceNotFound,
)


def covered_groups(session: Session, log: Any) -> set[str]:
    """The security group ids a log covers: its ``resource_id``; else its
    ``target_id``'s groups; else every group of its project."""
    if log.resource_id:
        return {log.resource_id}
    if log.target_id:
        return set(session.scalars(select(SecurityGroupPortBinding.security_group_id).where(
            SecurityGroupPortBinding.port_id == log.target_id)))
    return set(session.scalars(select(SecurityGroup.id).where(
        SecurityGroup.project_id == log.project_id)))


def _enqueue(session: Session, group_ids: Iterable[str]) -> None:
    for gid in sorted(set(group_ids)):
        common.enqueue_ovn(session, SECURITY_GROUP, gid)


def _validate(session: Session, ctx: Context, data: dict[str, Any]) -> None:
    """Neutron's ``validate_request`` for ``security_group`` logs (module docstring)."""
    if data["resource_type"] not in LOGGABLE_RESOURCES:
        raise errors.InvalidLogResourceType(data["resource_type"])
    resource_id, target_id = data.get("resource_id"), data.get("target_id")
    if resource_id:
        try:
            security_group_access.find_visible(session, ctx, resource_id)
        except errors.SecurityGroupNotFound:
            raise errors.ResourceNotFound(resource_id) from None
    if target_id:
        try:
            port = ports.find_visible(session, ctx, target_id)
        except errors.PortNotFound:
            raise errors.TargetResourceNotFound(target_id) from None
        if not port.binding_host_id and port.binding_vnic_type != "normal":
            raise errors.LoggingTypeNotSupported(SECURITY_GROUP, target_id)
    if resource_id and target_id and session.get(
            SecurityGroupPortBinding, (target_id, resource_id)) is None:
        raise errors.InvalidResourceConstraint(SECURITY_GROUP, resource_id, "port", target_id)


def create_logs(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create logs all-or-nothing. ``items`` are validated ``LogCreate`` dicts; returns
    the new rows (the API renders them: ``api/wire/network_logs.py``). Raises the
    errors of the module docstring and BadRequest (another project without admin)."""
    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            _validate(session, ctx, data)
            stamp = common.now()
            log = Log(id=common.new_id(), project_id=common.owner_project(ctx, data),
                      name=data.get("name", ""), description=data.get("description", ""),
                      resource_type=data["resource_type"], resource_id=data.get("resource_id"),
                      target_id=data.get("target_id"), event=data.get("event", "ALL"),
                      enabled=data.get("enabled", True), created_at=stamp, updated_at=stamp,
                      revision_number=1)
            session.add(log)
            session.flush()
            _enqueue(session, covered_groups(session, log))
            rows.append(log)
        return listing.Written(rows)
    return env.db.run(run)


def visible(ctx: Context):
    """SQL condition: logs the caller sees (its project's; admins all)."""
    return common.own(ctx, Log)


def _find(session: Session, ctx: Context, log_id: str, *, for_update: bool = False) -> Log:
    return common.get_own(session, ctx, Log, log_id, errors.LogResourceNotFound,
                          for_update=for_update)


def update_log(env: Env, ctx: Context, log_id: str, data: dict[str, Any],
               if_match: int | None = None) -> listing.Written:
    """Change ``name``, ``description``, ``enabled``; returns the row. Raises
    LogResourceNotFound (404), PreconditionFailed (412, ``If-Match``)."""
    def run(session: Session) -> listing.Written:
        log = _find(session, ctx, log_id, for_update=True)
        enabled = log.enabled
        common.update_row(log, data, if_match)
        session.flush()
        if log.enabled != enabled:
            _enqueue(session, covered_groups(session, log))
        return listing.Written([log])
    return env.db.run(run)


def delete_log(env: Env, ctx: Context, log_id: str, if_match: int | None = None) -> None:
    """Delete a log (its ACLs stop logging). Raises LogResourceNotFound (404),
    PreconditionFailed (412)."""
    def run(session: Session) -> None:
        log = _find(session, ctx, log_id, for_update=True)
        common.check_if_match(log, if_match)
        _enqueue(session, covered_groups(session, log))
        session.delete(log)
    env.db.run(run)


def clean_logs(session: Session, *, sg_id: str | None = None,
               port_id: str | None = None) -> None:
    """Delete the enabled logs of a security group (``resource_id``) or a port
    (``target_id``) being deleted, enqueueing the groups they covered, as Neutron's
    logging plugin does on AFTER_DELETE (``get_logs_bound_sg(..., exclusive=True)``)."""
    column = Log.resource_id if sg_id else Log.target_id
    for log in session.scalars(select(Log).where(column == (sg_id or port_id),
                                                 Log.enabled.is_(True))).all():
        _enqueue(session, covered_groups(session, log) - {sg_id})
        session.delete(log)


def list_loggable_resources(env: Env, ctx: Context) -> list[dict[str, str]]:
    """``GET /v2.0/log/loggable-resources``: ``[{"type": "security_group"}]``."""
    return [{"type": t} for t in LOGGABLE_RESOURCES]


def logs_for_sync(session: Session) -> list[tuple[Any, frozenset[str]]]:
    """Every log with the security group ids it covers, oldest first (the
    first covering log names an ACL, as ML2/OVN keeps an ACL's first name)."""
    rows = session.scalars(select(Log).order_by(Log.created_at, Log.id)).all()
    return [(r, frozenset(covered_groups(session, r))) for r in rows]


def port_of_mac(session: Session, mac: str) -> Port | None:
    """The port with this MAC (for ``neutrino logs``); the first when several
    networks reuse it."""
    return session.scalars(select(Port).where(Port.mac_address == mac.lower())
                           .order_by(Port.id).limit(1)).first()

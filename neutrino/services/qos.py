"""QoS policies (extensions ``qos``, ``qos-default``; sharing by RBAC ``qos_policy``).

A policy is a named set of rules (``services.qos_rules``) put on ports, networks,
floating IPs and router gateways (``services.qos_bindings``). It is seen by its
project, by every project when shared (the ``*`` ``access_as_shared`` entry, mirrored
in ``qos_policies.shared``), by the projects an RBAC entry names and by admins; only
its project (or an admin) changes it, others get 404. ``is_default`` marks the one
policy a project's new networks get (``qos_policies_default``, one row per project:
a second is ``QoSPolicyDefaultAlreadyExists``, 409). A policy in use (bound to a
port, network, floating IP or router) cannot be deleted (``QosPolicyInUse``, 409).
Every change of a policy or its rules enqueues what it is bound to for the NB sync
(``qos_bindings.enqueue_users``).

Sources: ``neutron/services/qos/qos_plugin.py``, ``neutron/objects/qos/policy.py``,
``neutron/conf/policies/qos.py``, neutron-lib ``api/definitions/qos.py``,
``qos_default.py`` and ``exceptions/qos.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.policy import enforce
from neutrino.db.models import (QosFIPPolicyBinding, QosNetworkPolicyBinding, QosPolicy,
                                    QosPolicyDefault, QosPolicyRBAC, QosPortPolicyBinding,
                                    QosRouterGatewayIPPolicyBinding)
from neutrino.services import common, listing, qos_bindings, shared_access
from neutrino.services.context import Context
from neutrino.services.env import Env

SHARED = "access_as_shared"
WILDCARD = "*"
_COLUMNS = ("id", "name", "description", "project_id", "created_at", "updated_at",
            "revision_number")


def _is_default_filter(values: list[str]):
    wanted = {listing.to_bool(v) for v in values}
    defaults = select(QosPolicyDefault.qos_policy_id)
    if wanted == {True}:
        return QosPolicy.id.in_(defaults)
    if wanted == {False}:
        return QosPolicy.id.not_in(defaults)
    return QosPolicy.id.is_not(None)


SPEC = listing.ResourceSpec(
    id_column=QosPolicy.id,
    filters={**listing.standard_filters(QosPolicy),
             "shared": listing.eq(QosPolicy.shared, listing.to_bool),
             "is_default": _is_default_filter},
    sort_keys={k: getattr(QosPolicy, k) for k in _COLUMNS} | {"tenant_id": QosPolicy.project_id},
    not_found=errors.QosPolicyNotFound,
)


# --- access, for the other services -------------------------------------------------

def visible(ctx: Context):
    """SQL condition on ``qos_policies``: the caller may see (and use) the policy."""
    return shared_access.visible(QosPolicy, QosPolicyRBAC, ctx)


def find_visible(session: Session, ctx: Context, policy_id: str, *,
                 for_update: bool = False) -> QosPolicy:
    """The policy, or QosPolicyNotFound (404) when absent or hidden from the caller."""
    return shared_access.find_visible(session, ctx, QosPolicy, QosPolicyRBAC, policy_id,
                                      errors.QosPolicyNotFound, for_update=for_update)


def find_owned(session: Session, ctx: Context, policy_id: str) -> QosPolicy:
    """A policy the caller may change: QosPolicyNotFound (404) when hidden or only
    shared with the caller (Neutron's ``get_policy_obj`` then the owner check)."""
    return common.require_owned(ctx, find_visible(session, ctx, policy_id, for_update=True),
                                errors.QosPolicyNotFound(policy_id))


def check_rbac_removal(session: Session, policy: QosPolicy, entry: Any) -> None:
    """Removing (or retargeting: the new target does not count) the RBAC ``entry`` of
    ``policy`` must leave every project with a bound resource its access, the owner's
    own included (Neutron's generic ``rbac_db._validate_rbac_policy_delete``): a named
    entry is in use while its project has one and no ``*`` entry exists; the ``*``
    entry while a bound project is named by no other entry. RbacPolicyInUse (409)."""
    bound = qos_bindings.bound_projects(session, policy.id)
    others = set(session.scalars(select(QosPolicyRBAC.target_tenant).where(
        QosPolicyRBAC.object_id == policy.id, QosPolicyRBAC.action == SHARED,
        QosPolicyRBAC.id != entry.id)))
    if entry.target_tenant != WILDCARD:
        in_use = WILDCARD not in others and entry.target_tenant in bound
    else:
        in_use = not bound <= others
    if in_use:
        raise errors.RbacPolicyInUse(policy.id, f"project_id={entry.target_tenant}")


def granted_among(session: Session, ctx: Context, ids: Any) -> set[str]:
    """Those of ``ids`` (a list or a SELECT of policy ids) an RBAC entry shares with
    the caller's project by name: with the ``*`` column, the ``shared`` it sees."""
    return set(session.scalars(shared_access.granted(QosPolicyRBAC, ctx.project_id).where(
        QosPolicyRBAC.object_id.in_(ids))))


def defaults_among(session: Session, ids: Any) -> set[str]:
    """Those of ``ids`` (a list or a SELECT) that are their project's default policy."""
    return set(session.scalars(select(QosPolicyDefault.qos_policy_id).where(
        QosPolicyDefault.qos_policy_id.in_(ids))))


# --- the API ------------------------------------------------------------------------

def create_policies(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create policies all-or-nothing. ``items`` are validated ``QosPolicyCreate`` dicts
    (``name``, ``description``, ``shared``, ``is_default``, ``tags``, ``project_id``).
    Returns the new rows (the API renders them: ``api/wire/qos_policies.py``).
    Raises PolicyNotAuthorized (403: ``create_policy``, admins and project managers),
    BadRequest (another project without admin), QoSPolicyDefaultAlreadyExists (409).
    The API's route checks only ``get_policy``: Neutron validates the body first."""
    enforce(ctx, "create_policy")  # after the body's validation, as Neutron

    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            stamp = common.now()
            policy = QosPolicy(id=common.new_id(), project_id=common.owner_project(ctx, data),
                               name=data.get("name", ""), description=data.get("description", ""),
                               shared=False, created_at=stamp, updated_at=stamp,
                               revision_number=1)
            session.add(policy)
            session.flush()
            if data.get("shared"):
                mirror_wildcard(session, policy, True)
            if data.get("is_default"):
                _set_default(session, policy, True)
            if data.get("tags"):
                common.add_tags(session, policy.id, common.validate_tags(data["tags"]))
            rows.append(policy)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def update_policy(env: Env, ctx: Context, policy_id: str, data: dict[str, Any],
                  if_match: int | None = None) -> listing.Written:
    """Update ``name``, ``description``, ``shared``, ``is_default``; returns the row. Raises
    QosPolicyNotFound (404), PreconditionFailed (412), QoSPolicyDefaultAlreadyExists (409)."""
    def run(session: Session) -> listing.Written:
        policy = find_owned(session, ctx, policy_id)
        enforce(ctx, "update_policy")
        common.check_if_match(policy, if_match)
        changed = False
        if "shared" in data:
            shared = bool(data.pop("shared"))
            changed = shared != bool(policy.shared)
            if changed and not shared:
                wildcard = session.scalars(select(QosPolicyRBAC).where(
                    QosPolicyRBAC.object_id == policy.id,
                    QosPolicyRBAC.target_tenant == WILDCARD)).first()
                if wildcard is not None:
                    check_rbac_removal(session, policy, wildcard)
            mirror_wildcard(session, policy, shared)
        if "is_default" in data:
            changed = _set_default(session, policy, bool(data.pop("is_default"))) or changed
        if common.apply_changes(policy, data) or changed:
            common.touch(policy)
        session.flush()
        return listing.Written([policy])
    return env.db.run(run)


def delete_policy(env: Env, ctx: Context, policy_id: str, if_match: int | None = None) -> None:
    """Delete a policy with its rules and RBAC entries. Raises QosPolicyNotFound (404),
    QosPolicyInUse (409) while bound to anything."""
    def run(session: Session) -> None:
        policy = find_owned(session, ctx, policy_id)
        enforce(ctx, "delete_policy")
        common.check_if_match(policy, if_match)
        for model, kind, column in ((QosPortPolicyBinding, "port", "port_id"),
                                    (QosNetworkPolicyBinding, "network", "network_id"),
                                    (QosFIPPolicyBinding, "fip", "fip_id"),
                                    (QosRouterGatewayIPPolicyBinding, "router", "router_id")):
            used = session.scalar(select(getattr(model, column)).where(
                model.policy_id == policy_id).limit(1))
            if used is not None:
                raise errors.QosPolicyInUse(policy_id, kind, used)
        session.delete(policy)
    env.db.run(run)


def mirror_wildcard(session: Session, policy: QosPolicy, on: bool) -> None:
    """Make the ``*`` entry follow ``shared`` set to ``on``."""
    policy.shared = on
    shared_access.mirror_wildcard(session, policy, QosPolicyRBAC, on)


def _set_default(session: Session, policy: QosPolicy, on: bool) -> bool:
    """Make ``policy`` its project's default (or not); True when that changed.
    QoSPolicyDefaultAlreadyExists (409) when another policy is the default."""
    current = session.get(QosPolicyDefault, policy.project_id, with_for_update=True)
    if on:
        if current is not None and current.qos_policy_id != policy.id:
            raise errors.QoSPolicyDefaultAlreadyExists(policy.project_id)
        if current is None:
            session.add(QosPolicyDefault(project_id=policy.project_id, qos_policy_id=policy.id))
            return True
        return False
    if current is not None and current.qos_policy_id == policy.id:
        session.delete(current)
        return True
    return False


def default_policy_id(session: Session, project_id: str) -> str | None:
    """The project's default policy (a new network without ``qos_policy_id`` gets it)."""
    row = session.get(QosPolicyDefault, project_id)
    return row.qos_policy_id if row is not None else None

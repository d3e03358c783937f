"""Address scopes (extensions ``address-scope`` and ``rbac-address-scope``).

An address scope is a set of subnet pools of one IP version whose prefixes
never overlap (``services.subnetpools`` checks that), so their subnets can be
routed to each other without NAT: a router does not SNAT traffic from a subnet
whose scope is its gateway subnet's (``ovn.desired_routers.desired_snat``). Networks show
``ipv4_address_scope`` / ``ipv6_address_scope``: the scope of the pool their
subnets of that version came from (:func:`network_scopes`).

Sharing is RBAC as for networks (``addressscoperbacs``, ``access_as_shared`` to a
project or ``*``); ``address_scopes.shared`` mirrors the ``*`` entry and changes
in the same transaction. A scope is seen by its project, by every project when
shared, by the projects an entry names, and by admins; ``shared`` reads true for
a project an entry names. A shared scope cannot be unshared through ``shared``
(AddressScopeUpdateError, 400), only by deleting its ``*`` policy when no other
project's pool uses it (``services.rbac``).

Sources: ``neutron/db/address_scope_db.py``, ``neutron/objects/address_scope.py``,
``neutron/conf/policies/address_scope.py``, neutron-lib
``api/definitions/address_scope.py`` and ``exceptions/address_scope.py``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import AddressScope, AddressScopeRBAC, PrefixGeneration, Subnet, SubnetPool
from neutrino.services import common, listing, shared_access
from neutrino.services.context import Context
from neutrino.services.env import Env

SHARED = "access_as_shared"
WILDCARD = "*"

SPEC = listing.ResourceSpec(
    id_column=AddressScope.id,
    filters={
        "id": listing.eq(AddressScope.id),
        "name": listing.eq(AddressScope.name),
        "project_id": listing.eq(AddressScope.project_id),
        "tenant_id": listing.eq(AddressScope.project_id),
        "shared": listing.eq(AddressScope.shared, listing.to_bool),
        "ip_version": listing.eq(AddressScope.ip_version, listing.to_int),
    },
    sort_keys={"id": AddressScope.id, "name": AddressScope.name,
               "project_id": AddressScope.project_id, "tenant_id": AddressScope.project_id,
               "shared": AddressScope.shared, "ip_version": AddressScope.ip_version},
    not_found=errors.AddressScopeNotFound,
)


# --- access, for the other services ---------------------------------------------

def granted(project_id: str):
    """SELECT of the ids of scopes an RBAC entry names ``project_id`` in."""
    return shared_access.granted(AddressScopeRBAC, project_id)


def visible(ctx: Context):
    """SQL condition on ``address_scopes``: the caller may see (and use) the scope."""
    return shared_access.visible(AddressScope, AddressScopeRBAC, ctx)


def can_see(session: Session, ctx: Context, scope: AddressScope) -> bool:
    """The row form of :func:`visible` (Neutron's ``AddressScope.is_accessible``)."""
    return ctx.is_admin or shared_access.visible_to(session, scope, AddressScopeRBAC,
                                                    ctx.project_id)


def find_visible(session: Session, ctx: Context, scope_id: str, *,
                 for_update: bool = False) -> AddressScope:
    """The scope, or AddressScopeNotFound (404) when absent or hidden from the caller."""
    return shared_access.find_visible(session, ctx, AddressScope, AddressScopeRBAC, scope_id,
                                      errors.AddressScopeNotFound, for_update=for_update)


def find_owned(session: Session, ctx: Context, scope_id: str, action: str) -> AddressScope:
    """A scope the caller may change: 404 if hidden, 403 if only visible."""
    return common.require_owned(ctx, find_visible(session, ctx, scope_id, for_update=True),
                                errors.PolicyNotAuthorized(action))


def mirror_wildcard(session: Session, scope: AddressScope, on: bool) -> None:
    """Make the ``*`` ``access_as_shared`` entry follow ``scope.shared`` set to ``on``."""
    shared_access.mirror_wildcard(session, scope, AddressScopeRBAC, on)


def users(session: Session, scope_id: str) -> set[str]:
    """Projects with a subnet pool in the scope (the RBAC in-use check)."""
    return set(session.scalars(select(SubnetPool.project_id).distinct().where(
        SubnetPool.address_scope_id == scope_id)))


def network_scopes(session: Session, network_ids: Any) -> dict[str, dict[int, str]]:
    """``{network id: {ip version: address scope id}}`` for the networks (ids or a
    SELECT of them) whose subnets came from a pool in a scope
    (``_extend_network_dict_address_scope``)."""
    result: dict[str, dict[int, str]] = defaultdict(dict)
    if isinstance(network_ids, list) and not network_ids:
        return result
    rows = session.execute(
        select(Subnet.network_id, SubnetPool.ip_version, SubnetPool.address_scope_id).distinct()
        .join(SubnetPool, SubnetPool.id == Subnet.subnetpool_id)
        .where(Subnet.network_id.in_(network_ids), SubnetPool.address_scope_id.is_not(None)))
    for net_id, version, scope_id in rows:
        result[net_id][version] = scope_id
    return result


def network_scope(session: Session, network_id: str, version: int) -> str | None:
    """The address scope of ``network_id``'s subnets of IP ``version``, or None
    (``AddressScope.get_network_address_scope``)."""
    return network_scopes(session, [network_id]).get(network_id, {}).get(version)


# --- the API ----------------------------------------------------------------------

def create_address_scopes(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create scopes all-or-nothing. ``items`` are validated ``AddressScopeCreate``
    dicts (``ip_version`` 4 or 6, ``name``, ``shared``, ``project_id``). Returns the
    new rows (the API renders them: ``api/wire/address_scopes.py``).

    Raises PolicyNotAuthorized (403: ``shared`` true without admin,
    ``create_address_scope:shared``), BadRequest (another project without admin).
    """
    for data in items:
        if data.get("shared"):
            policy.require(ctx, "create_address_scope:shared")

    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            scope = AddressScope(id=common.new_id(), project_id=common.owner_project(ctx, data),
                                 name=data.get("name", ""), shared=bool(data.get("shared")),
                                 ip_version=data["ip_version"])
            session.add(scope)
            session.flush()
            if scope.shared:
                mirror_wildcard(session, scope, True)
            rows.append(scope)
        return listing.Written(rows)
    return env.db.run(run)


def update_address_scope(env: Env, ctx: Context, scope_id: str, data: dict[str, Any],
                         if_match: int | None = None) -> listing.Written:
    """Update ``name`` and ``shared`` (admin only, ``update_address_scope:shared``);
    returns the row.

    Raises AddressScopeNotFound (404), PolicyNotAuthorized (403),
    AddressScopeUpdateError (400) when a shared scope is set unshared. Scopes have
    no revision number: ``If-Match`` is ignored.
    """
    if "shared" in data:
        policy.require(ctx, "update_address_scope:shared")

    def run(session: Session) -> listing.Written:
        scope = find_owned(session, ctx, scope_id, "update_address_scope")
        if scope.shared and data.get("shared") is False:
            raise errors.AddressScopeUpdateError(scope_id, "Shared address scope can't be unshared")
        if data.get("shared") and not scope.shared:
            mirror_wildcard(session, scope, True)
        common.apply_changes(scope, data)
        session.flush()
        return listing.Written([scope])
    return env.db.run(run)


def delete_address_scope(env: Env, ctx: Context, scope_id: str, if_match: int | None = None) -> None:
    """Delete a scope and its RBAC entries. Raises AddressScopeNotFound (404),
    PolicyNotAuthorized (403), AddressScopeInUse (409) while a subnet pool is in it."""
    def run(session: Session) -> None:
        scope = find_owned(session, ctx, scope_id, "delete_address_scope")
        in_use = session.scalar(select(SubnetPool.id).where(
            SubnetPool.address_scope_id == scope_id).limit(1))
        if in_use is not None:
            raise errors.AddressScopeInUse(scope_id)
        session.execute(delete(PrefixGeneration).where(PrefixGeneration.owner_id == scope_id))
        session.delete(scope)
    env.db.run(run)

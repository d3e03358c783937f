"""Address groups (extensions ``address-group``, ``rbac-address-group``).

An address group is a named set of CIDRs (``address_associations``, each in its
network form: ``192.168.0.10/24`` is kept as ``192.168.0.0/24``) that security
group rules name as their remote (``remote_address_group_id``, extension
``security-groups-remote-address-group``). OVN realises it as two address sets,
``ag_<id>_ip4`` and ``ag_<id>_ip6`` (``ovn.security_groups``), which the rules'
ACLs reference: a change of addresses rewrites those two rows only, never an ACL.
Every change enqueues ``("address_group", id)`` for the NB sync.

Sharing is RBAC as for address scopes (``addressgrouprbacs``, ``access_as_shared``
to a project or ``*``; ``address_groups.shared`` mirrors the ``*`` entry and is not
shown). A group is seen by its project, by every project when shared, by the
projects an entry names and by admins; only its project (or an admin) changes it,
others get 404 as from Neutron's API layer (``_update``: "pretend that it doesn't
exist"). A policy whose removal would strand another project's security group
rules on the group is in use (``AddressGroup.get_bound_project_ids``).

Sources: ``neutron/db/address_group_db.py``, ``neutron/objects/address_group.py``,
``neutron/conf/policies/address_group.py``, neutron-lib
``api/definitions/address_group.py`` and ``exceptions/address_group.py``.
Neutron has no address group quota.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any, Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import AddressAssociation, AddressGroup, AddressGroupRBAC, SecurityGroupRule
from neutrino.services import common, listing, shared_access
from neutrino.services.context import Context
from neutrino.services.env import Env

SHARED = "access_as_shared"
WILDCARD = "*"
RESOURCE = "address_group"  # outbox resource type
_COLUMNS = ("id", "name", "description", "project_id", "created_at", "updated_at",
            "revision_number")

SPEC = listing.ResourceSpec(
    id_column=AddressGroup.id,
    filters=listing.standard_filters(AddressGroup),
    sort_keys={k: getattr(AddressGroup, k) for k in _COLUMNS} | {"tenant_id": AddressGroup.project_id},
    not_found=errors.AddressGroupNotFound,
)


# --- addresses ----------------------------------------------------------------------

def normalize(address: Any) -> str:
    """A CIDR in its network form (``_process_requested_addresses``):
    ``10.0.0.5/24`` -> ``10.0.0.0/24``, ``10.0.0.5`` -> ``10.0.0.5/32``.
    Raises HTTPBadRequest (400) for anything else (Neutron's FAULT_MAP maps
    netaddr's AddrFormatError to 400)."""
    try:
        net = ipaddress.ip_network(address.strip(), strict=False)
    except (AttributeError, ValueError) as exc:
        raise errors.HTTPBadRequest(f"Invalid address {address!r}: {exc}") from None
    return f"{net.network_address}/{net.prefixlen}"


def _requested(data: Any) -> list[str]:
    """The deduplicated normalised addresses of a member-action body
    ``{"addresses": [...]}``; HTTPBadRequest (400) when it is not that shape."""
    addresses = data.get("addresses") if isinstance(data, dict) else None
    if not isinstance(addresses, list):
        raise errors.HTTPBadRequest("Request body must be {\"addresses\": [CIDR, ...]}.")
    return sorted({normalize(a) for a in addresses}, key=_order)


def _order(cidr: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(cidr)
    return net.version, int(net.network_address), net.prefixlen


def addresses_of(session: Session, group_ids: Iterable[str]) -> dict[str, list[str]]:
    """``{group id: [CIDR, ...]}`` in address order (IPv4 first), one query."""
    ids = list(group_ids)
    result: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return result
    for gid, address in session.execute(select(
            AddressAssociation.address_group_id, AddressAssociation.address)
            .where(AddressAssociation.address_group_id.in_(ids))):
        result[gid].append(address)
    for values in result.values():
        values.sort(key=_order)
    return result


# --- access, for the other services -----------------------------------------------

def granted(project_id: str):
    """SELECT of the ids of groups an RBAC entry names ``project_id`` in."""
    return shared_access.granted(AddressGroupRBAC, project_id)


def visible(ctx: Context):
    """SQL condition on ``address_groups``: the caller may see (and use) the group."""
    return shared_access.visible(AddressGroup, AddressGroupRBAC, ctx)


def visible_to(session: Session, group: AddressGroup, project_id: str) -> bool:
    """``project_id`` may see and use ``group`` (owner, ``*`` or named by an entry)."""
    return shared_access.visible_to(session, group, AddressGroupRBAC, project_id)


def find_visible(session: Session, ctx: Context, group_id: str, *,
                 for_update: bool = False) -> AddressGroup:
    """The group, or AddressGroupNotFound (404) when absent or hidden from the caller."""
    return shared_access.find_visible(session, ctx, AddressGroup, AddressGroupRBAC, group_id,
                                      errors.AddressGroupNotFound, for_update=for_update)


def find_owned(session: Session, ctx: Context, group_id: str) -> AddressGroup:
    """A group the caller may change: AddressGroupNotFound (404) if hidden,
    HTTPNotFound (404, as Neutron's API layer) if only shared with the caller."""
    return common.require_owned(ctx, find_visible(session, ctx, group_id, for_update=True),
                                errors.HTTPNotFound())


def check_remote(session: Session, group_id: str, project_id: str) -> None:
    """A rule of ``project_id`` may name the group as its remote
    (``check_address_group`` with the rule's project): AddressGroupNotFound (404)."""
    group = session.get(AddressGroup, group_id)
    if group is None or not visible_to(session, group, project_id):
        raise errors.AddressGroupNotFound(group_id)


def users(session: Session, group_id: str) -> set[str]:
    """Projects with a security group rule whose remote is the group (RBAC in-use check)."""
    return set(session.scalars(select(SecurityGroupRule.project_id).distinct().where(
        SecurityGroupRule.remote_address_group_id == group_id)))


# --- the API ------------------------------------------------------------------------

def create_address_groups(env: Env, ctx: Context,
                          items: list[dict[str, Any]]) -> listing.Written:
    """Create groups all-or-nothing. ``items`` are validated ``AddressGroupCreate``
    dicts (``name``, ``description``, ``addresses``: CIDRs, ``project_id``). Returns the
    new rows (the API renders them: ``api/wire/address_groups.py``). Raises BadRequest
    (another project without admin)."""
    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            stamp = common.now()
            group = AddressGroup(id=common.new_id(), project_id=common.owner_project(ctx, data),
                                 name=data.get("name", ""),
                                 description=data.get("description", ""), shared=False,
                                 created_at=stamp, updated_at=stamp, revision_number=1)
            session.add(group)
            session.flush()
            addresses = sorted({normalize(a) for a in data.get("addresses") or []}, key=_order)
            _insert(session, group.id, addresses)
            common.enqueue_ovn(session, RESOURCE, group.id)
            rows.append(group)
        return listing.Written(rows)
    return env.db.run(run)


def _insert(session: Session, group_id: str, addresses: list[str]) -> None:
    if addresses:
        session.execute(insert(AddressAssociation), [
            {"address_group_id": group_id, "address": a} for a in addresses])


def update_address_group(env: Env, ctx: Context, group_id: str, data: dict[str, Any],
                         if_match: int | None = None) -> listing.Written:
    """Update ``name`` and ``description``; returns the row. Raises AddressGroupNotFound
    / HTTPNotFound (404), PreconditionFailed (412, ``If-Match``)."""
    def run(session: Session) -> listing.Written:
        group = find_owned(session, ctx, group_id)
        common.update_row(group, data, if_match)
        session.flush()
        return listing.Written([group])
    return env.db.run(run)


def delete_address_group(env: Env, ctx: Context, group_id: str,
                         if_match: int | None = None) -> None:
    """Delete a group, its addresses and RBAC entries. Raises AddressGroupNotFound /
    HTTPNotFound (404), AddressGroupInUse (409) while any rule names it."""
    def run(session: Session) -> None:
        group = find_owned(session, ctx, group_id)
        common.check_if_match(group, if_match)
        if session.scalar(select(SecurityGroupRule.id).where(
                SecurityGroupRule.remote_address_group_id == group_id).limit(1)) is not None:
            raise errors.AddressGroupInUse(group_id)
        session.execute(delete(AddressAssociation).where(
            AddressAssociation.address_group_id == group_id))
        session.delete(group)
        common.enqueue_ovn(session, RESOURCE, group_id)
    env.db.run(run)


def add_addresses(env: Env, ctx: Context, group_id: str, data: Any) -> listing.Written:
    """``PUT .../add_addresses`` with ``{"addresses": [CIDR, ...]}``: returns the group
    (the API answers ``{"address_group": {...}}``). Raises HTTPBadRequest (400, not CIDRs),
    AddressGroupNotFound / HTTPNotFound (404), AddressesAlreadyExist (400: any
    address already in the group; nothing is added)."""
    addresses = _requested(data)

    def run(session: Session) -> listing.Written:
        group = find_owned(session, ctx, group_id)
        present = set(addresses_of(session, [group_id]).get(group_id, []))
        already = [a for a in addresses if a in present]
        if already:
            raise errors.AddressesAlreadyExist(already, group_id)
        _insert(session, group_id, addresses)
        return _changed(session, group)
    return env.db.run(run)


def remove_addresses(env: Env, ctx: Context, group_id: str, data: Any) -> listing.Written:
    """``PUT .../remove_addresses`` with ``{"addresses": [CIDR, ...]}``: returns the group,
    as :func:`add_addresses`. Raises
    HTTPBadRequest (400), AddressGroupNotFound / HTTPNotFound (404),
    AddressesNotFound (404: any address not in the group; nothing is removed)."""
    addresses = _requested(data)

    def run(session: Session) -> listing.Written:
        group = find_owned(session, ctx, group_id)
        present = set(addresses_of(session, [group_id]).get(group_id, []))
        missing = [a for a in addresses if a not in present]
        if missing:
            raise errors.AddressesNotFound(missing, group_id)
        session.execute(delete(AddressAssociation).where(
            AddressAssociation.address_group_id == group_id,
            AddressAssociation.address.in_(addresses)))
        return _changed(session, group)
    return env.db.run(run)


def _changed(session: Session, group: AddressGroup) -> listing.Written:
    """A new revision (``revises_on_change``) and an outbox row for the address sets."""
    common.touch(group)
    common.enqueue_ovn(session, RESOURCE, group.id)
    session.flush()
    return listing.Written([group])

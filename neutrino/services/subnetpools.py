"""Subnet pools (extensions ``subnet_allocation``, ``default-subnetpools``,
``subnetpool-prefix-ops``, ``subnet_onboard``; pools in address scopes: ``address-scope``).

A pool holds ``prefixes`` (compacted, one IP version) and bounds
``min_prefixlen <= default_prefixlen <= max_prefixlen``; subnets are carved from
it by ``subnetpool_id`` (or ``use_default_subnetpool``) with a ``prefixlen`` or a
``cidr`` inside it (``services.subnet_allocation``, called by ``services.subnets``).
Subnets of one pool never overlap, under concurrency too, without a lock: every
allocation and every change of a pool's prefixes claims the pool's next
generation (:func:`claim`, table ``prefix_generations``), a primary key two
concurrent transactions cannot both insert; ``Database.run`` re-runs the loser,
which then sees the winner's subnet. Prefix changes of a pool in an address scope
also claim the scope's generation, so two pools of one scope never take
overlapping prefixes at once. (Neutron serialises the same way with a
compare-and-swap of ``subnetpools.hash`` and a retry, ``_lock_subnetpool``.)

Errors are Neutron's: a full pool is SubnetAllocationError (409 here, 500 in
Neutron: see ``errors.SubnetAllocationError``), a prefix length out of bounds
Min/MaxPrefixSubnetAllocationError (400), overlapping prefixes in one scope
AddressScopePrefixConflict (409), a scope of the other IP version
IllegalSubnetPoolIpVersionAssociationToAddressScope (400), removing prefixes
subnets use / shrinking by update IllegalSubnetPoolPrefixUpdate (400), deleting a
pool with subnets SubnetPoolDeleteError (400), ``default_quota`` (prefix units:
/32, /64) exceeded SubnetPoolQuotaExceeded (409).

Sources: ``neutron/db/db_base_plugin_v2.py`` (``create_subnetpool`` ...
``onboard_network_subnets``, ``add_prefixes``, ``remove_prefixes``,
``_validate_address_scope_id``, ``_get_subnetpool_id``), ``neutron/ipam/subnet_alloc.py``,
``neutron/db/ipam_backend_mixin.py`` (``_validate_network_subnetpools``),
``neutron/conf/policies/subnetpool.py``, neutron-lib ``api/definitions/subnetpool.py``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors, policy
from neutrino.db.models import IPAllocation, Network, Port, PrefixGeneration, Subnet, SubnetPool
from neutrino.ipam import prefixes as px
from neutrino.services import address_scopes, common, listing, rbac
from neutrino.services.context import Context
from neutrino.services.env import Env

_INT_ATTRS = ("default_prefixlen", "min_prefixlen", "max_prefixlen", "default_quota")

SPEC = listing.ResourceSpec(
    id_column=SubnetPool.id,
    filters={
        **listing.standard_filters(SubnetPool),
        "ip_version": listing.eq(SubnetPool.ip_version, listing.to_int),
        "default_prefixlen": listing.eq(SubnetPool.default_prefixlen, listing.to_int),
        "min_prefixlen": listing.eq(SubnetPool.min_prefixlen, listing.to_int),
        "max_prefixlen": listing.eq(SubnetPool.max_prefixlen, listing.to_int),
        "default_quota": listing.eq(SubnetPool.default_quota, listing.to_int),
        "is_default": listing.eq(SubnetPool.is_default, listing.to_bool),
        "shared": listing.eq(SubnetPool.shared, listing.to_bool),
        "address_scope_id": common.eq_or_none(SubnetPool.address_scope_id),
    },
    sort_keys={k: getattr(SubnetPool, k) for k in (
        "id", "name", "project_id", "ip_version", "default_prefixlen", "min_prefixlen",
        "max_prefixlen", "default_quota", "is_default", "shared", "address_scope_id",
        "created_at", "updated_at", "revision_number")} | {"tenant_id": SubnetPool.project_id},
    not_found=errors.SubnetPoolNotFound,
)


# --- access -------------------------------------------------------------------------

def visible(ctx: Context):
    """Pools the caller may see and allocate from: its own and shared ones (admins: all)."""
    if ctx.is_admin:
        return SubnetPool.id.is_not(None)
    return or_(SubnetPool.project_id == ctx.project_id, SubnetPool.shared.is_(True))


def find_visible(session: Session, ctx: Context, pool_id: str, *,
                 for_update: bool = False) -> SubnetPool:
    """The pool, or SubnetPoolNotFound (404) when absent or hidden from the caller."""
    pool = session.get(SubnetPool, pool_id, with_for_update=for_update)
    if pool is None or not (ctx.is_admin or pool.project_id == ctx.project_id or pool.shared):
        raise errors.SubnetPoolNotFound(pool_id)
    return pool


def find_owned(session: Session, ctx: Context, pool_id: str, action: str) -> SubnetPool:
    """A pool the caller may change: 404 if hidden, 403 if only visible (shared)."""
    return common.require_owned(ctx, find_visible(session, ctx, pool_id),
                                errors.PolicyNotAuthorized(action))


def claim(session: Session, owner_id: str) -> None:
    """Insert the next generation of ``owner_id`` (a pool or scope id): a
    concurrent transaction that read the same generation collides on the primary
    key, and one of the two is re-run (``Database.run``). Called before reading
    what the change depends on (subnets of the pool, prefixes of the scope)."""
    last = session.scalar(select(func.max(PrefixGeneration.generation))
                          .where(PrefixGeneration.owner_id == owner_id))
    session.execute(insert(PrefixGeneration).values(owner_id=owner_id,
                                                    generation=(last or 0) + 1))


# --- validation (SubnetPoolReader, SubnetPoolHelper) ---------------------------------

def _read(data: dict[str, Any]) -> dict[str, Any]:
    """A pool's attributes (create body, or a pool merged with an update) checked and
    completed as Neutron's ``SubnetPoolReader``: ``ip_version`` from the prefixes,
    prefixes compacted, absent bounds defaulted (min /8 or /64, max /32 or /128,
    default = min). Raises EmptySubnetPoolPrefixList, PrefixVersionMismatch,
    UnsupportedMinSubnetPoolPrefix, IllegalSubnetPoolPrefixBounds (400)."""
    nets = [ipaddress.ip_network(p, strict=False) for p in data.get("prefixes") or ()]
    if not nets:
        raise errors.EmptySubnetPoolPrefixList()
    version = nets[0].version
    if any(n.version != version for n in nets):
        raise errors.PrefixVersionMismatch()
    low = data.get("min_prefixlen")
    low = px.DEFAULT_MIN_PREFIXLEN[version] if low is None else low
    high = data.get("max_prefixlen")
    high = px.MAX_PREFIXLEN[version] if high is None else high
    default = data.get("default_prefixlen")
    default = low if default is None else default
    if low < 0:
        raise errors.UnsupportedMinSubnetPoolPrefix(low, 4)
    if low > high:
        raise errors.IllegalSubnetPoolPrefixBounds("min_prefixlen", low, "max_prefixlen", high)
    if high > px.MAX_PREFIXLEN[version]:
        raise errors.IllegalSubnetPoolPrefixBounds("max_prefixlen", high, "ip_version_max",
                                                   px.MAX_PREFIXLEN[version])
    if default < low:
        raise errors.IllegalSubnetPoolPrefixBounds("default_prefixlen", default,
                                                   "min_prefixlen", low)
    if default > high:
        raise errors.IllegalSubnetPoolPrefixBounds("default_prefixlen", default,
                                                   "max_prefixlen", high)
    return {**data, "ip_version": version, "prefixes": px.to_text(px.compact(nets)),
            "min_prefixlen": low, "max_prefixlen": high, "default_prefixlen": default}


def _check_scope(session: Session, ctx: Context, pool_id: str, scope_id: str | None,
                 prefixes: list[str], version: int) -> None:
    """Neutron's ``_validate_address_scope_id``: the scope exists for the caller
    (AddressScopeNotFound, 404), has the pool's IP version
    (IllegalSubnetPoolIpVersionAssociationToAddressScope, 400), no network would
    mix scopes (NetworkAddressScopeAffinityError, 400) and no other pool of the
    scope overlaps ``prefixes`` (AddressScopePrefixConflict, 409). Claims the
    scope's generation first, so concurrent changes of one scope serialise."""
    if scope_id is None:
        return
    scope = address_scopes.find_visible(session, ctx, scope_id)
    if scope.ip_version != version:
        raise errors.IllegalSubnetPoolIpVersionAssociationToAddressScope(
            pool_id, scope_id, scope.ip_version)
    _check_rescope_affinity(session, pool_id, version)
    claim(session, scope_id)
    mine = px.compact(prefixes)
    for other in session.scalars(select(SubnetPool.prefixes).where(
            SubnetPool.address_scope_id == scope_id, SubnetPool.id != pool_id)):
        if px.overlaps(mine, px.compact(other)):
            raise errors.AddressScopePrefixConflict()


def _check_rescope_affinity(session: Session, pool_id: str, version: int) -> None:
    """``_check_subnetpool_address_scope_network_affinity``: every subnet of that
    version on the networks of the pool's subnets must come from the pool."""
    nets = select(Subnet.network_id).where(Subnet.subnetpool_id == pool_id)
    stray = session.scalar(select(Subnet.id).where(
        Subnet.network_id.in_(nets), Subnet.ip_version == version,
        or_(Subnet.subnetpool_id.is_(None), Subnet.subnetpool_id != pool_id)).limit(1))
    if stray is not None:
        raise errors.NetworkAddressScopeAffinityError()


def _check_default(session: Session, version: int, pool_id: str | None) -> None:
    """One default pool per IP version (``_check_default_subnetpool_exists``); the
    unique ``default_ip_version`` settles a race (the re-run ends here)."""
    other = session.scalar(select(SubnetPool.id).where(SubnetPool.default_ip_version == version))
    if other is not None and other != pool_id:
        raise errors.InvalidInput("Invalid input for operation: A default subnetpool for this IP "
                                  "family has already been set. Only one default may exist per "
                                  "IP family.")


def _check_pool_update_allowed(session: Session, ctx: Context, pool: SubnetPool) -> None:
    """``_check_subnetpool_update_allowed``: a pool in a scope the caller's project
    does not own (a shared one) is changed by admins only (IllegalSubnetPoolUpdate)."""
    if pool.address_scope_id is None or ctx.is_admin:
        return
    scope = address_scopes.find_visible(session, ctx, pool.address_scope_id)
    if scope.project_id != ctx.project_id:
        raise errors.IllegalSubnetPoolUpdate(
            f"subnetpool {pool.id} cannot be updated when associated with shared address "
            f"scope {scope.id}")


# --- the API ----------------------------------------------------------------------------

def create_subnetpools(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create pools all-or-nothing. ``items`` are validated ``SubnetPoolCreate`` dicts.
    Returns the new rows (the API renders them: ``api/wire/subnetpools.py``).

    Raises PolicyNotAuthorized (403: ``shared`` or ``is_default`` true without
    admin), the validation errors of :func:`_read` (400), InvalidInput (400: a
    second default pool of an IP version), the scope errors of :func:`_check_scope`.
    """
    for data in items:
        for attr in ("shared", "is_default"):
            if data.get(attr):
                policy.require(ctx, f"create_subnetpool:{attr}")
    items = [_read(data) for data in items]

    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            pool_id = common.new_id()
            version = data["ip_version"]
            if data.get("is_default"):
                _check_default(session, version, None)
            scope_id = data.get("address_scope_id")
            _check_scope(session, ctx, pool_id, scope_id, data["prefixes"], version)
            stamp = common.now()
            pool = SubnetPool(
                id=pool_id, project_id=common.owner_project(ctx, data),
                name=data.get("name", ""), description=data.get("description", ""),
                ip_version=version, prefixes=data["prefixes"],
                default_prefixlen=data["default_prefixlen"], min_prefixlen=data["min_prefixlen"],
                max_prefixlen=data["max_prefixlen"], shared=bool(data.get("shared")),
                is_default=bool(data.get("is_default")),
                default_ip_version=version if data.get("is_default") else None,
                default_quota=data.get("default_quota"), address_scope_id=scope_id,
                created_at=stamp, updated_at=stamp, revision_number=1)
            session.add(pool)
            session.flush()
            common.add_tags(session, pool.id, common.validate_tags(data.get("tags", [])))
            session.flush()
            rows.append(pool)
        return listing.Written(rows)
    return env.db.run(run)


def update_subnetpool(env: Env, ctx: Context, pool_id: str, data: dict[str, Any],
                      if_match: int | None = None) -> listing.Written:
    """Update name, description, prefixes (a superset of the current ones), the
    prefix-length bounds, default_quota, is_default (admin) and address_scope_id;
    returns the row.

    Raises SubnetPoolNotFound (404), PolicyNotAuthorized (403),
    IllegalSubnetPoolPrefixUpdate (400: prefixes not a superset),
    IllegalSubnetPoolUpdate (400: the pool is in another project's scope), the
    errors of :func:`_read` and :func:`_check_scope`, PreconditionFailed (412).
    A changed scope re-realises the routers of the pool's subnets.
    """
    if "is_default" in data:
        policy.require(ctx, "update_subnetpool:is_default")

    def run(session: Session) -> listing.Written:
        pool = find_owned(session, ctx, pool_id, "update_subnetpool")
        common.check_if_match(pool, if_match)
        return listing.Written([_update(session, ctx, pool, data)])
    return env.db.run(run)


def _update(session: Session, ctx: Context, pool: SubnetPool, data: dict[str, Any]) -> SubnetPool:
    """Apply an update (``update_subnetpool``, also behind add_prefixes and onboarding)."""
    _check_pool_update_allowed(session, ctx, pool)
    merged = {k: getattr(pool, k) for k in ("prefixes", "address_scope_id", "is_default",
                                            *_INT_ATTRS)}
    merged.update(data)
    if "prefixes" in data:
        if not px.covers(px.compact(data["prefixes"]), px.compact(pool.prefixes)):
            raise errors.IllegalSubnetPoolPrefixUpdate("Existing prefixes must be a subset of "
                                                       "the new prefixes")
    reader = _read(merged)
    if reader["is_default"] and not pool.is_default:
        _check_default(session, pool.ip_version, pool.id)
    if reader["prefixes"] != pool.prefixes or reader["address_scope_id"] != pool.address_scope_id:
        claim(session, pool.id)
        _check_scope(session, ctx, pool.id, reader["address_scope_id"], reader["prefixes"],
                     pool.ip_version)
    rescoped = reader["address_scope_id"] != pool.address_scope_id
    changes = {k: reader[k] for k in data if k in reader}
    changes["prefixes"] = reader["prefixes"]
    for key in ("min_prefixlen", "max_prefixlen", "default_prefixlen"):
        changes[key] = reader[key]
    if "is_default" in data:
        changes["default_ip_version"] = pool.ip_version if data["is_default"] else None
    if common.apply_changes(pool, changes):
        common.touch(pool)
    session.flush()
    if rescoped:
        enqueue_routers(session, select(Subnet.id).where(Subnet.subnetpool_id == pool.id))
    return pool


def delete_subnetpool(env: Env, ctx: Context, pool_id: str, if_match: int | None = None) -> None:
    """Delete a pool. Raises SubnetPoolNotFound (404), PolicyNotAuthorized (403),
    SubnetPoolDeleteError (400) while subnets were allocated from it."""
    def run(session: Session) -> None:
        pool = find_owned(session, ctx, pool_id, "delete_subnetpool")
        common.check_if_match(pool, if_match)
        if session.scalar(select(Subnet.id).where(Subnet.subnetpool_id == pool_id).limit(1)):
            raise errors.SubnetPoolDeleteError("Subnet pool has existing allocations")
        session.execute(delete(PrefixGeneration).where(PrefixGeneration.owner_id == pool_id))
        common.delete_tags(session, [pool_id])
        session.delete(pool)
    env.db.run(run)


def _prefix_list(body: Any) -> list[str]:
    """``{"prefixes": [cidr, ...]}`` (``get_operation_request_body``): HTTPBadRequest
    unless a non-empty list of valid CIDRs."""
    values = body.get("prefixes") if isinstance(body, dict) else None
    if not values or not isinstance(values, list):
        raise errors.HTTPBadRequest("Request body contains invalid data")
    for value in values:
        try:
            if not isinstance(value, str) or "/" not in value:
                raise ValueError
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise errors.InvalidInput(f"Invalid input for prefixes. Reason: '{value}' is not a "
                                      "valid IP subnet.") from None
    return values


def add_prefixes(env: Env, ctx: Context, pool_id: str, body: Any) -> dict[str, list[str]]:
    """``PUT /v2.0/subnetpools/{id}/add_prefixes`` with ``{"prefixes": [...]}``:
    the pool's prefixes become the compaction of old and new; returns
    ``{"prefixes": [...]}``. Errors as :func:`update_subnetpool`."""
    prefixes = _prefix_list(body)

    def run(session: Session) -> dict[str, list[str]]:
        pool = find_owned(session, ctx, pool_id, "add_prefixes")
        _update(session, ctx, pool, {"prefixes": [*pool.prefixes, *prefixes]})
        return {"prefixes": list(pool.prefixes)}
    return env.db.run(run)


def remove_prefixes(env: Env, ctx: Context, pool_id: str, body: Any) -> dict[str, list[str]]:
    """``PUT /v2.0/subnetpools/{id}/remove_prefixes``: the pool loses the addresses
    of ``prefixes``; returns ``{"prefixes": [...]}``. Raises
    IllegalSubnetPoolPrefixUpdate (400) when a subnet of the pool lies in them,
    SubnetPoolNotFound (404), PolicyNotAuthorized (403). Prefixes outside the
    pool change nothing; removing every prefix leaves an empty pool."""
    removed = px.compact(_prefix_list(body))

    def run(session: Session) -> dict[str, list[str]]:
        pool = find_owned(session, ctx, pool_id, "remove_prefixes")
        current = px.compact(pool.prefixes)
        if not px.overlaps(current, [r for r in removed if r.version == pool.ip_version]):
            return {"prefixes": list(pool.prefixes)}
        _check_pool_update_allowed(session, ctx, pool)
        claim(session, pool.id)
        used = [ipaddress.ip_network(cidr) for cidr in session.scalars(
            select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id))]
        if px.overlaps(used, removed):
            raise errors.IllegalSubnetPoolPrefixUpdate("One or more the prefixes to be removed "
                                                       "is in use by a subnet")
        pool.prefixes = px.to_text(px.subtract(current, removed))
        common.touch(pool)
        return {"prefixes": list(pool.prefixes)}
    return env.db.run(run)


def onboard_network_subnets(env: Env, ctx: Context, pool_id: str, body: Any) -> list[dict[str, str]]:
    """``PUT /v2.0/subnetpools/{id}/onboard_network_subnets`` with ``{"network_id": id}``:
    the network's subnets of the pool's IP version join the pool, their CIDRs
    added to its prefixes. Returns ``[{"id": subnet id, "cidr": cidr}]``.

    Raises InvalidInput (400: no network_id, or not a string), NetworkNotFound (404: absent or
    hidden), NotAuthorized (403: another project's visible network, unless admin), SubnetPoolNotFound (404),
    PolicyNotAuthorized (403: a shared pool of another project),
    IllegalSubnetPoolUpdate (400: a CIDR overlaps the pool's subnets), and the
    errors of :func:`update_subnetpool`. The routers of the onboarded subnets are
    re-realised (their address scope may change SNAT).
    """
    network_id = body.get("network_id") if isinstance(body, dict) else None
    if not network_id:
        raise errors.InvalidInput("Invalid input for operation: network_id must be specified.")
    if not isinstance(network_id, str):  # a list or object reached the database (500)
        raise errors.InvalidInput(f"Invalid input for network_id. Reason: '{network_id}' is "
                                  "not a valid string.")

    def run(session: Session) -> list[dict[str, str]]:
        net = session.get(Network, network_id)
        if net is None or not rbac.can_see(session, ctx, net):
            raise errors.NetworkNotFound(network_id)
        if not ctx.is_admin and net.project_id != ctx.project_id:
            raise errors.NotAuthorized("Not authorized.")
        pool = find_owned(session, ctx, pool_id, "onboard_network_subnets")
        subs = list(session.scalars(select(Subnet).where(
            Subnet.network_id == network_id, Subnet.ip_version == pool.ip_version)
            .order_by(Subnet.created_at, Subnet.id)))
        claim(session, pool.id)
        allocated = [ipaddress.ip_network(cidr) for cidr in session.scalars(
            select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id))]
        for sub in subs:
            if sub.subnetpool_id != pool.id and px.overlaps([ipaddress.ip_network(sub.cidr)],
                                                            allocated):
                raise errors.IllegalSubnetPoolUpdate(
                    f"Onboarding subnet {sub.id}: {sub.cidr} conflicts with allocated prefixes "
                    f"in subnet pool {pool.id}")
        _update(session, ctx, pool, {"prefixes": [*pool.prefixes, *(s.cidr for s in subs)]})
        for sub in subs:
            if sub.subnetpool_id != pool.id:
                sub.subnetpool_id = pool.id
                common.touch(sub)
        session.flush()
        enqueue_routers(session, [s.id for s in subs])
        return [{"id": s.id, "cidr": s.cidr} for s in subs]
    return env.db.run(run)


def enqueue_routers(session: Session, subnet_ids: Any) -> None:
    """Outbox rows for the routers with an interface or gateway address in the
    subnets (ids or a SELECT of them): their SNAT depends on address scopes."""
    router_ids = session.scalars(select(Port.device_id).distinct().join(
        IPAllocation, IPAllocation.port_id == Port.id).where(
        IPAllocation.subnet_id.in_(subnet_ids),
        Port.device_owner.in_((c.DEVICE_OWNER_ROUTER_INTF, c.DEVICE_OWNER_ROUTER_GW))))
    for router_id in sorted(set(router_ids)):
        common.enqueue_ovn(session, "router", router_id)

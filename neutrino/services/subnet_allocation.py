"""Subnets carved from subnet pools (extensions ``subnet_allocation``,
``default-subnetpools``): which pool a subnet request names, the CIDR it gets, and
the rules tying a network's subnets to one pool or one address scope.

``services.subnets`` calls :func:`allocate_for_subnet` in the subnet's
transaction. The allocation claims the pool's next generation first
(``subnetpools.claim``), so of two concurrent requests that would pick the same
free prefix one commits and the other is re-run by ``Database.run`` and picks
the next; subnets of one pool never overlap, with no lock held.

Sources: ``neutron/db/db_base_plugin_v2.py`` (``_get_subnetpool_id``,
``_create_subnet_precommit``), ``neutron/ipam/subnet_alloc.py``
(``SubnetAllocator``), ``neutron/ipam/requests.py`` (``SubnetRequestFactory``),
``neutron/db/ipam_backend_mixin.py`` (``validate_pools_with_subnetpool``,
``_validate_ip_version_with_subnetpool``, ``_validate_network_subnetpools``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Network, Subnet, SubnetPool
from neutrino.ipam import prefixes as px
from neutrino.ipam.ranges import IPNetwork
from neutrino.services import address_scopes
from neutrino.services.context import Context
from neutrino.services.subnetpools import claim, find_visible, visible


def allocate_for_subnet(session: Session, ctx: Context, net: Network, project: str,
                        data: dict[str, Any]) -> tuple[SubnetPool | None, dict[str, Any]]:
    """Resolve the pool of a subnet request and allocate its CIDR: the pool is
    ``subnetpool_id`` or, with ``use_default_subnetpool``, the default pool of the
    request's IP version the caller sees. Returns the pool (None for a request
    without one, which must then give ``cidr``) and a copy of ``data`` whose
    ``cidr`` is the allocated prefix (``data`` itself is left as it is: a re-run
    transaction allocates afresh). Checks the network's pool and scope affinity.

    Raises BadRequest (400: cidr and prefixlen together, subnetpool_id with
    use_default_subnetpool, no cidr and no pool, no default pool, allocation_pools
    without cidr, a pool of the other IP version), SubnetPoolNotFound (404),
    NetworkSubnetPoolAffinityError / NetworkAddressScopeAffinityError (400),
    Min/MaxPrefixSubnetAllocationError (400), SubnetPoolQuotaExceeded (409),
    SubnetAllocationError (409: no room).
    """
    pool_id, use_default = data.get("subnetpool_id"), data.get("use_default_subnetpool", False)
    has_cidr = data.get("cidr") is not None
    if has_cidr and data.get("prefixlen") is not None:
        raise _bad("cidr and prefixlen must not be supplied together")
    if use_default and pool_id:
        raise _bad("subnetpool_id and use_default_subnetpool cannot both be specified")
    version = ipaddress.ip_network(data["cidr"], strict=False).version if has_cidr \
        else data["ip_version"]
    if use_default:
        pool_id = session.scalar(select(SubnetPool.id).where(
            SubnetPool.default_ip_version == version, visible(ctx)))
        if pool_id is None:
            raise _bad(f"No default subnetpool found for IPv{version}")
    if not pool_id:
        if not has_cidr:
            raise _bad("a subnetpool must be specified in the absence of a cidr")
        _check_network_affinity(session, net.id, version, None)
        return None, data
    pool = find_visible(session, ctx, pool_id)
    if not has_cidr and data.get("allocation_pools"):
        raise _bad("allocation_pools allowed only for specific subnet requests")
    if data["ip_version"] != pool.ip_version:
        raise _bad(f"Cannot allocate IPv{data['ip_version']} subnet from IPv{pool.ip_version} "
                   "subnet pool")
    _check_network_affinity(session, net.id, pool.ip_version, pool)
    claim(session, pool.id)
    cidr = _allocate(session, pool, project, data)
    request = {**data, "cidr": str(cidr)}
    if data.get("cidr") is None and "gateway_ip" not in data and cidr.version == 6:
        # an "any" request's gateway is network + 1 for both IP versions
        # (``_allocate_any_subnet``), not the IPv6 default of a given cidr
        request["gateway_ip"] = str(cidr.network_address + 1)
    return pool, request


def _bad(msg: str) -> errors.BadRequest:
    return errors.BadRequest(f"Bad subnets request: {msg}.")


def _allocate(session: Session, pool: SubnetPool, project: str, data: dict[str, Any]) -> IPNetwork:
    """The CIDR for a subnet request in ``pool`` (the pool's generation claimed):
    the requested ``cidr`` (or ``gateway_ip``/``prefixlen``) if free, else the
    first fit of ``prefixlen`` (default ``default_prefixlen``)."""
    cidr = None
    if data.get("cidr") is not None:
        cidr = ipaddress.ip_network(data["cidr"], strict=False)
    elif data.get("gateway_ip"):
        cidr = ipaddress.ip_network(f"{data['gateway_ip']}/{data.get('prefixlen') or pool.default_prefixlen}",
                                    strict=False)
    prefixlen = cidr.prefixlen if cidr is not None else (
        data.get("prefixlen") if data.get("prefixlen") is not None else pool.default_prefixlen)
    if prefixlen > pool.max_prefixlen:
        raise errors.MaxPrefixSubnetAllocationError(prefixlen, pool.max_prefixlen)
    if prefixlen < pool.min_prefixlen:
        raise errors.MinPrefixSubnetAllocationError(prefixlen, pool.min_prefixlen)
    allocated = session.execute(select(Subnet.cidr, Subnet.project_id)
                                .where(Subnet.subnetpool_id == pool.id)).all()
    if pool.default_quota is not None:
        used = sum(px.quota_units(ipaddress.ip_network(r.cidr).prefixlen, pool.ip_version)
                   for r in allocated if r.project_id == project)
        if used + px.quota_units(prefixlen, pool.ip_version) > pool.default_quota:
            raise errors.SubnetPoolQuotaExceeded()
    free = px.subtract(px.compact(pool.prefixes), [ipaddress.ip_network(r.cidr) for r in allocated])
    if cidr is not None:
        if not px.fits(free, cidr):
            raise errors.SubnetAllocationError("Cannot allocate requested subnet from the "
                                               "available set of prefixes")
        return cidr
    chosen = px.first_fit(free, prefixlen)
    if chosen is None:
        raise errors.SubnetAllocationError(
            f"Insufficient prefix space to allocate subnet size /{prefixlen}")
    return chosen


def _check_network_affinity(session: Session, network_id: str, version: int,
                            pool: SubnetPool | None) -> None:
    """``_validate_network_subnetpools``: with an address scope on the network (for
    ``version``), the new subnet's pool must be in it; without one, every subnet
    of that version on the network comes from the same pool (or none)."""
    scope = address_scopes.network_scope(session, network_id, version)
    if scope is not None and (pool is None or pool.address_scope_id != scope):
        raise errors.NetworkAddressScopeAffinityError()
    if scope is not None:
        return
    pools = set(session.scalars(select(Subnet.subnetpool_id).where(
        Subnet.network_id == network_id, Subnet.ip_version == version)))
    if pools - {pool.id if pool is not None else None}:
        raise errors.NetworkSubnetPoolAffinityError()

"""The network scheduler's policies applied to the subnets of one network (seed 004,
issue 20): which subnet a port that names none takes its address from.

Seed 004's operators grow a network that fills up by giving it more subnets, or more
VLAN segments each with its subnets (routed networks), so that users booting without
choosing a network -- unmodified Nova attaches such a boot to the one network the
project sees -- keep getting addresses. That works because of Neutron's IPAM: a port
without ``fixed_ips`` tries its candidate subnets of each kind (IPv4, stateful IPv6)
in turn and takes the next when one is full (``IpamSubnetGroup.allocate``,
``neutron/ipam/subnet_alloc.py``); the candidates are the subnets of the segments
its host reaches on a routed network, those whose service types name the port's
owner first (``_ipam_get_subnets``, ``neutron/db/ipam_backend_mixin.py``);
IpAddressGenerationFailure (409) only when all are full. ``services.port_addresses``
does the same. This module orders each kind's candidates for an instance's port
(:func:`applies`: ``device_owner`` empty, as Nova creates it, or not ``network:*``) by
``scheduler_policy``, as ``services.scheduler`` orders networks:

* ``pack``: the fullest subnet that still has room first (fewest free pool
  addresses), so one subnet fills before the next is touched;
* ``spread``: the most free pool addresses first;
* ``balanced``: the lowest utilisation (used / total pool addresses) first.

Ties keep creation order, subnets whose service types name the owner stay
first and full ones go last. Free addresses are those ``network-ip-availability`` counts (pool addresses
not allocated, ``ip_availability.subnet_usage``), read in the port's transaction.
With ``scheduler_required_tag`` set, a kind whose candidates include subnets
carrying that tag uses only those (:func:`keep_tagged`); the untagged ones stay
for ports that name them in ``fixed_ips``. A kind without a tagged subnet uses all.
Ports of ``network:*`` owners (router interfaces and gateways, floating IPs, the
metadata port) keep Neutron's order.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino.db.models import Subnet
from neutrino.services import common, ip_availability
from neutrino.services.ip_availability import SubnetUsage


def applies(device_owner: str | None) -> bool:
    """Whether the policies choose the subnet for a port of ``device_owner``: an
    instance's port (``""`` when Nova creates it, ``compute:<zone>`` later, or any
    owner outside ``network:*``)."""
    return not (device_owner or "").startswith(c.DEVICE_OWNER_NETWORK_PREFIX)


def utilization(usage: SubnetUsage) -> float:
    """Share of the pools' addresses taken (1.0 for an empty pool)."""
    return (usage.total_ips - usage.free_ips) / usage.total_ips if usage.total_ips else 1.0


_POLICY_KEYS: dict[str, Callable[[SubnetUsage], Any]] = {
    "pack": lambda u: u.free_ips,
    "spread": lambda u: -u.free_ips,
    "balanced": utilization,
}


def policy_key(policy: str) -> Callable[[SubnetUsage], Any]:
    """Sort key over a subnet's SubnetUsage for ``policy`` (pack, spread, balanced):
    the subnet to use first sorts first. KeyError for another name (the setting is
    validated to one of these)."""
    return _POLICY_KEYS[policy]


def keep_tagged(subnets: Sequence[Any], tags: Mapping[str, Sequence[str]],
                required_tag: str) -> list[Any]:
    """``subnets`` (of one kind) that carry ``required_tag``, or all of them when none
    does or no tag is required. ``tags`` is ``{subnet_id: [tag]}``."""
    if not required_tag:
        return list(subnets)
    tagged = [s for s in subnets if required_tag in tags.get(s.id, ())]
    return tagged or list(subnets)


def order_groups(session: Session, network_id: str, groups: Sequence[Sequence[Any]],
                 settings: Any) -> list[list[Any]]:
    """Each group of candidate subnet rows (one kind each, in Neutron's order: service
    types naming the owner first, then creation order) filtered by
    ``settings.scheduler_required_tag`` (:func:`keep_tagged`) and ordered by
    ``settings.scheduler_policy``. Groups of one subnet cost no query; else one
    for the network's usage and, with a required tag, one for the subnets' tags."""
    if all(len(g) < 2 for g in groups):
        return [list(g) for g in groups]
    required = settings.scheduler_required_tag
    if required:
        ids = select(Subnet.id).where(Subnet.network_id == network_id)
        tags = common.tags_of(session, ids)
        groups = [keep_tagged(g, tags, required) for g in groups]
    usage = {u.id: u for u in ip_availability.subnet_usage(session, [network_id])[network_id]}
    key = policy_key(settings.scheduler_policy)
    return [sorted(g, key=lambda s: (not s.service_types, not usage[s.id].free_ips,
                                     key(usage[s.id])))
            if len(g) > 1 and all(s.id in usage for s in g) else list(g) for g in groups]

"""A network's MTU: its maximum from its segments, and the minimum its subnets need.

Neutron's rules (ML2 ``_get_network_mtu``; ``db_base_plugin_v2``
``_validate_subnet_network_mtu`` and ``_validate_change_network_mtu``): a network's MTU
may not exceed what its segments carry -- the physical network's MTU for flat and VLAN,
the overlay's (``network_mtu``: the physical MTU less the geneve header) otherwise, the
smaller when mixed; 0 or unset means that maximum. An IPv4 subnet needs 68 octets
(RFC 791), an IPv6 one 1280 (RFC 8200 section 5).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import NetworkSegment, Subnet
from neutrino.services.env import Env
from neutrino.constants import PHYSNET_TYPES

IPV4_MIN_MTU, IPV6_MIN_MTU = 68, 1280


class NetworkMTUSubnetConflict(errors.Conflict):
    def __init__(self, network_id: str, minimum: int) -> None:
        super().__init__(f"MTU of {network_id} is not valid, subnet requires a minimum "
                         f"of {minimum}")


def maximum(env: Env, physical: bool) -> int:
    """The largest MTU of a network whose segments are all flat/VLAN (``physical``) or
    not (an overlay among them)."""
    return env.settings.physical_network_mtu if physical else env.settings.network_mtu


def choose(env: Env, requested: int | None, physical: bool) -> int:
    """The MTU a network gets: ``requested`` (0 or None: the maximum).

    Raises InvalidInput (400) when ``requested`` exceeds the maximum."""
    top = maximum(env, physical)
    if requested and requested > top:
        raise errors.InvalidInput(f"Requested MTU is too big, maximum is {top}")
    return requested or top


def on_physical_networks(session: Session, network_id: str) -> bool:
    """Whether every segment of a stored network is flat or VLAN (none: overlay)."""
    types = set(session.scalars(select(NetworkSegment.network_type)
                                .where(NetworkSegment.network_id == network_id)))
    return bool(types) and types <= set(PHYSNET_TYPES)


def check_subnet(network: Any, ip_version: int) -> None:
    """Raise NetworkMTUSubnetConflict (409) if ``network.mtu`` is too small for a new
    subnet of ``ip_version``."""
    _check(network.id, network.mtu, {ip_version})


def check_change(session: Session, network: Any, mtu: int) -> None:
    """Raise NetworkMTUSubnetConflict (409) if the network's subnets need more than
    ``mtu``."""
    _check(network.id, mtu, set(session.scalars(
        select(Subnet.ip_version).where(Subnet.network_id == network.id))))


def _check(network_id: str, mtu: int | None, ip_versions: set[int]) -> None:
    if not mtu or not ip_versions:
        return
    if mtu < IPV4_MIN_MTU:  # too small for any subnet: Neutron names the IPv4 minimum
        raise NetworkMTUSubnetConflict(network_id, IPV4_MIN_MTU)
    if 6 in ip_versions and mtu < IPV6_MIN_MTU:
        raise NetworkMTUSubnetConflict(network_id, IPV6_MIN_MTU)

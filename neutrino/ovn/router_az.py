"""Router availability zones on OVN (extension ``router_availability_zone``): which
gateway-capable chassis a router's gateway may be scheduled on.

As ML2/OVN (mech_driver/ovsdb/ovn_client.py ``get_candidates_for_scheduling``): the
candidates are the gateway-capable chassis bridging the gateway network's physical
network; a router with ``availability_zone_hints`` keeps only the chassis whose
``ovn-cms-options`` list one of the hints (``availability-zones=az1:az2``,
``ovn.chassis.availability_zones``). None left: the gateway gets no ``Gateway_Chassis``
row (never one outside the zones), as ML2/OVN.

:class:`ChassisPhysnets` carries a chassis' zones beside its physical networks in
the ``{chassis: physnets}`` map the NB sync already passes around
(``ovn.chassis.chassis_physnets``), so a change of zones counts as a chassis change.
Pure: imports nothing of neutrino.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping


class ChassisPhysnets(frozenset):
    """The physical networks a gateway chassis bridges (a frozenset of names) and,
    as ``zones``, the availability zones it declares. Equal to a plain frozenset of
    the same physnets; two ``ChassisPhysnets`` are equal only when their zones are too."""

    zones: frozenset[str]

    def __new__(cls, physnets: Iterable[str] = (), zones: Iterable[str] = ()) -> "ChassisPhysnets":
        obj = super().__new__(cls, physnets)
        obj.zones = frozenset(zones)
        return obj

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, frozenset):
            return NotImplemented
        return frozenset.__eq__(self, other) and self.zones == getattr(other, "zones", self.zones)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = frozenset.__hash__

    def __repr__(self) -> str:
        return f"ChassisPhysnets({sorted(self)!r}, zones={sorted(self.zones)!r})"


def zones_of(physnets: Any) -> frozenset[str]:
    """The zones of one value of the chassis map; none for a plain set of physnets."""
    return getattr(physnets, "zones", frozenset())


def in_zones(candidates: Iterable[str], chassis: Mapping[str, Any],
             hints: Iterable[str] | None) -> list[str]:
    """``candidates`` (chassis names, order kept) that declare one of ``hints``;
    all of them when there are no hints. ``chassis`` is the ``{name: physnets}``
    map whose values may be :class:`ChassisPhysnets`."""
    wanted = set(hints or ())
    if not wanted:
        return list(candidates)
    return [c for c in candidates if wanted & zones_of(chassis.get(c))]

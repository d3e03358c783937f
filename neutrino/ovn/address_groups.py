"""Address groups -> OVN address sets. Pure: no I/O.

As ML2/OVN (``ovn_client.create_address_group``): every address group is two
``Address_Set`` rows, ``ag_<group id with _ for ->_ip4`` and ``..._ip6``
(``utils.ovn_ag_addrset_name``), both always present (possibly empty) so an ACL
can reference them at once, holding the group's CIDRs of that IP version
(``str(netaddr.IPNetwork(a).cidr)``: ``10.0.0.3/32``, ``2001:db8::/64``), with
``external_ids`` ``neutron:address_group_id`` and ``neutron:revision_number``.
A rule whose remote is a group matches ``ip4.src == $ag_<id>_ip4`` (ingress;
``dst`` for egress: ``acl.acl_remote_address_group_id``), so adding or removing
an address rewrites the set's ``addresses`` in place and no ACL changes.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

AG_PREFIX = "ag_"
EXT_AG_ID = "neutron:address_group_id"  # ovn_const.OVN_ADDRESS_GROUP_ID_KEY
EXT_REVISION = "neutron:revision_number"
IP_VERSIONS = ("ip4", "ip6")


@dataclass(frozen=True)
class AddressSet:
    """An ``Address_Set`` row, known by its (unique) name."""

    TABLE = "Address_Set"
    name: str
    addresses: tuple[str, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)


def address_set_name(group_id: str, ip: str) -> str:
    """``ag_<id>_ip4`` / ``_ip6`` with ``-`` as ``_`` (``ovn_ag_addrset_name``;
    OVN address set names cannot hold ``-``). ``ip`` is ``ip4`` or ``ip6``."""
    return f"ag-{group_id}-{ip}".replace("-", "_")


def address_set_names(group_id: str) -> tuple[str, str]:
    """Both address sets of a group."""
    return tuple(address_set_name(group_id, ip) for ip in IP_VERSIONS)  # type: ignore[return-value]


def is_owned(name: str, external_ids: Mapping[str, str]) -> bool:
    """An address set of an address group: ``ag_*`` marked with the group's id."""
    return name.startswith(AG_PREFIX) and EXT_AG_ID in external_ids


def desired_address_sets(groups: Iterable[Any], addresses: Iterable[Any]
                         ) -> dict[str, AddressSet]:
    """Address sets by name of ``groups`` (rows with ``id``, ``revision_number``);
    ``addresses`` are rows with ``address_group_id`` and ``address`` (CIDRs in
    network form, as ``services.address_groups`` stores them)."""
    by_group: dict[str, dict[str, list[str]]] = defaultdict(lambda: {ip: [] for ip in IP_VERSIONS})
    for a in addresses:
        version = ipaddress.ip_network(a.address).version
        by_group[a.address_group_id][f"ip{version}"].append(a.address)
    sets = {}
    for g in groups:
        ext = {EXT_AG_ID: g.id, EXT_REVISION: str(g.revision_number)}
        for ip in IP_VERSIONS:
            name = address_set_name(g.id, ip)
            sets[name] = AddressSet(name, tuple(sorted(by_group[g.id][ip])), ext)
    return sets

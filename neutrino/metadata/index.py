"""The metadata agent's port index: what it knows of the SB ``Port_Binding`` rows
(reference E.1-E.3, ARCHITECTURE "Metadata path").

A caller is known by (network, source address, MAC): the network from the listening
socket, the address from the connection, the MAC from the namespace's neighbour
entry for that address (``neighbours.NeighbourTable``). :class:`PortIndex` resolves
(network, address) to a port, built from the SB ``Port_Binding`` rows
(:func:`binding_from_row`) and kept fresh by IDL events (``agent.MetadataAgent``): no
API or database call per request, and it keeps serving from the index while the
control plane is away. An IPv6 link-local source is found by its MAC (the neighbour
entry's), whatever its interface identifier (EUI-64, stable-privacy, random); the
MAC must then be one the port may send from (:meth:`Binding.accepts`). The index
also tells the agent which networks have a VIF bound to its chassis and each
network's metadata port, i.e. which namespaces to plumb and how.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from neutrino.constants import DEVICE_OWNER_DISTRIBUTED

LOG = logging.getLogger(__name__)

SWITCH_PREFIX = "neutron-"


def canonical(address: str) -> str | None:
    """``address`` as the index and the neighbour tables key it: the compressed form,
    without a ``%scope`` (``"FE80::1%eth0"`` -> ``"fe80::1"``); an IPv4-mapped IPv6
    address as IPv4. None for something that is no address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


@dataclass(frozen=True)
class Binding:
    """What the agent uses of one SB ``Port_Binding`` row (reference E.1, E.3).

    ``type`` is ``""`` (a VIF) or ``"localport"`` (a metadata port). ``ips`` are the
    addresses of ``Port_Binding.mac`` (``"<mac> <ip> <ip>…"``); ``cidrs`` the
    ``neutron:cidrs`` external id (``("10.0.0.2/24",)``); ``chassis`` the name of the
    chassis that claimed the port, None while unbound. ``pair_macs``: the other MACs
    of its ``port_security`` entries (``"<mac> <ip>…"``: its allowed address pairs
    with a MAC of their own), lower case.
    """

    port_id: str
    network_id: str
    type: str = ""
    mac: str = ""
    ips: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()
    device_id: str = ""
    device_owner: str = ""
    project_id: str = ""
    chassis: str | None = None
    pair_macs: tuple[str, ...] = ()

    def accepts(self, mac: str | None) -> bool:
        """Whether a caller with link-layer address ``mac`` (any case) may be this
        port: its own MAC or one of its allowed address pairs' (OVN port security
        lets it send from those). None (no neighbour entry) is never accepted."""
        if not mac:
            return False
        mac = mac.lower()
        return mac == self.mac or mac in self.pair_macs

    @property
    def is_metadata_port(self) -> bool:
        return self.type == "localport" and self.device_owner == DEVICE_OWNER_DISTRIBUTED

    @property
    def ipv4_cidrs(self) -> tuple[str, ...]:
        """The IPv4 ``cidrs``, which the namespace end carries (Neutron's agent ignores
        the metadata port's IPv6 addresses too)."""
        return tuple(c for c in self.cidrs if ":" not in c)


def binding_from_row(row: Any) -> Binding | None:
    """A :class:`Binding` from an SB ``Port_Binding`` row (a live or frozen IDL row,
    or anything with its attributes), or None for rows the agent ignores: other types,
    and rows whose network is unknown. The network comes from the
    ``neutron:network_name`` external id (``neutron-<id>``), else from the datapath's
    ``name``."""
    if row.type not in ("", "localport"):
        return None
    ids = dict(row.external_ids)
    network = _network_of(ids.get("neutron:network_name", ""))
    if network is None:
        with contextlib.suppress(AttributeError, IndexError, TypeError):
            datapath = row.datapath[0] if isinstance(row.datapath, list) else row.datapath
            network = _network_of(datapath.external_ids.get("name", ""))
    if network is None:
        return None
    mac, ips = "", []
    for entry in row.mac:
        words = entry.split()
        if not words or words[0] in ("unknown", "router", "dynamic"):
            continue
        mac = mac or words[0].lower()
        for word in words[1:]:
            with contextlib.suppress(ValueError):
                ips.append(str(ipaddress.ip_interface(word).ip))
    pair_macs = []
    for entry in getattr(row, "port_security", ()) or ():
        words = entry.split()
        if words and words[0].lower() != mac and words[0].lower() not in pair_macs:
            pair_macs.append(words[0].lower())
    chassis = row.chassis[0].name if row.chassis else None
    return Binding(port_id=row.logical_port, network_id=network, type=row.type, mac=mac,
                   ips=tuple(ips), cidrs=tuple(ids.get("neutron:cidrs", "").split()),
                   device_id=ids.get("neutron:device_id", ""),
                   device_owner=ids.get("neutron:device_owner", ""),
                   project_id=ids.get("neutron:project_id", ""), chassis=chassis,
                   pair_macs=tuple(pair_macs))


def _network_of(name: str) -> str | None:
    return name[len(SWITCH_PREFIX):] or None if name.startswith(SWITCH_PREFIX) else None


class PortIndex:
    """The SB port bindings the agent serves from, by (network, address).

    Only VIFs (``type ""``) resolve; metadata ports are found per network. Not
    thread-safe: the agent changes and reads it on its event loop only.
    """

    def __init__(self, chassis: str) -> None:
        self.chassis = chassis
        self._bindings: dict[str, Binding] = {}
        self._by_ip: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._by_mac: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._metadata: dict[str, set[str]] = defaultdict(set)
        self._local: dict[str, set[str]] = defaultdict(set)  # network -> VIFs bound here

    def __len__(self) -> int:
        return len(self._bindings)

    def get(self, port_id: str) -> Binding | None:
        return self._bindings.get(port_id)

    def update(self, binding: Binding) -> None:
        """Add or replace the binding of ``binding.port_id``."""
        self.remove(binding.port_id)
        self._bindings[binding.port_id] = binding
        net = binding.network_id
        if binding.is_metadata_port:
            self._metadata[net].add(binding.port_id)
        elif binding.type == "":
            for ip in binding.ips:
                self._by_ip[(net, ip)].add(binding.port_id)
            if binding.mac:
                self._by_mac[(net, binding.mac)].add(binding.port_id)
            if binding.chassis == self.chassis:
                self._local[net].add(binding.port_id)

    def remove(self, port_id: str) -> None:
        """Forget ``port_id`` (no error if unknown)."""
        old = self._bindings.pop(port_id, None)
        if old is None:
            return
        net = old.network_id
        keys = [(self._metadata, net), (self._local, net), (self._by_mac, (net, old.mac))]
        keys += [(self._by_ip, (net, ip)) for ip in old.ips]
        for table, key in keys:
            members = table.get(key)
            if members is not None:
                members.discard(port_id)
                if not members:
                    del table[key]

    def resolve(self, network_id: str, address: str, mac: str | None = None) -> Binding | None:
        """The VIF of ``network_id`` that owns source address ``address`` (IPv4, IPv6,
        an IPv4-mapped IPv6 or a link-local ``fe80::…%scope`` one), or None when no
        port, or more than one (then an error is logged), has it. A link-local
        address belongs to no port: it resolves by ``mac`` (the caller's, from the
        neighbour entry) to the VIF with that MAC; None without ``mac``. Whether
        ``mac`` is acceptable for a port found by address is the caller's check
        (:meth:`Binding.accepts`)."""
        # Fast path: a dotted IPv4 address as the kernel reports it is already the
        # canonical form the index is keyed by (no parsing per request).
        found = self._by_ip.get((network_id, address)) if ":" not in address else None
        if found is None:
            key = canonical(address)
            if key is None:
                return None
            if ipaddress.ip_address(key).is_link_local and ":" in key:
                found = self._by_mac.get((network_id, mac.lower()), set()) if mac else set()
            else:
                found = self._by_ip.get((network_id, key), set())
        if len(found) > 1:
            LOG.error("%d ports of network %s have address %s (%s): refusing to guess",
                      len(found), network_id, address, ", ".join(sorted(found)))
            return None
        return self._bindings[next(iter(found))] if found else None

    def metadata_port(self, network_id: str) -> Binding | None:
        """The network's metadata port (the lowest port id if, wrongly, several)."""
        ids = self._metadata.get(network_id)
        return self._bindings[min(ids)] if ids else None

    def local_networks(self) -> set[str]:
        """Networks with at least one VIF bound to this chassis."""
        return set(self._local)

    def networks(self) -> set[str]:
        """Every network some known binding belongs to."""
        return {b.network_id for b in self._bindings.values()}


__all__ = ["Binding", "PortIndex", "binding_from_row"]

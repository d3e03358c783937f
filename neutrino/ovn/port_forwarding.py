"""Floating IP port forwardings -> OVN load balancers on the router. Pure: no I/O.

As ML2/OVN (``services/portforwarding/drivers/ovn/driver.py``): the forwardings
of one floating IP and protocol are one ``Load_Balancer`` named
``pf-floatingip-<fip id>-<protocol>`` whose ``vips`` map
``"<floating ip>:<external port>"`` to ``"<internal ip>:<internal port>"``; a
range forwarding is unrolled port by port (``PortForwarding.unroll_port_ranges``:
N:N pairs ports in order, N:1 sends all to the one internal port) into a
balancer of its own per external port, ``pf-floatingip-<fip id>-<protocol>-<port>``.
``external_ids``: ``neutron:device_owner`` = ``port_forwarding_plugin`` (what
marks the row as owned), ``neutron:fip_id``, ``neutron:router_name`` and
``neutron:revision_number`` (the floating IP's revision). The balancer sits in
its router's ``load_balancer`` column (``LoadBalancer.router``, not a column of
the row) and, as ML2/OVN adds it (``_port_forwarding_created``: OVN does not yet
apply a router's balancers to its switches, rhbz#2043543), in that of the switch
of each of the router's interfaces (``LoadBalancer.switches``), so instances on
them reach the floating IP's ports too; ovn-northd DNATs the VIP on the router
and answers ARP for the floating IP on the gateway port, whose subnet holds it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LB_PREFIX = "pf-floatingip-"  # pf_const.PORT_FORWARDING_PREFIX
OWNER = "port_forwarding_plugin"  # pf_const.PORT_FORWARDING_PLUGIN
EXT_DEVICE_OWNER = "neutron:device_owner"
EXT_FIP_ID = "neutron:fip_id"
EXT_ROUTER_NAME = "neutron:router_name"
EXT_REVISION = "neutron:revision_number"


@dataclass(frozen=True)
class LoadBalancer:
    """A ``Load_Balancer`` row of port forwardings, known by its name, and the
    router (``neutron-<id>``) whose ``load_balancer`` column holds it."""

    TABLE = "Load_Balancer"
    name: str
    protocol: str
    vips: Mapping[str, str] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)
    router: str = ""  # not a column: the Logical_Router referring to it
    # not a column: the Logical_Switches of the router's interfaces referring to it
    switches: tuple[str, ...] = ()


def lb_name(fip_id: str, protocol: str, external_port: int | None = None) -> str:
    """``pf-floatingip-<fip id>-<protocol>[-<external port>]`` (driver ``lb_name``)."""
    suffix = f"-{external_port}" if external_port is not None else ""
    return f"{LB_PREFIX}{fip_id}-{protocol}{suffix}"


def is_owned(external_ids: Mapping[str, str]) -> bool:
    """A balancer made for port forwardings (by neutrino or ML2/OVN)."""
    return external_ids.get(EXT_DEVICE_OWNER) == OWNER


def unroll(pf: Any) -> list[tuple[int, int]]:
    """``[(external port, internal port)]`` of a forwarding row (columns
    ``external_port_start/_end``, ``internal_port_start/_end``)."""
    ext = range(pf.external_port_start, pf.external_port_end + 1)
    one = pf.internal_port_start == pf.internal_port_end
    return [(e, pf.internal_port_start if one else pf.internal_port_start + i)
            for i, e in enumerate(ext)]


def desired_load_balancers(forwardings: Iterable[Any], floating_ips: Mapping[str, Any],
                           router_name: Any,
                           switches: Mapping[str, Iterable[str]] | None = None
                           ) -> dict[str, LoadBalancer]:
    """Balancers by name for ``forwardings`` (rows of ``portforwardings``) whose
    floating IP (``floating_ips``: id -> row with ``floating_ip_address``,
    ``router_id``, ``revision_number``) has a router; ``router_name`` maps a
    router id to its Logical_Router name, ``switches`` a Logical_Router name to
    the switches of its interfaces."""
    switches = switches or {}
    vips: dict[str, dict[str, str]] = defaultdict(dict)
    owner: dict[str, Any] = {}
    for pf in forwardings:
        fip = floating_ips.get(pf.floatingip_id)
        if fip is None or not fip.router_id:
            continue
        pairs = unroll(pf)
        for ext, internal in pairs:
            name = lb_name(fip.id, pf.protocol, ext if len(pairs) > 1 else None)
            vips[name][f"{fip.floating_ip_address}:{ext}"] = \
                f"{pf.internal_ip_address}:{internal}"
            owner[name] = (fip, pf.protocol)
    result = {}
    for name, (fip, protocol) in owner.items():
        router = router_name(fip.router_id)
        result[name] = LoadBalancer(name, protocol, vips[name], {
            EXT_DEVICE_OWNER: OWNER, EXT_FIP_ID: fip.id, EXT_ROUTER_NAME: router,
            EXT_REVISION: str(fip.revision_number)}, router,
            tuple(sorted(set(switches.get(router, ())))))
    return result

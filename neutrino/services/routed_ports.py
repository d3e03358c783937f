"""Routed provider networks: a port's addresses come from the segment its
``binding:host_id`` reaches (reference B.7). Neutron's behaviour: routed networks
(the ``segments`` service plugin, ``neutron/services/segments/plugin.py``) and the
``ip_allocation`` port attribute (extension ``ip_allocation``).

A network is routed when its subnets sit on segments (``subnet.segment_id``; all
of them or none, ``segments.check_subnet_segment``). A host reaches the segments
of the physical networks its chassis bridges (``segments.reachable_segments``).
On such a network:

* a new port without ``fixed_ips`` and without a host gets no address yet: its
  ``ip_allocation`` is ``deferred`` (``services.ports.insert_port``);
* with a host, it gets its addresses from the subnets of one segment that host
  reaches (:func:`allocate_on_host`): the first with room, in the order of its
  subnets (``services.subnet_scheduler``); HostNotConnectedToAnySegment when it
  reaches none. Every segment after a network's first has a logical switch of its
  own (``services.segment_switches``), so one chassis carries several segments of a
  network, as Neutron's OVS agent does and ML2/OVN's one-switch mapping cannot;
* a deferred port that gets a host later -- ``binding:host_id`` set by a PUT
  (Nova), or a chassis claiming the port (``ports.set_port_binding_state``) --
  gets its addresses then (:func:`bind_to_host`, :func:`allocate_deferred`), and
  its ``ip_allocation`` becomes ``immediate``;
* a port with addresses may only go to a host that reaches their segments
  (:func:`check_host_fits`: HostNotCompatibleWithFixedIps, 409).

The errors are Neutron's and live in ``services.segments``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import IPAllocation, Network, Port
from neutrino.services import common, port_addresses, segments, subnet_scheduler
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)


def allocate_deferred(env: Env, port_id: str) -> bool:
    """Give a deferred port of a routed network its addresses now that it has a
    ``binding:host_id`` (a chassis claimed it). True if it got them; False (logged)
    when the host reaches no segment with room, or the port is gone or not deferred."""
    def run(session: Session) -> bool:
        port = session.get(Port, port_id)
        if port is None or port.ip_allocation != "deferred" or not port.binding_host_id:
            return False
        if bind_to_host(session, session.get(Network, port.network_id), port,
                        port.binding_host_id, settings=env.settings):
            common.touch(port)
            common.enqueue_ovn(session, "port", port.id)
            return True
        return False
    try:
        return env.db.run(run)
    except (errors.HostNotConnectedToAnySegment,
            errors.IpAddressGenerationFailure) as exc:
        LOG.warning("port %s keeps no address: %s", port_id, exc.message)
        return False


def bind_to_host(session: Session, net: Network, port: Any, host: str, *,
                 settings: Any = None) -> bool:
    """Routed networks (reference B.7): a port moving to ``host`` gets its deferred
    addresses from one segment ``host`` reaches (:func:`allocate_on_host`, in
    ``services.subnet_scheduler``'s order with ``settings``), and the addresses it
    already has must be on such segments. True if addresses were allocated (the caller
    touches and enqueues the port); nothing happens on a network without segment subnets.
    Raises HostNotConnectedToAnySegment, HostNotCompatibleWithFixedIps (409),
    IpAddressGenerationFailure."""
    subnets = port_addresses.network_subnets(session, net.id)
    if not is_routed(subnets):
        return False
    held = set(session.scalars(select(IPAllocation.subnet_id)
                               .where(IPAllocation.port_id == port.id)))
    if port.ip_allocation == "deferred" and not held:
        allocate_on_host(session, net, port, subnets, host, settings=settings)
        port.ip_allocation = "immediate"
        return True
    check_host_fits(session, net, port.id, host, [s for s in subnets if s.id in held])
    return False


def is_routed(subnets: list[Any]) -> bool:
    """A routed network: its subnets sit on segments (all of them do, or none)."""
    return any(s.segment_id for s in subnets)


def allocate_on_host(session: Session, net: Network, port: Any, subnets: list[Any],
                     host: str, *, settings: Any = None) -> list[tuple[str, str]]:
    """A routed network's port bound to ``host`` and asking for no address: its
    addresses (``port_addresses.allocate_default``) from the subnets of one segment
    ``host`` reaches -- never from two, a port sits on one segment's switch. Segments
    are tried in the order of their subnets (``services.subnet_scheduler`` with
    ``settings``: the first subnet's segment first), the next when one has no room.
    Returns ``[(subnet_id, ip_address)]``. Raises HostNotConnectedToAnySegment (409)
    when ``host`` reaches none, IpAddressGenerationFailure when all are full."""
    reach = segments.reachable_segments(session, net.id, host)
    usable = [s for s in subnets if s.segment_id in reach]
    if not usable:
        raise errors.HostNotConnectedToAnySegment(host, net.id)
    order = usable
    if settings is not None and subnet_scheduler.applies(port.device_owner):
        order = [s for group in subnet_scheduler.order_groups(
            session, net.id, ([s for s in usable if s.ip_version == 4],
                              [s for s in usable if s.ip_version == 6]), settings)
                 for s in group] + usable
    for seg in dict.fromkeys(s.segment_id for s in order):
        own = [s for s in usable if s.segment_id == seg]
        try:
            with session.begin_nested():  # a half-made allocation goes with the savepoint
                return port_addresses.allocate_default(session, net, port, own,
                                                       settings=settings)
        except errors.IpAddressGenerationFailure as exc:
            last = exc
    raise last


def check_host_fits(session: Session, net: Network, port_id: str, host: str,
                    held: list[Any]) -> None:
    """HostNotCompatibleWithFixedIps unless ``host`` reaches the segment of every
    subnet in ``held``."""
    if not held:
        return
    reach = segments.reachable_segments(session, net.id, host)
    if any(s.segment_id not in reach for s in held):
        raise errors.HostNotCompatibleWithFixedIps(host, port_id)

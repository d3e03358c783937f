"""The metadata port of a network (reference C.4, D.4, D.7): the ``localport`` that DHCP
option 121 (or a guest's static route) sends 169.254.169.254 to and that each chassis'
metadata agent binds in its ``ovnmeta-<network id>`` namespace. One per layer-2 domain of a
network (its switch, and each segment with a switch of its own:
``services.segment_switches``) with a subnet it serves (:func:`serves_metadata`), kept in
line by the subnet service inside its transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.constants import (AUTO_ADDRESS_MODES, DEVICE_OWNER_DISTRIBUTED,
                                METADATA_DEVICE_PREFIX, ROUTER_INTERFACE_OWNERS)
from neutrino.db.models import IPAllocation, Network, NetworkSegment, Port, Subnet
from neutrino.ipam import allocator
from neutrino.services import common, port_addresses, ports, segment_switches, service_subnets
from neutrino.services.env import Env


def metadata_device_id(network_id: str) -> str:
    """``ovnmeta-<network id>``: the ``device_id`` of the network's metadata port."""
    return METADATA_DEVICE_PREFIX + network_id


def serves_metadata(sub: Any, *, without_dhcp: bool) -> bool:
    """Whether the metadata port holds an address in subnet ``sub`` (a row with
    ``ip_version``, ``enable_dhcp``, ``service_types``, ``ipv6_address_mode`` and
    ``ipv6_ra_mode``); ``without_dhcp`` is the ``metadata_without_dhcp`` setting.

    * a DHCP-enabled IPv4 subnet: yes; DHCP option 121 routes 169.254.169.254/32
      to that address (Neutron's ML2/OVN, ``ovn_client.update_metadata_port``);
    * a DHCP-disabled IPv4 subnet: with ``without_dhcp``, if its service types let
      a ``network:distributed`` port in (``service_subnets.allows``); a guest with
      a static address then routes 169.254.169.254 to that address itself, and
      the router path (a policy sending 169.254.169.254 from internal subnets to
      it) has an address to send to;
    * an IPv6 SLAAC or DHCPv6-stateless subnet: yes, its address made from the
      prefix and the MAC, as every port of the network gets anyway: the agent
      serves ``fe80::a9fe:a9fe`` on link-local, which needs no address, but an
      IPv6-only network must have a metadata port at all (ML2/OVN has one on
      every network). A DHCPv6-stateful subnet: no (no address is taken from
      its pool; an IPv6-only network with only such subnets has no metadata).
    """
    if sub.ip_version == 6:
        return (sub.ipv6_address_mode or sub.ipv6_ra_mode) in AUTO_ADDRESS_MODES
    return sub.ip_version == 4 and (bool(sub.enable_dhcp) or (
        without_dhcp and service_subnets.allows(sub, DEVICE_OWNER_DISTRIBUTED)))


def ensure_metadata_port(session: Session, env: Env, net: Network) -> None:
    """Make ``net``'s metadata ports hold one address in each subnet it serves
    (:func:`serves_metadata`): one port per layer-2 domain of the network
    (``services.segment_switches``: the network's switch, and each segment with a switch
    of its own), holding the addresses of that domain's subnets.

    A port (``device_owner`` ``network:distributed``, ``device_id``
    ``ovnmeta-<network id>``, the network's project, no name) is what DHCP option
    121 routes 169.254.169.254 to and what the metadata agent's namespace binds
    (reference C.4, D.4, D.7). It is created with the domain's first such subnet and
    takes the lowest free address of each
    (``port_addresses.LOWEST_ADDRESS_OWNERS``): the first address of the
    allocation pool when it is made with the subnet.
    Addresses in subnets that no longer qualify are released (its IPv6 addresses,
    e.g. SLAAC ones, are kept while it lives); with none left the port is
    deleted. A port is enqueued when it changes, which recomputes the DHCP options of
    every subnet of the network. The network row is locked first, so concurrent
    subnet changes never make two metadata ports for one domain. Raises
    IpAddressGenerationFailure (409) when a subnet has no free address for it.
    """
    session.execute(select(Network.id).where(Network.id == net.id).with_for_update())
    own = segment_switches.own_switch_segments(session.execute(
        select(NetworkSegment.id, NetworkSegment.network_id, NetworkSegment.network_type,
               NetworkSegment.physical_network, NetworkSegment.segment_index)
        .where(NetworkSegment.network_id == net.id)).all())
    subnets = session.execute(
        select(Subnet.id, Subnet.ip_version, Subnet.enable_dhcp, Subnet.segment_id,
               Subnet.service_types, Subnet.ipv6_address_mode, Subnet.ipv6_ra_mode)
        .where(Subnet.network_id == net.id).order_by(Subnet.created_at, Subnet.id)).all()
    domain_of_subnet = {s.id: segment_switches.domain_of(net.id, [s.segment_id], own)
                        for s in subnets}
    wanted: dict[str, list[str]] = {}
    for s in subnets:
        if serves_metadata(s, without_dhcp=env.settings.metadata_without_dhcp):
            wanted.setdefault(domain_of_subnet[s.id], []).append(s.id)
    held = session.execute(
        select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address,
               Subnet.ip_version)
        .join(Subnet, Subnet.id == IPAllocation.subnet_id)
        .join(Port, Port.id == IPAllocation.port_id)
        .where(Port.network_id == net.id, Port.device_owner == DEVICE_OWNER_DISTRIBUTED,
               Port.device_id == metadata_device_id(net.id))).all()
    ports_by_domain: dict[str, Port] = {}
    held_ports = list(session.scalars(select(Port).where(
        Port.network_id == net.id, Port.device_owner == DEVICE_OWNER_DISTRIBUTED,
        Port.device_id == metadata_device_id(net.id)).order_by(Port.created_at, Port.id)))
    for port in held_ports:
        mine = [h for h in held if h.port_id == port.id]
        domain = domain_of_subnet.get(mine[0].subnet_id, net.id) if mine else net.id
        if domain in wanted and domain not in ports_by_domain:
            ports_by_domain[domain] = port
        else:
            _delete(session, port)
    changed = False
    for domain, subnet_ids in wanted.items():
        port = ports_by_domain.get(domain)
        if port is None:
            ports.insert_port(session, env, net, net.project_id, {
                "device_owner": DEVICE_OWNER_DISTRIBUTED, "device_id": metadata_device_id(net.id),
                "fixed_ips": [{"subnet_id": sid} for sid in subnet_ids]})
            changed = True
            continue
        mine = [h for h in held if h.port_id == port.id]
        keep = [{"subnet_id": h.subnet_id, "ip_address": h.ip_address} for h in mine
                if h.subnet_id in subnet_ids
                or (h.ip_version != 4 and domain_of_subnet.get(h.subnet_id) == domain)]
        have = {h.subnet_id for h in mine}
        requested = keep + [{"subnet_id": sid} for sid in subnet_ids if sid not in have]
        if port_addresses.replace_fixed_ips(session, net, port, requested):
            common.touch(port)
            common.enqueue_ovn(session, "port", port.id)
            changed = True
    if changed or len(ports_by_domain) < len(held_ports):
        _enqueue_routers(session, net.id)


def _enqueue_routers(session: Session, network_id: str) -> None:
    """The routers with an interface on the network: their metadata policies
    (``ovn.desired_routers.desired_metadata_policies``) follow the metadata ports' addresses."""
    for router_id in set(session.scalars(select(Port.device_id).where(
            Port.network_id == network_id, Port.device_owner.in_(ROUTER_INTERFACE_OWNERS)))):
        common.enqueue_ovn(session, "router", router_id)


def _delete(session: Session, port: Port) -> None:
    """Delete a metadata port no domain needs (its addresses, tags and LSP)."""
    allocator.release_port(session, port.id)
    common.delete_tags(session, [port.id])
    session.delete(port)
    common.enqueue_ovn(session, "port", port.id)

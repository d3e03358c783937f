"""The metadata port of a network (reference C.4, D.4, D.7): the ``localport`` that DHCP
option 121 routes 169.254.169.254 to and that each chassis' metadata agent binds in
its ``ovnmeta-<network id>`` namespace. One per layer-2 domain of a network (its switch,
and each segment with a switch of its own: ``services.segment_switches``) with a
DHCP-enabled IPv4 subnet, kept in line by the subnet and segment services inside their
transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.constants import DEVICE_OWNER_DISTRIBUTED, METADATA_DEVICE_PREFIX
from neutrino.db.models import IPAllocation, Network, NetworkSegment, Port, Subnet
from neutrino.ipam import allocator
from neutrino.services import common, port_addresses, ports, segment_switches
from neutrino.services.env import Env


def metadata_device_id(network_id: str) -> str:
    """``ovnmeta-<network id>``: the ``device_id`` of the network's metadata port."""
    return METADATA_DEVICE_PREFIX + network_id


def serves_metadata(sub: Any) -> bool:
    """Subnets the metadata port holds an address in: DHCP-enabled IPv4 ones."""
    return sub.ip_version == 4 and bool(sub.enable_dhcp)


def ensure_metadata_port(session: Session, env: Env, net: Network) -> None:
    """Make ``net``'s metadata ports hold one address in each DHCP-enabled IPv4 subnet:
    one port per layer-2 domain of the network (``services.segment_switches``: the
    network's switch, and each segment with a switch of its own), holding the
    addresses of that domain's subnets.

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
        select(Subnet.id, Subnet.ip_version, Subnet.enable_dhcp, Subnet.segment_id)
        .where(Subnet.network_id == net.id).order_by(Subnet.created_at, Subnet.id)).all()
    domain_of_subnet = {s.id: segment_switches.domain_of(net.id, [s.segment_id], own)
                        for s in subnets}
    wanted: dict[str, list[str]] = {}
    for s in subnets:
        if serves_metadata(s):
            wanted.setdefault(domain_of_subnet[s.id], []).append(s.id)
    held = session.execute(
        select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address,
               Subnet.ip_version)
        .join(Subnet, Subnet.id == IPAllocation.subnet_id)
        .join(Port, Port.id == IPAllocation.port_id)
        .where(Port.network_id == net.id, Port.device_owner == DEVICE_OWNER_DISTRIBUTED,
               Port.device_id == metadata_device_id(net.id))).all()
    ports_by_domain: dict[str, Port] = {}
    for port in session.scalars(select(Port).where(
            Port.network_id == net.id, Port.device_owner == DEVICE_OWNER_DISTRIBUTED,
            Port.device_id == metadata_device_id(net.id)).order_by(Port.created_at, Port.id)):
        mine = [h for h in held if h.port_id == port.id and h.ip_version == 4]
        domain = domain_of_subnet.get(mine[0].subnet_id, net.id) if mine else net.id
        if domain in wanted and domain not in ports_by_domain:
            ports_by_domain[domain] = port
        else:
            _delete(session, port)
    for domain, subnet_ids in wanted.items():
        port = ports_by_domain.get(domain)
        if port is None:
            ports.insert_port(session, env, net, net.project_id, {
                "device_owner": DEVICE_OWNER_DISTRIBUTED, "device_id": metadata_device_id(net.id),
                "fixed_ips": [{"subnet_id": sid} for sid in subnet_ids]})
            continue
        mine = [h for h in held if h.port_id == port.id]
        keep = [{"subnet_id": h.subnet_id, "ip_address": h.ip_address} for h in mine
                if h.ip_version != 4 or h.subnet_id in subnet_ids]
        have = {h.subnet_id for h in mine}
        requested = keep + [{"subnet_id": sid} for sid in subnet_ids if sid not in have]
        if port_addresses.replace_fixed_ips(session, net, port, requested):
            common.touch(port)
            common.enqueue_ovn(session, "port", port.id)


def _delete(session: Session, port: Port) -> None:
    """Delete a metadata port no domain needs (its addresses, tags and LSP)."""
    allocator.release_port(session, port.id)
    common.delete_tags(session, [port.id])
    session.delete(port)
    common.enqueue_ovn(session, "port", port.id)

"""The metadata port of a network (reference C.4, D.4, D.7): the ``localport`` that DHCP
option 121 routes 169.254.169.254 to and that each chassis' metadata agent binds in
its ``ovnmeta-<network id>`` namespace. One per network with a DHCP-enabled IPv4
subnet, kept in line by the subnet service inside its transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.constants import DEVICE_OWNER_DISTRIBUTED, METADATA_DEVICE_PREFIX
from neutrino.db.models import IPAllocation, Network, Port, Subnet
from neutrino.ipam import allocator
from neutrino.services import common, port_addresses, ports
from neutrino.services.env import Env


def metadata_device_id(network_id: str) -> str:
    """``ovnmeta-<network id>``: the ``device_id`` of the network's metadata port."""
    return METADATA_DEVICE_PREFIX + network_id


def serves_metadata(sub: Any) -> bool:
    """Subnets the metadata port holds an address in: DHCP-enabled IPv4 ones."""
    return sub.ip_version == 4 and bool(sub.enable_dhcp)


def ensure_metadata_port(session: Session, env: Env, net: Network) -> None:
    """Make ``net``'s metadata port hold one address in each DHCP-enabled IPv4 subnet.

    The port (``device_owner`` ``network:distributed``, ``device_id``
    ``ovnmeta-<network id>``, the network's project, no name) is what DHCP option
    121 routes 169.254.169.254 to and what the metadata agent's namespace binds
    (reference C.4, D.4, D.7). It is created with the first such subnet and
    takes the lowest free address of each
    (``port_addresses.LOWEST_ADDRESS_OWNERS``): the first address of the
    allocation pool when it is made with the subnet.
    Addresses in subnets that no longer qualify are released (its IPv6 addresses,
    e.g. SLAAC ones, are kept while it lives); with none left the port is
    deleted. The port is enqueued, which recomputes the DHCP options of every
    subnet of the network. The network row is locked first, so concurrent
    subnet changes never make two metadata ports. Raises
    IpAddressGenerationFailure (409) when a subnet has no free address for it.
    """
    session.execute(select(Network.id).where(Network.id == net.id).with_for_update())
    wanted = [s.id for s in session.execute(
        select(Subnet.id, Subnet.ip_version, Subnet.enable_dhcp)
        .where(Subnet.network_id == net.id).order_by(Subnet.created_at, Subnet.id))
        if serves_metadata(s)]
    port = session.scalar(select(Port).where(
        Port.network_id == net.id, Port.device_owner == DEVICE_OWNER_DISTRIBUTED,
        Port.device_id == metadata_device_id(net.id)).order_by(Port.created_at, Port.id).limit(1))
    if port is None:
        if wanted:
            ports.insert_port(session, env, net, net.project_id, {
                "device_owner": DEVICE_OWNER_DISTRIBUTED, "device_id": metadata_device_id(net.id),
                "fixed_ips": [{"subnet_id": sid} for sid in wanted]})
        return
    if not wanted:
        allocator.release_port(session, port.id)
        common.delete_tags(session, [port.id])
        session.delete(port)
        common.enqueue_ovn(session, "port", port.id)
        return
    held = session.execute(
        select(IPAllocation.subnet_id, IPAllocation.ip_address, Subnet.ip_version)
        .join(Subnet, Subnet.id == IPAllocation.subnet_id)
        .where(IPAllocation.port_id == port.id)).all()
    keep = [{"subnet_id": h.subnet_id, "ip_address": h.ip_address} for h in held
            if h.ip_version != 4 or h.subnet_id in wanted]
    have = {h.subnet_id for h in held}
    requested = keep + [{"subnet_id": sid} for sid in wanted if sid not in have]
    if port_addresses.replace_fixed_ips(session, net, port, requested):
        common.touch(port)
        common.enqueue_ovn(session, "port", port.id)

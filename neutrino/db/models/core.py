"""The core L2 resources: networks and their RBAC entries, subnets, ports, port
bindings, and the address allocations of ports (``ipallocations``, with the per-256
counters of ``ipam.allocator``) (``neutron/db/models_v2.py``)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import RBACEntry, StandardAttrs


class Network(StandardAttrs, Base):
    __tablename__ = "networks"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    mtu: Mapped[int] = mapped_column(Integer)
    # Extension "external-net": routers may put their gateway here; floating IPs come from it.
    router_external: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"),
                                                  index=True)
    # Extension "auto-allocated-topology": the default external network (at most one;
    # only an external network keeps it true).
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Extension "port-security": the default of the network's new ports.
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True,
                                                        server_default=text("true"))
    # Extension "dns-integration": "" or an FQDN with its trailing dot (services/dns.py);
    # its ports' OVN DNS records also answer <hostname>.<this domain> (ovn/dns.py).
    dns_domain: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Extension "network_availability_zone": the zones asked for (services/agents.py lists
    # the zones); ML2/OVN keeps them in the switch's external_ids and reports them back.
    availability_zone_hints: Mapped[list] = mapped_column(JSON, default=list,
                                                          server_default=text("'[]'"))


class Subnet(StandardAttrs, Base):
    __tablename__ = "subnets"

    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # [{"start": ip, "end": ip}, ...] in address order.
    allocation_pools: Mapped[list] = mapped_column(JSON)
    dns_nameservers: Mapped[list] = mapped_column(JSON)
    # [{"destination": cidr, "nexthop": ip}, ...]
    host_routes: Mapped[list] = mapped_column(JSON)
    # Extension "segment" (routed networks): the segment whose hosts can use the subnet.
    segment_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_segments.id"), nullable=True, index=True)
    # Extension "subnet_allocation": the subnet pool the cidr was allocated from.
    subnetpool_id: Mapped[str | None] = mapped_column(
        ForeignKey("subnetpools.id"), nullable=True, index=True)
    # Extension "subnet-dns-publish-fixed-ip": kept and shown; only an external DNS
    # service would read it, and neutrino has none (as ML2/OVN without a DNS driver).
    dns_publish_fixed_ip: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=text("false"))
    # Extension "subnet-service-types": the device_owner values whose ports may take
    # addresses here, [] for any (services/service_subnets.py).
    service_types: Mapped[list] = mapped_column(JSON, default=list,
                                                server_default=text("'[]'"))


class Port(StandardAttrs, Base):
    __tablename__ = "ports"
    __table_args__ = (
        # MACs are unique per network (Neutron's rule); generated ones retry on conflict.
        Index("uq_ports_network_id_mac_address", "network_id", "mac_address", unique=True),
        # the ?mac_address= and ?name= list filters (migration 0027)
        Index("ix_ports_mac_address", "mac_address"),
        Index("ix_ports_name", "name"),
    )

    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    mac_address: Mapped[str] = mapped_column(String(17))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    # Port binding (extension "binding"): the host the port is bound to; set
    # by Nova, or by neutrino when a chassis claims the port in the SB.
    binding_host_id: Mapped[str] = mapped_column(String(255), default="", server_default="")
    binding_vnic_type: Mapped[str] = mapped_column(String(64), default="normal", server_default="normal")
    binding_profile: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # Extension "port-security": anti-spoofing and security groups apply only when true.
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True,
                                                        server_default=text("true"))
    # Extension "allowed-address-pairs": [{"ip_address": ip or cidr, "mac_address": mac}, ...]
    # (the MAC filled in with the port's when not given).
    allowed_address_pairs: Mapped[list] = mapped_column(JSON, default=list,
                                                        server_default=text("'[]'"))
    # Extension "ip_allocation": "immediate", "deferred" (a routed network's port waits
    # for binding:host_id to know its segment) or "none" (created with fixed_ips []).
    ip_allocation: Mapped[str] = mapped_column(String(16), default="immediate",
                                               server_default="immediate")
    # Extensions "dns-integration" / "dns-domain-ports" (services/dns.py): "" unless set
    # while the dns_domain setting is not the default.
    dns_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    dns_domain: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Extension "extra_dhcp_opt": [{"opt_name", "opt_value", "ip_version"}, ...] in the
    # order set (services/extra_dhcp_opts.py); OVN gets them in a per-port DHCP_Options row.
    extra_dhcp_opts: Mapped[list] = mapped_column(JSON, default=list,
                                                  server_default=text("'[]'"))
    # Extensions of Nova's (services/port_bindings.py): "port-trusted-vif" (None: never
    # set; shown in binding:profile too), "port-device-profile" (Cyborg's, create only),
    # "port-numa-affinity-policy[-socket]" (None or one of NUMA_POLICIES) and
    # "uplink-status-propagation[-updatable]" (stored only: OVN has no uplink to follow).
    trusted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    device_profile: Mapped[str | None] = mapped_column(String(255), nullable=True)
    numa_affinity_policy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    propagate_uplink_status: Mapped[bool] = mapped_column(Boolean, default=True,
                                                          server_default=text("true"))


class PortBinding(Base):
    """An INACTIVE binding of a port on another host (extension ``binding-extended``):
    Nova creates one on the destination of a live migration and activates it once the
    instance runs there. The ACTIVE binding is the port's own ``binding_*`` columns."""

    __tablename__ = "port_bindings"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"),
                                         primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    vif_type: Mapped[str] = mapped_column(String(64))
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal", server_default="normal")
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="INACTIVE",
                                        server_default="INACTIVE")


class IPAllocation(Base):
    """One address of one port. The primary key is what makes addresses unique.

    ``ip_key`` is the address as fixed-width hex (8 digits for IPv4, 32 for
    IPv6), so text order is address order within a subnet.
    """

    __tablename__ = "ipallocations"
    __table_args__ = (Index("ix_ipallocations_port_id", "port_id"),
                      # the ?fixed_ips=ip_address= list filter (migration 0027)
                      Index("ix_ipallocations_ip_address", "ip_address"))

    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    ip_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64))
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"))
    network_id: Mapped[str] = mapped_column(String(36))


class IPAllocationBlock(Base):
    """How many addresses are allocated in one block of 256 addresses of a subnet.

    Kept in the same transaction as ``ipallocations`` by ``ipam.allocator``;
    it lets allocation skip full blocks and availability sum without counting
    every allocated address. ``block`` is ``ip >> 8`` as fixed-width hex.
    """

    __tablename__ = "ipallocation_blocks"

    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    block: Mapped[str] = mapped_column(String(32), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class NetworkRBAC(RBACEntry, Base):
    """An RBAC policy on a network (extension "rbac-policies", reference A.5): ``action``
    ``access_as_shared`` or ``access_as_external`` granted to ``target_tenant`` (a project
    id, or ``*`` for every project). ``networks.shared`` / ``networks.router_external``
    mirror the ``*`` entries and are kept in the same transaction as them.
    """

    __tablename__ = "networkrbacs"
    object_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)

"""SQLAlchemy models: the source of truth for every resource.

Timestamps are stored as ``YYYY-MM-DDTHH:MM:SSZ`` strings, the exact form the
API returns; they sort and compare correctly as text.
"""

from __future__ import annotations

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from neutrino.db.base import Base


class StandardAttrs:
    """Neutron's standard attributes, shared by every resource table."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[str] = mapped_column(String(20))
    revision_number: Mapped[int] = mapped_column(Integer, default=1)


class RBACEntry:
    """The columns every RBAC table shares (Neutron's ``RBACColumns``): the entry's
    ``id`` and owner ``project_id``, its ``action`` and ``target_tenant`` (a project id
    or ``*``), unique per object (the index ``uq_<table>_action_object_target``);
    each table adds its ``object_id`` foreign key."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target_tenant: Mapped[str] = mapped_column(String(255), index=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (Index(f"uq_{cls.__tablename__}_action_object_target", "action", "object_id",
                      "target_tenant", unique=True),)


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


class NetworkSegment(Base):
    """One segment of a network: how its frames travel (reference B.7, D.1).

    A network without segment rows is an overlay (geneve) project network.
    ``segmentation_key`` is the segment's ``network_type``, ``physical_network``
    and ``segmentation_id`` as one text -- ``flat:<physnet>``,
    ``vlan:<physnet>:<vlan id>``, ``geneve:<vni>`` -- and is unique
    (``uq_network_segments_segmentation_key``), so no two segments, of one
    network or of two, can ever take the same flat physical network, VLAN or
    VNI (what ML2's per-type allocation tables ensure in Neutron).
    """

    __tablename__ = "network_segments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    network_type: Mapped[str] = mapped_column(String(32))
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    segment_index: Mapped[int] = mapped_column(Integer, default=0)
    segmentation_key: Mapped[str] = mapped_column(String(128), unique=True)
    # Extension "segment": null until named (Neutron's default).
    name: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[str] = mapped_column(String(20))
    revision_number: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        # lowest-free VLAN / next VNI lookups (services/segments.py)
        Index("ix_network_segments_type_physnet_segid", "network_type", "physical_network",
              "segmentation_id"),
    )


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


class SecurityGroup(StandardAttrs, Base):
    """A security group (reference B.6): the ports bound to it accept what its
    rules allow. ``stateful`` false makes its rules stateless (allow-stateless)."""

    __tablename__ = "securitygroups"

    stateful: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Extension "rbac-security-groups": mirrors an ``access_as_shared`` entry for ``*``
    # (not shown as such: the API's ``shared`` is as the caller sees it).
    shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DefaultSecurityGroup(Base):
    """Which group is a project's ``default``: the primary key makes it one per
    project even when two first requests race (the loser retries and finds it)."""

    __tablename__ = "default_security_groups"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"), unique=True)


class SecurityGroupRBAC(RBACEntry, Base):
    """An RBAC policy on a security group (extension "rbac-security-groups"):
    ``access_as_shared`` granted to ``target_tenant`` (a project id or ``*``)."""

    __tablename__ = "securitygrouprbacs"
    object_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"), index=True)


class SecurityGroupDefaultRule(Base):
    """A template rule every new group gets (extension
    "security-groups-default-rules"): default groups take those
    ``used_in_default_sg``, other groups those ``used_in_non_default_sg``.
    ``remote_group_id`` ``PARENT`` names the new group itself. ``rule_key`` is
    the rule's canonical form (``SecurityGroupRule.rule_key``), for duplicates."""

    __tablename__ = "securitygroupdefaultrules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(40))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    remote_address_group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    used_in_default_sg: Mapped[bool] = mapped_column(Boolean, default=False)
    used_in_non_default_sg: Mapped[bool] = mapped_column(Boolean, default=True)
    rule_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[str] = mapped_column(String(20))


# IP protocol names a security group rule accepts, and their numbers
# (neutron-lib ``constants.IP_PROTOCOL_MAP``); numbers 0-255 are accepted too.
IP_PROTOCOL_NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2,
    "ip": 0, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58,
    "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46,
    "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112}


class SecurityGroupRule(Base):
    """One rule of a security group (reference B.6). ``protocol`` is a name of
    ``IP_PROTOCOL_NUMBERS`` or a number as text, None for any; ``remote_ip_prefix``
    as given with its mask (host bits kept), ``normalized_cidr`` its network.

    ``rule_key`` is the rule in canonical form (protocol as a number, any
    prefix as none): unique per group, so two equal rules never both exist,
    even when created at the same moment.
    """

    __tablename__ = "securitygrouprules"
    __table_args__ = (
        Index("uq_securitygrouprules_security_group_id_rule_key", "security_group_id",
              "rule_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(40))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    normalized_cidr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Rules whose remote group is deleted go with it (as Neutron's foreign key).
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"), nullable=True, index=True)
    # Extension "security-groups-remote-address-group": an address group in use
    # cannot be deleted (AddressGroupInUse), so the key never dangles.
    remote_address_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("address_groups.id"), nullable=True, index=True)
    rule_key: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[str] = mapped_column(String(20))
    revision_number: Mapped[int] = mapped_column(Integer, default=1)


class SecurityGroupPortBinding(Base):
    """A port in a security group. A group with ports cannot be deleted
    (SecurityGroupInUse); a deleted port leaves its groups."""

    __tablename__ = "securitygroupportbindings"

    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id"), primary_key=True, index=True)


class Router(StandardAttrs, Base):
    """A router (reference B.4). Its interfaces are the ports with
    ``device_owner=network:router_interface`` and ``device_id`` = its id; its
    gateway is the port ``gw_port_id`` (``network:router_gateway``) on an
    external network, and its other ``network:router_gateway`` ports are further
    gateways (``external-gateway-multihoming``, ``services/gateway_ports.py``)."""

    __tablename__ = "routers"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), nullable=True)
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    # Extra routes, [{"destination": cidr, "nexthop": ip}, ...] (extension "extraroute").
    routes: Mapped[list] = mapped_column(JSON, default=list)
    # Extension "router_availability_zone": the zones its gateway chassis must declare
    # (ovn/router_az.py); set on create only, reported back as availability_zones.
    availability_zone_hints: Mapped[list] = mapped_column(JSON, default=list,
                                                          server_default=text("'[]'"))
    # Extensions "enable-default-route-bfd" / "-ecmp" (ovn/bfd.py): BFD to the default
    # routes' next hops; ECMP: default routes through every gateway, not the first only.
    enable_default_route_bfd: Mapped[bool] = mapped_column(Boolean, default=False,
                                                           server_default=text("false"))
    enable_default_route_ecmp: Mapped[bool] = mapped_column(Boolean, default=False,
                                                            server_default=text("false"))
    # Extension "l3-flavors": the flavor it was created with (services/flavors.py), or None.
    flavor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class FloatingIP(StandardAttrs, Base):
    """A floating IP (reference B.5): an address of ``floating_port_id`` (a
    ``network:floatingip`` port on the external network) that, while
    associated, is NATed by ``router_id`` to ``fixed_ip_address`` of
    ``fixed_port_id``. One (external network, port, fixed IP) has at most one."""

    __tablename__ = "floatingips"
    __table_args__ = (
        Index("uq_floatingips_fixed", "floating_network_id", "fixed_port_id", "fixed_ip_address",
              unique=True),
    )

    floating_network_id: Mapped[str] = mapped_column(ForeignKey("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), unique=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    fixed_port_id: Mapped[str | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(
        ForeignKey("routers.id", ondelete="SET NULL"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


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


class Tag(Base):
    __tablename__ = "tags"

    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
    __table_args__ = (Index("ix_tags_tag", "tag"),)


class Quota(Base):
    """A per-project quota override; absent rows mean the configured default."""

    __tablename__ = "quotas"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class OvnOutbox(Base):
    """A resource whose OVN northbound rows must be brought up to date.

    Written in the same transaction as the change; the northbound sync reads
    rows in ``id`` order, recomputes the desired NB state of the resource from
    the database (absent means delete) and removes the rows it has applied.
    """

    __tablename__ = "ovn_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[str] = mapped_column(String(20))


class Instance(Base):
    """An instance's metadata, served at 169.254.169.254 (extension "instance-metadata").

    ``id`` is the instance UUID, the ``device_id`` of its ports. ``public_keys`` is
    ``[{"name": ..., "key": ...}, ...]`` in order (key 0 first, as EC2's public-keys/0);
    ``user_data`` is raw bytes (at most 64 KiB, as Nova) or NULL; ``vendor_data`` a JSON
    object served as vendor_data.json.
    """

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    hostname: Mapped[str] = mapped_column(String(255))
    availability_zone: Mapped[str] = mapped_column(String(255), default="nova")
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    public_keys: Mapped[list] = mapped_column(JSON, default=list)
    user_data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    vendor_data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[str] = mapped_column(String(20))


class HostPhysicalNetwork(Base):
    """A physical network a host (chassis hostname) bridges, from the SB ``Chassis``
    rows' ``ovn-bridge-mappings``: the segments of that physical network are the ones
    the host reaches (routed networks, reference B.7). Kept by the NB sync
    (``services.segments.record_host_physnets``)."""

    __tablename__ = "host_physical_networks"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    physical_network: Mapped[str] = mapped_column(String(64), primary_key=True)


class NetworkRBAC(RBACEntry, Base):
    """An RBAC policy on a network (extension "rbac-policies", reference A.5): ``action``
    ``access_as_shared`` or ``access_as_external`` granted to ``target_tenant`` (a project
    id, or ``*`` for every project). ``networks.shared`` / ``networks.router_external``
    mirror the ``*`` entries and are kept in the same transaction as them.
    """

    __tablename__ = "networkrbacs"
    object_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)


class AddressScope(Base):
    """An address scope (extension "address-scope"): subnet pools of one IP version
    whose prefixes never overlap, so their addresses are routed between each other
    without NAT. Not a standard-attribute resource in Neutron (no description,
    timestamps or revision). ``shared`` mirrors the ``*`` ``access_as_shared`` entry
    of ``addressscoperbacs``, kept in the same transaction."""

    __tablename__ = "address_scopes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    ip_version: Mapped[int] = mapped_column(Integer)


class AddressScopeRBAC(RBACEntry, Base):
    """An RBAC policy on an address scope (extension "rbac-address-scope"):
    ``access_as_shared`` granted to ``target_tenant`` (a project id or ``*``)."""

    __tablename__ = "addressscoperbacs"
    object_id: Mapped[str] = mapped_column(
        ForeignKey("address_scopes.id", ondelete="CASCADE"), index=True)


class AddressGroup(StandardAttrs, Base):
    """An address group (extension "address-group"): a named set of CIDRs that
    security group rules name as their remote (``remote_address_group_id``).
    ``shared`` mirrors the ``*`` ``access_as_shared`` entry of ``addressgrouprbacs``
    (extension "rbac-address-group"), kept in the same transaction; the API does
    not show it (neutron-lib: ``is_visible`` false)."""

    __tablename__ = "address_groups"

    description: Mapped[str] = mapped_column(String(1024), default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class AddressAssociation(Base):
    """One address of an address group: a CIDR in its network form
    (``192.168.0.0/24``), as Neutron's ``address_associations``."""

    __tablename__ = "address_associations"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    address_group_id: Mapped[str] = mapped_column(
        ForeignKey("address_groups.id", ondelete="CASCADE"), primary_key=True, index=True)


class AddressGroupRBAC(RBACEntry, Base):
    """An RBAC policy on an address group (extension "rbac-address-group"):
    ``access_as_shared`` granted to ``target_tenant`` (a project id or ``*``)."""

    __tablename__ = "addressgrouprbacs"
    object_id: Mapped[str] = mapped_column(
        ForeignKey("address_groups.id", ondelete="CASCADE"), index=True)


class SubnetPool(StandardAttrs, Base):
    """A subnet pool (extension "subnet_allocation"): ``prefixes`` (compacted CIDRs
    in address order, one IP version) that subnets are carved from.

    ``default_ip_version`` is ``ip_version`` while ``is_default``, else NULL; it is
    unique, so there is at most one default pool per IP version even when two
    requests set one at once (the loser retries and gets Neutron's InvalidInput).
    """

    __tablename__ = "subnetpools"

    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list] = mapped_column(JSON)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_ip_version: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    # Per-project quota in prefix units (/32 for IPv4, /64 for IPv6); None: none.
    default_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address_scope_id: Mapped[str | None] = mapped_column(
        ForeignKey("address_scopes.id"), nullable=True, index=True)


class PrefixGeneration(Base):
    """Claims that serialise changes of one prefix space without a lock
    (``services.subnetpools``): every allocation from a pool, and every change of
    a pool's prefixes, inserts the next ``generation`` of its ``owner_id`` (the
    pool's id; for prefix changes of a pool in an address scope, also the
    scope's id). Two transactions that read the same generation insert the same
    key: the primary key lets one commit and ``Database.run`` re-runs the other,
    which then sees what the winner allocated. Rows are never reused: a deleted
    pool's or scope's rows go with it."""

    __tablename__ = "prefix_generations"

    owner_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)


class NovaEvent(Base):
    """An event for Nova's ``os-server-external-events`` API (reference A.6), written
    in the same transaction as the port or floating IP change that causes it and
    deleted once Nova took it (``notifiers.nova``). ``status`` is None where Neutron
    sends none (``network-changed``, ``network-vif-deleted``)."""

    __tablename__ = "nova_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    server_uuid: Mapped[str] = mapped_column(String(36))
    tag: Mapped[str] = mapped_column(String(36))
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[str] = mapped_column(String(20))


class ControllerReport(Base):
    """What a running ``neutrino controller`` last reported about itself
    (``control.controller``): written every heartbeat, read by ``GET /healthz``
    and ``neutrino status``. ``role`` is ``leader`` or ``standby``; a row whose
    ``heartbeat_at`` is old belongs to a controller that died. ``report`` holds
    the details (NB/SB connection state, RAFT role of each remote, last audit)."""

    __tablename__ = "controllers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[str] = mapped_column(String(20))
    leader_since: Mapped[str | None] = mapped_column(String(20), nullable=True)
    heartbeat_at: Mapped[str] = mapped_column(String(20))
    report: Mapped[dict] = mapped_column(JSON, default=dict)


class Agent(Base):
    """An agent as ``GET /v2.0/agents`` shows it, mirrored from the SB by the leading
    controller (``ovn.agents``): per chassis an "OVN Controller agent" (or "OVN
    Controller Gateway agent") and, when neutrino's metadata agent registered there,
    an "OVN Metadata agent". ``heartbeat_at`` is when the agent last acknowledged a
    liveness probe; ``deleted`` marks an agent an admin deleted, whose chassis the
    controller removes from the SB before dropping the row."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chassis: Mapped[str] = mapped_column(String(255), index=True)
    agent_type: Mapped[str] = mapped_column(String(64))
    binary: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    availability_zones: Mapped[str] = mapped_column(String(255), default="")
    configurations: Mapped[dict] = mapped_column(JSON, default=dict)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[str] = mapped_column(String(20))
    heartbeat_at: Mapped[str] = mapped_column(String(20))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class NetworkSegmentRange(Base):
    """A range of VLAN ids (of one physical network) or geneve VNIs that project networks
    take their segmentation ids from (extension "network-segment-range",
    ``services/segment_ranges.py``). ``default`` rows mirror ``network_vlan_ranges`` and
    ``vni_ranges`` (made at API start-up, read-only); others are an admin's, ``shared``
    (``project_id`` null) or one project's. ``physical_network`` is ``''`` for geneve,
    as in Neutron's table. Unique as Neutron's ``uniq_network_segment_ranges``."""

    __tablename__ = "network_segment_ranges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    network_type: Mapped[str] = mapped_column(String(32))
    physical_network: Mapped[str] = mapped_column(String(64), default="", server_default="")
    minimum: Mapped[int] = mapped_column(Integer)
    maximum: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[str] = mapped_column(String(20))
    revision_number: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        UniqueConstraint("default", "network_type", "physical_network", "minimum", "maximum",
                         name="uq_network_segment_ranges"),
    )


class SecurityGroupDefaultStatefulness(Base):
    """The ``stateful`` a new security group gets when the request names none
    (extension ``security-groups-default-statefulness``): one row per project, and one
    system-wide (``project_id`` NULL). ``project_key`` is the project id, or ``""`` for
    the system-wide row: unique, as NULLs are not."""

    __tablename__ = "securitygroupdefaultstatefulness"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    project_key: Mapped[str] = mapped_column(String(255), unique=True)
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)


class Log(StandardAttrs, Base):
    """A network log (extension ``logging``, Neutron's ``logs`` table): which
    security group's (``resource_id``; NULL: every group of the project) and
    which port's (``target_id``; NULL: every port) ``event`` (``ACCEPT``,
    ``DROP`` or ``ALL``) packets OVN logs while ``enabled``
    (``services/network_logs.py``, ``ovn/network_log.py``). No foreign keys, as
    Neutron's: a deleted group or port leaves the log pointing at nothing."""

    __tablename__ = "logs"

    resource_type: Mapped[str] = mapped_column(String(36))
    resource_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    target_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(255), default="ALL")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Flavor(Base):
    """A service flavor (extension ``flavors``, services/flavors.py): a name for a
    ``service_type``, bound to service profiles. Neutron's ``flavors`` table."""

    __tablename__ = "flavors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(1024), default="")
    service_type: Mapped[str] = mapped_column(String(36))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceProfile(Base):
    """A service profile (extension ``flavors``): a provider ``driver`` and/or
    ``metainfo``. Neutron's ``serviceprofiles`` table."""

    __tablename__ = "serviceprofiles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    description: Mapped[str] = mapped_column(String(1024), default="")
    driver: Mapped[str] = mapped_column(String(1024), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    metainfo: Mapped[str] = mapped_column(String(4096), default="")


class FlavorServiceProfileBinding(Base):
    """A flavor bound to a service profile (Neutron's ``flavorserviceprofilebindings``)."""

    __tablename__ = "flavorserviceprofilebindings"

    flavor_id: Mapped[str] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"),
                                           primary_key=True)
    service_profile_id: Mapped[str] = mapped_column(
        ForeignKey("serviceprofiles.id", ondelete="CASCADE"), primary_key=True)


class Trunk(StandardAttrs, Base):
    """A trunk (extension "trunk"): its parent port ``port_id`` carries untagged
    traffic, each subport (``subports``) the frames tagged with its VLAN id. At
    most one trunk per parent port (``uq_trunks_port_id``); the parent cannot be
    deleted while the trunk exists (PortInUseAsTrunkParent). ``status`` follows the
    parent's binding (``services/trunk_ports.py``)."""

    __tablename__ = "trunks"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id"), unique=True)


class SubPort(Base):
    """A subport of a trunk: a port (at most one trunk's, the primary key) and its
    segmentation, unique per trunk (``uq_subports_trunk_segmentation``,
    Neutron's ``uniq_subport0trunk_id0segmentation_type0segmentation_id``)."""

    __tablename__ = "subports"
    __table_args__ = (UniqueConstraint("trunk_id", "segmentation_type", "segmentation_id",
                                       name="uq_subports_trunk_segmentation"),)

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"),
                                         primary_key=True)
    trunk_id: Mapped[str] = mapped_column(ForeignKey("trunks.id", ondelete="CASCADE"),
                                          index=True)
    segmentation_type: Mapped[str] = mapped_column(String(32))
    segmentation_id: Mapped[int] = mapped_column(Integer)


class PortForwarding(Base):
    """A floating IP port forwarding (extension ``floating-ip-port-forwarding``, Neutron's
    ``portforwardings`` table): ``protocol`` traffic to the floating IP's
    ``external_port_start..end`` goes to ``internal_ip_address`` of
    ``internal_neutron_port_id`` at ``internal_port_start..end`` (a single port is a range
    of one; an N:1 forwarding has one internal port). Unique per (floating IP, protocol,
    external range) and per (protocol, internal port, address, internal range), as
    Neutron's; gone with its floating IP or its internal port."""

    __tablename__ = "portforwardings"
    __table_args__ = (
        UniqueConstraint("floatingip_id", "protocol", "external_port_start",
                         "external_port_end", name="uq_portforwardings_external"),
        UniqueConstraint("protocol", "internal_neutron_port_id", "internal_ip_address",
                         "internal_port_start", "internal_port_end",
                         name="uq_portforwardings_internal"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    floatingip_id: Mapped[str] = mapped_column(ForeignKey("floatingips.id", ondelete="CASCADE"),
                                               index=True)
    internal_neutron_port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    protocol: Mapped[str] = mapped_column(String(40))
    internal_ip_address: Mapped[str] = mapped_column(String(64))
    internal_port_start: Mapped[int] = mapped_column(Integer)
    internal_port_end: Mapped[int] = mapped_column(Integer)
    external_port_start: Mapped[int] = mapped_column(Integer)
    external_port_end: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(255), default="")


from neutrino.db import qos_models  # noqa: E402,F401  (registers the QoS tables)

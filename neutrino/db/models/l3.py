"""L3: routers, floating IPs and their port forwardings (``neutron/db/models/l3.py``,
``port_forwarding.py``)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import StandardAttrs


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

"""QoS tables (extensions ``qos`` and friends), as Neutron's ``neutron/db/qos/models.py``:
policies, their RBAC entries and per-project default, one table per rule type, and one
binding table per kind of resource a policy is put on (port, network, floating IP,
router gateway). A binding's resource side cascades; its policy side does not: a policy
in use is refused (``QosPolicyInUse``) before it could be deleted."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import RBACEntry, StandardAttrs


class QosPolicy(StandardAttrs, Base):
    """A QoS policy; ``shared`` mirrors the ``*`` ``access_as_shared`` entry."""

    __tablename__ = "qos_policies"
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class QosPolicyRBAC(RBACEntry, Base):
    """An RBAC policy on a QoS policy (object type ``qos_policy``)."""

    __tablename__ = "qospolicyrbacs"
    object_id: Mapped[str] = mapped_column(
        ForeignKey("qos_policies.id", ondelete="CASCADE"), index=True)


class QosPolicyDefault(Base):
    """A project's default policy (``is_default``): one per project by primary key."""

    __tablename__ = "qos_policies_default"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(
        ForeignKey("qos_policies.id", ondelete="CASCADE"), index=True)


def _policy_fk() -> Mapped[str]:
    return mapped_column(ForeignKey("qos_policies.id", ondelete="CASCADE"), index=True)


class QosBandwidthLimitRule(Base):
    __tablename__ = "qos_bandwidth_limit_rules"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    qos_policy_id: Mapped[str] = _policy_fk()
    max_kbps: Mapped[int] = mapped_column(Integer)
    max_burst_kbps: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    __table_args__ = (UniqueConstraint("qos_policy_id", "direction",
                                       name="uq_qos_bandwidth_limit_rules0qos_policy_id0direction"),)


class QosDscpMarkingRule(Base):
    __tablename__ = "qos_dscp_marking_rules"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(
        ForeignKey("qos_policies.id", ondelete="CASCADE"), unique=True)
    dscp_mark: Mapped[int] = mapped_column(Integer)


class QosMinimumBandwidthRule(Base):
    __tablename__ = "qos_minimum_bandwidth_rules"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    qos_policy_id: Mapped[str] = _policy_fk()
    min_kbps: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    __table_args__ = (UniqueConstraint("qos_policy_id", "direction",
                                       name="uq_qos_minimum_bandwidth_rules0qos_policy_id0direction"),)


class QosPacketRateLimitRule(Base):
    __tablename__ = "qos_packet_rate_limit_rules"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    qos_policy_id: Mapped[str] = _policy_fk()
    max_kpps: Mapped[int] = mapped_column(Integer)
    max_burst_kpps: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    __table_args__ = (UniqueConstraint("qos_policy_id", "direction",
                                       name="uq_qos_packet_rate_limit_rules0qos_policy_id0direction"),)


def _bound_policy() -> Mapped[str]:
    return mapped_column(ForeignKey("qos_policies.id"), index=True)


class QosPortPolicyBinding(Base):
    __tablename__ = "qos_port_policy_bindings"
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"),
                                         primary_key=True)
    policy_id: Mapped[str] = _bound_policy()


class QosNetworkPolicyBinding(Base):
    __tablename__ = "qos_network_policy_bindings"
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"),
                                            primary_key=True)
    policy_id: Mapped[str] = _bound_policy()


class QosFIPPolicyBinding(Base):
    __tablename__ = "qos_fip_policy_bindings"
    fip_id: Mapped[str] = mapped_column(ForeignKey("floatingips.id", ondelete="CASCADE"),
                                        primary_key=True)
    policy_id: Mapped[str] = _bound_policy()


class QosRouterGatewayIPPolicyBinding(Base):
    __tablename__ = "qos_router_gw_policy_bindings"
    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"),
                                           primary_key=True)
    policy_id: Mapped[str] = _bound_policy()

"""Security groups: groups, rules and their protocol names, RBAC entries, the per-project
default group, default rule templates and statefulness, port bindings
(``neutron/db/models/securitygroup.py``)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import RBACEntry, StandardAttrs


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

"""The smaller extensions' tables: tags, quotas, network logs, flavors and service
profiles, trunks and their subports."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import StandardAttrs


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

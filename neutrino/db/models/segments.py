"""Segments and routed networks: a network's segments, the physical networks each
host reaches, network segment ranges (``neutron/db/models/segment.py``,
``network_segment_range.py``)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base


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


class HostPhysicalNetwork(Base):
    """A physical network a host (chassis hostname) bridges, from the SB ``Chassis``
    rows' ``ovn-bridge-mappings``: the segments of that physical network are the ones
    the host reaches (routed networks, reference B.7). Kept by the NB sync
    (``services.segments.record_host_physnets``)."""

    __tablename__ = "host_physical_networks"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    physical_network: Mapped[str] = mapped_column(String(64), primary_key=True)


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

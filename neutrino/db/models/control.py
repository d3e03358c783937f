"""neutrino's own tables: the NB outbox, Nova's events, the controllers' reports, the
agents mirrored from the SB, and the metadata service's instance registry."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base


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

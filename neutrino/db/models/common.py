"""Columns every resource table shares: Neutron's standard attributes and the RBAC
entry columns (``neutron/db/standard_attr.py``, ``rbac_db_models.py``)."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


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

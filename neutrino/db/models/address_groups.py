"""Address groups, their addresses and RBAC entries (``neutron/db/models/address_group.py``)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import RBACEntry, StandardAttrs


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

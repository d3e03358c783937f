"""Address scopes and subnet pools with their RBAC entries and prefix generations
(``neutron/db/models/address_scope.py``, ``models_v2.SubnetPool``)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.db.base import Base
from neutrino.db.models.common import RBACEntry, StandardAttrs


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

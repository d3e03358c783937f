"""``flavor`` and ``service_profile`` as the API shows them (neutron-lib ``flavors``
definition).

Columns are ``db.models.Flavor``'s and ``ServiceProfile``'s; the loads
(``services.flavor_reads``) are the bindings: a flavor's ``service_profiles`` and a
profile's ``flavors``, ids in id order. Neither has a project or standard attributes
beyond ``id`` (and a flavor's ``name``). Readers read every flavor, admins every profile (the API's policy check).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource


def _column(name: str, type_: str = "string", **kw) -> Attribute:
    return Attribute(name, type_, name, **kw)


def _bound(name: str) -> Attribute:
    """The ids of the other side's bound rows (load ``name``)."""
    return Attribute(name, "list", value=lambda row, rel: rel[name].get(row["id"], []),
                     load=name, default=[])


FLAVOR = Resource("flavor", "flavors", (
    _column("id", "uuid"),
    _column("name", default=""),
    _column("description", default=""),
    _column("service_type"),
    _column("enabled", "boolean", default=True),
    _bound("service_profiles"),
))

SERVICE_PROFILE = Resource("service_profile", "service_profiles", (
    _column("id", "uuid"),
    _column("description", default=""),
    _column("driver", default=""),
    _column("enabled", "boolean", default=True),
    _column("metainfo", default=""),
    _bound("flavors"),
))

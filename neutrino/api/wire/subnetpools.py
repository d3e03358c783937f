"""``subnetpool`` as the API shows it (reference B.8; neutron-lib ``subnetpool``,
``default_subnetpools``, ``address_scope`` definitions).

Columns are ``db.models.SubnetPool``'s; the only load is ``tags``
(``services.subnetpool_reads.LOADS``). The prefix-length bounds are shown as strings
(Neutron's ``_make_subnetpool_dict``); ``default_ip_version`` (the one-default-pool
guard) is never shown. ``ip_version`` is computed from ``prefixes`` by the write path
(neutron-lib's ``allow_post: False``). Who reads which pools (its project's, shared
ones, admins' all) is the service's row rule (``services.subnetpools.visible``).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource, standard


def _text(column: str) -> Attribute:
    return Attribute(column, "integer", value=lambda row, rel: str(row[column]),
                     needs=(column,))


SUBNETPOOL = Resource("subnetpool", "subnetpools", standard() + (
    Attribute("prefixes", "list", "prefixes"),
    Attribute("ip_version", "integer", "ip_version"),
    _text("default_prefixlen"),
    _text("min_prefixlen"),
    _text("max_prefixlen"),
    Attribute("default_quota", "integer", "default_quota"),
    Attribute("is_default", "boolean", "is_default", default=False),
    Attribute("shared", "boolean", "shared", default=False),
    Attribute("address_scope_id", "uuid", "address_scope_id"),
))

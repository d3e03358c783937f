"""``address_group`` as the API shows it (reference B.8; neutron-lib ``address_group``
definition).

Columns are ``db.models.AddressGroup``'s; the only load is ``addresses``
(``services.address_group_reads.LOADS``: the group's CIDRs in address order, IPv4
first). An address group has no tags; its description sorts. ``shared`` is a request
attribute only (create/update bodies naming it get "not allowed"): the ``*`` RBAC entry
shares a group, and the column that mirrors it is never shown.
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource, standard

ADDRESS_GROUP = Resource("address_group", "address_groups", standard(
        tags=False) + (
    Attribute("addresses", "list", value=lambda row, rel: rel["addresses"].get(row["id"], []),
              load="addresses", default=[]),
    Attribute("shared", "boolean", default=False, shown=False),
))

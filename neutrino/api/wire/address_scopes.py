"""``address_scope`` as the API shows it (reference B.8; neutron-lib ``address_scope``
definition).

Columns are ``db.models.AddressScope``'s; loads are ``services.address_scope_reads.LOADS``.
An address scope shows no standard attributes beyond ``id``, ``name`` and its project
(no description, timestamps, revision or tags here); ``shared`` is as the caller sees it
(the ``*`` column, or an RBAC entry naming the caller's project).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource

ADDRESS_SCOPE = Resource("address_scope", "address_scopes", (
    Attribute("id", "uuid", "id"),
    Attribute("name", "string", "name", default=""),
    Attribute("project_id", "string", "project_id"),
    Attribute("tenant_id", "string", "project_id"),
    Attribute("shared", "boolean", value=lambda row, rel: bool(row["shared"])
              or row["id"] in rel["granted"], needs=("shared",), load="granted",
              default=False),
    Attribute("ip_version", "integer", "ip_version"),
))

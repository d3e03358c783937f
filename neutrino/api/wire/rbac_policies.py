"""``rbac_policy`` as the API shows it (reference B.9; Neutron's ``extensions/rbac.py``
attribute map).

Every shown attribute is a column of the ``rbac_policies`` union
(``services.rbac``: the entries of networks, address scopes and groups, security
groups and QoS policies as one collection, ``object_type`` naming the table); there
are no loads. A policy has no name, description, timestamps, revision or tags.
``target_project`` only filters (the same column as ``target_tenant``). Who reads
which policies (their project, admins all) is the service's row rule.
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource

RBAC_POLICY = Resource("rbac_policy", "rbac_policies", (
    Attribute("id", "uuid", "id"),
    Attribute("project_id", "string", "project_id"),
    Attribute("tenant_id", "string", "project_id"),
    Attribute("object_type", "string", "object_type"),
    Attribute("object_id", "uuid", "object_id"),
    Attribute("action", "string", "action"),
    Attribute("target_tenant", "string", "target_tenant"),
    Attribute("target_project", "string", shown=False, named_in_requests=False),
))

"""``security_groups_default_statefulness`` (``/v2.0/security-groups-default-statefulness``)
as the API shows it (neutron-lib ``security_groups_default_statefulness`` definition;
its singular and plural are one word).

Columns are ``db.models.SecurityGroupDefaultStatefulness``'s and every attribute is
one (``services.sg_default_statefulness_reads`` has no loads): ``project_id`` (null for
the system-wide setting) and its ``tenant_id`` mirror, ``stateful``. Filters and sort
keys are ``services.sg_default_statefulness.SPEC``'s (``tenant_id`` neither). Who reads
which settings (admins all, others their project's) is the service's row rule
(``services.sg_default_statefulness.visible``).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource

SG_DEFAULT_STATEFULNESS = Resource(
    "security_groups_default_statefulness", "security_groups_default_statefulness", (
        Attribute("id", "uuid", "id"),
        Attribute("project_id", "string", "project_id"),
        Attribute("tenant_id", "string", "project_id"),
        Attribute("stateful", "boolean", "stateful", default=True),
    ))

"""``log`` (``/v2.0/log/logs``) as the API shows it (neutron-lib ``logging``
definition).

Columns are ``db.models.Log``'s and every attribute is one (``services.network_log_reads``
has no loads): a log has no tags; every column filters and sorts (the description
too). Who reads which logs (its project's, admins' all) is the service's row rule
(``services.network_logs.visible``).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource, standard


def _column(name: str, type_: str = "string", **kw) -> Attribute:
    return Attribute(name, type_, name, **kw)


NETWORK_LOG = Resource("log", "logs", standard(tags=False) + (
    _column("resource_type"),
    _column("resource_id", "uuid"),
    _column("target_id", "uuid"),
    _column("event", default="ALL"),
    _column("enabled", "boolean", default=True),
))

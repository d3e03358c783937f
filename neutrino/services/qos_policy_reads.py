"""QoS policies as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/qos_policies.py``
renders them). Visibility and filters are ``services.qos``'. Errors: those of
``listing.apply_list_query``; QosPolicyNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import QosPolicy
from neutrino.services import common, listing, qos, qos_rules
from neutrino.services.context import Context

# tags; granted (the ids an RBAC entry shares with the caller's project); defaults (the
# ids that are their project's default); rules ({policy id: [(rule type, rule row)]},
# ``qos_rules.rule_rows``)
LOADS = ("tags", "granted", "defaults", "rules")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related = common.tags_related(session, ctx, rows, ids, loads)
    if "granted" in loads:
        related["granted"] = qos.granted_among(session, ctx, ids)
    if "defaults" in loads:
        related["defaults"] = qos.defaults_among(session, ids)
    if "rules" in loads:
        related["rules"] = qos_rules.rule_rows(session, [r.id for r in rows])
    return related


# list and show; raise what ``listing.apply_list_query`` raises, QosPolicyNotFound (404)
READER = listing.Reader(QosPolicy, qos.SPEC, qos.find_visible, qos.visible, _related)

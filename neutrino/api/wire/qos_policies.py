"""``policy`` (``/v2.0/qos/policies``) as the API shows it (neutron-lib ``qos``,
``qos_default`` definitions).

Columns are ``db.models.QosPolicy``'s; loads are ``services.qos_policy_reads.LOADS``:
``tags``, ``granted`` (the listed policies an RBAC entry shares with the caller's
project: ``shared`` is the ``*`` column or such an entry, as the caller sees it),
``defaults`` (those that are their project's default: ``is_default``) and ``rules``
(each policy's rule rows with their type, ``qos_rules.rule_rows``, shown as their type's
declaration shows them with ``qos_policy_id`` and ``type``: ``api/wire/qos_rules.py``).
The description sorts; ``shared`` and ``is_default`` filter but do not sort. Who reads
which policies (its project's, shared ones, admins' all) is the service's row rule
(``services.qos.visible``).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource, standard
from neutrino.api.wire.qos_rules import policy_rules

QOS_POLICY = Resource("policy", "policies", standard() + (
    Attribute("shared", "boolean", value=lambda row, rel: bool(row["shared"])
              or row["id"] in rel["granted"], needs=("shared",), load="granted",
              default=False),
    Attribute("is_default", "boolean", value=lambda row, rel: row["id"] in rel["defaults"],
              load="defaults", default=False),
    Attribute("rules", "list",
              value=lambda row, rel: policy_rules(rel["rules"].get(row["id"], [])),
              load="rules", default=[]),
))

"""QoS rules as the API reads them: a policy's rules of one type as domain rows with only
the columns a request's ``fields=`` needs (``api/wire/qos_rules.py`` renders them).
A sub-resource's readers (``listing.Reader.parent``): the policy must be visible to the
caller (QosPolicyNotFound, 404, as ``services.qos.find_visible``), then its rules are;
a rule not of that policy is QosRuleNotFound (404). A list takes no filters, sorts or
pages: the policy's rules of the type, by id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.services import listing, qos_rules
from neutrino.services.context import Context


def _reader(rule_type: str) -> listing.Reader:
    model = qos_rules.RULE_TYPES[rule_type].model

    def find(session: Session, ctx: Context, rule_id: str, policy_id: str | None = None
             ) -> Any:
        return qos_rules.find_visible(session, ctx, rule_type, rule_id, policy_id)

    def parent(session: Session, ctx: Context, policy_id: str) -> Any:
        return qos_rules.of_visible_policy(session, ctx, rule_type, policy_id)

    spec = listing.ResourceSpec(model.id, {}, {},
                                lambda rule_id: errors.QosRuleNotFound("", rule_id))
    return listing.Reader(model, spec, find, parent=parent)


# rule type -> its list and show (of a policy; show also alone: the alias routes)
READERS = {name: _reader(name) for name in qos_rules.RULE_TYPES}

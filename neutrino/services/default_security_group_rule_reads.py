"""Default security group rules (templates) as the API reads them: the domain rows of
list and show with only the columns a request's ``fields=`` needs
(``api/wire/default_security_group_rules.py`` renders them). Filters are
``services.default_security_group_rules``'; every caller reads every template. Errors:
those of ``listing.apply_list_query``; DefaultSecurityGroupRuleNotFound (404).
"""

from __future__ import annotations

from neutrino.db.models import SecurityGroupDefaultRule
from neutrino.services import default_security_group_rules as templates
from neutrino.services import listing

LOADS: tuple[str, ...] = ()  # every attribute is a column

# list and show; raise what ``listing.apply_list_query`` raises,
# DefaultSecurityGroupRuleNotFound (404)
READER = listing.Reader(SecurityGroupDefaultRule, templates.SPEC,
                        lambda session, ctx, rule_id: templates.find(session, rule_id))

"""Security groups' default statefulness settings as the API reads them: the domain rows
of list and show with only the columns a request's ``fields=`` needs
(``api/wire/sg_default_statefulness.py`` renders them). Visibility and filters are
``services.sg_default_statefulness``'. Errors: those of ``listing.apply_list_query``;
SecurityGroupDefaultStatefulnessNotFound (404).
"""

from __future__ import annotations

from neutrino.db.models import SecurityGroupDefaultStatefulness
from neutrino.services import listing
from neutrino.services import sg_default_statefulness as statefulness

LOADS: tuple[str, ...] = ()  # every attribute is a column

# list and show; raise what ``listing.apply_list_query`` raises,
# SecurityGroupDefaultStatefulnessNotFound (404)
READER = listing.Reader(SecurityGroupDefaultStatefulness, statefulness.SPEC,
                        statefulness.find_visible, statefulness.visible)

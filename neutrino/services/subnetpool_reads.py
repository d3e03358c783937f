"""Subnet pools as the API reads them: the domain rows of list and show with only the
columns (and tags) a request's ``fields=`` needs (``api/wire/subnetpools.py`` renders
them). Visibility and filters are ``services.subnetpools``'. Errors: those of
``listing.apply_list_query``; SubnetPoolNotFound (404).
"""

from __future__ import annotations

from neutrino.db.models import SubnetPool
from neutrino.services import common, listing
from neutrino.services.subnetpools import SPEC, find_visible, visible

LOADS = ("tags",)


# list and show; raise what ``listing.apply_list_query`` raises, SubnetPoolNotFound (404)
READER = listing.Reader(SubnetPool, SPEC, find_visible, visible, common.tags_related)

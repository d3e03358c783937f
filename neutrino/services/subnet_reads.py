"""Subnets as the API reads them: the domain rows of list and show with only the
columns (and tags) a request's ``fields=`` needs (``api/wire/subnets.py`` renders
them). Visibility and filters are ``services.subnets``'. Errors: those of
``listing.apply_list_query``; SubnetNotFound (404).
"""

from __future__ import annotations

from neutrino.db.models import Subnet
from neutrino.services import common, listing
from neutrino.services.subnets import _caller_spec, find_visible, visible

LOADS = ("tags",)


# list and show; raise what ``listing.apply_list_query`` raises, SubnetNotFound (404)
READER = listing.Reader(Subnet, lambda ctx, env: _caller_spec(ctx), find_visible, visible,
                        common.tags_related)

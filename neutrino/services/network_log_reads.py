"""Network logs as the API reads them: the domain rows of list and show with only the
columns a request's ``fields=`` needs (``api/wire/network_logs.py`` renders them).
Visibility and filters are ``services.network_logs``'. Errors: those of
``listing.apply_list_query``; LogResourceNotFound (404).
"""

from __future__ import annotations

from neutrino.db.models import Log
from neutrino.services import listing, network_logs

LOADS: tuple[str, ...] = ()  # every attribute is a column

# list and show; raise what ``listing.apply_list_query`` raises, LogResourceNotFound (404)
READER = listing.Reader(Log, network_logs.SPEC, network_logs._find, network_logs.visible)

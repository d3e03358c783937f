"""Segments as the API reads them: the domain rows of list and show with only the
columns a request's ``fields=`` needs (``api/wire/segments.py`` renders them). Admins
read every segment; anyone else lists none and shows none (SegmentNotFound, 404), as
``services.segments``. Errors: those of ``listing.apply_list_query``; SegmentNotFound.
"""

from __future__ import annotations

from neutrino.db.models import NetworkSegment
from neutrino.services import listing
from neutrino.services.segments import SPEC, _find

LOADS: tuple[str, ...] = ()  # every attribute is a column


# list and show; raise what ``listing.apply_list_query`` raises, SegmentNotFound (404,
# also to a caller that is not admin)
READER = listing.Reader(NetworkSegment, SPEC, _find, listing.admin_only)

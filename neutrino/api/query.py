"""Query-string conventions of Neutron lists (reference A.3), parsed once.

``parse_list_query`` turns a request into a ``ListQuery``; ``page_links``
builds ``<collection>_links``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from neutrino import errors
from neutrino.services.listing import INT64_MAX, ListQuery, to_bool

RESERVED = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}


def parse_list_query(request: Request, max_limit: int = -1) -> ListQuery:
    """Raises HTTPBadRequest for malformed sort, limit or page_reverse values."""
    params = request.query_params
    filters: dict[str, list[str]] = {}
    for key, value in params.multi_items():
        if key not in RESERVED:
            filters.setdefault(key, []).append(value)
    fields = [f for f in params.getlist("fields") if f] or None

    keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
    if dirs and len(dirs) != len(keys):
        raise errors.HTTPBadRequest("The number of sort_keys and sort_dirs must be same")
    bad = [d for d in dirs if d not in ("asc", "desc")]
    if bad:
        raise errors.HTTPBadRequest(f"{bad} is invalid value for sort_dirs, valid values are "
                                    "'asc' and 'desc'")
    sorts = [(k, (dirs[i] if dirs else "asc") == "asc") for i, k in enumerate(keys)]

    limit = None
    raw = params.get("limit")
    if raw is not None:
        try:
            limit = int(raw)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise errors.HTTPBadRequest(
                f"Limit must be an integer 0 or greater and not '{raw}'") from None
        # beyond 64 bits (the database's LIMIT) it is no limit at all
        limit = limit if 0 < limit <= INT64_MAX else None
    if max_limit > 0:
        limit = min(limit or max_limit, max_limit)
    page_reverse = to_bool(params.get("page_reverse", "false"))
    return ListQuery(filters=filters, fields=fields, sorts=sorts, limit=limit,
                     marker=params.get("marker"), page_reverse=page_reverse)


def only_fields(items: list[dict[str, Any]], fields: list[str] | None) -> list[dict[str, Any]]:
    """Keep the requested keys of each item (``fields=``); unknown names are absent."""
    if not fields:
        return items
    return [{k: item[k] for k in fields if k in item} for item in items]


def page_links(request: Request, collection: str, query: ListQuery,
               ids: list[str]) -> list[dict[str, str]]:
    """``next``/``previous`` links, as Neutron's native pagination builds them
    (``api_common.get_pagination_links``): ``next`` unless a forward page came back
    short, ``previous`` unless a reverse one did; the marker is the page's last item
    (next) or first (previous), none on an empty page. ``ids`` are the page's ids."""
    if not query.limit:
        return []
    base = str(request.url.replace(query=""))
    params = [(k, v) for k, v in request.query_params.multi_items()
              if k not in ("marker", "page_reverse")]
    short = len(ids) < query.limit
    links = []
    if not (short and not query.page_reverse):
        marker = [("marker", ids[-1])] if ids else []
        links.append({"rel": "next", "href": f"{base}?{urlencode(params + marker)}"})
    if not (short and query.page_reverse):
        marker = [("marker", ids[0])] if ids else []
        prev = params + marker + [("page_reverse", "True")]
        links.append({"rel": "previous", "href": f"{base}?{urlencode(prev)}"})
    return links

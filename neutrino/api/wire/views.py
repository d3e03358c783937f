"""List and show answers from a declaration (``declare.Resource``) and the service's
row functions: plan the request, let the service select what the plan needs, render.

Row functions take ``(env, ctx, query or id, columns, loads)`` and return
``services.listing.Rows`` (``services/port_reads.py`` is one).
"""

from __future__ import annotations

from typing import Any, Callable

from neutrino.api.wire.declare import Related, Resource
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.listing import ListQuery, Rows

ListRows = Callable[[Env, Context, ListQuery, tuple[str, ...], frozenset[str]], Rows]
GetRows = Callable[[Env, Context, str, tuple[str, ...], frozenset[str]], Rows]


def list_items(env: Env, ctx: Context, resource: Resource, list_rows: ListRows,
               query: ListQuery) -> tuple[list[dict[str, Any]], list[str]]:
    """``(API dicts, their ids)`` of a list request (ids for the paging links, which
    ``fields=`` may leave out of the dicts). Raises what ``list_rows`` raises."""
    plan = resource.plan(ctx, query.fields)
    got = list_rows(env, ctx, query, plan.columns, plan.loads)
    return (resource.render(plan, got.rows, Related(got.related, env.settings)),
            [row[0] for row in got.rows])


def show_item(env: Env, ctx: Context, resource: Resource, get_rows: GetRows, item_id: str,
              fields: list[str] | None) -> dict[str, Any]:
    """The API dict of one resource. Raises what ``get_rows`` raises (its NotFound)."""
    plan = resource.plan(ctx, fields)
    got = get_rows(env, ctx, item_id, plan.columns, plan.loads)
    return resource.render(plan, got.rows, Related(got.related, env.settings))[0]

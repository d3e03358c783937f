"""List and show answers from a declaration (``declare.Resource``) and the service's
reader (``services.listing.Reader``, e.g. ``services.port_reads.READER``): plan the
request, let the reader select what the plan needs, render.
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import Related, Resource
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.listing import ListQuery, Reader


def list_items(env: Env, ctx: Context, resource: Resource, reads: Reader,
               query: ListQuery) -> tuple[list[dict[str, Any]], list[str]]:
    """``(API dicts, their ids)`` of a list request (ids for the paging links, which
    ``fields=`` may leave out of the dicts). Raises what ``reads.list_rows`` raises."""
    plan = resource.plan(ctx, query.fields)
    got = reads.list_rows(env, ctx, query, plan.columns, plan.loads)
    return (resource.render(plan, got.rows, Related(got.related, env.settings)),
            [row[0] for row in got.rows])


def show_item(env: Env, ctx: Context, resource: Resource, reads: Reader, item_id: str,
              fields: list[str] | None) -> dict[str, Any]:
    """The API dict of one resource. Raises what ``reads.get_rows`` raises (its NotFound)."""
    plan = resource.plan(ctx, fields)
    got = reads.get_rows(env, ctx, item_id, plan.columns, plan.loads)
    return resource.render(plan, got.rows, Related(got.related, env.settings))[0]

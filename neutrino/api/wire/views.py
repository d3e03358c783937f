"""Answers from a declaration (``declare.Resource``) and the service's reader
(``services.listing.Reader``, e.g. ``services.port_reads.READER``): for a list or a
show, plan the request, let the reader select what the plan needs, render; for a
create or an update, render the objects the service wrote (``listing.Written``).
"""

from __future__ import annotations

from typing import Any, Callable

from neutrino.api.wire.declare import Related, Resource
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.listing import ListQuery, Reader, Written, rows_of


def list_items(env: Env, ctx: Context, resource: Resource, reads: Reader,
               query: ListQuery, parent_id: str | None = None
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """``(API dicts, their ids)`` of a list request (ids for the paging links, which
    ``fields=`` may leave out of the dicts); ``parent_id``: a sub-resource's parent.
    Raises what ``reads.list_rows`` raises."""
    plan = resource.plan(ctx, query.fields)
    got = reads.list_rows(env, ctx, query, plan.columns, plan.loads, parent_id)
    return (resource.render(plan, got.rows, Related(got.related, env.settings)),
            [row[0] for row in got.rows])


def show_item(env: Env, ctx: Context, resource: Resource, reads: Reader, item_id: str,
              fields: list[str] | None, parent_id: str | None = None) -> dict[str, Any]:
    """The API dict of one resource (of ``parent_id``: a sub-resource's parent). Raises
    what ``reads.get_rows`` raises (its NotFound)."""
    plan = resource.plan(ctx, fields)
    got = reads.get_rows(env, ctx, item_id, plan.columns, plan.loads, parent_id)
    return resource.render(plan, got.rows, Related(got.related, env.settings))[0]


def written_items(env: Env, ctx: Context, resource: Resource, reads: Reader | None,
                  written: Written) -> list[dict[str, Any]]:
    """The API dicts of what a create or update wrote, as a show would answer them for
    ``ctx``: the related loads the service did not give are read in one read
    transaction (none when it gave all the plan needs; ``reads`` None: a resource
    without related loads)."""
    plan = resource.plan(ctx, None)
    related = dict(written.related)
    missing = set(plan.loads) - related.keys()
    objects = written.objects
    if missing and objects:
        if reads is None:
            raise TypeError(f"{resource.plural}: related loads need a reader")
        related.update(env.db.run(lambda session: reads.related(
            session, ctx, objects, [o.id for o in objects], missing), write=False))
    return resource.render(plan, rows_of(objects, plan.columns), Related(related, env.settings))


def written_one(write: Callable[..., Written], resource: Resource, reads: Reader
                ) -> Callable[..., dict[str, Any]]:
    """``write(env, ctx, *args)`` -- a service's create or update of one object that
    returns what it wrote -- answering that object's API dict (``written_items``), for
    the routes of sub-resources (QoS rules, port forwardings)."""
    def run(env: Env, ctx: Context, *args: Any) -> dict[str, Any]:
        return written_items(env, ctx, resource, reads, write(env, ctx, *args))[0]
    return run

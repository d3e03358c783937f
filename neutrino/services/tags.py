"""The tags sub-resource ``/v2.0/{collection}/{id}/tags`` (extensions
``standard-attr-tag`` and ``tag-creation``; reference A.4). Every change bumps
the tagged resource's revision_number."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Tag
from neutrino.services import (common, floatingips, networks, ports, qos, routers,
                               security_groups, segment_ranges, subnetpools, subnets, trunks)
from neutrino.services.context import Context
from neutrino.services.env import Env

# collection -> (finder returning a visible row, owner check for changes)
TAGGABLE: dict[str, Callable[[Session, Context, str], Any]] = {
    "networks": networks.find_visible,
    "subnets": subnets.find_visible,
    "ports": ports.find_visible,
    "routers": routers.find_visible,
    "floatingips": floatingips.find_visible,
    "security-groups": security_groups.find_visible,
    "subnetpools": subnetpools.find_visible,
    "network-segment-ranges": segment_ranges.find_visible,
    "network_segment_ranges": segment_ranges.find_visible,
    "trunks": trunks.find_visible,
    "policies": qos.find_visible,  # /v2.0/qos/policies/{id}/tags (api.qos)
}


def get_tags(env: Env, ctx: Context, collection: str, resource_id: str) -> list[str]:
    def run(session: Session) -> list[str]:
        _find(session, ctx, collection, resource_id, change=False)
        return common.tags_of(session, [resource_id]).get(resource_id, [])
    return env.db.run(run, write=False)


def has_tag(env: Env, ctx: Context, collection: str, resource_id: str, tag: str) -> None:
    """Raises TagNotFound unless the resource carries ``tag``."""
    if tag not in get_tags(env, ctx, collection, resource_id):
        raise errors.TagNotFound(resource_id, tag)


def replace_tags(env: Env, ctx: Context, collection: str, resource_id: str, tags: list[str]) -> list[str]:
    """PUT .../tags: the resource's tags become exactly ``tags``."""
    tags = common.validate_tags(tags)

    def run(session: Session) -> list[str]:
        row = _find(session, ctx, collection, resource_id, change=True)
        session.execute(delete(Tag).where(Tag.resource_id == resource_id))
        common.add_tags(session, resource_id, tags)
        common.touch(row)
        return tags
    return env.db.run(run)


def add_tags(env: Env, ctx: Context, collection: str, resource_id: str, tags: list[str]) -> list[str]:
    """POST .../tags (or PUT .../tags/{tag}): add to the existing tags; returns all tags."""
    tags = common.validate_tags(tags)

    def run(session: Session) -> list[str]:
        row = _find(session, ctx, collection, resource_id, change=True)
        common.add_tags(session, resource_id, tags)
        common.touch(row)
        session.flush()
        return common.tags_of(session, [resource_id]).get(resource_id, [])
    return env.db.run(run)


def remove_tags(env: Env, ctx: Context, collection: str, resource_id: str, tag: str | None = None) -> None:
    """DELETE .../tags (all) or .../tags/{tag} (TagNotFound if absent)."""
    def run(session: Session) -> None:
        row = _find(session, ctx, collection, resource_id, change=True)
        stmt = delete(Tag).where(Tag.resource_id == resource_id)
        if tag is not None:
            if session.get(Tag, (resource_id, tag)) is None:
                raise errors.TagNotFound(resource_id, tag)
            stmt = stmt.where(Tag.tag == tag)
        session.execute(stmt)
        common.touch(row)
    env.db.run(run)


def _find(session: Session, ctx: Context, collection: str, resource_id: str, *, change: bool) -> Any:
    finder = TAGGABLE.get(collection)
    if finder is None:
        raise errors.TagResourceNotFound(collection, resource_id)
    row = finder(session, ctx, resource_id)
    if change and not ctx.is_admin and row.project_id != ctx.project_id:
        raise errors.PolicyNotAuthorized(f"update_{collection[:-1]}:tags")
    return row

"""Agents (extension ``agent``) and availability zones (``availability_zone``), read
from the ``agents`` table that the leading controller mirrors from the SB
(``ovn.agents``).

As Neutron: agents are the admin's -- others get an empty list and 404s; an admin
changes ``admin_state_up`` and ``description`` and deletes agents (the controller then
removes their chassis from the SB). ``alive`` is whether the agent answered a liveness
probe in the last ``agent_down_time`` seconds. Availability zones are those the
chassis declare (``availability-zones=`` in ``ovn-cms-options``), each listed for the
``network`` and ``router`` resources, ``available`` while an agent there is alive
(ML2/OVN's ``list_availability_zones``).

Lists and shows are ``services.agent_reads.READER``'s rows, rendered by
``api/wire/agents.py``; an update returns the agent it wrote.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Agent
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env

SPEC = listing.ResourceSpec(
    id_column=Agent.id,
    filters={
        "id": listing.eq(Agent.id),
        "agent_type": listing.eq(Agent.agent_type),
        "binary": listing.eq(Agent.binary),
        "host": listing.eq(Agent.host),
        "admin_state_up": listing.eq(Agent.admin_state_up, listing.to_bool),
        "description": listing.eq(Agent.description),
    },
    sort_keys={"id": Agent.id, "agent_type": Agent.agent_type, "binary": Agent.binary,
               "host": Agent.host, "admin_state_up": Agent.admin_state_up},
    not_found=errors.AgentNotFound,
)
AZ_RESOURCES = ("network", "router")


def alive_since(settings: Any, now: float | None = None) -> str:
    """The oldest ``heartbeat_at`` of an alive agent at ``now`` (default: the time),
    in its format (``%Y-%m-%dT%H:%M:%SZ``, which compares as it orders): an agent is
    alive while its last heartbeat is at most ``agent_down_time`` seconds old
    (Neutron's ``agent_down_time``; heartbeats have whole seconds, hence the ceiling)."""
    moment = time.time() if now is None else now
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(math.ceil(moment - settings.agent_down_time)))


def list_spec(ctx: Context, env: Env) -> listing.ResourceSpec:
    """SPEC plus ``alive`` (``heartbeat_at`` at or after :func:`alive_since` now), for
    ``services.agent_reads.READER``: the filter is SQL, so a page is full. (Rendering
    reads the time again, once: an agent whose heartbeat leaves the window in those
    milliseconds lists under ``alive=true`` and shows ``alive`` false.)"""
    alive = Agent.heartbeat_at >= alive_since(env.settings)
    return dataclasses.replace(SPEC, filters={**SPEC.filters,
                                              "alive": listing.bool_filter(alive)})


def visible(ctx: Context) -> listing.Clause:
    """Agents the caller lists: admins every one not deleted, others none."""
    return Agent.deleted.is_(False) if ctx.is_admin else false()


def update_agent(env: Env, ctx: Context, agent_id: str, data: dict[str, Any],
                 if_match: int | None = None) -> listing.Written:
    """Change ``admin_state_up`` and ``description``; returns the agent (the API renders
    it: ``api/wire/agents.py``). Agents have no revision number: ``If-Match`` is
    ignored. Raises AgentNotFound (404)."""
    def run(session: Session) -> listing.Written:
        agent = find_visible(session, ctx, agent_id)
        common.apply_changes(agent, data)
        session.flush()
        return listing.Written([agent])
    return env.db.run(run)


def delete_agent(env: Env, ctx: Context, agent_id: str, if_match: int | None = None) -> None:
    """Delete an agent: it is hidden at once, and the controller removes its chassis
    (and so every agent of it) from the SB, as ML2/OVN does. A chassis still running
    registers again. Raises AgentNotFound (404)."""
    def run(session: Session) -> None:
        agent = find_visible(session, ctx, agent_id)
        agent.deleted = True
    env.db.run(run)


def list_availability_zones(env: Env, ctx: Context,
                            query: listing.ListQuery) -> list[dict[str, Any]]:
    """``{name, resource, state}`` of each zone the chassis declare, for ``network``
    and ``router``; filters ``name``, ``resource``, ``state``."""
    def run(session: Session) -> list[tuple[str, str]]:
        return list(session.execute(select(Agent.availability_zones, Agent.heartbeat_at)
                                    .where(Agent.deleted.is_(False))))
    since = alive_since(env.settings)
    state: dict[str, bool] = {}
    for zones, heartbeat in env.db.run(run, write=False):
        for zone in zones.split():
            state[zone] = state.get(zone, False) or heartbeat >= since
    zones = [{"name": name, "resource": resource,
              "state": "available" if up else "unavailable"}
             for name, up in sorted(state.items()) for resource in AZ_RESOURCES]
    return [z for z in zones
            if all(str(z[key]) in values for key, values in query.filters.items()
                   if key in ("name", "resource", "state"))]


def check_zones(session: Session, hints: list[str]) -> list[str]:
    """``hints`` if every zone is one a chassis declares, else AvailabilityZoneNotFound
    (404), as ML2/OVN's ``validate_availability_zones``."""
    if not hints:
        return []
    known = set()
    for zones in session.scalars(select(Agent.availability_zones).where(
            Agent.deleted.is_(False))):
        known.update(zones.split())
    missing = [h for h in hints if h not in known]
    if missing:
        raise errors.AvailabilityZoneNotFound(", ".join(missing))
    return list(hints)


def find_visible(session: Session, ctx: Context, agent_id: str) -> Agent:
    """The agent; AgentNotFound (404) when absent, deleted or the caller not admin."""
    agent = session.get(Agent, agent_id)
    if agent is None or agent.deleted or not ctx.is_admin:
        raise errors.AgentNotFound(agent_id)
    return agent

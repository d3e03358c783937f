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
"""

from __future__ import annotations

import calendar
import time
from typing import Any, Iterable

from sqlalchemy import select
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


def list_agents(env: Env, ctx: Context, query: listing.ListQuery) -> list[dict[str, Any]]:
    """Every agent for admins (Neutron's filters, sorting and paging, plus ``alive``);
    nothing for others."""
    if not ctx.is_admin:
        return []
    alive = query.filters.pop("alive", None)

    def run(session: Session) -> list[dict[str, Any]]:
        stmt = listing.apply_list_query(
            session, select(Agent.__table__).where(Agent.deleted.is_(False)), SPEC, query)
        return agent_dicts(env, listing.fetch(session, stmt, query))
    agents = env.db.run(run, write=False)
    if alive is not None:
        wanted = {listing.to_bool(v) for v in alive}
        agents = [a for a in agents if a["alive"] in wanted]
    return agents


def get_agent(env: Env, ctx: Context, agent_id: str,
              fields: list[str] | None = None) -> dict[str, Any]:
    """One agent; AgentNotFound (404) when absent, deleted or the caller not admin."""
    return env.db.run(lambda s: agent_dicts(env, [_find(s, ctx, agent_id)])[0], write=False)


def update_agent(env: Env, ctx: Context, agent_id: str, data: dict[str, Any],
                 if_match: int | None = None) -> dict[str, Any]:
    """Change ``admin_state_up`` and ``description``. Agents have no revision number:
    ``If-Match`` is ignored. Raises AgentNotFound (404)."""
    def run(session: Session) -> dict[str, Any]:
        agent = _find(session, ctx, agent_id)
        common.apply_changes(agent, data)
        session.flush()
        return agent_dicts(env, [agent])[0]
    return env.db.run(run)


def delete_agent(env: Env, ctx: Context, agent_id: str, if_match: int | None = None) -> None:
    """Delete an agent: it is hidden at once, and the controller removes its chassis
    (and so every agent of it) from the SB, as ML2/OVN does. A chassis still running
    registers again. Raises AgentNotFound (404)."""
    def run(session: Session) -> None:
        agent = _find(session, ctx, agent_id)
        agent.deleted = True
    env.db.run(run)


def list_availability_zones(env: Env, ctx: Context,
                            query: listing.ListQuery) -> list[dict[str, Any]]:
    """``{name, resource, state}`` of each zone the chassis declare, for ``network``
    and ``router``; filters ``name``, ``resource``, ``state``."""
    agents = env.db.run(lambda s: agent_dicts(env, s.scalars(
        select(Agent).where(Agent.deleted.is_(False)))), write=False)
    state: dict[str, bool] = {}
    for agent in agents:
        for zone in agent["availability_zones"]:
            state[zone] = state.get(zone, False) or agent["alive"]
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


def agent_dicts(env: Env, rows: Iterable[Agent]) -> list[dict[str, Any]]:
    """API dicts of agent rows, ``alive`` computed now (Neutron's agent attributes;
    ``availability_zones`` is neutrino's list behind ``availability_zone``)."""
    now = time.time()
    down = env.settings.agent_down_time
    return [{"id": r.id, "agent_type": r.agent_type, "binary": r.binary, "topic": "n/a",
             "host": r.host, "admin_state_up": r.admin_state_up, "description": r.description,
             "configurations": r.configurations, "created_at": r.created_at,
             "started_at": r.started_at, "heartbeat_timestamp": r.heartbeat_at,
             "alive": now - _epoch(r.heartbeat_at) <= down,
             "availability_zone": r.availability_zones.split()[0]
             if r.availability_zones else None,
             "availability_zones": r.availability_zones.split(),
             "resources_synced": None}
            for r in rows]


def _epoch(stamp: str) -> float:
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


def _find(session: Session, ctx: Context, agent_id: str) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.deleted or not ctx.is_admin:
        raise errors.AgentNotFound(agent_id)
    return agent

"""``agent`` (``/v2.0/agents``) as the API shows it (neutron-lib ``agent`` definition,
``availability_zone``'s ``availability_zone`` attribute of agents).

Columns are ``db.models.Agent``'s (``heartbeat_timestamp`` is ``heartbeat_at``). Computed:
``topic`` (``n/a``: OVN agents have no RPC topic) and ``resources_synced`` (None), as
ML2/OVN shows them; ``alive``, whether ``heartbeat_at`` is at or after
``services.agents.alive_since`` (one time a request: ``Related.once``); the first zone
as ``availability_zone`` and all of them as ``availability_zones`` (neutrino's list,
response only: a request naming it gets "Unrecognized attribute(s)"). Filters and sort
keys are ``services.agents.SPEC``'s, plus ``alive`` (in SQL:
``services.agents.list_spec``). Only admins read agents: the service's row rule
(``services.agents.visible``).
"""

from __future__ import annotations

from typing import Any

from neutrino.api.wire.declare import Attribute, Related, Resource
from neutrino.services.agents import alive_since


def _alive(row: dict[str, Any], rel: Related) -> bool:
    return row["heartbeat_at"] >= rel.once("agents_alive_since", alive_since)


def _column(name: str, type_: str = "string", column: str | None = None,
            **kw) -> Attribute:
    return Attribute(name, type_, column or name, **kw)


AGENT = Resource("agent", "agents", (
    _column("id"),
    _column("agent_type"),
    _column("binary"),
    Attribute("topic", "string", value=lambda row, rel: "n/a"),
    _column("host"),
    _column("admin_state_up", "boolean", default=True),
    _column("description", default=""),
    _column("configurations", "dict"),
    _column("created_at", "datetime"),
    _column("started_at", "datetime"),
    _column("heartbeat_timestamp", "datetime", "heartbeat_at"),
    Attribute("alive", "boolean", value=_alive, needs=("heartbeat_at",)),
    Attribute("availability_zone", "string", needs=("availability_zones",),
              value=lambda row, rel: (row["availability_zones"].split() or [None])[0]),
    Attribute("availability_zones", "list", needs=("availability_zones",),
              value=lambda row, rel: row["availability_zones"].split(),
              named_in_requests=False),
    Attribute("resources_synced", "boolean", value=lambda row, rel: None),
))

"""Request body of ``PUT /v2.0/agents/{id}`` (extension ``agent``)."""

from __future__ import annotations

from neutrino.api.schemas.common import Description, NeutronBody

AGENT_ATTRIBUTES = frozenset({
    "id", "agent_type", "binary", "topic", "host", "admin_state_up", "description",
    "configurations", "created_at", "started_at", "heartbeat_timestamp", "alive",
    "availability_zone", "resources_synced"})


class AgentUpdate(NeutronBody):
    ATTRIBUTES = AGENT_ATTRIBUTES
    admin_state_up: bool = True
    description: Description = ""

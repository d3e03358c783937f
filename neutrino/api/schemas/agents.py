"""Request body of ``PUT /v2.0/agents/{id}`` (extension ``agent``)."""

from __future__ import annotations

from neutrino.api.schemas.common import Description, NeutronBody
from neutrino.api.wire.agents import AGENT

AGENT_ATTRIBUTES = AGENT.names  # the wire declaration's (api/wire/agents.py)


class AgentUpdate(NeutronBody):
    ATTRIBUTES = AGENT_ATTRIBUTES
    admin_state_up: bool = True
    description: Description = ""

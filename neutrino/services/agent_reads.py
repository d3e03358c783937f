"""Agents as the API reads them: the domain rows of list and show with only the columns
a request's ``fields=`` needs (``api/wire/agents.py`` renders them). Visibility (admins
only) and filters (``alive`` in SQL, against the time and ``agent_down_time``) are
``services.agents``'. Errors: those of ``listing.apply_list_query``; AgentNotFound (404).
"""

from __future__ import annotations

from neutrino.db.models import Agent
from neutrino.services import agents, listing

LOADS: tuple[str, ...] = ()  # every attribute is a column, or computed from columns

# list and show; raise what ``listing.apply_list_query`` raises, AgentNotFound (404)
READER = listing.Reader(Agent, agents.list_spec, agents.find_visible, agents.visible)

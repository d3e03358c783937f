"""Errors of agents and availability zones (neutron-lib ``exceptions/agent.py``,
``exceptions/availability_zone.py``)."""

from __future__ import annotations

from neutrino.errors.base import NotFound


class AgentNotFound(NotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(f"Agent {agent_id} could not be found.")


class AvailabilityZoneNotFound(NotFound):
    def __init__(self, zone: str) -> None:
        super().__init__(f"AvailabilityZone {zone} could not be found.")

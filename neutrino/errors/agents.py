"""Errors of agents and availability zones (neutron-lib ``exceptions/agent.py``,
``exceptions/availability_zone.py``)."""

from __future__ import annotations

from neutrino.errors.base import NotFound


class AgentNotFound(NotFound):
    template = "Agent {agent_id} could not be found."


class AvailabilityZoneNotFound(NotFound):
    template = "AvailabilityZone {zone} could not be found."

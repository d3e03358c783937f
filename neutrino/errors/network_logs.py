"""Errors of network logs (``neutron/services/logapi/common/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InvalidInput, NotFound


class LogResourceNotFound(NotFound):
    template = "Log resource {log_id} could not be found."


class InvalidLogResourceType(InvalidInput):
    template = "Invalid log resource_type: {resource_type}."


class LoggingTypeNotSupported(Conflict):
    template = "Logging type {log_type} is not supported on port {port_id}."


class TargetResourceNotFound(NotFound):
    template = "Target resource {target_id} could not be found."


class ResourceNotFound(NotFound):
    template = "Resource {resource_id} could not be found."


class InvalidResourceConstraint(InvalidInput):
    template = ("Invalid resource constraint between resource ({resource} {resource_id}) and "
                "target resource ({target_resource} {target_id}).")

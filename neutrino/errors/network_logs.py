"""Errors of network logs (``neutron/services/logapi/common/exceptions.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InvalidInput, NotFound


class LogResourceNotFound(NotFound):
    def __init__(self, log_id: str) -> None:
        super().__init__(f"Log resource {log_id} could not be found.")


class InvalidLogResourceType(InvalidInput):
    def __init__(self, resource_type: str) -> None:
        super().__init__(f"Invalid log resource_type: {resource_type}.")


class LoggingTypeNotSupported(Conflict):
    def __init__(self, log_type: str, port_id: str) -> None:
        super().__init__(f"Logging type {log_type} is not supported on port {port_id}.")


class TargetResourceNotFound(NotFound):
    def __init__(self, target_id: str) -> None:
        super().__init__(f"Target resource {target_id} could not be found.")


class ResourceNotFound(NotFound):
    def __init__(self, resource_id: str) -> None:
        super().__init__(f"Resource {resource_id} could not be found.")


class InvalidResourceConstraint(InvalidInput):
    def __init__(self, resource: str, resource_id: str, target_resource: str,
                 target_id: str) -> None:
        super().__init__(f"Invalid resource constraint between resource ({resource} "
                         f"{resource_id}) and target resource ({target_resource} {target_id}).")

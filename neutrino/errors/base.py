"""The base error types, one a status (neutron-lib ``exceptions/__init__.py``,
``api/faults.py``): ``status`` is the HTTP status, the class name the error type.
"""

from __future__ import annotations


class NeutronError(Exception):
    """Base: ``status`` is the HTTP status, the class name is the error type."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def type(self) -> str:
        return type(self).__name__


class BadRequest(NeutronError):
    status = 400


class InvalidInput(BadRequest):
    pass


class HTTPBadRequest(BadRequest):
    """Malformed requests (body shape, unknown attributes), as webob names them."""


class NotAuthorized(NeutronError):
    status = 403


class PolicyNotAuthorized(NotAuthorized):
    def __init__(self, action: str) -> None:
        super().__init__(f"({action}) is disallowed by policy")


class NotFound(NeutronError):
    status = 404


class HTTPNotFound(NotFound):
    def __init__(self, message: str = "The resource could not be found.") -> None:
        super().__init__(message)


class Conflict(NeutronError):
    status = 409


class PreconditionFailed(NeutronError):
    status = 412



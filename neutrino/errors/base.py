"""The base error types, one a status (neutron-lib ``exceptions/__init__.py``,
``api/faults.py``): ``status`` is the HTTP status, the class name the error type.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from typing import Any, ClassVar


class NeutronError(Exception):
    """Base: ``status`` is the HTTP status, the class name is the error type.

    An error type either takes its message as its one argument, or declares a
    ``template`` whose ``str.format`` fields its arguments fill: positional arguments
    in the order the fields first appear (``params`` names another order), keyword
    arguments by name, ``defaults`` for fields that may be left out. neutron-lib
    declares its exceptions the same way (``message = _("... %(net_id)s ...")``).
    Raises TypeError for arguments that do not fit.
    """

    status = 500
    template: ClassVar[str | None] = None
    params: ClassVar[tuple[str, ...] | None] = None
    defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.template is None:
            if len(args) != 1 or kwargs:
                raise TypeError(f"{self.type} takes its message as its one argument")
            message = args[0]
        else:
            names = self.params or _fields(self.template)
            if len(args) > len(names):
                raise TypeError(f"{self.type} takes at most {len(names)} arguments")
            values = {**self.defaults, **dict(zip(names, args)), **kwargs}
            missing = [n for n in names if n not in values]
            if missing or len(values) > len(names):
                raise TypeError(f"{self.type} takes {', '.join(names)}; got {sorted(values)}")
            message = self.template.format(**values)
        super().__init__(message)
        self.message = message

    @property
    def type(self) -> str:
        return type(self).__name__


@functools.cache
def _fields(template: str) -> tuple[str, ...]:
    """The field names of a ``str.format`` template, in order of first appearance."""
    names: list[str] = []
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and field not in names:
            names.append(field)
    return tuple(names)


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



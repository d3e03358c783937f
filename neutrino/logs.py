"""Logging set-up shared by the long-running services, and the request id in log lines.

Every API request gets a request id ``req-<uuid4>`` (``api.telemetry``), returned in
``X-Openstack-Request-Id`` as Neutron's oslo.middleware ``request_id`` returns it. While
the request runs, :data:`REQUEST_ID` holds it (a ``contextvars`` variable: each asyncio
task and each thread the request hands work to sees its own), and
:class:`RequestIdFilter` puts it in every log record as ``request_id`` (``-`` outside a
request), so one grep finds a request's lines, as with oslo.log's ``[req-... ...]``.
"""

from __future__ import annotations

import contextvars
import logging

#: The request id of the API request being served in this context ("" outside one).
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("neutrino_request_id",
                                                                 default="")

#: oslo.log's default shape: time, pid, level, logger, [request id], message.
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` to the current :data:`REQUEST_ID` (``-`` when none);
    lets every record through. Attach it to handlers (a logger's filters do not see
    records of its children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


def configure(level: str) -> None:
    """Log to stderr at ``level`` (``info``, ...) with :data:`LOG_FORMAT`, every root
    handler carrying a :class:`RequestIdFilter`. What ``neutrino server``,
    ``controller`` and ``metadata-agent`` call first."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())

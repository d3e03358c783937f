"""The outermost ASGI middleware: a request id for every API request, and its metrics.

* Every HTTP response carries ``X-Openstack-Request-Id: req-<uuid4>``, a new id per
  request, as Neutron's pipeline (oslo.middleware ``request_id``) returns it; 401s of
  the Keystone middleware and 500s included. While the request runs the id is
  ``logs.REQUEST_ID``, so its log lines show it (``logs.RequestIdFilter``).
* ``neutrino_api_requests_total{resource,method,status}`` and
  ``neutrino_api_request_duration_seconds{resource,method}`` (``metrics.families``):
  ``resource`` is the collection as the matched route names it (``ports``,
  ``routers/add_router_interface``, ``networks/tags``, ``healthz``), never a raw path
  with ids; a path no route matches is ``unmatched``; ``/metrics`` itself is not
  counted. The duration runs from the request's arrival to the end of its response
  body. The cost is a few microseconds a request (a uuid4, a dict look-up, two
  metric updates).
* At ``log_level = debug`` each request is logged with its status and time, as
  Neutron's access lines.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from neutrino.logs import REQUEST_ID
from neutrino.metrics import families
from neutrino.services.tags import TAGGABLE

LOG = logging.getLogger(__name__)

HEADER = b"X-Openstack-Request-Id"  # as Neutron spells it (oslo.middleware)
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
UNMATCHED = "unmatched"
METRICS_PATH = "/metrics"


def request_id() -> str:
    """A new request id, ``req-<uuid4>`` (oslo.context's ``generate_request_id``)."""
    return "req-" + str(uuid.uuid4())


def resource_of(path_format: str, collection: str | None = None) -> str:
    """The ``resource`` label of a route's path template: ``/v2.0/ports/{item_id}`` ->
    ``ports``; ``/v2.0/routers/{router_id}/add_router_interface.json`` ->
    ``routers/add_router_interface``; ``/v2.0/{collection}/{resource_id}/tags`` with
    ``collection`` ``networks`` -> ``networks/tags`` (a collection that cannot carry
    tags is ``unknown``); ``/`` -> ``versions``."""
    parts = []
    for part in path_format.removesuffix(".json").split("/"):
        if not part or part == "v2.0":
            continue
        if part == "{collection}":
            parts.append(collection if collection in TAGGABLE else "unknown")
        elif not part.startswith("{"):
            parts.append(part)
    return "/".join(parts) or "versions"


class TelemetryMiddleware:
    """ASGI middleware (pure ASGI, no BaseHTTPMiddleware): see the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.metrics = families.api()
        # (path_format, collection) -> resource; (resource, method, status) -> children
        self._resources: dict[tuple[str, str | None], str] = {}
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id()
        token = REQUEST_ID.set(rid)
        header = (HEADER, rid.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if LOG.isEnabledFor(logging.DEBUG):  # Neutron's access line, at debug level
                LOG.debug('"%s %s" status: %d time: %.4f', scope["method"], scope["path"],
                          status, seconds)
            REQUEST_ID.reset(token)
            if scope["path"] != METRICS_PATH:
                self._record(scope, status, seconds)

    def _record(self, scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        fmt = getattr(route, "path_format", None)
        if fmt is None:
            resource = UNMATCHED
        else:
            collection = (scope.get("path_params") or {}).get("collection")
            key = (fmt, collection if collection in TAGGABLE else None)  # bounded
            resource = self._resources.get(key)
            if resource is None:
                resource = self._resources[key] = resource_of(fmt, collection)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        counter = self._counters.get((resource, method, status))
        if counter is None:
            counter = self._counters[(resource, method, status)] = \
                self.metrics.requests.labels(resource, method, str(status))
        histogram = self._histograms.get((resource, method))
        if histogram is None:
            histogram = self._histograms[(resource, method)] = \
                self.metrics.duration.labels(resource, method)
        counter.inc()
        histogram.observe(seconds)

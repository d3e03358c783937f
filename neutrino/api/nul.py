"""Requests carrying NUL (U+0000) in their path or query string, answered before any
service runs.

PostgreSQL's text cannot hold NUL: binding one in a query is an error of the driver, so
an id like ``/v2.0/networks/a%00b`` or a filter like ``?name=a%00b`` answered 500 there
(SQLite stores and compares them). No id, name or other stored text holds NUL (bodies
are refused by ``api/body.py``), so a path with one names nothing: 404 ``HTTPNotFound``,
as an unknown path; a query string with one is 400 ``HTTPBadRequest``.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from neutrino.api.errors import error_response


class NulGuard:
    """ASGI middleware: 404 for NUL in the path, 400 for NUL in the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = None
            if "\x00" in scope.get("path", ""):
                response = error_response(404, "HTTPNotFound", "The resource could not be found.")
            elif b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
                response = error_response(400, "HTTPBadRequest",
                                          "NUL characters are not accepted in a query string")
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

"""One place that renders every error as Neutron does (reference A.2):
``{"NeutronError": {"type", "message", "detail": ""}}`` with the error's status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from neutrino import errors
from neutrino.api.responses import JSONResponse

LOG = logging.getLogger(__name__)


def error_response(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"NeutronError": {"type": type_, "message": message, "detail": ""}},
                        status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(errors.NeutronError)
    async def _neutron(_request: Request, exc: errors.NeutronError) -> JSONResponse:
        return error_response(exc.status, exc.type, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "HTTPNotFound", "The resource could not be found.")
        if exc.status_code == 405:
            return error_response(405, "HTTPMethodNotAllowed",
                                  "The server could not comply with the request since it is "
                                  "either malformed or otherwise incorrect.")
        return error_response(exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, "HTTPInternalServerError",
                              "Request Failed: internal server error while processing your request.")

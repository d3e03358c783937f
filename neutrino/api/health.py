"""``GET /healthz``: the control plane's health for load balancers and operators,
without authentication and without secrets (``services.health``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from neutrino.api.responses import JSONResponse
from neutrino.services import health

router = APIRouter()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 with ``services.health.health`` while the database answers (``status``
    says ``ok`` or ``degraded``); 503 ``{"status": "down", "problems": [...]}``
    when it does not: this API server cannot serve then."""
    env = request.app.state.env
    try:
        body = health.health(env.db)
    except Exception as exc:  # noqa: BLE001 - the database is away
        return JSONResponse({"status": "down",
                             "problems": [f"database unreachable: {type(exc).__name__}"]},
                            status_code=503)
    return JSONResponse(body)

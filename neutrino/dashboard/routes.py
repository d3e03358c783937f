"""``/dashboard``: the page, its static assets and its login configuration.

Paths (all served without a token; the Keystone middleware lets ``/dashboard`` and
``/dashboard/...`` through, the page then calls the API with the user's token):

* ``GET /dashboard`` -> 307 to ``/dashboard/``; ``GET /dashboard/`` -> ``index.html``.
* ``GET /dashboard/static/<path>`` -> files under ``static/`` (Starlette's
  StaticFiles: ETag, Last-Modified, 404 for anything else).
* ``GET /dashboard/config.json`` -> ``{"auth_strategy": "noauth"|"keystone",
  "noauth_project": str|null, "poll_seconds": float}``.
* ``POST /dashboard/login`` -> see :mod:`neutrino.dashboard.login`.

Every response carries a Content-Security-Policy allowing only this origin's scripts
(no inline script, no CDN), ``X-Frame-Options: DENY`` and ``Referrer-Policy:
no-referrer``: the page holds a token, so nothing foreign may run in it or frame it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from neutrino.api.responses import JSONResponse
from neutrino.dashboard import login

STATIC = Path(__file__).with_name("static")
PREFIX = "/dashboard"
POLL_SECONDS = 3.0  # how often the page asks the API whether the topology changed
SECURITY_HEADERS = {
    # Cytoscape sets style attributes on its canvas container: inline styles only.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter()


@router.get(PREFIX, include_in_schema=False)
async def dashboard_redirect() -> RedirectResponse:
    return RedirectResponse(PREFIX + "/", status_code=307, headers=SECURITY_HEADERS)


@router.get(PREFIX + "/", include_in_schema=False)
async def dashboard_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get(PREFIX + "/config.json", include_in_schema=False)
async def dashboard_config(request: Request) -> JSONResponse:
    settings = request.app.state.env.settings
    noauth = settings.auth_strategy == "noauth"
    return JSONResponse({"auth_strategy": settings.auth_strategy,
                         "noauth_project": settings.noauth_project if noauth else None,
                         "poll_seconds": POLL_SECONDS},
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


router.add_api_route(PREFIX + "/login", login.login, methods=["POST"], include_in_schema=False)


class _StaticFiles(StaticFiles):
    """StaticFiles with the dashboard's security headers."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def install(app: FastAPI) -> None:
    """Mount the dashboard on ``app`` (the API's own app: same process and port)."""
    app.include_router(router)
    app.mount(PREFIX + "/static", _StaticFiles(directory=STATIC), name="dashboard-static")

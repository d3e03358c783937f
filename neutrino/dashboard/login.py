"""``POST /dashboard/login``: the dashboard user's own credentials -> a Keystone token.

Request ``{"username": str, "password": str, "project": str, "domain": str}``
(``domain``, default ``Default``, is the user's and the project's domain; ``project``
is a project name). neutrino asks Keystone for a project-scoped token with the
password method (keystoneauth1 ``v3.Password`` against ``[keystone_authtoken]
auth_url``: the Keystone neutrino itself validates tokens with) and answers 200::

    {"token": str, "expires_at": ISO 8601, "user": {"id", "name"},
     "project": {"id", "name"}, "roles": [str]}

with ``Cache-Control: no-store``. The page keeps the token in ``sessionStorage`` and
sends it as ``X-Auth-Token`` to the Networking API, which validates it as any other
(``neutrino.api.keystone``). Nothing here logs the password or the token, and the
token never appears in a URL.

Errors (Neutron's error body): 400 ``HTTPBadRequest`` for a malformed body or when
``auth_strategy`` is not ``keystone`` (noauth needs no login); 401 ``HTTPUnauthorized``
when Keystone refuses the credentials (wrong password, unknown user or project, no role
on the project); 503 ``ServiceUnavailable`` when Keystone cannot be reached or fails.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import Request
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from neutrino.api import keystone
from neutrino.api.errors import error_response
from neutrino.api.responses import JSONResponse
from neutrino.config import Settings

LOG = logging.getLogger(__name__)
FIELDS = ("username", "password", "project", "domain")
MAX_FIELD = 255  # Keystone's name columns are 255 characters


def parse_credentials(body: Any) -> dict[str, str]:
    """The login body -> ``{username, password, project, domain}``. Raises ValueError
    (message for the 400) when a field is missing, not a string or too long."""
    if not isinstance(body, dict):
        raise ValueError("The body must be a JSON object.")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValueError(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    creds = {"domain": "Default", **{k: v for k, v in body.items() if v not in (None, "")}}
    for field in FIELDS:
        value = creds.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"'{field}' is required.")
        if len(value) > MAX_FIELD:
            raise ValueError(f"'{field}' is longer than {MAX_FIELD} characters.")
    return {k: (v if k == "password" else v.strip()) for k, v in creds.items()}


def issue_token(settings: Settings, creds: dict[str, str]) -> dict[str, Any]:
    """Ask Keystone for a project-scoped token (blocking; run on a worker thread).

    Returns the login response body. Raises keystoneauth1's ``Unauthorized`` (401
    from Keystone) or ``ClientException`` (anything else going wrong)."""
    auth = v3.Password(auth_url=settings.keystone_authtoken_auth_url,
                       username=creds["username"], password=creds["password"],
                       user_domain_name=creds["domain"], project_name=creds["project"],
                       project_domain_name=creds["domain"])
    session = ks_session.Session(auth=auth,
                                 timeout=settings.keystone_authtoken_http_connect_timeout)
    access = auth.get_access(session)
    if not access.project_id:
        raise ks_exc.Unauthorized("the token is not scoped to a project")
    return {"token": access.auth_token, "expires_at": access.expires.isoformat(),
            "user": {"id": access.user_id, "name": access.username},
            "project": {"id": access.project_id, "name": access.project_name},
            "roles": sorted(r.lower() for r in access.role_names)}


async def login(request: Request) -> JSONResponse:
    """The route. The Keystone round trip runs on a worker thread."""
    settings: Settings = request.app.state.env.settings
    if settings.auth_strategy != "keystone":
        return error_response(400, "HTTPBadRequest",
                              "auth_strategy is noauth: the dashboard needs no login.")
    try:
        creds = parse_credentials(json.loads(await request.body() or b"null"))
    except json.JSONDecodeError:
        return error_response(400, "HTTPBadRequest", "The body is not valid JSON.")
    except ValueError as exc:
        return error_response(400, "HTTPBadRequest", str(exc))
    try:
        answer = await asyncio.to_thread(issue_token, settings, creds)
    except ks_exc.Unauthorized:
        LOG.info("dashboard login refused for user %r in project %r", creds["username"],
                 creds["project"])
        return error_response(401, "HTTPUnauthorized",
                              "The user name, password, project or domain is wrong.")
    except ks_exc.ClientException as exc:
        LOG.warning("dashboard login: Keystone at %s failed: %s",
                    settings.keystone_authtoken_auth_url, type(exc).__name__)
        return keystone.unavailable()
    LOG.info("dashboard login of user %r in project %r", creds["username"], creds["project"])
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})

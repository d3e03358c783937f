"""``auth_strategy = keystone``: the caller's Context from a Keystone v3 token.

What keystonemiddleware's ``authtoken`` does for Neutron (reference A.2), in one
ASGI middleware: every request except ``GET /`` (the version list), ``/healthz`` and
``/metrics`` (neither has anything secret) and the web dashboard's own paths
(``/dashboard``, ``/dashboard/...``: page, assets, login; ``neutrino.dashboard``) must carry
``X-Auth-Token``; neutrino validates it with ``GET <identity>/v3/auth/tokens``
(``X-Subject-Token``), authenticated as the service user of
``[keystone_authtoken]`` (keystoneauth1 session, password plugin), and builds the
Context from the token: ``project.id``, role names lower-cased, ``user.id``.

* Missing, invalid, expired, revoked or not project-scoped token -> 401 with
  keystonemiddleware's body ``{"error": {"code": 401, "title": "Unauthorized",
  "message": ...}}`` and ``WWW-Authenticate: Keystone uri="<www_authenticate_uri or
  auth_url>"``.
* Keystone unreachable, failing, or refusing the service credentials -> 503
  ``{"NeutronError": {"type": "ServiceUnavailable", ...}}``: never an open door.
* Validated tokens are cached (bounded, keyed by the token's SHA-256) until
  ``token_cache_time`` seconds have passed or :data:`EXPIRY_MARGIN` seconds before
  the token's ``expires_at``, whichever is first; so a revoked token keeps working
  for at most ``token_cache_time`` seconds (as with keystonemiddleware).
* Keystone calls run on a small thread pool: the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from cachetools import TLRUCache
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from neutrino.api.responses import JSONResponse
from neutrino.config import Settings
from neutrino.services.context import Context

LOG = logging.getLogger(__name__)

EXPIRY_MARGIN = 5.0      # seconds before expires_at a cached token stops being trusted
CACHE_SIZE = 10000       # validated tokens kept (the least recently used go first)
# paths served without a token: the version list, health, Prometheus' scrape
UNAUTHENTICATED = {"/", "/healthz", "/metrics"}
DASHBOARD = "/dashboard"  # the web dashboard's page, assets and login: no token either
_UNAUTHORIZED_MESSAGE = "The request you have made requires authentication."


class TokenInvalid(Exception):
    """The token is missing, unknown, expired, revoked or not project-scoped (401)."""


class KeystoneUnavailable(Exception):
    """Keystone could not validate the token (503)."""


class KeystoneAuth:
    """Token -> Context with a cache. ``validate`` is the blocking Keystone call
    (replaceable in tests); :meth:`context` is what the middleware awaits."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.auth_url = settings.keystone_authtoken_auth_url.rstrip("/")
        self.www_authenticate_uri = (settings.keystone_authtoken_www_authenticate_uri
                                     or settings.keystone_authtoken_auth_url)
        self.cache_time = float(settings.keystone_authtoken_token_cache_time)
        # sha256(token) -> (Context, expires_at as epoch seconds); an entry is dropped
        # at the time _trusted_until gives it, or when it is the least recently used
        # of more than CACHE_SIZE. cachetools caches are not thread-safe, hence the lock.
        self._cache: TLRUCache[str, tuple[Context, float]] = TLRUCache(
            maxsize=CACHE_SIZE, ttu=self._trusted_until, timer=time.time)
        self._cache_lock = threading.Lock()
        self._session: ks_session.Session | None = None
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="neutrino-keystone")

    # --- the cache -------------------------------------------------------------------------

    async def context(self, token: str) -> Context:
        """The Context of ``token``. Raises TokenInvalid or KeystoneUnavailable."""
        if not token:
            raise TokenInvalid("no X-Auth-Token")
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        loop = asyncio.get_running_loop()
        ctx, expires = await loop.run_in_executor(self._executor, self.validate, token)
        with self._cache_lock:
            self._cache[key] = (ctx, expires)  # not kept if already untrusted
        return ctx

    def _trusted_until(self, _key: str, entry: tuple[Context, float], now: float) -> float:
        """When a token validated at ``now`` stops being trusted (epoch seconds):
        ``EXPIRY_MARGIN`` s before its ``expires_at``, or ``token_cache_time`` s
        after ``now``, whichever is first."""
        return min(entry[1] - EXPIRY_MARGIN, now + self.cache_time)

    # --- Keystone (worker threads) ---------------------------------------------------------

    def _get_session(self) -> ks_session.Session:
        if self._session is None:
            s = self.settings
            auth = v3.Password(auth_url=self.auth_url, username=s.keystone_authtoken_username,
                               password=s.keystone_authtoken_password,
                               project_name=s.keystone_authtoken_project_name,
                               user_domain_name=s.keystone_authtoken_user_domain_name,
                               project_domain_name=s.keystone_authtoken_project_domain_name)
            self._session = ks_session.Session(
                auth=auth, timeout=s.keystone_authtoken_http_connect_timeout)
        return self._session

    def _tokens_url(self, session: ks_session.Session) -> str:
        base = self.auth_url
        if self.settings.keystone_authtoken_interface:
            base = session.get_endpoint(
                service_type="identity", interface=self.settings.keystone_authtoken_interface,
                region_name=self.settings.keystone_authtoken_region_name or None) or base
        base = base.rstrip("/")
        return (base if base.endswith("/v3") else base + "/v3") + "/auth/tokens"

    def validate(self, token: str) -> tuple[Context, float]:
        """Ask Keystone about ``token``: ``(Context, expires_at as epoch seconds)``.

        Raises TokenInvalid (Keystone answers 404: unknown, expired or revoked; or the
        token has no project) or KeystoneUnavailable (connection failure, timeout,
        5xx, service credentials refused)."""
        try:
            session = self._get_session()
            for attempt in (1, 2):
                resp = session.get(self._tokens_url(session), raise_exc=False,
                                   headers={"X-Subject-Token": token})
                if resp.status_code == 401 and attempt == 1:
                    session.invalidate()  # our service token expired: re-authenticate once
                    continue
                break
        except ks_exc.Unauthorized as exc:
            LOG.error("Keystone refused neutrino's service credentials: %s", exc)
            raise KeystoneUnavailable("service credentials refused") from None
        except ks_exc.ClientException as exc:
            LOG.warning("Keystone unreachable at %s: %s", self.auth_url, exc)
            raise KeystoneUnavailable(str(exc)) from None
        if resp.status_code == 404:
            raise TokenInvalid("token not found, expired or revoked")
        if resp.status_code != 200:
            LOG.error("Keystone answered %s to token validation: %s", resp.status_code,
                      resp.text[:500])
            raise KeystoneUnavailable(f"Keystone answered {resp.status_code}")
        return context_from_token(resp.json())


def context_from_token(body: dict[str, Any]) -> tuple[Context, float]:
    """``GET /v3/auth/tokens`` body -> ``(Context, expires_at epoch seconds)``.

    Raises TokenInvalid for a token that is not project-scoped or already expired."""
    token = body.get("token") or {}
    project = token.get("project") or {}
    if not project.get("id"):
        raise TokenInvalid("token is not scoped to a project")
    expires = datetime.fromisoformat(token["expires_at"]).timestamp()
    if expires <= time.time():
        raise TokenInvalid("token expired")
    roles = frozenset(r["name"].lower() for r in token.get("roles") or [] if r.get("name"))
    return Context(project["id"], roles, (token.get("user") or {}).get("id")), expires


def unauthorized(www_authenticate_uri: str) -> JSONResponse:
    """keystonemiddleware's 401."""
    return JSONResponse({"error": {"code": 401, "title": "Unauthorized",
                                   "message": _UNAUTHORIZED_MESSAGE}}, status_code=401,
                        headers={"WWW-Authenticate": f'Keystone uri="{www_authenticate_uri}"'})


def unavailable() -> JSONResponse:
    return JSONResponse({"NeutronError": {
        "type": "ServiceUnavailable",
        "message": "The identity service (Keystone) is unavailable; try again later.",
        "detail": ""}}, status_code=503)


class KeystoneMiddleware:
    """ASGI middleware: puts the caller's Context in ``scope["neutrino.context"]``
    or answers 401/503 itself (see the module docstring)."""

    def __init__(self, app: Any, auth: KeystoneAuth) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or path in UNAUTHENTICATED or path == DASHBOARD
                or path.startswith(DASHBOARD + "/")):
            await self.app(scope, receive, send)
            return
        token = ""
        for name, value in scope["headers"]:
            if name == b"x-auth-token":
                token = value.decode("latin-1").strip()
                break
        try:
            scope["neutrino.context"] = await self.auth.context(token)
        except TokenInvalid as exc:
            LOG.debug("401 for %s %s: %s", scope["method"], scope["path"], exc)
            await unauthorized(self.auth.www_authenticate_uri)(scope, receive, send)
            return
        except KeystoneUnavailable:
            await unavailable()(scope, receive, send)
            return
        except Exception:  # never an open door, never a crash
            LOG.exception("token validation failed")
            await unavailable()(scope, receive, send)
            return
        await self.app(scope, receive, send)

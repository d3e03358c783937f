"""Per-request inputs shared by every route: the service Env, the caller's
Context (noauth headers or a Keystone token, checked against the policy) and the
If-Match revision."""

from __future__ import annotations

import asyncio
import contextvars
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Callable, TypeVar

from fastapi import Depends, Request

from neutrino import errors, policy
from neutrino.services.context import Context
from neutrino.services.env import Env

T = TypeVar("T")
# keystone-manage bootstrap's role implications: admin -> manager -> member -> reader.
IMPLIED_ROLES = {"admin": ("manager", "member", "reader"), "manager": ("member", "reader"),
                 "member": ("reader",)}
DEFAULT_ROLES = frozenset({"member", "reader"})
_IF_MATCH = re.compile(r"^revision_number=(\d+)$")
SAFE_METHODS = frozenset(("GET", "HEAD"))
#: False while a GET or HEAD request runs (set by :func:`get_env`, read by :func:`call`).
_MAY_WRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("neutrino_may_write",
                                                                  default=True)


async def get_env(request: Request) -> Env:
    """The service Env; also notes whether the request may write (see :func:`call`)."""
    _MAY_WRITE.set(request.method not in SAFE_METHODS)
    return request.app.state.env


async def get_context(request: Request) -> Context:
    """The caller, checked against the route's policy rule (``neutrino.policy``): one
    check per request, 403 PolicyNotAuthorized when it fails.

    keystone: the Context the KeystoneMiddleware built from the token. noauth: the
    project from ``X-Project-Id``, roles from ``X-Roles`` (comma-separated, plus the roles
    they imply in Keystone: admin -> member -> reader; default member and reader), user from ``X-User-Id``. A request without ``X-Project-Id`` is
    the operator: admin in the configured ``noauth_project``."""
    ctx = request.scope.get("neutrino.context")
    if ctx is None:
        if request.app.state.env.settings.auth_strategy != "noauth":
            raise errors.NotAuthorized("No authenticated caller.")  # middleware missing
        ctx = _noauth_context(request)
    route = request.scope.get("route")
    action = policy.action_for(request.method, getattr(route, "path_format", ""),
                               request.path_params.get("collection"))
    if action is not None:
        policy.enforce(ctx, action)
    return ctx


def _noauth_context(request: Request) -> Context:
    headers = request.headers
    project = headers.get("x-project-id") or headers.get("x-tenant-id")
    if not project:
        return Context.admin(request.app.state.env.settings.noauth_project)
    roles = {r.strip().lower() for r in headers.get("x-roles", "").split(",") if r.strip()}
    for role in list(roles):  # Keystone's default implied roles, as a token would carry
        roles.update(IMPLIED_ROLES.get(role, ()))
    return Context(project, frozenset(roles) or DEFAULT_ROLES, headers.get("x-user-id"))


async def get_if_match(request: Request) -> int | None:
    """``If-Match: revision_number=N`` -> N (ext ``revision-if-match``)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if len(values) != 1 or not _IF_MATCH.match(values[0]):
        raise errors.HTTPBadRequest("Revision number etag must be in the format of "
                                    "revision_number=<int>")
    return int(_IF_MATCH.match(values[0]).group(1))


EnvDep = Annotated[Env, Depends(get_env)]
ContextDep = Annotated[Context, Depends(get_context)]
IfMatchDep = Annotated[int | None, Depends(get_if_match)]


_EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="neutrino-api")


async def call(env: Env, fn: Callable[..., T], *args: Any) -> T:
    """Run the service function ``fn(env, *args)``.

    On PostgreSQL it runs on a worker thread, so requests overlap their database
    round trips; the thread sees the request's context variables (its request id,
    for the logs). On SQLite a GET or HEAD runs on the event loop: there is no
    network round trip to overlap, WAL readers never wait for a writer, and handing
    work to a thread costs a wake-up per request. A request that may write runs on
    a thread there too: it may wait up to the busy timeout for another process'
    write lock (a CLI command, ``neutrino sync --repair``, a migration), and reads
    must keep answering meanwhile.
    """
    if env.db.is_sqlite and not _MAY_WRITE.get():
        return fn(env, *args)
    return await asyncio.get_running_loop().run_in_executor(
        _EXECUTOR, contextvars.copy_context().run, fn, env, *args)

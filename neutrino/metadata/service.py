"""The metadata service: Nova's metadata API for instances in neutrino's registry.

An aiohttp application on a loopback port (``metadata_host``:``metadata_port``,
8775 like Nova's). Only the metadata agent talks to it, forwarding each guest
request with Nova's proxy headers (``auth.proxy_headers``); the same agent can
forward to Nova's metadata API instead (``nova_metadata_url``), since the
headers and the signature are Nova's.

Every request, in this order (reference E.4, metadata-clients §5.3, §6):

1. ``X-Instance-ID``, ``X-Tenant-ID`` and ``X-Instance-ID-Signature``, each exactly
   once, with a valid signature (constant-time compare), else **403**.
2. The instance must be registered and belong to ``X-Tenant-ID``, else **404**.
3. ``PUT /latest/api/token`` issues an IMDSv2 token bound to the instance
   (``X-aws-ec2-metadata-token-ttl-seconds`` 1..21600, else **400**); a PUT to a
   dated version's ``api/token`` is **403**, any other PUT 405.
4. A request carrying ``X-aws-ec2-metadata-token`` must carry a valid token of
   this instance, else **401**. With ``metadata_require_tokens`` the EC2 tree
   requires one (**401** without); the OpenStack tree never does (cloud-init and
   cloudbase-init send none off AWS, metadata-clients §2.4).
5. GET/HEAD of the OpenStack tree (``/openstack/...``) or the EC2 tree (``/``,
   ``/<version>/meta-data/...``, ``/<version>/user-data``), normalised as Nova
   does (trailing slashes and ``.``/``..`` ignored); unknown paths 404.

The agent strips guest-supplied copies of the proxy headers; it is also the
place to refuse a guest's token PUT that carries ``X-Forwarded-For`` (AWS's
anti-SSRF rule), since every forwarded request carries the agent's own.

A 200 to a ``GET``/``HEAD`` without a token is a function of the forwarded request
and the cached instance alone: it carries ``replies.MAX_AGE_HEADER`` with the seconds
left on that cached copy (none when the instance is not cached), so the agent may
repeat it that long (``metadata.replies``) and never serves older data than the
service itself would.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
import threading
from typing import Any

import orjson
from aiohttp import web

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.metadata import content
from neutrino.metadata.auth import (
    TOKEN_TTL_MAX,
    TokenSigner,
    ensure_shared_secret,
    signature_ok,
)
from neutrino.metadata.loop import freeze_heap, new_event_loop
from neutrino.metadata.replies import MAX_AGE_HEADER
from neutrino.metadata.store import InstanceStore

LOG = logging.getLogger(__name__)
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
HANDLER_KEY = web.AppKey("metadata_handler", object)


def _text(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", headers=headers)


def _json(value: Any) -> web.Response:
    return web.Response(body=orjson.dumps(value), content_type="application/json")


_NOT_FOUND = "404 Not Found\n\nThe resource could not be found.\n"


class MetadataHandler:
    """Answers one request (see the module docstring for the rules)."""

    def __init__(self, store: InstanceStore, secret: str, *, require_tokens: bool = False) -> None:
        if not secret:
            raise ValueError("the metadata shared secret must not be empty")
        self.store = store
        self.require_tokens = require_tokens
        self._secret = secret
        self._tokens = TokenSigner(secret)

    async def handle(self, request: web.BaseRequest) -> web.Response:
        headers = request.headers
        ids = headers.getall("X-Instance-ID", ())
        tenants = headers.getall("X-Tenant-ID", ())
        signatures = headers.getall("X-Instance-ID-Signature", ())
        if len(ids) != 1 or len(tenants) != 1 or len(signatures) != 1 \
                or not signature_ok(self._secret, ids[0], signatures[0]):
            LOG.info("refused %s %s: missing, repeated or bad proxy signature headers",
                     request.method, request.path)
            return _text(403, "Invalid proxy request signature.")
        instance_id = ids[0]
        try:
            inst = await self.store.get(instance_id)
        except Exception:
            LOG.exception("loading the metadata of instance %s failed", instance_id)
            return _text(503, "The metadata service is temporarily unavailable.", **{"Retry-After": "1"})
        if inst is None or inst.project_id != tenants[0]:
            return _text(404, _NOT_FOUND)
        segments = [s for s in posixpath.normpath("/" + request.path).split("/") if s]
        if request.method == "PUT":
            return self._put(request, inst, segments)
        if request.method not in ("GET", "HEAD"):
            return _text(405, "405 Method Not Allowed", Allow="GET, HEAD")
        token = headers.get(TOKEN_HEADER)
        if token is not None and not self._tokens.check(token, inst.id):
            return _text(401, "401 Unauthorized")
        if segments and segments[0] == "openstack":
            response = self._openstack(inst, segments[1:])
        elif token is None and self.require_tokens:
            return _text(401, "401 Unauthorized")
        else:
            response = self._ec2(request, inst, segments)
        if token is None and response.status == 200:
            fresh = self.store.fresh_for(instance_id)
            if fresh > 0:
                response.headers[MAX_AGE_HEADER] = f"{fresh:.3f}"
        return response

    def _put(self, request: web.BaseRequest, inst: content.InstanceData,
             segments: list[str]) -> web.Response:
        if segments[1:] != ["api", "token"]:
            return _text(405, "405 Method Not Allowed", Allow="GET, HEAD")
        if segments[0] != content.LATEST:
            return _text(403, "403 Forbidden")
        raw = request.headers.get(TTL_HEADER, "")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 5 and 1 <= int(raw) <= TOKEN_TTL_MAX):
            return _text(400, "400 Missing or Invalid Parameters")
        token = self._tokens.issue(inst.id, int(raw))
        return _text(200, token, **{TTL_HEADER: raw})

    def _openstack(self, inst: content.InstanceData, rest: list[str]) -> web.Response:
        if not rest:
            return _text(200, "\n".join(content.openstack_versions()))
        version = content.openstack_version(rest[0])
        if version is None or len(rest) > 2:
            return _text(404, _NOT_FOUND)
        files = content.openstack_files(inst, version)
        if len(rest) == 1:
            return _text(200, "\n".join(files))
        name = rest[1]
        if name not in files:
            return _text(404, _NOT_FOUND)
        if name == "user_data":
            return web.Response(body=inst.user_data, content_type="text/plain")
        if name == "meta_data.json":
            return _json(content.meta_data_json(inst, version))
        if name == "network_data.json":
            return _json(content.network_data_json(inst))
        if name == "vendor_data.json":
            return _json(content.vendor_data_json(inst))
        return _json(content.vendor_data2_json(inst))

    def _ec2(self, request: web.BaseRequest, inst: content.InstanceData,
             segments: list[str]) -> web.Response:
        if not segments:
            return _text(200, "\n".join(content.EC2_VERSIONS + (content.LATEST,)))
        version = content.ec2_version(segments[0])
        if version is None:
            return _text(404, _NOT_FOUND)
        client_ip = request.headers.get("X-Forwarded-For", "").split(",")[0].strip() or None
        node = content.lookup(content.ec2_tree(inst, version, client_ip), segments[1:])
        if node is None:
            return _text(404, _NOT_FOUND)
        if isinstance(node, dict):
            return _text(200, content.listing(node))
        if isinstance(node, bytes):
            return web.Response(body=node, content_type="text/plain")
        return _text(200, node)


def create_app(db: Database, settings: Settings, secret: str) -> web.Application:
    """The service's aiohttp application over ``db``.

    ``secret`` is the proxy shared secret (``auth.ensure_shared_secret``); settings
    used: ``metadata_require_tokens``, ``metadata_cache_seconds``. JSON documents
    are ``application/json``, everything else ``text/plain`` (Nova's choice).
    """
    handler = _handler(db, settings, secret)
    app = web.Application()
    app[HANDLER_KEY] = handler
    app.router.add_route("*", "/{path:.*}", handler.handle)
    return app


def _handler(db: Database, settings: Settings, secret: str) -> MetadataHandler:
    store = InstanceStore(db, settings.metadata_cache_seconds)
    return MetadataHandler(store, secret, require_tokens=settings.metadata_require_tokens)


def serve(settings: Settings) -> None:
    """Run the service alone in the foreground (``neutrino metadata-server``) until
    SIGINT/SIGTERM. The caller has checked that the database is migrated.
    Raises ConfigError if the shared secret cannot be had, OSError if the port is taken."""
    secret = ensure_shared_secret(settings)
    db = Database(settings.database_url)
    try:
        app = create_app(db, settings, secret)
        freeze_heap()
        web.run_app(app, host=settings.metadata_host, port=settings.metadata_port,
                    access_log=None, print=None, handle_signals=True)
    finally:
        db.dispose()


class MetadataServer:
    """The service on a thread of its own with its own event loop, for a process that
    runs other things (``neutrino up``)::

        server = MetadataServer(env.db, env.settings)   # metadata_host/port, secret, ...
        server.start()                     # listening when it returns; OSError if not
        ...
        server.stop()

    ``port=0`` picks a free port; ``url`` tells which.
    """

    def __init__(self, db: Database, settings: Settings, secret: str | None = None, *,
                 host: str | None = None, port: int | None = None) -> None:
        self.db = db
        self.settings = settings
        self.secret = secret or ensure_shared_secret(settings)
        self.host = host if host is not None else settings.metadata_host
        self.port = port if port is not None else settings.metadata_port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.BaseRunner | None = None
        self.handler: MetadataHandler | None = None  # once started
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="metadata-service", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise TimeoutError("the metadata service did not start listening")
        if failure:
            raise failure[0]
        LOG.info("metadata service listening on %s", self.url)

    async def _listen(self) -> None:
        # aiohttp's low-level server: one handler for every path, so no Application
        # router or middleware chain per request (the agent's hop is the hot path).
        self.handler = _handler(self.db, self.settings, self.secret)
        self._runner = web.ServerRunner(web.Server(self.handler.handle, access_log=None))
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self, timeout: float = 10) -> None:
        """Stop listening and end the thread (idempotent)."""
        if self._thread is None or self._loop is None:
            return
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

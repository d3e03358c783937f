"""The metadata agent's HTTP side: what a guest's request resolves to and how it is
forwarded (reference E.1-E.3, ARCHITECTURE "Metadata path").

:class:`MetadataProxy` serves listening sockets (one aiohttp low-level server per
network, all on the agent's one asyncio event loop). A request's network is the
listening socket it arrived on; its client is the connection's source address, never
a header, and the MAC of that address's neighbour entry in the network's namespace
(``neighbours.NeighbourTable``, read per request). (network, address, MAC) resolves to
a port through ``index.PortIndex``: by address, then the MAC must be one the port may
send from; an IPv6 link-local address by the MAC alone. The
request is forwarded over keep-alive connections (``forward.Upstream``) to the
metadata service (``auth.forward_url``: neutrino's own, or Nova's) with Nova's proxy
headers (``auth.proxy_headers``), after dropping every copy of them the guest sent
(:func:`forward_headers`). An answer the service marks as repeatable
(``replies.MAX_AGE_HEADER``) is kept in a ``replies.ReplyCache`` under the resolved
caller and port (``device_id`` and project included) and the request as forwarded, and
repeated to the same caller asking the same thing until the service's own copy would
expire; the caller is still resolved, and its MAC checked, for every request.
Unknown source, or a MAC that is not the port's (a guest without port security using
another port's address), or no neighbour entry: 404, logged with network, address,
seen and expected MAC. A guest's token ``PUT`` carrying
``X-Forwarded-For``: 403 (AWS's anti-SSRF rule). Service unreachable: 503 with
``Retry-After``. Every request is counted by result, with its latency
(``neutrino_metadata_requests_total{result}``, ``metrics.families``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from multidict import CIMultiDict

from neutrino.metadata.auth import proxy_headers
from neutrino.metadata.forward import ForwardError, Reply, Upstream
from neutrino.metadata.index import Binding, PortIndex
from neutrino.metadata.replies import MAX_AGE_HEADER, ReplyCache, max_age
from neutrino.metrics import families as metric_families

LOG = logging.getLogger(__name__)

# Headers only the agent may set (Nova's proxy headers, Nova's load-balancer flow,
# Neutron's network/router hints, forwarding metadata): a guest's copies are dropped.
PROXY_ONLY = frozenset(h.lower() for h in (
    "X-Instance-ID", "X-Tenant-ID", "X-Instance-ID-Signature", "X-Forwarded-For",
    "X-Metadata-Provider", "X-Metadata-Provider-Signature", "X-OVN-Network-ID",
    "X-Neutron-Network-ID", "X-Neutron-Router-ID", "Forwarded", "X-Forwarded-Host",
    "X-Forwarded-Proto", "X-Real-IP"))
# Hop-by-hop headers (RFC 9110 7.6.1) and those the client library sets itself.
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate",
                        "proxy-authorization", "proxy-connection", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length"))
_GUEST_DROP = PROXY_ONLY | HOP_BY_HOP
_RESPONSE_DROP = HOP_BY_HOP | {"server", "date", MAX_AGE_HEADER.lower()}
_REPEATABLE = frozenset(("GET", "HEAD"))


def guest_headers(guest: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The guest's headers worth forwarding, in order: all but hop-by-hop ones and
    every header only the agent may set (:data:`PROXY_ONLY`, any case, every copy)."""
    return tuple((k, v) for k, v in guest if k.lower() not in _GUEST_DROP)


def forward_headers(guest: Iterable[tuple[str, str]], secret: str, binding: Binding,
                    client_ip: str) -> CIMultiDict[str]:
    """The headers to forward: :func:`guest_headers` plus the signed proxy headers
    for ``binding``'s device and project with ``client_ip``."""
    headers: CIMultiDict[str] = CIMultiDict(guest_headers(guest))
    headers.update(proxy_headers(secret, binding.device_id, binding.project_id, client_ip))
    return headers


def response_headers(upstream: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    """The service's response headers worth passing to the guest (content type,
    ``Retry-After``, the IMDSv2 TTL, ``Allow``…): all but hop-by-hop ones, Server,
    Date (ours are set) and the service's note to the agent (``MAX_AGE_HEADER``)."""
    return CIMultiDict((k, v) for k, v in upstream if k.lower() not in _RESPONSE_DROP)


class Neighbours(Protocol):
    """Where the proxy learns a caller's MAC: ``neighbours.NeighbourTable``."""

    def mac_of(self, address: str) -> str | None: ...


def _text(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain", headers=headers)


def _NOT_FOUND() -> web.Response:  # noqa: N802 - a constant reply, built fresh
    return _text(404, "404 Not Found\n\nThe resource could not be found.\n")


class MetadataProxy:
    """Serves the guests' requests on listening sockets and forwards them.

    ``index`` resolves callers; ``forward_url`` is where to forward (no trailing
    slash), ``secret`` the shared secret. :meth:`listen` serves one socket for one
    network; :meth:`close` ends everything. Runs on one event loop. ``replies`` keeps
    the answers the service marks as repeatable (``cache_replies=False``: none).
    """

    def __init__(self, index: PortIndex, forward_url: str, secret: str, *,
                 timeout: float = 30, cache_replies: bool = True) -> None:
        self.index = index
        self.forward_url = forward_url.rstrip("/")
        self.secret = secret
        self._upstream = Upstream(self.forward_url, timeout=timeout)
        self.replies = ReplyCache(max_entries=4096 if cache_replies else 0)
        self.requests = 0  # counters, for logs and benchmarks
        self.errors = 0
        measured = metric_families.metadata()
        self._counted = {r: measured.requests.labels(r) for r in metric_families.METADATA_RESULTS}
        self._duration = measured.duration

    async def listen(self, network_id: str, sock: Any, neighbours: Neighbours) -> "Listener":
        """Serve ``sock`` (listening, non-blocking) as network ``network_id``'s, its
        callers' MACs read from ``neighbours`` (the namespace's neighbour table)."""
        server = web.Server(functools.partial(self.handle, network_id, neighbours),
                            access_log=None)
        loop = asyncio.get_running_loop()
        return Listener(server, await loop.create_server(server, sock=sock))

    async def handle(self, network_id: str, neighbours: Neighbours,
                     request: web.BaseRequest) -> web.StreamResponse:
        """Resolve the caller from the connection (address) and the namespace's
        neighbour entry (MAC), forward, relay the answer; count it by result with its
        latency (``metrics.families.metadata``)."""
        started = time.perf_counter()
        self.requests += 1
        result, response = await self._handle(network_id, neighbours, request)
        self._counted[result].inc()
        self._duration.observe(time.perf_counter() - started)
        return response

    async def _handle(self, network_id: str, neighbours: Neighbours,
                      request: web.BaseRequest) -> tuple[str, web.StreamResponse]:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        client = peer[0].split("%", 1)[0] if peer else ""
        mac = neighbours.mac_of(client) if client else None
        binding = self.index.resolve(network_id, client, mac) if client else None
        if binding is None or not binding.device_id:
            LOG.info("no port with address %s (MAC %s) on network %s: 404 for %s %s",
                     client, mac, network_id, request.method, request.path)
            return "unknown_port", _NOT_FOUND()
        if not binding.accepts(mac):
            LOG.warning("network %s: address %s seen from MAC %s, expected %s (port %s): "
                        "404 for %s %s", network_id, client, mac,
                        " or ".join((binding.mac, *binding.pair_macs)), binding.port_id,
                        request.method, request.path)
            return "mac_mismatch", _NOT_FOUND()
        if request.method == "PUT" and "X-Forwarded-For" in request.headers:
            return "refused", _text(403, "403 Forbidden")
        guest = guest_headers(request.headers.items())
        body = await request.read()
        key = reply = None
        if request.method in _REPEATABLE and not body:
            # everything the answer may depend on: the caller as resolved just now
            # (never a header) and the request exactly as it would be forwarded
            key = (network_id, client, binding.port_id, binding.device_id,
                   binding.project_id, request.method, request.raw_path, guest)
            reply = self.replies.get(key)
        if reply is None:
            headers = guest + tuple(proxy_headers(self.secret, binding.device_id,
                                                  binding.project_id, client).items())
            try:
                reply = await self._upstream.request(request.method, request.raw_path,
                                                     headers, body)
            except ForwardError as exc:
                self.errors += 1
                LOG.warning("metadata service at %s failed for %s %s (port %s): %s",
                            self.forward_url, request.method, request.path, binding.port_id,
                            exc)
                return "unavailable", _text(503, "The metadata service is temporarily "
                                            "unavailable.", **{"Retry-After": "1"})
            seconds = max_age(reply.headers)
            reply = Reply(reply.status, list(response_headers(reply.headers).items()),
                          reply.body)
            if key is not None and seconds > 0:
                self.replies.put(key, reply, seconds)
        result = ("ok" if reply.status < 400 else
                  "client_error" if reply.status < 500 else "server_error")
        return result, web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def close(self) -> None:
        await self._upstream.close()


@dataclass
class Listener:
    """One listening socket served by the proxy."""

    server: web.Server
    asyncio_server: asyncio.AbstractServer

    async def close(self) -> None:
        self.asyncio_server.close()
        with contextlib.suppress(Exception):
            await self.server.shutdown(1)
        await self.asyncio_server.wait_closed()


__all__ = ["Listener", "MetadataProxy", "Neighbours", "forward_headers", "guest_headers",
           "response_headers"]

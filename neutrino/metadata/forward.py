"""The agent's HTTP/1.1 client for its one upstream: the metadata service (or Nova's).

Every guest request becomes one request to the same origin, so the agent keeps a pool
of keep-alive connections to it and speaks only the HTTP/1.1 it needs (RFC 9112):
requests carry ``Content-Length``; responses are framed by ``Content-Length``, the
chunked transfer coding, or the end of the connection (§6.3); a connection is reused
unless the response says ``Connection: close`` or is HTTP/1.0. aiohttp's client did
the same job with roughly as much CPU per request as all the rest of the agent's and
the service's work together (``bench/metadata.py``, profiled with py-spy).

An idle connection the service has closed meanwhile is noticed when it yields no
response byte; the request is then sent once more on a new connection (it never
reached the service's handler). Used on one event loop only.

API: ``Upstream(url, timeout=30, connect_timeout=5, max_idle=64)`` (seconds, seconds,
connections; ValueError for a URL that is not http(s) with a host);
``await upstream.request(method, target, [(name, value), ...], body=b"")`` ->
:class:`Reply` ``(status: int, headers: [(name, value)] as sent, body: bytes)``, or
:class:`ForwardError` (cannot connect within ``connect_timeout``; no whole answer
within ``timeout``; a broken or non-HTTP/1.x answer), which the proxy turns into 503
with ``Retry-After``.

Libraries measured in its place (``bench/metadata.py``, 1/8/32 clients, interleaved
runs on one 2-core machine): ``httpx.AsyncClient`` served 3-12x fewer requests/s
(httpcore's pool and anyio cost 0.8-1.7 ms of CPU a request, 15-40x this module's;
without ``sniffio`` installed, httpcore also retries a failing import on every lock);
``h11`` costs about 80 us a request for its state machine and validation against this
module's 7 us: 20-30 % fewer requests/s at 1 and 8 clients, p50 10-45 % higher. Both
are beyond the 20 % allowed, so the client stays hand-written.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import yarl

HEAD_LIMIT = 65536  # bytes of status line and headers accepted from the service
_NO_BODY = frozenset((204, 304))


class ForwardError(Exception):
    """The upstream could not be reached, did not answer in time, or answered
    something that is not HTTP/1.x."""


class _Stale(Exception):
    """A reused connection was closed before any byte of a response came."""


@dataclass(frozen=True)
class Reply:
    """The upstream's answer: status, headers as sent (name, value), whole body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Upstream:
    """Keep-alive HTTP/1.1 connections to ``url`` (``http://host:port[/prefix]`` or
    ``https://…``, as ``auth.forward_url`` gives it).

    ``timeout``: seconds for a whole exchange (connecting included), ``connect_timeout``
    for connecting; ``max_idle`` connections are kept open between requests.
    ValueError for a URL that is not http(s) with a host.
    """

    def __init__(self, url: str, *, timeout: float = 30, connect_timeout: float = 5,
                 max_idle: int = 64) -> None:
        parsed = yarl.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host, self.port = parsed.host, parsed.port
        host = f"[{parsed.raw_host}]" if ":" in parsed.raw_host else parsed.raw_host
        self._host_header = f"{host}:{self.port}"
        self._prefix = parsed.raw_path.rstrip("/")
        self._ssl = ssl.create_default_context() if parsed.scheme == "https" else None
        self.timeout, self.connect_timeout, self.max_idle = timeout, connect_timeout, max_idle
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, target: str, headers: Iterable[tuple[str, str]],
                      body: bytes = b"") -> Reply:
        """Send ``method`` ``target`` (path and query, already percent-encoded, as the
        guest sent them) with ``headers`` (no hop-by-hop ones, no Host) and ``body``;
        the reply. ForwardError when there is none."""
        lines = [f"{method} {self._prefix}{target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(method, data)
        except TimeoutError as exc:
            raise ForwardError(f"no answer within {self.timeout} s") from exc

    async def close(self) -> None:
        """Close the idle connections (ones in use close when their exchange ends)."""
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()

    async def _exchange(self, method: str, data: bytes) -> Reply:
        while self._idle:
            reader, writer = self._idle.pop()
            if reader.at_eof() or writer.is_closing():
                writer.close()
                continue
            try:
                return await self._roundtrip(reader, writer, method, data)
            except _Stale:
                continue
        reader, writer = await self._connect()
        try:
            return await self._roundtrip(reader, writer, method, data)
        except _Stale as exc:
            raise ForwardError("the connection was closed before a response") from exc

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=self._ssl, limit=HEAD_LIMIT),
                self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise ForwardError(f"cannot connect to {self._host_header}: "
                               f"{exc or type(exc).__name__}") from exc

    async def _roundtrip(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         method: str, data: bytes) -> Reply:
        try:
            writer.write(data)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if not getattr(exc, "partial", b""):
                    raise _Stale() from exc
                raise
            status, headers, keep_alive = _parse_head(head)
            framing = _framing(method, status, headers)
            if framing == "chunked":
                body = await _read_chunked(reader)
            elif framing == "eof":
                body, keep_alive = await reader.read(), False
            else:
                body = await reader.readexactly(framing)
        except _Stale:
            writer.close()
            raise
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            writer.close()
            raise ForwardError(f"bad or broken response from {self._host_header}: "
                               f"{exc or type(exc).__name__}") from exc
        except BaseException:  # cancelled or timed out mid-exchange: never reuse it
            writer.close()
            raise
        if keep_alive and len(self._idle) < self.max_idle:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return Reply(status, headers, body)


def _parse_head(head: bytes) -> tuple[int, list[tuple[str, str]], bool]:
    """(status, headers, keep-alive) from a response's status line and header block.
    ValueError if it is not an HTTP/1.x response."""
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, code, *_ = status_line.split(" ", 2)
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise ValueError(f"bad status line {status_line[:80]!r}")
    headers = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"bad header line {line[:80]!r}")
        headers.append((name, value.strip()))
    connection = {t.strip().lower() for n, v in headers if n.lower() == "connection"
                  for t in v.split(",")}
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return int(code), headers, keep_alive


def _framing(method: str, status: int, headers: list[tuple[str, str]]) -> int | str:
    """How the body is delimited (RFC 9112 §6.3): its length, "chunked" or "eof"."""
    if method == "HEAD" or status in _NO_BODY or 100 <= status < 200:
        return 0
    codings = [v.lower() for n, v in headers if n.lower() == "transfer-encoding"]
    if codings:
        if codings[-1].split(",")[-1].strip() != "chunked":
            return "eof"
        return "chunked"
    lengths = {v for n, v in headers if n.lower() == "content-length"}
    if not lengths:
        return "eof"
    if len(lengths) != 1 or not (length := lengths.pop()).isdigit():
        raise ValueError("bad Content-Length")
    return int(length)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("bad chunk")


__all__ = ["ForwardError", "Reply", "Upstream"]

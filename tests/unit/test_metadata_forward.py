"""The agent's HTTP/1.1 client to the metadata service (``neutrino/metadata/forward.py``),
against scripted servers on loopback: what it sends, the response framings it reads
(RFC 9112 §6.3), connection reuse, and failures as ForwardError."""

from __future__ import annotations

import asyncio

import pytest

from neutrino.metadata.forward import ForwardError, Upstream


class Scripted:
    """A loopback server answering each request with the next of ``answers`` (bytes
    sent as they are). ``close``: close the connection after each answer (always after
    an HTTP/1.0 one). Records request heads and connections."""

    def __init__(self, answers, *, close: bool = False) -> None:
        self.answers, self.close = list(answers), close
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self.connections = 0
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                self.heads.append(head)
                self.bodies.append(await reader.readexactly(length[0]) if length else b"")
                answer = self.answers.pop(0)
                writer.write(answer)
                await writer.drain()
                if self.close or answer.startswith(b"HTTP/1.0"):  # no keep-alive in 1.0
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def run(coro):
    return asyncio.run(coro)


def test_requests_on_one_keep_alive_connection_with_what_the_agent_sends():
    async def scenario():
        server = Scripted([OK, OK])
        upstream = Upstream(await server.start() + "/prefix/")
        first = await upstream.request("GET", "/latest/meta-data/a%20b?x=1",
                                       [("X-Instance-ID", "vm-1"), ("X-Tenant-ID", "p1")])
        second = await upstream.request("PUT", "/latest/api/token", [("TTL", "60")])
        await upstream.close()
        await server.stop()
        return server, first, second

    server, first, second = run(scenario())
    assert (first.status, first.body, second.body) == (200, b"ok", b"ok")
    assert ("Content-Type", "text/plain") in first.headers
    assert server.connections == 1
    get, put = (h.decode().split("\r\n") for h in server.heads)
    assert get[0] == "GET /prefix/latest/meta-data/a%20b?x=1 HTTP/1.1"
    assert get[1].startswith("Host: 127.0.0.1:")
    assert "X-Instance-ID: vm-1" in get and "X-Tenant-ID: p1" in get
    assert not any(line.lower().startswith("content-length") for line in get)
    assert put[0] == "PUT /prefix/latest/api/token HTTP/1.1" and "Content-Length: 0" in put


def test_chunked_and_until_close_bodies():
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    until_close = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"

    async def scenario():
        server = Scripted([chunked, until_close, OK])
        upstream = Upstream(await server.start())
        got = [await upstream.request("GET", "/", []) for _ in range(3)]
        await upstream.close()
        await server.stop()
        return server, got

    server, got = run(scenario())
    assert [r.body for r in got] == [b"hello world", b"all of it", b"ok"]
    assert server.connections == 2  # the HTTP/1.0 answer ended its connection


def test_connection_close_and_a_connection_the_service_dropped_while_idle():
    closing = b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

    async def scenario():
        server = Scripted([closing, OK, OK, OK], close=True)
        upstream = Upstream(await server.start())
        got = [await upstream.request("GET", "/", [])]
        # OK without "Connection: close", but the server closes anyway: the idle
        # connection is found dead (no response byte) and the request goes on a new one
        got.append(await upstream.request("GET", "/", []))
        await asyncio.sleep(0.05)
        got.append(await upstream.request("GET", "/again", []))
        await upstream.close()
        await server.stop()
        return server, got

    server, got = run(scenario())
    assert [r.status for r in got] == [404, 200, 200]
    assert server.connections == 3
    assert server.heads[-1].startswith(b"GET /again ")


def test_head_and_no_content_responses_have_no_body():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"

    async def scenario():
        server = Scripted([head, no_content, OK])
        upstream = Upstream(await server.start())
        got = [await upstream.request("HEAD", "/", []), await upstream.request("GET", "/", []),
               await upstream.request("GET", "/", [])]
        await upstream.close()
        await server.stop()
        return server, got

    server, got = run(scenario())
    assert [(r.status, r.body) for r in got] == [(200, b""), (204, b""), (200, b"ok")]
    assert server.connections == 1


@pytest.mark.parametrize("answer", [
    b"garbage\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_broken_answers_are_forward_errors(answer):
    async def scenario():
        server = Scripted([answer], close=True)
        upstream = Upstream(await server.start())
        try:
            with pytest.raises(ForwardError):
                await upstream.request("GET", "/", [])
        finally:
            await upstream.close()
            await server.stop()

    run(scenario())


def test_unreachable_and_silent_services_are_forward_errors():
    async def scenario():
        silent = await asyncio.start_server(lambda r, w: asyncio.sleep(10), "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(ForwardError, match="no answer within"):
            await Upstream(f"http://127.0.0.1:{port}", timeout=0.3).request("GET", "/", [])
        assert loop.time() - t0 < 2
        silent.close()
        await silent.wait_closed()
        with pytest.raises(ForwardError, match="cannot connect"):
            await Upstream(f"http://127.0.0.1:{port}").request("GET", "/", [])

    run(scenario())


def test_only_http_urls():
    with pytest.raises(ValueError):
        Upstream("ftp://127.0.0.1:21")
    assert Upstream("https://[::1]:8775")._host_header == "[::1]:8775"

"""The agent's copies of the service's answers (``neutrino/metadata/replies.py``) and
who may be given one: the proxy in front of a counting stub, the service marking what
may be repeated.

The proxy serves a loopback socket; the caller is 127.0.0.1, its MAC read from a
neighbour table fed by hand (see ``test_metadata_proxy``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from test_metadata_index import CHASSIS, NET_A, vif
from test_metadata_proxy import Neighbours, fetch, listening_socket, start_backend
from test_metadata_service import meta_client

from neutrino.metadata.forward import Reply
from neutrino.metadata.index import PortIndex
from neutrino.metadata.proxy import MetadataProxy
from neutrino.metadata.replies import MAX_AGE_HEADER, ReplyCache, max_age

SECRET = "agent-secret"
MAC = "fa:16:3e:00:00:0a"


def test_max_age_reads_one_finite_positive_number():
    assert max_age([("x-neutrino-metadata-max-age", "2.5")]) == 2.5
    for bad in ([], [(MAX_AGE_HEADER, "1"), (MAX_AGE_HEADER, "1")], [(MAX_AGE_HEADER, "soon")],
                [(MAX_AGE_HEADER, "nan")], [(MAX_AGE_HEADER, "inf")], [(MAX_AGE_HEADER, "-3")],
                [(MAX_AGE_HEADER, "0")]):
        assert max_age(bad) == 0.0, bad


def test_the_cache_keeps_answers_until_their_deadline_and_within_its_bounds(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = ReplyCache(max_entries=3, max_bytes=1600)
    small = Reply(200, [], b"x" * 50)
    cache.put("a", small, 2)
    cache.put("b", small, 0)  # not repeatable
    cache.put("c", Reply(200, [], b"x" * 101), 10)  # larger than max_bytes // 16
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (small, None, None)
    now[0] += 2
    assert cache.get("a") is None and len(cache) == 0  # expired at its deadline
    for key in ("a", "b", "c"):
        cache.put(key, small, 5)
    now[0] += 1
    cache.put("d", small, 1)  # full, nothing expired: starts over
    assert len(cache) == 1 and cache.get("d") is small
    now[0] += 1
    cache.put("e", small, 5)
    cache.put("f", small, 5)
    cache.put("g", small, 5)  # full: the expired "d" goes first
    assert sorted(k for k in "defg" if cache.get(k)) == ["e", "f", "g"]
    assert len(ReplyCache(max_entries=0)) == 0
    off = ReplyCache(max_entries=0)
    off.put("a", small, 5)
    assert off.get("a") is None


def proxy_scenario(steps, *, max_age_header: str | None = "30") -> tuple[list, list]:
    """Run ``steps(sock, index, neighbours)`` against a proxy whose upstream answers
    with the instance id it was asked for (and ``max_age_header``, if any); returns
    what the steps returned and what reached the upstream."""
    seen: list[dict[str, Any]] = []

    async def stub(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.raw_path,
                     "instance": request.headers["X-Instance-ID"],
                     "token": request.headers.get("X-aws-ec2-metadata-token")})
        headers = {MAX_AGE_HEADER: max_age_header} if max_age_header else {}
        return web.Response(text=request.headers["X-Instance-ID"], headers=headers)

    async def scenario() -> list:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", stub)
        runner, url = await start_backend(app)
        index = PortIndex(CHASSIS)
        index.update(vif("p", NET_A, MAC, "127.0.0.1", device="vm-1", project="p1"))
        neighbours = Neighbours({"127.0.0.1": MAC})
        proxy = MetadataProxy(index, url, SECRET)
        sock = listening_socket()
        listener = await proxy.listen(NET_A, sock, neighbours)
        try:
            return await steps(sock, index, neighbours)
        finally:
            await listener.close()
            await proxy.close()
            await runner.cleanup()

    return asyncio.run(scenario()), seen


def test_a_repeatable_answer_is_given_again_to_the_same_caller_only():
    async def steps(sock, index, neighbours) -> list:
        path = "/openstack/latest/meta_data.json"
        got = [await fetch(sock, path), await fetch(sock, path)]  # the second: a copy
        neighbours["127.0.0.1"] = "fa:16:3e:00:00:0c"  # someone else took the address
        got.append(await fetch(sock, path))
        neighbours["127.0.0.1"] = MAC
        # the port now belongs to another instance (its SB Port_Binding changed)
        index.update(vif("p", NET_A, MAC, "127.0.0.1", device="vm-2", project="p1"))
        got += [await fetch(sock, path), await fetch(sock, path)]
        # same instance, another project (re-registered): asked again
        index.update(vif("p", NET_A, MAC, "127.0.0.1", device="vm-2", project="p2"))
        got.append(await fetch(sock, path))
        # other requests: another path, HEAD, a token, a PUT
        got.append(await fetch(sock, "/latest/meta-data/"))
        got.append(await fetch(sock, path, method="HEAD"))
        got.append(await fetch(sock, path, headers={"X-aws-ec2-metadata-token": "t"}))
        got.append(await fetch(sock, path, method="PUT"))
        got.append(await fetch(sock, path, method="PUT"))
        return got

    got, seen = proxy_scenario(steps)
    assert [(status, body) for status, _, body in got] == [
        (200, b"vm-1"), (200, b"vm-1"), (404, b"404 Not Found\n\nThe resource could not be "
                                               b"found.\n"),
        (200, b"vm-2"), (200, b"vm-2"), (200, b"vm-2"), (200, b"vm-2"), (200, b""),
        (200, b"vm-2"), (200, b"vm-2"), (200, b"vm-2")]
    assert all(MAX_AGE_HEADER not in headers for _, headers, _ in got)  # never to the guest
    assert [(s["method"], s["path"], s["instance"], s["token"]) for s in seen] == [
        ("GET", "/openstack/latest/meta_data.json", "vm-1", None),
        ("GET", "/openstack/latest/meta_data.json", "vm-2", None),
        ("GET", "/openstack/latest/meta_data.json", "vm-2", None),
        ("GET", "/latest/meta-data/", "vm-2", None),
        ("HEAD", "/openstack/latest/meta_data.json", "vm-2", None),
        ("GET", "/openstack/latest/meta_data.json", "vm-2", "t"),
        ("PUT", "/openstack/latest/meta_data.json", "vm-2", None),
        ("PUT", "/openstack/latest/meta_data.json", "vm-2", None)]


def test_answers_without_the_services_mark_or_past_it_are_asked_again():
    async def twice(sock, index, neighbours) -> list:
        return [await fetch(sock, "/"), await fetch(sock, "/")]

    _, seen = proxy_scenario(twice, max_age_header=None)  # Nova's metadata API
    assert len(seen) == 2

    async def wait_past(sock, index, neighbours) -> list:
        got = [await fetch(sock, "/")]
        await asyncio.sleep(0.3)
        return got + [await fetch(sock, "/")]

    _, seen = proxy_scenario(wait_past, max_age_header="0.2")
    assert len(seen) == 2


def test_the_service_marks_tokenless_200s_for_what_its_copy_has_left(api):
    from test_metadata_service import register

    vm = register(api)
    meta = meta_client(api, metadata_cache_seconds=600)
    uncached = meta_client(api)  # metadata_cache_seconds = 0
    try:
        _, headers, _ = meta.request("/openstack/latest/meta_data.json", vm)
        assert 590 < float(headers[MAX_AGE_HEADER]) <= 600
        _, headers, _ = meta.request("/latest/meta-data/instance-id", vm)
        assert float(headers[MAX_AGE_HEADER]) <= 600
        token = meta.token(vm)
        for status, headers, _ in (
                meta.request("/latest/meta-data/instance-id", vm,
                             headers={"X-aws-ec2-metadata-token": token}),
                meta.request("/openstack/latest/nothing-here", vm),
                meta.request("/openstack/latest/meta_data.json", replace_id(vm)),
                uncached.request("/openstack/latest/meta_data.json", vm)):
            assert MAX_AGE_HEADER not in headers, (status, headers)
    finally:
        meta.close()
        uncached.close()


def replace_id(instance: dict) -> dict:
    return {**instance, "id": "00000000-0000-0000-0000-00000000dead"}


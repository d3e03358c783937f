"""A short fuzz of every operation of ``/openapi.json`` against a live ``neutrino server``
on SQLite (``tests/fuzzing.py``; the long run on SQLite and PostgreSQL is
``bench/fuzz.py``): no answer 5xx, every 4xx a NeutronError body, no traceback logged."""

from __future__ import annotations

from fuzzing import fuzz
from neutrino_server import NeutrinoServer, neutrino_sqlite  # noqa: F401  (fixture)


def test_fuzz_every_operation(neutrino_sqlite: NeutrinoServer):  # noqa: F811
    report = fuzz(neutrino_sqlite.url, examples=1)
    assert report.operations > 150  # the whole document, not an empty one
    assert report.classes["2xx"] and report.classes["4xx"]
    assert not report.failures, "\n".join(
        f"{f.method} {f.path} {f.status} ({f.rule}): {f.request[:300]} -> {f.answer[:300]}"
        for f in report.failures[:20])

"""Fuzz a live neutrino server through its OpenAPI document (schemathesis + hypothesis).

``fuzz(base_url, examples=N)`` loads ``<base_url>/openapi.json`` and, for every operation,
sends ``N`` requests generated from the document (schemathesis' positive mode: bodies the
request models accept) and, where it has a body or query parameters, ``N`` from its
negative mode (bodies, parameters they reject),
noauth as an admin or as a member of one of two projects. Between operations it keeps
the ids of what the server created (``POST`` answering 201), and a path parameter or an
``*_id`` attribute of a body takes one of them half of the time, so updates, deletes and
references reach real rows, not only 404s. It checks two rules on every answer:

* no status 5xx;
* a 4xx carries Neutron's error body ``{"NeutronError": {"type", "message", "detail"}}``
  (strings; reference A.2).

Returns a ``Report``: counts per status class (``2xx`` ...), per operation, and the
failures (method, path, status, request, answer). Used by ``tests/integration/test_fuzz.py``
(short budget) and ``bench/fuzz.py`` (long run, SQLite and PostgreSQL).
"""

from __future__ import annotations

import random
import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck

PROJECTS = ("fuzz-p1", "fuzz-p2")
# body attribute -> the URL segment whose ids it names
ID_FIELDS = {"network_id": "networks", "subnet_id": "subnets", "port_id": "ports",
             "router_id": "routers", "security_group_id": "security-groups",
             "remote_group_id": "security-groups", "qos_policy_id": "policies",
             "floating_network_id": "networks", "subnetpool_id": "subnetpools",
             "address_scope_id": "address-scopes", "segment_id": "segments",
             "remote_address_group_id": "address-groups", "internal_port_id": "ports",
             "flavor_id": "flavors", "trunk_id": "trunks", "object_id": "networks"}
_PARAM = re.compile(r"([^/{}]+)/\{([^}]+)\}")


@dataclass
class Failure:
    """One answer that broke a rule."""

    method: str
    path: str
    status: int
    rule: str
    request: str
    answer: str


@dataclass
class Report:
    """What a run sent and got back."""

    classes: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    per_operation: dict[str, Counter] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.classes.values())

    def summary(self) -> str:
        classes = ", ".join(f"{k}: {v}" for k, v in sorted(self.classes.items()))
        return (f"{self.operations} operations, {self.requests} requests in "
                f"{self.seconds:.0f} s ({classes}); {len(self.failures)} failures")


def check(status: int, answer: Any) -> str | None:
    """The rule an answer breaks, or None. ``answer`` is the decoded JSON body (None
    when not JSON)."""
    if status >= 500:
        return "5xx"
    if 400 <= status < 500:
        err = answer.get("NeutronError") if isinstance(answer, dict) else None
        if not (isinstance(err, dict) and set(err) == {"type", "message", "detail"}
                and all(isinstance(v, str) for v in err.values())):
            return "4xx without a NeutronError body"
    return None


class _Known:
    """Ids the server created, by URL segment (``networks``, ``security-groups``)."""

    def __init__(self, rnd: random.Random) -> None:
        self.ids: dict[str, list[str]] = {}
        self.rnd = rnd

    def pick(self, segment: str) -> str | None:
        ids = self.ids.get(segment)
        return self.rnd.choice(ids) if ids and self.rnd.random() < 0.5 else None

    def learn(self, path: str, answer: Any) -> None:
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        if not isinstance(answer, dict):
            return
        for value in answer.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self.ids.setdefault(segment, []).append(item["id"])

    def forget(self, segment: str, item_id: str) -> None:
        if item_id in self.ids.get(segment, []):
            self.ids[segment].remove(item_id)

    def substitute(self, case: schemathesis.Case) -> None:
        for segment, name in _PARAM.findall(case.path):
            real = self.pick(segment)
            if real is not None and case.path_parameters is not None:
                case.path_parameters[name] = real
        if isinstance(case.body, dict):
            for envelope in case.body.values():
                for item in envelope if isinstance(envelope, list) else [envelope]:
                    if isinstance(item, dict):
                        for key in set(item) & set(ID_FIELDS):
                            real = self.pick(ID_FIELDS[key])
                            if real is not None:
                                item[key] = real


def fuzz(base_url: str, *, examples: int = 5, seed: int = 0,
         only: str | None = None) -> Report:
    """Fuzz every operation of the server at ``base_url`` (``only``: a regex on
    ``"METHOD path"``). ``examples`` per operation and generation mode; ``seed`` makes
    a run repeatable (hypothesis' and the id picks')."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    rnd = random.Random(seed)
    known = _Known(rnd)
    report = Report()
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    # creates first, so later operations find ids; deletes last
    order = {"POST": 0, "GET": 1, "PUT": 2, "DELETE": 3}
    operations.sort(key=lambda op: (order.get(op.method.upper(), 1), op.path))
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        if only and not re.search(only, label):
            continue
        report.operations += 1
        counts = report.per_operation.setdefault(label, Counter())
        modes = [schemathesis.GenerationMode.POSITIVE]
        if op.body or op.query:  # else nothing can be invalid: hypothesis would spin
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            _run(op, mode, base_url, examples, seed, rnd, known, report, counts, label)
    report.seconds = time.monotonic() - started
    return report


def _run(op, mode, base_url, examples, seed, rnd, known, report, counts, label) -> None:
    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=examples, database=None, deadline=None,
                         phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=op.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        known.substitute(case)
        who = rnd.randrange(3)
        headers = {"X-Project-Id": PROJECTS[who % 2],
                   "X-Roles": "admin,member" if who == 0 else "member,reader"}
        resp = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            answer = resp.json()
        except Exception:  # noqa: BLE001 - not JSON (204, text)
            answer = None
        status = resp.status_code
        report.classes[f"{status // 100}xx"] += 1
        report.statuses[status] += 1
        counts[status] += 1
        if status == 201:
            known.learn(case.formatted_path, answer)
        if status == 204 and case.method.upper() == "DELETE" and case.path_parameters:
            segment_params = _PARAM.findall(case.path)
            if segment_params:
                segment, name = segment_params[-1]
                known.forget(segment, str(case.path_parameters.get(name)))
        rule = check(status, answer)
        if rule:
            report.failures.append(Failure(
                case.method.upper(), op.path, status, rule,
                f"{case.formatted_path} query={case.query} body={case.body!r}"[:2000],
                resp.text[:1000]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass  # the mode can make nothing for this operation (negative, no params)


__all__ = ["Failure", "Report", "check", "fuzz"]

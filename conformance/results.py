"""Counts and failures of a tempest run (conformance/tempest.sh).

``stestr last --subunit | python conformance/results.py FAILURES_FILE [TEMPEST_LOG]``
(the tempest virtualenv's Python: it has subunit and testtools) reads the subunit v2
stream, writes one line per failed test to FAILURES_FILE -- ``<test id> TAB <reason>``,
the reason being the test's last request answered 4xx/5xx and the exception at the end of
its traceback (tempest's ``Details:`` line with the API's error body included; for a
class fixture, whose log the stream lacks, its last 4xx/5xx request in TEMPEST_LOG, found
by class name alone, which two modules may share) -- and prints ``N passed, N failed,
N skipped``. A class skipped or failed in ``setUpClass`` counts once, as tempest's own
summary does.
"""

from __future__ import annotations

import re
import sys

import subunit
import testtools

PASSED, FAILED = {"success", "xfail"}, {"fail", "uxsuccess"}
# tempest's rest_client log line of a request: "Request (Class:test): 404 GET http://..."
REQUEST = r"Request \(%s\): ([45]\d\d) ([A-Z]+) https?://[^/\s]+(\S*)"
FIXTURE = re.compile(r"^(setUpClass|tearDownClass) \((?:\S+\.)?(\w+)\)$")


def last_error_request(test_id: str, details: dict, tempest_log: str) -> str:
    """``"404 GET /v2.0/..: "``: the test's last request answered 4xx/5xx, if any."""
    log = "".join(v.as_text() for k, v in details.items() if k.startswith("pythonlogging"))
    found = re.findall(REQUEST % "[^)]*", log)
    if not found and (fixture := FIXTURE.match(test_id)):
        found = re.findall(REQUEST % f"{fixture[2]}:{fixture[1]}", tempest_log)
    return f"{found[-1][0]} {found[-1][1]} {found[-1][2]}: " if found else ""


def reason(test_id: str, details: dict, tempest_log: str) -> str:
    """The test's last 4xx/5xx request, then the end of the traceback: exception type,
    message and tempest's Details."""
    text = details["traceback"].as_text() if "traceback" in details else ""
    lines = text.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    if starts:
        lines = lines[starts[-1] + 2:]  # past the last frame and its source line
    tail = " | ".join(line.strip() for line in lines
                      if line.strip(" ~^"))  # not Python's error-location markers
    return (last_error_request(test_id, details, tempest_log) + (tail or "no traceback"))[:600]


def main(failures_path: str, tempest_log_path: str | None = None) -> None:
    tempest_log = open(tempest_log_path, errors="replace").read() if tempest_log_path else ""
    tests: list[dict] = []
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(tests.append)
    result.startTestRun()
    stream.run(result)
    result.stopTestRun()
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    with open(failures_path, "w") as out:
        for test in sorted(tests, key=lambda t: t["id"]):
            if test["status"] in PASSED:
                counts["passed"] += 1
            elif test["status"] in FAILED:
                counts["failed"] += 1
                why = reason(test["id"], test["details"], tempest_log)
                out.write(f"{test['id']}\t{why}\n")
            elif test["status"] == "skip":
                counts["skipped"] += 1
    print(", ".join(f"{n} {k}" for k, n in counts.items()))


if __name__ == "__main__":
    main(*sys.argv[1:3])

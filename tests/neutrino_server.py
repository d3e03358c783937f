"""Run a real ``neutrino server`` subprocess for integration tests.

``NeutrinoServer(tmp_path, database_url=None, workers=1)`` is a context manager:
on enter it migrates the database (``neutrino db upgrade``), starts
``neutrino server`` on a free 127.0.0.1 port with its state directory and log
under ``tmp_path``, and polls ``GET /`` until it answers 200; on exit it stops
the server by pid (SIGTERM; SIGKILL of its process group if it lingers). Without
``database_url`` the server uses SQLite in the state directory. Startup
failures raise :class:`NeutrinoServerError` carrying the server's output.

The ``neutrino_sqlite`` fixture (module-scoped) yields a running server on
SQLite; import it into a test module to use it. :func:`openstack_cli` runs the real
``openstack`` CLI.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

NEUTRINO = Path(sys.executable).with_name("neutrino")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def stop_session_leader(proc: subprocess.Popen | None) -> None:
    """SIGTERM ``proc`` (started with ``start_new_session=True``), wait, then SIGKILL
    its process group, workers included. Nothing for None or an exited process."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        # it leads its own session and is not reaped yet: its pid is the group id
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)


class NeutrinoServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env() -> dict[str, str]:
    """The caller's environment without neutrino or OpenStack settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NEUTRINO_", "OS_"))}


class NeutrinoServer:
    """A ``neutrino server`` subprocess owned by one test or module."""

    def __init__(self, tmp_path: Path, database_url: str | None = None, workers: int = 1,
                 settings: dict[str, str] | None = None):
        """``settings`` are passed as ``NEUTRINO_<NAME>`` variables (``{"dns_domain": ...}``)."""
        self.settings = {f"NEUTRINO_{k.upper()}": v for k, v in (settings or {}).items()}
        self.state_dir = Path(tmp_path) / "neutrino-state"
        self.log_path = Path(tmp_path) / "neutrino-server.log"
        self.database_url = database_url
        self.workers = workers
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _db_args(self) -> list[str]:
        args = ["--state-dir", str(self.state_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args

    def start(self) -> NeutrinoServer:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        upgrade = subprocess.run(
            [str(NEUTRINO), "db", "upgrade", *self._db_args()],
            env=_server_env(), capture_output=True, text=True, timeout=120,
        )
        if upgrade.returncode != 0:
            raise NeutrinoServerError(
                f"neutrino db upgrade failed ({upgrade.returncode}):\n"
                f"{upgrade.stdout}{upgrade.stderr}"
            )
        self.port = free_port()
        cmd = [str(NEUTRINO), "server", "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", str(self.workers), *self._db_args()]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, env={**_server_env(), **self.settings}, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = "no attempt made"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NeutrinoServerError(
                    f"neutrino server exited with {self.proc.returncode} during startup:\n"
                    + self.output()
                )
            try:
                status = httpx.get(self.url + "/", timeout=2).status_code
                if status == 200:
                    return
                last = f"GET / answered {status}"
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.1)
        raise NeutrinoServerError(
            f"neutrino server not ready on {self.url} within {START_TIMEOUT:g}s "
            f"(last: {last}):\n" + self.output()
        )

    def output(self, tail: int = 8000) -> str:
        """The last ``tail`` characters of the server's stdout and stderr."""
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def assert_no_tracebacks(self) -> None:
        """Fail if the server logged a traceback."""
        log = self.output(tail=10**9)
        assert "Traceback" not in log, log[log.index("Traceback"):][:8000]

    def stop(self) -> None:
        """SIGTERM the server, wait, then SIGKILL its process group. Idempotent."""
        proc, self.proc = self.proc, None
        stop_session_leader(proc)

    def __enter__(self) -> NeutrinoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture(scope="module")
def neutrino_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NeutrinoServer]:
    """A neutrino server on SQLite, shared by the tests of one module."""
    with NeutrinoServer(tmp_path_factory.mktemp("neutrino-sqlite")) as server:
        yield server
    server.assert_no_tracebacks()


OPENSTACK_CLI = Path(sys.executable).with_name("openstack")


def openstack_cli(home: Path, *args: str, env: dict[str, str] | None = None):
    """Run the real ``openstack`` CLI with a clean environment (``HOME`` = ``home``,
    plus ``env``: OS_* variables) and assert it succeeded; returns the parsed JSON
    output when ``-f json`` was asked for (None if it printed nothing), else stdout."""
    full_env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **(env or {})}
    res = subprocess.run([str(OPENSTACK_CLI), *args], env=full_env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 0, (
        f"openstack {' '.join(args)} failed ({res.returncode}):\n{res.stdout}{res.stderr}")
    if "json" in args:
        return json.loads(res.stdout) if res.stdout.strip() else None
    return res.stdout


def noauth_openstack(server: NeutrinoServer, home: Path, env: dict[str, str] | None = None):
    """``run(*args)``: :func:`openstack_cli` against ``server`` without Keystone (as admin)."""
    return lambda *args: openstack_cli(home, "--os-auth-type", "none",
                                       "--os-endpoint", server.url, *args, env=env)


def post_at_once(url: str, headers: dict[str, str],
                 requests: list[list[tuple[str, dict]]]) -> list[list[httpx.Response]]:
    """One thread per entry of ``requests``, each with its own keep-alive connection
    (opened first), released together by a barrier, then posting its ``(path, body)``
    pairs in turn; the responses, per thread. Raises the first error a thread met."""
    barrier = threading.Barrier(len(requests))
    results: list[list[httpx.Response]] = [[] for _ in requests]
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                client.get("/")  # open the connection before the race
                barrier.wait(timeout=60)
                for path, body in requests[n]:
                    results[n].append(client.post(path, json=body))
        except BaseException as e:  # reported below
            failures.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    return results

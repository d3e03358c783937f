"""A running all-in-one ``neutrino up`` for tests, and helpers to drive it.

:func:`running_allinone` starts ``neutrino up`` in a state dir of its own (so its
chassis namespace and daemons are its own), yields an :class:`AllInOne`, and
on exit deletes its lab instances, runs ``neutrino down`` and checks the log
holds no traceback. :func:`neutrino` runs the CLI. Test modules wrap it in a
module-scoped fixture, together with :func:`host_state`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neutrino_server import NEUTRINO, free_port
from ovnlab import skip_reason

from neutrino.lab import instances
from neutrino.lab.daemons import wait_until


def neutrino(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    res = subprocess.run([str(NEUTRINO), *args], capture_output=True, text=True, timeout=timeout,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("NEUTRINO_")},
                              "COLUMNS": "200"})
    if check:
        assert res.returncode == 0, f"neutrino {' '.join(args)}: {res.stdout}\n{res.stderr}"
    return res


class AllInOne:
    def __init__(self, state_dir: Path, port: int, prefix: str) -> None:
        self.state_dir, self.prefix = state_dir, prefix
        self.url = f"http://127.0.0.1:{port}/v2.0"
        self.runtime = json.loads((state_dir / "runtime.json").read_text())

    def client(self, project: str | None = None) -> httpx.Client:
        headers = {"X-Project-Id": project, "X-Roles": "member"} if project else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def lab(self, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return neutrino("lab", command, "--state-dir", str(self.state_dir), *args, check=check)

    def external(self, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``neutrino lab external COMMAND`` on this all-in-one."""
        return neutrino("lab", "external", command, "--state-dir", str(self.state_dir), *args,
                        check=check)

    def boot(self, name: str, network: str, project: str | None = None) -> str:
        extra = ["--project", project] if project else []
        self.lab("boot", self.prefix + name, "--network", network, *extra)
        return self.prefix + name

    def exec(self, name: str, *argv: str) -> subprocess.CompletedProcess:
        return self.lab("exec", name, "--", *argv, check=False)

    def network(self, project: str, cidr: str, pool: tuple[str, str] | None = None) -> dict:
        with self.client(project) as c:
            net = c.post("/networks", json={"network": {"name": f"{self.prefix}-{project}"}}).json()["network"]
            body = {"network_id": net["id"], "cidr": cidr, "ip_version": 4}
            if pool:
                body["allocation_pools"] = [{"start": pool[0], "end": pool[1]}]
            assert c.post("/subnets", json={"subnet": body}).status_code == 201
        return net

    def wait_synced(self, timeout: float = 20) -> None:
        """Wait until the NB sync has applied every change (its outbox in the state
        dir's SQLite database is empty), so no transaction of it is in flight."""
        def empty() -> bool:
            with contextlib.closing(sqlite3.connect(self.state_dir / "neutrino.db")) as db:
                return db.execute("SELECT count(*) FROM ovn_outbox").fetchone()[0] == 0
        wait_until(empty, timeout, "the NB sync to drain its outbox")

    def port_of(self, name: str) -> dict:
        with self.client() as c:
            [port] = c.get("/ports", params={"name": name}).json()["ports"]
        return port

    def leased(self, name: str) -> str:
        out = self.exec(name, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout
        return out.split(" inet ")[1].split("/")[0]


@contextlib.contextmanager
def host_state() -> Iterator[None]:
    """Asserts on exit that the host's resolver config and routes did not change."""
    before = (Path("/etc/resolv.conf").read_bytes(),
              subprocess.run(["ip", "route"], capture_output=True).stdout)
    yield
    after = (Path("/etc/resolv.conf").read_bytes(),
             subprocess.run(["ip", "route"], capture_output=True).stdout)
    assert after == before, "the host's /etc/resolv.conf or routing table changed"


@contextlib.contextmanager
def running_allinone(state_dir: Path, prefix: str,
                     settings: dict[str, str] | None = None,
                     args: tuple[str, ...] = ()) -> Iterator[AllInOne]:
    """``neutrino up`` on ``state_dir`` until exit; skips the test when OVN cannot run.
    ``settings`` are passed as ``NEUTRINO_<NAME>`` variables (``{"bridge_mappings": ...}``),
    ``args`` to ``up`` (``("--chassis", "3")``)."""
    if reason := skip_reason():
        pytest.skip(reason)
    port = free_port()
    log = open(state_dir / "up.log", "w")
    # a metadata port of its own too: other all-in-ones may run at the same time
    proc = subprocess.Popen([str(NEUTRINO), "up", "--state-dir", str(state_dir), "--port", str(port),
                             "--metadata-port", str(free_port()), *args],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **{f"NEUTRINO_{k.upper()}": v
                                                  for k, v in (settings or {}).items()}})
    try:
        wait_until(lambda: proc.poll() is not None or (state_dir / "runtime.json").exists(), 90,
                   "neutrino up to publish runtime.json")
        assert proc.poll() is None, (state_dir / "up.log").read_text()
        yield AllInOne(state_dir, port, prefix)
    finally:
        # the namespaces, veths and DHCP clients, even if neutrino up is gone
        runtime = json.loads((state_dir / "runtime.json").read_text()) \
            if (state_dir / "runtime.json").exists() else {}
        ovs = {c["netns"]: f"unix:{c['dir']}/db.sock" for c in runtime.get("chassis", [])}
        for inst in instances.list_instances(state_dir):
            with contextlib.suppress(instances.InstanceError):
                instances.delete_instance(state_dir, inst.name, ovs.get(
                    inst.chassis_netns, runtime.get("ovs_connection", "unix:/nonexistent")))
        neutrino("down", "--state-dir", str(state_dir), check=False)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        assert "Traceback" not in (state_dir / "up.log").read_text(), (state_dir / "up.log").read_text()

"""A real Keystone for integration tests: PyPI ``keystone`` in its own virtualenv,
SQLite, fernet tokens, ``keystone-manage bootstrap``, served by gunicorn on a free
127.0.0.1 port.

* :func:`keystone_venv` builds the virtualenv once per machine under
  ``/var/cache/neutrino-tests/keystone-<version>-venv`` (``NEUTRINO_TEST_CACHE``
  overrides the parent directory) and reuses it while its marker file is present;
  a half-built one (no marker) is rebuilt. A file lock keeps concurrent runs apart.
* :class:`Keystone` (context manager) writes ``keystone.conf`` under a temporary
  directory, runs ``db_sync``, ``fernet_setup``, ``credential_setup`` and
  ``bootstrap`` (admin/``ADMIN_PASSWORD`` in project admin, region RegionOne), starts
  gunicorn and waits for ``GET /v3``; ``stop()``/``start()`` stop it by pid and start it
  again on the same port (the 503 test). :meth:`Keystone.request` speaks the v3 API
  as the bootstrap admin.
* :class:`KeystoneNeutrino` is a NeutrinoServer started with ``auth_strategy =
  keystone`` and a ``[keystone_authtoken]`` section for a Keystone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from neutrino_server import NeutrinoServer, free_port, stop_session_leader

KEYSTONE_VERSION = "30.0.0"
GUNICORN_VERSION = "23.0.0"
ADMIN_PASSWORD = "admin-secret"
REGION = "RegionOne"
START_TIMEOUT = 60.0


def cache_dir() -> Path:
    return Path(os.environ.get("NEUTRINO_TEST_CACHE", "/var/cache/neutrino-tests"))


def _base_python() -> str:
    """A Python with venv support, not the project's virtualenv."""
    for candidate in ("/usr/bin/python3", getattr(sys, "_base_executable", ""), sys.executable):
        if candidate and os.path.exists(candidate):
            return candidate
    return sys.executable


def cached_venv(name: str, requirements: list[str], timeout: float = 1800) -> Path:
    """The virtualenv ``<cache_dir>/<name>-venv`` holding ``requirements`` (pip
    specifiers), built when missing, once per machine: a file lock keeps concurrent
    builders apart and a venv without its marker file is half built and rebuilt.
    Raises RuntimeError with pip's output when the build fails."""
    venv = cache_dir() / f"{name}-venv"
    marker = venv / ".neutrino-ready"
    if marker.exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        pip = str(venv / "bin/pip")
        for cmd in ([_base_python(), "-m", "venv", str(venv)],
                    [pip, "install", "-q", "--upgrade", "pip"],
                    [pip, "install", "-q", *requirements]):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
        marker.write_text(" ".join(requirements) + "\n")
    return venv


def keystone_venv() -> Path:
    """The cached Keystone virtualenv (built when missing; see :func:`cached_venv`)."""
    return cached_venv(f"keystone-{KEYSTONE_VERSION}",
                       [f"keystone=={KEYSTONE_VERSION}", f"gunicorn=={GUNICORN_VERSION}"],
                       timeout=1200)


class Keystone:
    """One Keystone server owned by a test module."""

    def __init__(self, tmp_path: Path, token_expiration: int = 3600) -> None:
        self.dir = Path(tmp_path) / "keystone"
        self.venv = keystone_venv()
        self.token_expiration = token_expiration
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._admin_token: str | None = None

    @property
    def url(self) -> str:
        """The identity endpoint, as ``auth_url``: ``http://127.0.0.1:<port>/v3``."""
        return f"http://127.0.0.1:{self.port}/v3"

    @property
    def conf(self) -> Path:
        return self.dir / "keystone.conf"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OS_", "NEUTRINO_", "VIRTUAL_ENV", "PYTHON"))}
        env["OS_KEYSTONE_CONFIG_FILES"] = str(self.conf)
        env["PATH"] = f"{self.venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        return env

    def _manage(self, *args: str) -> None:
        cmd = [str(self.venv / "bin/keystone-manage"), "--config-file", str(self.conf), *args]
        done = subprocess.run(cmd, env=self._env(), capture_output=True, text=True, timeout=300,
                              cwd=self.dir, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"keystone-manage {args[0]} failed:\n{done.stdout}{done.stderr}")

    def setup(self) -> None:
        """Configuration, database, keys and the bootstrap admin (no server yet)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "[DEFAULT]\nuse_stderr = true\n"
            f"log_file = {self.dir / 'keystone-manage.log'}\n"
            f"[database]\nconnection = sqlite:///{self.dir / 'keystone.db'}\n"
            f"[token]\nprovider = fernet\nexpiration = {self.token_expiration}\n"
            f"[fernet_tokens]\nkey_repository = {self.dir / 'fernet-keys'}\n"
            f"[fernet_receipts]\nkey_repository = {self.dir / 'fernet-receipts'}\n"
            f"[credential]\nkey_repository = {self.dir / 'credential-keys'}\n")
        user = ["--keystone-user", "root", "--keystone-group", "root"]
        self._manage("db_sync")
        self._manage("fernet_setup", *user)
        self._manage("credential_setup", *user)
        self._manage("bootstrap", "--bootstrap-password", ADMIN_PASSWORD,
                     "--bootstrap-region-id", REGION,
                     "--bootstrap-public-url", self.url, "--bootstrap-internal-url", self.url)
        # Keystone parses sys.argv with oslo.config: hide gunicorn's arguments from it.
        (self.dir / "neutrino_keystone_wsgi.py").write_text(
            "import sys\nsys.argv = sys.argv[:1]\n"
            "from keystone.wsgi.api import application  # noqa: E402,F401\n")
        # The server logs to stderr (gunicorn's log file), not keystone-manage's file.
        self.conf.write_text(self.conf.read_text().replace(
            f"log_file = {self.dir / 'keystone-manage.log'}\n", ""))

    def start(self) -> Keystone:
        cmd = [str(self.venv / "bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}",
               "--workers", "1", "--threads", "8", "--worker-class", "gthread",
               "--timeout", "120", "--chdir", str(self.dir), "neutrino_keystone_wsgi:application"]
        with open(self.dir / "keystone.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, env=self._env(), cwd=self.dir,
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"keystone exited with {self.proc.returncode}:\n"
                                   + self.output())
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"keystone not ready on {self.url}:\n" + self.output())

    def output(self, tail: int = 8000) -> str:
        try:
            return (self.dir / "keystone.log").read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM gunicorn (its workers follow), then SIGKILL its group. Idempotent."""
        proc, self.proc = self.proc, None
        stop_session_leader(proc)

    def __enter__(self) -> Keystone:
        self.setup()
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the v3 API -----------------------------------------------------------------------

    def token(self, username: str, password: str, project: str,
              domain: str = "Default") -> str:
        """A project-scoped token for a user (password method)."""
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": username, "password": password, "domain": {"name": domain}}}},
            "scope": {"project": {"name": project, "domain": {"name": domain}}}}}
        resp = httpx.post(self.url + "/auth/tokens", json=body, timeout=30)
        assert resp.status_code == 201, resp.text
        return resp.headers["X-Subject-Token"]

    def request(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201, 204),
                token: str | None = None, **kw: Any) -> httpx.Response:
        """``method`` on ``/v3<path>`` as the bootstrap admin (or ``token``)."""
        if token is None:
            if self._admin_token is None:
                self._admin_token = self.token("admin", ADMIN_PASSWORD, "admin")
            token = self._admin_token
        headers = {"X-Auth-Token": token, **kw.pop("headers", {})}
        resp = httpx.request(method, self.url + path, headers=headers, timeout=30, **kw)
        expected = (expect,) if isinstance(expect, int) else expect
        assert resp.status_code in expected, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp

    def find(self, collection: str, name: str) -> dict[str, Any] | None:
        items = self.request("GET", f"/{collection}", params={"name": name}).json()[collection]
        return items[0] if items else None

    def ensure_role(self, name: str) -> str:
        role = self.find("roles", name)
        if role is None:
            role = self.request("POST", "/roles", json={"role": {"name": name}}).json()["role"]
        return role["id"]

    def project(self, name: str) -> str:
        body = {"project": {"name": name, "domain_id": "default"}}
        return self.request("POST", "/projects", json=body).json()["project"]["id"]

    def user(self, name: str, password: str, project_id: str, role: str) -> str:
        """A user with ``role`` on ``project_id``; returns its id."""
        body = {"user": {"name": name, "password": password, "domain_id": "default",
                         "default_project_id": project_id}}
        user_id = self.request("POST", "/users", json=body).json()["user"]["id"]
        self.request("PUT", f"/projects/{project_id}/users/{user_id}/roles/"
                            f"{self.ensure_role(role)}")
        return user_id

    def register_service(self, service_type: str, name: str, url: str) -> None:
        """A catalog service with public and internal endpoints at ``url``."""
        body = {"service": {"type": service_type, "name": name}}
        service_id = self.request("POST", "/services", json=body).json()["service"]["id"]
        for interface in ("public", "internal"):
            self.request("POST", "/endpoints", json={"endpoint": {
                "service_id": service_id, "interface": interface, "url": url,
                "region_id": REGION}})


class KeystoneNeutrino(NeutrinoServer):
    """``neutrino server`` with ``auth_strategy = keystone`` against ``keystone``,
    authenticating as ``username``/``password`` in project ``service``, validating
    tokens at the catalog's internal identity endpoint, trusting them 2 s (the
    revocation test), and ``extra`` lines in ``[DEFAULT]``."""

    def __init__(self, tmp_path: Path, keystone: Keystone, username: str, password: str,
                 extra: str = "") -> None:
        super().__init__(tmp_path)
        self.config_path = Path(tmp_path) / "neutrino.conf"
        self.config_path.write_text(
            "[DEFAULT]\nauth_strategy = keystone\n" + extra +
            "[keystone_authtoken]\n"
            f"auth_url = {keystone.url}\nusername = {username}\npassword = {password}\n"
            "project_name = service\nuser_domain_name = Default\n"
            "project_domain_name = Default\n"
            f"region_name = {REGION}\ninterface = internal\n"
            "token_cache_time = 2\nhttp_connect_timeout = 3\n")

    def _db_args(self) -> list[str]:
        return ["--config", str(self.config_path), *super()._db_args()]

"""Which PostgreSQL server binaries ``lab.postgres.PostgresServer`` runs, and whether
this host can run them: the discovery half of the private server.

The binaries are Debian's (``/usr/lib/postgresql/<version>/bin``, the highest version),
or ``$PGSERVER_BINDIR``, or wherever ``initdb`` is on ``$PATH``. PostgreSQL refuses to
run as root, so as root every program runs as the ``postgres`` system user through
``setpriv`` (:func:`run_as_prefix`); :func:`available` says why a server cannot start
here (no binaries, no such user, no setpriv) or None. Programs get an environment
without stray ``PG*`` settings (:func:`clean_env`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"  # the OS user the server runs as when we are root
REQUIRED_BINARIES = ("initdb", "postgres")


def _version_key(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.]", path.name))


def find_bindir() -> Path | None:
    """Return the directory holding ``initdb`` and ``postgres``, or None.

    ``$PGSERVER_BINDIR`` wins; then the highest
    ``/usr/lib/postgresql/<version>/bin``; then wherever ``initdb`` is on
    ``$PATH`` (non-Debian layouts).
    """
    candidates: list[Path] = []
    if os.environ.get("PGSERVER_BINDIR"):
        candidates.append(Path(os.environ["PGSERVER_BINDIR"]))
    elif DEBIAN_PG_ROOT.is_dir():
        versions = sorted(
            (d for d in DEBIAN_PG_ROOT.iterdir() if d.is_dir()),
            key=_version_key,
            reverse=True,
        )
        candidates.extend(d / "bin" for d in versions)
    if not os.environ.get("PGSERVER_BINDIR") and (found := shutil.which("initdb")):
        candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / b, os.X_OK) for b in REQUIRED_BINARIES):
            return bindir
    return None


def run_as_prefix() -> list[str]:
    """Command prefix to run a program as the server's OS user."""
    if os.geteuid() != 0:
        return []
    # setpriv execs the program (no intermediate process), so a Popen of
    # "setpriv ... postgres" has the postmaster's pid.
    return [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={SERVICE_USER}",
        f"--regid={SERVICE_USER}",
        "--init-groups",
        "--",
    ]


def available() -> str | None:
    """Return None if a private server can be started, else a reason string."""
    bindir = find_bindir()
    if bindir is None:
        where = os.environ.get("PGSERVER_BINDIR") or f"{DEBIAN_PG_ROOT}/<version>/bin"
        return (
            f"PostgreSQL server binaries ({', '.join(REQUIRED_BINARIES)}) not found "
            f"in {where} or on PATH; install the 'postgresql' package "
            "(see scripts/apt-packages.txt)"
        )
    return runtime_reason()


def runtime_reason() -> str | None:
    """Why the binaries cannot be run as the right user, or None."""
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return (
                f"running as root but there is no '{SERVICE_USER}' system user "
                "to run PostgreSQL as (initdb refuses to run as root)"
            )
        if shutil.which("setpriv") is None:
            return "running as root but setpriv (util-linux) is not installed"
    return None


def clean_env() -> dict[str, str]:
    """The environment for PostgreSQL programs: no stray PG* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANG", None)
    return env

"""Running the API server with uvicorn, with one or several worker processes.

The workers share one metrics directory (``metrics.exposition``, multiprocess mode),
so ``GET /metrics`` on any of them counts every worker's requests; with
``metrics_listen`` the supervising process serves the metrics there instead.
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from neutrino import logs
from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.metadata.loop import freeze_heap
from neutrino.metrics import exposition
from neutrino.metrics.database import DatabaseCollector
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)

WORKER_HEALTHCHECK = 30  # seconds a worker may take to start or to answer a ping

# Worker processes rebuild the settings the parent validated from this variable.
_SETTINGS_ENV = "NEUTRINO_SERVER_SETTINGS"


def make_app() -> FastAPI:
    """uvicorn factory: the app for one worker process. What start-up made (modules, the
    app's routes and schemas) is exempted from the garbage collector's later passes
    (``metadata.loop.freeze_heap``): a list of 1,000 ports allocates enough to trigger
    full collections, which rescanned all of it (a third of such a request's CPU)."""
    settings = Settings.model_validate_json(os.environ[_SETTINGS_ENV])
    logs.configure(settings.log_level)  # a spawned worker starts with bare logging
    db = Database(settings.database_url)
    app = create_app(Env(db=db, settings=settings))
    freeze_heap()
    return app


def metrics_directory(state_dir: Path, kind: str) -> Path:
    """Enable multiprocess metrics in ``<state_dir>/metrics/<kind>-<pid>``, or in a new
    temporary directory when the state directory is not writable; returns it."""
    try:
        return exposition.enable_multiprocess(exposition.run_directory(state_dir, kind))
    except PermissionError as exc:
        directory = Path(tempfile.mkdtemp(prefix=f"neutrino-metrics-{kind}-"))
        LOG.warning("metrics: %s; using %s", exc, directory)
        return exposition.enable_multiprocess(directory)


def _healthcheck() -> dict[str, int]:
    """uvicorn's worker health-check timeout, where this uvicorn has one: a worker
    answers it once it has imported everything, seconds on a busy host, where the
    default 5 s kills and respawns workers in a loop."""
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        return {"timeout_worker_healthcheck": WORKER_HEALTHCHECK}
    return {}


def serve(settings: Settings) -> None:
    """Serve the API until interrupted. The caller has checked the database.
    Raises OSError when ``metrics_listen`` cannot be bound."""
    os.environ[_SETTINGS_ENV] = settings.model_dump_json()
    logs.configure(settings.log_level)
    directory = metrics_directory(settings.state_dir, "server")
    listener = db = None
    try:
        address = settings.metrics_address()
        if address is not None:
            db = Database(settings.database_url, pool_size=2)
            listener = exposition.listen(address, exposition.registry(
                DatabaseCollector(Env(db=db, settings=settings))))
        uvicorn.run("neutrino.server:make_app", factory=True, host=settings.host,
                    port=settings.port, workers=settings.workers, log_level=settings.log_level,
                    access_log=False, timeout_keep_alive=30, **_healthcheck())
    finally:
        if listener is not None:
            listener.shutdown()
        if db is not None:
            db.dispose()
        shutil.rmtree(directory, ignore_errors=True)

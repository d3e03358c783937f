"""Running the API server with uvicorn, with one or several worker processes."""

from __future__ import annotations

import logging
import os

import uvicorn
from fastapi import FastAPI

from neutrino.api.app import create_app
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services.env import Env

# Worker processes rebuild the settings the parent validated from this variable.
_SETTINGS_ENV = "NEUTRINO_SERVER_SETTINGS"


def make_app() -> FastAPI:
    """uvicorn factory: the app for one worker process."""
    settings = Settings.model_validate_json(os.environ[_SETTINGS_ENV])
    db = Database(settings.database_url)
    return create_app(Env(db=db, settings=settings))


def serve(settings: Settings) -> None:
    """Serve the API until interrupted. The caller has checked the database."""
    os.environ[_SETTINGS_ENV] = settings.model_dump_json()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    uvicorn.run("neutrino.server:make_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level=settings.log_level, access_log=False,
                timeout_keep_alive=30)

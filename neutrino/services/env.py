"""What every public service function is given besides the caller."""

from __future__ import annotations

from dataclasses import dataclass

from neutrino.config import Settings
from neutrino.db.session import Database


@dataclass(frozen=True)
class Env:
    """The database and the settings, built once at start-up."""

    db: Database
    settings: Settings

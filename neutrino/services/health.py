"""The control plane's health, from the database alone: what ``GET /healthz`` and
``neutrino status`` show.

Controllers (``control.controller``) write a report every second; a report whose
heartbeat is older than ``ALIVE_SECONDS`` belongs to a controller that is gone. The
outbox tables say how far behind the NB sync and Nova's sender are. Nothing secret
is read: no URL with a password, no token.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino.db.models import ControllerReport, NovaEvent, OvnOutbox

ALIVE_SECONDS = 5  # a controller silent longer than this is reported dead
#: Outbox age (seconds) above which the sync is reported lagging.
LAGGING_SECONDS = 30


def health(db: Any) -> dict[str, Any]:
    """The control plane's state::

        {"status": "ok" | "degraded",
         "problems": ["no controller is the leader", ...],
         "leader": "<controller id>" | None,
         "controllers": [{"id", "host", "pid", "role", "alive", "heartbeat_age",
                          "leader_since", "started_at", "nb", "sb", "raft", "sync"}, ...],
         "outbox": {"depth": n, "oldest_age": seconds | None},
         "nova_events": {"depth": n, "oldest_age": seconds | None}}

    ``db`` is a ``db.session.Database``; raises its errors when the database is away.
    """
    def read(session: Session) -> dict[str, Any]:
        return {"controllers": session.execute(select(ControllerReport)
                                               .order_by(ControllerReport.id)).scalars().all(),
                "outbox": session.execute(select(func.count(OvnOutbox.id),
                                                 func.min(OvnOutbox.created_at))).one(),
                "nova": session.execute(select(func.count(NovaEvent.id),
                                               func.min(NovaEvent.created_at))).one()}
    rows = db.run(read, write=False)
    now = time.time()
    controllers = [_controller(r, now) for r in rows["controllers"]]
    leaders = [c for c in controllers if c["alive"] and c["role"] == "leader"]
    outbox = _queue(rows["outbox"], now)
    problems = []
    if not leaders:
        problems.append("no controller is the leader")
    elif len(leaders) > 1:  # a moment while a cut-off leader has not noticed yet
        problems.append("several controllers report being the leader")
    for c in leaders:
        if not c["nb"].get("ready") or not c["sb"].get("ready"):
            problems.append(f"the leader {c['id']} has no complete NB/SB copy")
    if (outbox["oldest_age"] or 0) > LAGGING_SECONDS:
        problems.append(f"the oldest outbox row waits for {outbox['oldest_age']:.0f}s")
    return {"status": "degraded" if problems else "ok", "problems": problems,
            "leader": leaders[0]["id"] if leaders else None, "controllers": controllers,
            "outbox": outbox, "nova_events": _queue(rows["nova"], now)}


def _controller(row: ControllerReport, now: float) -> dict[str, Any]:
    age = now - _epoch(row.heartbeat_at)
    report = row.report or {}
    return {"id": row.id, "host": row.host, "pid": row.pid, "role": row.role,
            "alive": age <= ALIVE_SECONDS, "heartbeat_age": round(age, 1),
            "leader_since": row.leader_since, "started_at": row.started_at,
            "nb": report.get("nb", {}), "sb": report.get("sb", {}),
            "raft": report.get("raft", {}), "sync": report.get("sync", {})}


def _queue(row: Any, now: float) -> dict[str, Any]:
    depth, oldest = row
    return {"depth": depth, "oldest_age": round(now - _epoch(oldest), 1) if oldest else None}


def _epoch(stamp: str) -> float:
    """``2026-12-07T01:02:03Z`` -> seconds since the epoch."""
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))

"""``GET /metrics``: the Prometheus text format, without authentication (as
``/healthz``; nothing secret in it), on the API port unless ``metrics_listen`` moves
it to an address of its own (``metrics.exposition``). Any worker answers for all:
process metrics come from the run's multiprocess directory, the database's gauges
are read at scrape time (``metrics.database``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino.metrics import exposition

router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """200 with every metric (``text/plain; version=0.0.4``); the database's gauges
    report ``neutrino_database_up 0`` instead of failing while it is away."""
    body = await asyncio.to_thread(exposition.render, request.app.state.metrics_registry)
    return Response(body, media_type=exposition.CONTENT_TYPE)

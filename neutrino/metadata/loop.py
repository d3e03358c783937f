"""The event loop the metadata agent and service run on.

uvloop (libuv; installed with ``uvicorn[standard]``) when it is there: it roughly
halves the per-request CPU of the agent -> service hop, whose cost is mostly the
loop's transports and selector (profile in ``bench/metadata.py``'s notes). The
standard asyncio loop otherwise; behaviour is the same.
"""

from __future__ import annotations

import asyncio

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it on Linux
    uvloop = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop (uvloop's when available), not set as any thread's current one."""
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()

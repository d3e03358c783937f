"""The event loop the metadata agent and service run on, and the heap they start with.

uvloop (libuv; installed with ``uvicorn[standard]``) when it is there: it roughly
halves the per-request CPU of the agent -> service hop, whose cost is mostly the
loop's transports and selector (profile in ``bench/metadata.py``'s notes). The
standard asyncio loop otherwise; behaviour is the same.

:func:`freeze_heap`: once a long-running process has started, what it holds (modules,
the SB replica, the app) lives as long as it does; the cyclic garbage collector's full
collections would scan all of it again and again, stalling every request in flight
(~100 ms for the agent's ~140,000 objects, ~0.5 s for ``neutrino up``'s ~230,000 on a
loaded 2-core machine). ``gc.freeze`` moves it out of the collector's reach.
"""

from __future__ import annotations

import asyncio
import gc

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it on Linux
    uvloop = None


def freeze_heap() -> None:
    """Exempt every object alive now from the garbage collector's later passes
    (``gc.freeze``): call once, after start-up. Objects freed later by reference
    counting are freed as usual; only cycles among these objects are never collected."""
    gc.freeze()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop (uvloop's when available), not set as any thread's current one."""
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()

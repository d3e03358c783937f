"""The agent's copies of the metadata service's answers, for as long as the service
says they stay true.

A guest asks the same few paths over and over (cloud-init reads ~30 at boot, agents
poll), and each forwarded request wakes the service and costs as much CPU again as
the agent's own work. The service marks an answer it may repeat with
:data:`MAX_AGE_HEADER` (seconds): it does so only for a ``GET``/``HEAD`` without an
IMDSv2 token whose answer depends on nothing but the forwarded request, and only for
the time left on its own cached copy of the instance (``store.InstanceStore``), so a
copy here never outlives the service's: the staleness bound stays
``metadata_cache_seconds``. Nova's metadata API sends no such header, so in Nova mode
every request is forwarded, as Neutron's agent does. The header never reaches the
guest.

Identity stays exact and fresh: the agent resolves the caller (address, neighbour
entry's MAC, port) for every request *before* looking here, and the key holds what it
resolved — network, caller address, port, the port's ``device_id`` and project —
with the method, the raw target and every guest header that would be forwarded. A
port moved to another instance (a new ``device_id`` in its SB ``Port_Binding``) thus
never matches an answer made for the old one.

Bounded: at most ``max_entries`` answers and ``max_bytes`` of bodies; when full,
expired entries go first, then everything (a burst of distinct paths starts over).

API: ``ReplyCache(max_entries=4096, max_bytes=16 MiB)``; ``get(key) -> Reply | None``;
``put(key, reply, max_age)`` (seconds; ignored if not positive or the body is larger
than ``max_bytes // 16``); ``max_age(headers) -> float`` reads the header from an
upstream answer (0.0 when absent or malformed); ``clear()``; ``len()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable

from neutrino.metadata.forward import Reply

#: Response header from neutrino's metadata service to its agent: how many more
#: seconds (decimal) the answer stays exactly what the service would send.
MAX_AGE_HEADER = "X-Neutrino-Metadata-Max-Age"
_MAX_AGE_LOWER = MAX_AGE_HEADER.lower()


def max_age(headers: Iterable[tuple[str, str]]) -> float:
    """Seconds an upstream answer may be repeated (its :data:`MAX_AGE_HEADER`), 0.0
    when absent, repeated, not a finite non-negative number."""
    found = [v for n, v in headers if n.lower() == _MAX_AGE_LOWER]
    if len(found) != 1:
        return 0.0
    try:
        value = float(found[0])
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


class ReplyCache:
    """Upstream answers by request key until their deadline (monotonic clock).

    Used on the agent's event loop only (no locking)."""

    def __init__(self, max_entries: int = 4096, max_bytes: int = 16 << 20) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: dict[Hashable, tuple[float, Reply]] = {}
        self._bytes = 0
        self.hits = 0  # counters, for logs and benchmarks

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Reply | None:
        """The answer stored under ``key`` if it is still valid, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._drop(key)
            return None
        self.hits += 1
        return entry[1]

    def put(self, key: Hashable, reply: Reply, seconds: float) -> None:
        """Keep ``reply`` under ``key`` for ``seconds`` (from now)."""
        size = len(reply.body)
        if seconds <= 0 or not self.max_entries or size > self.max_bytes // 16:
            return
        if key in self._entries:
            self._drop(key)
        now = time.monotonic()
        if len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes:
            for old in [k for k, (deadline, _) in self._entries.items() if deadline <= now]:
                self._drop(old)
            if len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes:
                self.clear()
        self._entries[key] = (now + seconds, reply)
        self._bytes += size

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _drop(self, key: Hashable) -> None:
        _, reply = self._entries.pop(key)
        self._bytes -= len(reply.body)


__all__ = ["MAX_AGE_HEADER", "ReplyCache", "max_age"]

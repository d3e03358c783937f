"""Serving the metrics: prometheus_client's multiprocess mode, rendering, the listener.

Several API workers are separate processes, each recording its own requests. Their
metrics add up through prometheus_client's multiprocess mode: every process of one
run writes its values to memory-mapped files in one directory
(``PROMETHEUS_MULTIPROC_DIR``) and a scrape, answered by any of them, merges the
files (counters and histograms summed over processes, dead ones included, so counts
never go back; ``live*`` gauges over the living). The directory is per run,
``<state_dir>/metrics/<kind>-<pid of the process that started the run>``
(:func:`run_directory`): created empty at start, the directories of earlier runs whose
process is gone removed. Processes started by that one (uvicorn's workers, the lab's
metadata agents) inherit the variable and write there too. A process that ends marks
itself dead (:func:`process_exit`); a scrape also drops the live gauges of processes
that died without a word (:func:`prune_dead`).

:func:`registry` is what a scrape collects: this run's process metrics plus collectors
the caller adds (``metrics.database``). :func:`render` turns it into the text format,
:func:`listen` serves it on ``metrics_listen`` (a thread of prometheus_client's WSGI
server answering every path).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterable

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess, values

from neutrino.host.process import pid_alive
from neutrino.metrics import families

LOG = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The text format every Prometheus reads (neutrino's names need no 1.0.0 escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LIVE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")
_RUN_DIR = re.compile(r"^[a-z-]+-(\d+)$")


def run_directory(state_dir: Path, kind: str) -> Path:
    """``<state_dir>/metrics/<kind>-<this pid>`` (not created), after removing the
    directories of earlier runs whose process is gone. ``kind`` is ``server`` or
    ``up``."""
    root = Path(state_dir) / "metrics"
    if root.is_dir():
        for old in root.iterdir():
            match = _RUN_DIR.match(old.name)
            if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
                shutil.rmtree(old, ignore_errors=True)
    return root / f"{kind}-{os.getpid()}"


def enable_multiprocess(directory: Path) -> Path:
    """Make this process (and the processes it starts) record into ``directory``,
    emptied first. Call before any metric is recorded: raises RuntimeError when
    ``families`` were built already in another mode (their values would be lost)."""
    directory = Path(directory).absolute()
    if families.built() and os.environ.get(MULTIPROC_ENV) != str(directory):
        raise RuntimeError("metrics were recorded before multiprocess mode was enabled")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # chosen at import; the variable is new
    return directory


def multiprocess_directory() -> str | None:
    """The run's directory when this process records in multiprocess mode."""
    path = os.environ.get(MULTIPROC_ENV)
    return path if path and os.path.isdir(path) else None


def prune_dead(path: str) -> list[int]:
    """Drop the live gauges of processes that are gone (prometheus_client's
    ``mark_process_dead``); returns their pids."""
    dead = set()
    for name in os.listdir(path):
        match = _LIVE_FILE.match(name)
        if match and not pid_alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)
    return sorted(dead)


def process_exit() -> None:
    """This process stops recording: in multiprocess mode, its live gauges go."""
    path = multiprocess_directory()
    if path:
        multiprocess.mark_process_dead(os.getpid(), path)


class _ProcessCollector:
    """What processes recorded: this run's every process in multiprocess mode, else
    this process's default registry."""

    def collect(self) -> Iterable[Any]:
        path = multiprocess_directory()
        if path is None:
            yield from REGISTRY.collect()
            return
        prune_dead(path)
        yield from multiprocess.MultiProcessCollector(None, path).collect()


def registry(*collectors: Any) -> CollectorRegistry:
    """A registry of the process metrics (see :class:`_ProcessCollector`) and
    ``collectors`` (objects with ``collect()``, e.g. ``database.DatabaseCollector``)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_ProcessCollector())
    for collector in collectors:
        reg.register(collector)
    return reg


def render(reg: CollectorRegistry) -> bytes:
    """The Prometheus text format (version 0.0.4) of ``reg``."""
    return generate_latest(reg)


def listen(address: tuple[str, int], reg: CollectorRegistry) -> Any:
    """Serve ``reg`` on ``address`` (``(host, port)``, from ``Settings.metrics_address``)
    in a daemon thread; returns the server (``shutdown()`` stops it). Raises OSError when
    the address cannot be bound."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(address[1], addr=address[0], registry=reg)
    LOG.info("metrics on http://%s:%d/metrics", *address)
    return server

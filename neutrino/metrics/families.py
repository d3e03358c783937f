"""The metrics neutrino's processes record as they work, by subsystem.

Each group is built on first use (:func:`api`, :func:`sync`, :func:`controller`,
:func:`metadata`), not at import: prometheus_client picks per metric whether values
live in memory or in the multiprocess directory when the metric is built, so a
process first calls ``exposition.enable_multiprocess`` (if it shares a directory) and
records afterwards. Labels carry names from a small fixed set (collection names,
methods, status codes, results, chassis names), never ids of resources, addresses or
anything secret.

Names (all prefixed ``neutrino_``):

* API (``api.telemetry``): ``api_requests_total{resource,method,status}``,
  ``api_request_duration_seconds{resource,method}`` (histogram).
* NB sync (``ovn.sync``, the leading controller): ``nb_sync_batch_duration_seconds``
  (one outbox batch: read, apply in one NB transaction, delete),
  ``nb_sync_outbox_rows_total``, ``nb_sync_failures_total``,
  ``nb_audits_total{result="ok"|"failed"}``, ``nb_audit_drift_rows_total{kind="missing"|
  "different"|"extra"}`` (found) and ``nb_audit_repaired_rows_total``.
* Controller (``control.controller``): ``controller_is_leader`` (1 while this process
  holds the leader lock), ``controller_leader_terms_total``.
* Metadata agent (``metadata.proxy``, ``metadata.agent``):
  ``metadata_requests_total{result}`` with result ``ok`` (the service answered
  2xx/3xx), ``client_error`` (it answered 4xx), ``server_error`` (5xx),
  ``unknown_port`` (no port with the source address: 404), ``mac_mismatch`` (the
  caller's MAC is not that port's: 404), ``refused`` (a token PUT
  with X-Forwarded-For: 403), ``unavailable`` (service unreachable: 503);
  ``metadata_request_duration_seconds`` (histogram);
  ``metadata_networks_served{chassis}``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

T = TypeVar("T")
disable_created_metrics()  # no *_created series: half the lines, nothing an alert uses

#: Seconds; an API request or a metadata request takes a few milliseconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)
#: Seconds; an NB batch of up to ovn_sync_batch (500) rows.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METADATA_RESULTS = ("ok", "client_error", "server_error", "unknown_port", "mac_mismatch",
                    "refused", "unavailable")


@dataclass(frozen=True)
class ApiMetrics:
    requests: Counter
    duration: Histogram


@dataclass(frozen=True)
class SyncMetrics:
    batch_duration: Histogram
    outbox_rows: Counter
    failures: Counter
    audits: Counter
    drift: Counter
    repaired: Counter


@dataclass(frozen=True)
class ControllerMetrics:
    is_leader: Gauge
    terms: Counter


@dataclass(frozen=True)
class MetadataMetrics:
    requests: Counter
    duration: Histogram
    networks: Gauge


_built: dict[str, object] = {}
_lock = threading.Lock()


def _once(name: str, build: Callable[[], T]) -> T:
    group = _built.get(name)
    if group is None:
        with _lock:
            group = _built.get(name)
            if group is None:
                group = _built[name] = build()
    return group  # type: ignore[return-value]


def built() -> bool:
    """True once any group was built in this process."""
    return bool(_built)


def api() -> ApiMetrics:
    """The API's request metrics (``api.telemetry`` records them)."""
    return _once("api", lambda: ApiMetrics(
        Counter("neutrino_api_requests_total", "API requests answered, by collection, "
                "method and status", ("resource", "method", "status")),
        Histogram("neutrino_api_request_duration_seconds", "API request latency, by "
                  "collection and method", ("resource", "method"), buckets=REQUEST_BUCKETS)))


def sync() -> SyncMetrics:
    """The NB sync's metrics (``ovn.sync`` records them)."""
    return _once("sync", lambda: SyncMetrics(
        Histogram("neutrino_nb_sync_batch_duration_seconds", "Time to apply one outbox "
                  "batch to the NB (read, one NB transaction, delete)", buckets=BATCH_BUCKETS),
        Counter("neutrino_nb_sync_outbox_rows", "Outbox rows applied to the NB"),
        Counter("neutrino_nb_sync_failures", "NB sync rounds that failed (retried)"),
        Counter("neutrino_nb_audits", "Full DB/NB audits, by result", ("result",)),
        Counter("neutrino_nb_audit_drift_rows", "NB rows an audit found missing, "
                "different or extra", ("kind",)),
        Counter("neutrino_nb_audit_repaired_rows", "NB rows an audit repaired")))


def controller() -> ControllerMetrics:
    """The controller's leadership (``control.controller`` records it)."""
    return _once("controller", lambda: ControllerMetrics(
        Gauge("neutrino_controller_is_leader", "1 while this process holds the leader lock",
              multiprocess_mode="livemax"),
        Counter("neutrino_controller_leader_terms", "Terms of leadership this process began")))


def metadata() -> MetadataMetrics:
    """The metadata agent's metrics (``metadata.proxy`` and ``metadata.agent``)."""
    return _once("metadata", lambda: MetadataMetrics(
        Counter("neutrino_metadata_requests", "Guest metadata requests, by result",
                ("result",)),
        Histogram("neutrino_metadata_request_duration_seconds", "Guest metadata request "
                  "latency at the agent (forwarding included)", buckets=REQUEST_BUCKETS),
        Gauge("neutrino_metadata_networks_served", "Networks whose metadata namespace "
              "listens on this chassis", ("chassis",), multiprocess_mode="livesum")))

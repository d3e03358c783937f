"""Prometheus metrics (prometheus_client), in the text exposition format.

* ``families``: the metrics processes record as they work (API requests, the NB sync,
  the leader, the metadata proxy), built on first use. Imports nothing of neutrino,
  so every package may record.
* ``database``: gauges computed from the database at scrape time (outbox, controllers,
  ports by status, agents, free addresses per network): every API worker answers the
  same.
* ``exposition``: prometheus_client's multiprocess mode (several API workers, and in
  ``neutrino up`` the metadata agents, write to one per-run directory), rendering, and
  the listener of ``metrics_listen``.
"""

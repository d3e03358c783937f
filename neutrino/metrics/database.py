"""Gauges read from the database at scrape time: every API worker (and every API
server) answers the same, whichever one Prometheus reaches.

Per scrape, two read-only transactions (``services.health.health`` and one here):

* ``neutrino_database_up``: 1, or 0 with nothing else when the database is away;
* ``neutrino_ovn_outbox_depth``, ``neutrino_ovn_outbox_oldest_age_seconds`` (0 when
  empty), ``neutrino_nova_events_depth``, ``neutrino_nova_events_oldest_age_seconds``:
  how far behind the NB sync and Nova's sender are;
* ``neutrino_controller_up{controller,host,role}`` per controller report (1 while its
  heartbeat is fresh), ``neutrino_controller_leaders``: live controllers reporting
  the lead (1 when healthy; 0 means nobody writes the NB);
* ``neutrino_ports{status}``: ports by status (ACTIVE, DOWN, BUILD, ...);
* ``neutrino_agent_alive{agent_type,chassis,host}``: the agents view
  (``GET /v2.0/agents``'s ``alive``), ``neutrino_chassis_alive`` and
  ``neutrino_chassis``: chassis whose OVN Controller agent is alive, and all;
* ``neutrino_network_free_ips{network_id,project_id}`` and
  ``neutrino_network_total_ips{...}``: per network, the addresses the scheduler can
  still give an instance's port (``services.scheduler.network_capacity``), so an alert
  fires before a network fills (seed 004).
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino.db.models import Agent, Port
from neutrino.services import agents, health, scheduler
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)

CONTROLLER_AGENTS = ("OVN Controller agent", "OVN Controller Gateway agent")


def read(env: Env) -> dict[str, Any]:
    """What the gauges show: ``{"health": services.health.health(...), "ports":
    {status: n}, "agents": [{"agent_type", "host", "chassis", "alive"}] (``alive`` as
    ``GET /v2.0/agents`` shows it: ``services.agents.alive_since``), "capacity":
    [scheduler.Candidate]}``.
    Raises the database's errors."""
    def run(session: Session) -> dict[str, Any]:
        ports = dict(session.execute(select(Port.status, func.count())
                                     .group_by(Port.status)).all())
        rows = session.execute(select(Agent.agent_type, Agent.host, Agent.chassis,
                                      Agent.heartbeat_at).where(Agent.deleted.is_(False))
                               .order_by(Agent.id)).all()
        since = agents.alive_since(env.settings)
        views = [{"agent_type": r.agent_type, "host": r.host, "chassis": r.chassis,
                  "alive": r.heartbeat_at >= since} for r in rows]
        return {"ports": ports, "agents": views,
                "capacity": scheduler.network_capacity(session)}
    state = env.db.run(run, write=False)
    state["health"] = health.health(env.db)
    return state


class DatabaseCollector:
    """A prometheus_client collector of the gauges above for ``env``'s database."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            state = read(self.env)
        except Exception as exc:  # noqa: BLE001 - the scrape still says the database is away
            LOG.warning("metrics: database unreachable: %s", exc)
            yield GaugeMetricFamily("neutrino_database_up", "1 while the database answers",
                                    value=0)
            return
        yield GaugeMetricFamily("neutrino_database_up", "1 while the database answers",
                                value=1)
        yield from _queues(state["health"])
        yield from _controllers(state["health"]["controllers"])
        ports = GaugeMetricFamily("neutrino_ports", "Ports by status", labels=("status",))
        for status, count in sorted(state["ports"].items()):
            ports.add_metric((status,), count)
        yield ports
        yield from _agents(state["agents"])
        free = GaugeMetricFamily("neutrino_network_free_ips", "Addresses the scheduler can "
                                 "still give an instance's port on the network",
                                 labels=("network_id", "project_id"))
        total = GaugeMetricFamily("neutrino_network_total_ips", "Addresses of the network's "
                                  "pools the scheduler counts", labels=("network_id", "project_id"))
        for cand in state["capacity"]:
            free.add_metric((cand.network_id, cand.project_id), cand.free_ips)
            total.add_metric((cand.network_id, cand.project_id), cand.total_ips)
        yield free
        yield total


def _queues(state: dict[str, Any]) -> Iterable[GaugeMetricFamily]:
    for key, name, what in (("outbox", "ovn_outbox", "Outbox rows the NB sync has not "
                             "applied yet"),
                            ("nova_events", "nova_events", "Port events not sent to Nova yet")):
        queue = state[key]
        yield GaugeMetricFamily(f"neutrino_{name}_depth", what, value=queue["depth"])
        yield GaugeMetricFamily(f"neutrino_{name}_oldest_age_seconds",
                                "Age of the oldest waiting row (0: none)",
                                value=queue["oldest_age"] or 0)


def _controllers(controllers: list[dict[str, Any]]) -> Iterable[GaugeMetricFamily]:
    up = GaugeMetricFamily("neutrino_controller_up", "1 while the controller's heartbeat "
                           "is fresh", labels=("controller", "host", "role"))
    for c in controllers:
        up.add_metric((c["id"], c["host"], c["role"]), 1 if c["alive"] else 0)
    yield up
    yield GaugeMetricFamily("neutrino_controller_leaders", "Live controllers holding the "
                            "leader lock (1 when healthy)",
                            value=sum(1 for c in controllers if c["alive"] and c["role"] == "leader"))


def _agents(rows: list[dict[str, Any]]) -> Iterable[GaugeMetricFamily]:
    alive = GaugeMetricFamily("neutrino_agent_alive", "1 while the agent answers liveness "
                              "probes (GET /v2.0/agents alive)",
                              labels=("agent_type", "chassis", "host"))
    chassis: dict[str, bool] = {}
    for a in rows:
        alive.add_metric((a["agent_type"], a["chassis"], a["host"]), 1 if a["alive"] else 0)
        if a["agent_type"] in CONTROLLER_AGENTS:
            chassis[a["chassis"]] = chassis.get(a["chassis"], False) or a["alive"]
    yield alive
    yield GaugeMetricFamily("neutrino_chassis_alive", "Chassis whose OVN Controller agent "
                            "is alive", value=sum(chassis.values()))
    yield GaugeMetricFamily("neutrino_chassis", "Chassis known (SB Chassis rows)",
                            value=len(chassis))

"""The agents of ``GET /v2.0/agents``, mirrored from the SB into the ``agents`` table.

ML2/OVN has no agent processes of its own to list: it shows, per SB ``Chassis``, an
"OVN Controller agent" (an "OVN Controller Gateway agent" when the chassis' cms
options hold ``enable-chassis-as-gw``) and, when a metadata agent registered in the
chassis' ``Chassis_Private`` row, an "OVN Metadata agent" (neutron/plugins/ml2/
drivers/ovn/agent/neutron_agent.py). neutrino does the same, with its own metadata
agent (``neutrino:metadata-agent`` in ``Chassis_Private.external_ids``).

Liveness, as ML2/OVN: the leading controller bumps NB_Global ``nb_cfg`` (a probe)
every ``probe_interval`` seconds; ovn-northd copies it to SB_Global; each
ovn-controller acknowledges it in its ``Chassis_Private.nb_cfg``, each metadata agent
in ``external_ids:neutrino:metadata-sb-cfg`` (``metadata.report``). An agent's
``heartbeat_at`` is when the mirror last saw its acknowledgement move forward; the API
counts it ``alive`` while that is at most ``agent_down_time`` seconds old
(``services.agents``). A new leader starts with no memory of acknowledgements: an
agent's first heartbeat in its term is its second acknowledgement seen.

:class:`AgentMirror` runs in the leader's term: each probe it writes what changed to
the table (rows of new chassis, heartbeats, configurations), drops the rows of chassis
gone from the SB, and deletes from the SB the chassis of agents an admin deleted
(``deleted``), as ML2/OVN's ``delete_agent`` does; a live chassis registers again and
its agents come back, as with Neutron.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino.constants import CHASSIS_METADATA_AGENT, CHASSIS_METADATA_SB_CFG
from neutrino.db.models import Agent
from neutrino.ovn import idl as ovn_idl
from neutrino.ovn.chassis import (BRIDGE_MAPPINGS, CMS_OPTIONS, availability_zones,
                                  is_gateway_chassis)
from neutrino.services import common
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)

CONTROLLER = "OVN Controller agent"
GATEWAY = "OVN Controller Gateway agent"
METADATA = "OVN Metadata agent"
CONTROLLER_BINARY = "ovn-controller"
METADATA_BINARY = "neutrino-metadata-agent"
# names the metadata agent's id from its chassis, stable across restarts
METADATA_NAMESPACE = uuid.UUID("6f2b1c9e-5a0e-4d7b-9b9a-3c1f0d2e8a41")


class SeenAgent(NamedTuple):
    """One agent as the SB shows it: its row's columns, and ``acked`` -- the probe
    (``nb_cfg``) it acknowledged last, None if it never answered one."""

    id: str
    chassis: str
    agent_type: str
    binary: str
    host: str
    availability_zones: str
    configurations: dict[str, Any]
    acked: int | None


def metadata_agent_id(chassis: str) -> str:
    """The id of the metadata agent of ``chassis`` (a UUID derived from its name)."""
    return str(uuid.uuid5(METADATA_NAMESPACE, chassis))


def seen_agents(chassis_rows: list[Any], private_rows: dict[str, Any]) -> list[SeenAgent]:
    """The agents of SB ``Chassis`` rows, with their ``Chassis_Private`` rows by name
    (``{name: row}``; a chassis without one never acknowledged a probe)."""
    agents = []
    for row in chassis_rows:
        private = private_rows.get(row.name)
        options = {**row.external_ids, **row.other_config}
        zones = " ".join(availability_zones(row))
        host = row.hostname or row.name
        config = {"chassis_name": row.name,
                  "bridge-mappings": options.get(BRIDGE_MAPPINGS, ""),
                  "ovn-cms-options": options.get(CMS_OPTIONS, ""),
                  "datapath-type": options.get("datapath-type", ""),
                  "iface-types": options.get("iface-types", ""),
                  "encaps": sorted(f"{e.type}:{e.ip}" for e in row.encaps)}
        acked = private.nb_cfg if private is not None else None
        agents.append(SeenAgent(row.name, row.name,
                                GATEWAY if is_gateway_chassis(row) else CONTROLLER,
                                CONTROLLER_BINARY, host, zones, config, acked))
        ids = private.external_ids if private is not None else {}
        if ids.get(CHASSIS_METADATA_AGENT):
            answer = ids.get(CHASSIS_METADATA_SB_CFG, "")
            agents.append(SeenAgent(
                metadata_agent_id(row.name), row.name, METADATA, METADATA_BINARY, host, zones,
                {"chassis_name": row.name, "agent": ids[CHASSIS_METADATA_AGENT]},
                int(answer) if answer.isdigit() else None))
    return agents


def record(session: Session, seen: list[SeenAgent], fresh: set[str]) -> list[str]:
    """Bring the ``agents`` table in line with ``seen``: insert new agents, update
    changed ones, set the heartbeat of those in ``fresh`` (ids whose acknowledgement
    moved forward) to now, delete those gone from the SB. Returns the chassis of
    agents marked ``deleted``, to be removed from the SB."""
    stamp = common.now()
    rows = {a.id: a for a in session.scalars(select(Agent))}
    doomed = sorted({a.chassis for a in rows.values() if a.deleted})
    for agent in seen:
        row = rows.pop(agent.id, None)
        if row is None:
            session.add(Agent(id=agent.id, chassis=agent.chassis, agent_type=agent.agent_type,
                              binary=agent.binary, host=agent.host,
                              availability_zones=agent.availability_zones,
                              configurations=agent.configurations, created_at=stamp,
                              started_at=stamp, heartbeat_at=stamp))
            continue
        if row.deleted:
            continue
        for column in ("chassis", "agent_type", "binary", "host", "availability_zones",
                       "configurations"):
            if getattr(row, column) != getattr(agent, column):
                setattr(row, column, getattr(agent, column))
        if agent.id in fresh:
            row.heartbeat_at = stamp
    if rows:  # their chassis left the SB
        session.execute(delete(Agent).where(Agent.id.in_(list(rows))))
    return doomed


class AgentMirror:
    """Probe liveness and mirror the SB's agents into the DB every ``interval``
    seconds (see the module docstring). ``nb_api``/``sb_api``: loaded ovsdbapp APIs
    (the SB one monitoring Chassis, Chassis_Private and Encap)."""

    def __init__(self, env: Env, nb_api: Any, sb_api: Any, interval: float) -> None:
        self.env = env
        self.nb = nb_api
        self.sb = sb_api
        self.interval = interval
        self.acked: dict[str, int] = {}  # agent id -> the acknowledgement seen last

    def run_forever(self, stop: threading.Event) -> None:
        """Probe and mirror until ``stop`` is set; errors are logged and retried."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - OVN or the DB may be away; next tick
                LOG.exception("agents not mirrored")
            stop.wait(self.interval)

    def tick(self) -> None:
        """Record what the SB shows (acknowledgements of earlier probes), remove the
        chassis of deleted agents, then send the next probe."""
        with self.sb.ovsdb_connection.lock:
            if not ovn_idl.is_ready(self.sb):
                return
            chassis = list(self.sb.tables["Chassis"].rows.values())
            private = {r.name: r for r in self.sb.tables["Chassis_Private"].rows.values()}
            seen = seen_agents(chassis, private)
        fresh = {a.id for a in seen if a.acked is not None and a.id in self.acked
                 and a.acked != self.acked[a.id]}
        self.acked = {a.id: a.acked for a in seen if a.acked is not None}
        doomed = self.env.db.run(lambda session: record(session, seen, fresh))
        for name in doomed:
            self._remove_chassis(name)
        self._probe()

    def _remove_chassis(self, name: str) -> None:
        LOG.warning("removing chassis %s from the SB: its agent was deleted", name)
        self.sb.chassis_del(name, if_exists=True).execute(check_error=True)
        if "Chassis_Private" in self.sb.tables:
            self.sb.db_destroy("Chassis_Private", name).execute(check_error=False)
        self.env.db.run(lambda s: s.execute(delete(Agent).where(Agent.chassis == name)))

    def _probe(self) -> None:
        """Bump NB_Global ``nb_cfg`` by one."""
        with self.nb.ovsdb_connection.lock:
            current = next(iter(self.nb.tables["NB_Global"].rows.values()), None)
            if current is None:
                return
            value = current.nb_cfg + 1
        self.nb.db_set("NB_Global", current.uuid, ("nb_cfg", value)).execute(check_error=True)

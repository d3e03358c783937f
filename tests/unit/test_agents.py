"""Agents and availability zones: what the mirror makes of SB rows (``ovn/agents.py``)
and what the API shows of the table (``services/agents.py``), without OVN."""

from __future__ import annotations

import time
from types import SimpleNamespace

from conftest import error_type

from neutrino.db.models import Agent
from neutrino.ovn.agents import (
    CONTROLLER,
    GATEWAY,
    METADATA,
    availability_zones,
    metadata_agent_id,
    record,
    seen_agents,
)

SB_CFG = "neutrino:metadata-sb-cfg"


def chassis(name: str, cms: str = "", hostname: str = "") -> SimpleNamespace:
    return SimpleNamespace(name=name, hostname=hostname, external_ids={},
                           other_config={"ovn-cms-options": cms,
                                         "ovn-bridge-mappings": "physnet1:br-ex"},
                           encaps=[SimpleNamespace(type="geneve", ip="198.18.0.1")])


def private(name: str, nb_cfg: int, **ids: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, nb_cfg=nb_cfg, external_ids=ids)


def stamp(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


# --- the mirror ----------------------------------------------------------------------

def test_each_chassis_shows_its_controller_and_metadata_agents():
    rows = [chassis("c1", "enable-chassis-as-gw,availability-zones=az1:az2", "host1"),
            chassis("c2")]
    seen = {a.id: a for a in seen_agents(rows, {
        "c1": private("c1", 7, **{"neutrino:metadata-agent": "host1:42", SB_CFG: "6"}),
        "c2": private("c2", 5)})}
    assert set(seen) == {"c1", "c2", metadata_agent_id("c1")}
    c1, c2, meta = seen["c1"], seen["c2"], seen[metadata_agent_id("c1")]
    assert (c1.agent_type, c1.host, c1.acked, c1.availability_zones) == (GATEWAY, "host1", 7,
                                                                        "az1 az2")
    assert c1.configurations["bridge-mappings"] == "physnet1:br-ex"
    assert c1.configurations["encaps"] == ["geneve:198.18.0.1"]
    assert (c2.agent_type, c2.host, c2.acked) == (CONTROLLER, "c2", 5)  # no hostname: its name
    assert (meta.agent_type, meta.acked, meta.chassis) == (METADATA, 6, "c1")
    assert seen_agents([chassis("c3")], {})[0].acked is None  # no Chassis_Private yet


def test_zones_come_from_the_cms_options():
    assert availability_zones(chassis("c", "availability-zones=a: b")) == ["a", "b"]
    assert availability_zones(chassis("c", "enable-chassis-as-gw")) == []


def test_record_inserts_updates_and_drops(api):
    rows = [chassis("c1"), chassis("c2")]
    seen = seen_agents(rows, {"c1": private("c1", 10), "c2": private("c2", 3)})
    assert api.env.db.run(lambda s: record(s, seen, set())) == []
    old = stamp(60)
    api.env.db.run(lambda s: [setattr(a, "heartbeat_at", old) for a in s.query(Agent)])
    api.env.db.run(lambda s: record(s, seen, {"c1"}))  # c1 answered a probe since
    got = api.env.db.run(lambda s: {a.id: a.heartbeat_at for a in s.query(Agent)})
    assert got["c1"] >= stamp(5) and got["c2"] == old
    # c2 left the SB; c1 was deleted by an admin: its chassis is returned for removal
    api.env.db.run(lambda s: setattr(s.get(Agent, "c1"), "deleted", True))
    assert api.env.db.run(lambda s: record(s, seen[:1], set())) == ["c1"]
    assert api.env.db.run(lambda s: [a.id for a in s.query(Agent)]) == ["c1"]


# --- the API ---------------------------------------------------------------------------

def add_agent(api, agent_id: str, seconds_ago: float = 0, zones: str = "", **columns) -> None:
    def run(session):
        session.add(Agent(id=agent_id, chassis=columns.pop("chassis", agent_id),
                          agent_type=columns.pop("agent_type", CONTROLLER),
                          binary="ovn-controller", host=f"host-{agent_id}",
                          availability_zones=zones, configurations={}, created_at=stamp(0),
                          started_at=stamp(0), heartbeat_at=stamp(seconds_ago), **columns))
    api.env.db.run(run)


def test_admins_see_agents_others_see_none(api):
    add_agent(api, "c1")
    add_agent(api, "c2", seconds_ago=600)
    listed = api.get("/v2.0/agents", admin=True, expect=200).json()["agents"]
    assert {a["id"]: a["alive"] for a in listed} == {"c1": True, "c2": False}
    assert listed[0]["topic"] == "n/a" and listed[0]["agent_type"] == CONTROLLER
    assert api.get("/v2.0/agents", expect=200).json()["agents"] == []
    assert error_type(api.get("/v2.0/agents/c1", expect=404)) == "AgentNotFound"
    api.put("/v2.0/agents/c1", {"agent": {"description": "x"}}, expect=403)
    alive = api.get("/v2.0/agents?alive=false", admin=True).json()["agents"]
    assert [a["id"] for a in alive] == ["c2"]
    by_type = api.get(f"/v2.0/agents?agent_type={METADATA}", admin=True).json()["agents"]
    assert by_type == []
    api.post("/v2.0/agents", {"agent": {}}, admin=True, expect=405)


def test_a_page_of_alive_agents_is_full(api):
    """``alive`` filters in SQL: a page of ``alive=true&limit=3`` holds three alive
    agents when dead ones sort among them, and the next page the rest."""
    for i in range(8):
        add_agent(api, f"c{i}", seconds_ago=600 if i % 2 else 0)  # c1, c3...: dead
    page = api.get("/v2.0/agents?alive=true&limit=3", admin=True, expect=200).json()
    assert [a["id"] for a in page["agents"]] == ["c0", "c2", "c4"]
    assert all(a["alive"] for a in page["agents"])
    assert page["agents_links"][0]["rel"] == "next"
    rest = api.get("/v2.0/agents?alive=true&limit=3&marker=c4", admin=True,
                   expect=200).json()["agents"]
    assert [a["id"] for a in rest] == ["c6"]


def test_an_admin_updates_and_deletes_an_agent(api):
    add_agent(api, "c1")
    upd = api.put("/v2.0/agents/c1", {"agent": {"admin_state_up": False, "description": "d"}},
                  admin=True, expect=200).json()["agent"]
    assert upd["admin_state_up"] is False and upd["description"] == "d"
    resp = api.put("/v2.0/agents/c1", {"agent": {"host": "h"}}, admin=True, expect=400)
    assert "host" in resp.json()["NeutronError"]["message"]
    api.delete("/v2.0/agents/c1", admin=True, expect=204)
    api.get("/v2.0/agents/c1", admin=True, expect=404)
    assert api.get("/v2.0/agents", admin=True).json()["agents"] == []
    assert api.env.db.run(lambda s: s.get(Agent, "c1").deleted)  # the controller removes it


def test_availability_zones_of_the_chassis(api):
    add_agent(api, "c1", zones="az1 az2")
    add_agent(api, "c2", seconds_ago=600, zones="az2 az3")
    zones = api.get("/v2.0/availability_zones", expect=200).json()["availability_zones"]
    assert {(z["name"], z["resource"], z["state"]) for z in zones} == {
        (name, resource, state) for name, state in
        (("az1", "available"), ("az2", "available"), ("az3", "unavailable"))
        for resource in ("network", "router")}
    routers = api.get("/v2.0/availability_zones?resource=router&state=available").json()
    assert sorted(z["name"] for z in routers["availability_zones"]) == ["az1", "az2"]


def test_network_zone_hints_must_name_known_zones(api):
    add_agent(api, "c1", zones="az1")
    net = api.network(availability_zone_hints=["az1"])
    assert net["availability_zone_hints"] == ["az1"] and net["availability_zones"] == ["az1"]
    assert api.network()["availability_zones"] == []
    resp = api.post("/v2.0/networks", {"network": {"availability_zone_hints": ["nope"]}},
                    expect=404)
    assert error_type(resp) == "AvailabilityZoneNotFound"
    for bad in (["az1", "az1"], ["x" * 300]):
        resp = api.post("/v2.0/networks", {"network": {"availability_zone_hints": bad}},
                        expect=400)
        assert error_type(resp) == "InvalidInput"
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"availability_zone_hints": []}},
            expect=400)  # set at creation only, as Neutron
    assert len(api.get("/v2.0/networks").json()["networks"]) == 2

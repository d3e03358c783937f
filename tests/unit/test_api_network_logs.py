"""Network logs through the API (extension logging): CRUD under /v2.0/log, the
loggable resources, Neutron's validation errors, policy, and the outbox rows
that make the sync rewrite the covered security groups' ACLs."""

from __future__ import annotations

from conftest import error_type
from sqlalchemy import select

from neutrino.db.models import OvnOutbox

LOGS = "/v2.0/log/logs"


def sg(api, project="p1", name="web"):
    return api.post("/v2.0/security-groups", {"security_group": {"name": name}},
                    project=project, expect=201).json()["security_group"]


def make_log(api, expect=201, project="p1", **attrs):
    body = {"log": {"resource_type": "security_group", **attrs}}
    resp = api.post(LOGS, body, project=project, admin=True, expect=expect)
    return resp.json()["log"] if expect == 201 else resp


def outbox(api):
    return api.env.db.run(lambda s: [(r.resource_type, r.resource_id) for r in
                                     s.scalars(select(OvnOutbox))], write=False)


def clear_outbox(api):
    api.env.db.run(lambda s: s.execute(OvnOutbox.__table__.delete()))


def test_create_show_list_update_delete(api):
    group = sg(api)
    clear_outbox(api)
    log = make_log(api, name="l", resource_id=group["id"], event="ACCEPT")
    assert set(log) == {"id", "name", "description", "project_id", "tenant_id", "resource_type",
                        "resource_id", "target_id", "event", "enabled", "created_at",
                        "updated_at", "revision_number"}
    assert (log["event"], log["enabled"], log["target_id"], log["revision_number"]) == \
        ("ACCEPT", True, None, 1)
    assert ("security_group", group["id"]) in outbox(api)
    assert api.get(f"{LOGS}/{log['id']}", admin=True, expect=200).json()["log"] == log
    listed = api.get(f"{LOGS}?event=ACCEPT", admin=True, expect=200).json()["logs"]
    assert [x["id"] for x in listed] == [log["id"]]
    clear_outbox(api)
    updated = api.put(f"{LOGS}/{log['id']}", {"log": {"enabled": False}}, admin=True,
                      expect=200).json()["log"]
    assert (updated["enabled"], updated["revision_number"]) == (False, 2)
    assert ("security_group", group["id"]) in outbox(api)
    api.put(f"{LOGS}/{log['id']}", {"log": {"event": "DROP"}}, admin=True, expect=400)
    api.delete(f"{LOGS}/{log['id']}", admin=True, expect=204)
    resp = api.get(f"{LOGS}/{log['id']}", admin=True, expect=404)
    assert error_type(resp) == "LogResourceNotFound"


def test_defaults_and_project_wide_log_covers_the_projects_groups(api):
    mine, other = sg(api), sg(api, project="p2")
    clear_outbox(api)
    log = make_log(api)
    assert (log["event"], log["resource_id"], log["enabled"]) == ("ALL", None, True)
    queued = outbox(api)
    assert ("security_group", mine["id"]) in queued
    assert ("security_group", other["id"]) not in queued


def test_loggable_resources(api):
    body = api.get("/v2.0/log/loggable-resources", admin=True, expect=200).json()
    assert body == {"loggable_resources": [{"type": "security_group"}]}


def test_validation_errors(api):
    group = sg(api)
    net = api.network()
    port = api.port(net["id"])  # in the project's default group, not in ``group``
    resp = make_log(api, expect=400, resource_type="firewall_group")
    assert error_type(resp) == "InvalidLogResourceType"
    missing = "8d1c5ac1-6a2e-4c4f-9d1c-2b1e0a3d5f00"
    assert error_type(make_log(api, expect=404, resource_id=missing)) == "ResourceNotFound"
    assert error_type(make_log(api, expect=404, target_id=missing)) == "TargetResourceNotFound"
    resp = make_log(api, expect=400, resource_id=group["id"], target_id=port["id"])
    assert error_type(resp) == "InvalidResourceConstraint"
    make_log(api, expect=400, event="SOME")
    direct = api.port(net["id"], **{"binding:vnic_type": "direct"})
    resp = make_log(api, expect=409, target_id=direct["id"])
    assert error_type(resp) == "LoggingTypeNotSupported"
    assert make_log(api, target_id=port["id"])["target_id"] == port["id"]


def test_another_projects_group_is_not_found_and_members_may_not_log(api):
    theirs = sg(api, project="p2")
    resp = api.post(LOGS, {"log": {"resource_type": "security_group",
                                   "resource_id": theirs["id"]}},
                    headers={"X-Project-Id": "p1", "X-Roles": "manager"}, project=None,
                    expect=404)
    assert error_type(resp) == "ResourceNotFound"
    resp = api.post(LOGS, {"log": {"resource_type": "security_group"}}, expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    assert api.get(LOGS, expect=403).status_code == 403


def test_a_port_changing_groups_resyncs_the_groups_its_log_covered(api):
    """A log with a ``target_id`` covers that port's groups: the group the port
    leaves must stop logging, so its ACLs are re-synced (and the one it joins)."""
    old, new = sg(api, name="old"), sg(api, name="new")
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], security_groups=[old["id"]])
    plain = api.port(net["id"], security_groups=[old["id"]])
    make_log(api, target_id=port["id"])
    clear_outbox(api)
    api.put(f"/v2.0/ports/{port['id']}", {"port": {"security_groups": [new["id"]]}},
            expect=200)
    queued = outbox(api)
    assert {("security_group", old["id"]), ("security_group", new["id"])} <= set(queued)
    clear_outbox(api)  # without a log on the port, only the port is re-synced
    api.put(f"/v2.0/ports/{plain['id']}", {"port": {"security_groups": [new["id"]]}},
            expect=200)
    assert not [r for r in outbox(api) if r[0] == "security_group"]


def test_extension_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert "logging" in aliases


def test_deleting_the_group_or_the_port_deletes_their_logs(api):
    group = sg(api)
    by_group = make_log(api, resource_id=group["id"])
    disabled = make_log(api, resource_id=group["id"], enabled=False)
    net = api.network()
    port = api.port(net["id"])
    by_port = make_log(api, target_id=port["id"])
    api.delete(f"/v2.0/security-groups/{group['id']}", expect=204)
    api.get(f"{LOGS}/{by_group['id']}", admin=True, expect=404)
    api.get(f"{LOGS}/{disabled['id']}", admin=True, expect=200)  # Neutron: enabled logs only
    api.delete(f"/v2.0/ports/{port['id']}", expect=204)
    api.get(f"{LOGS}/{by_port['id']}", admin=True, expect=404)


def test_migration_0026_goes_down_and_up(api, database_url):
    import sqlalchemy as sa
    from alembic import command

    from neutrino.db.session import alembic_config

    make_log(api)
    engine = api.env.db.engine
    config = alembic_config(database_url, engine=engine)
    command.downgrade(config, "0021")
    assert "logs" not in sa.inspect(engine).get_table_names()
    command.upgrade(config, "head")
    assert api.get(LOGS, admin=True, expect=200).json()["logs"] == []

"""The default ``stateful`` of new security groups, per project and system-wide
(extension security-groups-default-statefulness; ``services/sg_default_statefulness.py``)."""

from __future__ import annotations

from conftest import error_type

PATH = "/v2.0/security-groups-default-statefulness"
KEY = "security_groups_default_statefulness"
SG = "/v2.0/security-groups"


def setting(api, expect=201, **kw):
    return api.post(PATH, {KEY: kw.pop("body")}, expect=expect, **kw)


def new_group(api, project="p1", **attrs):
    return api.post(SG, {"security_group": {"name": "g", **attrs}}, project=project,
                    expect=201).json()["security_group"]


def test_a_new_group_takes_its_project_default_then_the_system_wide_one(api):
    assert new_group(api)["stateful"] is True  # nothing set: true
    system = setting(api, admin=True, body={"stateful": False}).json()[KEY]
    assert system["project_id"] is None and system["stateful"] is False
    assert new_group(api)["stateful"] is False
    setting(api, admin=True, body={"project_id": "p1", "stateful": True})
    assert new_group(api)["stateful"] is True and new_group(api, "p2")["stateful"] is False
    assert new_group(api, stateful=False)["stateful"] is False  # the request wins
    api.put(f"{PATH}/{system['id']}", {KEY: {"stateful": True}}, admin=True, expect=200)
    assert new_group(api, "p2")["stateful"] is True
    api.delete(f"{PATH}/{system['id']}", admin=True, expect=204)
    assert len(api.get(PATH, admin=True).json()[KEY]) == 1


def test_one_setting_per_project_and_who_may_change_it(api):
    setting(api, admin=True, body={"stateful": False})
    resp = setting(api, admin=True, expect=409, body={"stateful": True})
    assert error_type(resp) == "SecurityGroupDefaultStatefulnessAlreadyExists"
    # a member is refused by policy; a manager sets only its own project's
    setting(api, expect=403, body={"project_id": "p1", "stateful": False})
    manager = {"X-Project-Id": "p1", "X-Roles": "manager"}
    resp = api.client.post(PATH, json={KEY: {"project_id": "p1", "stateful": False}},
                           headers=manager)
    assert resp.status_code == 201, resp.text
    mine = resp.json()[KEY]
    assert api.client.post(PATH, json={KEY: {"project_id": "p2", "stateful": False}},
                           headers=manager).status_code == 403
    # readers see only their project's setting; others' are hidden
    assert [s["id"] for s in api.get(PATH).json()[KEY]] == [mine["id"]]
    assert api.get(PATH, project="p2").json()[KEY] == []
    api.get(f"{PATH}/{mine['id']}", project="p2", expect=404)
    assert error_type(api.post(PATH, {KEY: {"stateful": "maybe"}}, admin=True,
                               expect=400)) == "InvalidInput"
    assert len(api.get(PATH, admin=True).json()[KEY]) == 2

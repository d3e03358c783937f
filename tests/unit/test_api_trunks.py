"""Trunks through the API (extensions trunk, trunk-details): CRUD, member actions,
Neutron's validation and errors (bad input changes nothing), what a subport becomes
(``trunk:subport``, ``binding:profile`` parent_name/tag as ML2/OVN), the status
following the parent's binding, port deletion rules, and the LSP the sync derives.
"""

from __future__ import annotations

import uuid

from conftest import error_type
from sqlalchemy import select

from neutrino.db.models import OvnOutbox, Port
from neutrino.ovn import desired

TRUNKS = "/v2.0/trunks"


def trunk(api, port_id, subs=(), expect=201, project="p1", **attrs):
    body = {"trunk": {"port_id": port_id, "sub_ports": list(subs), **attrs}}
    resp = api.post(TRUNKS, body, project=project, expect=expect)
    return resp.json()["trunk"] if expect == 201 else resp


def sub(port_id, vlan, seg_type="vlan"):
    return {"port_id": port_id, "segmentation_type": seg_type, "segmentation_id": vlan}


def setup(api, n_subports=2):
    net = api.network()
    api.subnet(net["id"])
    parent = api.port(net["id"])
    other = api.network()
    api.subnet(other["id"], cidr="10.1.0.0/24")
    subs = [api.port(other["id"]) for _ in range(n_subports)]
    return parent, subs


def port(api, port_id):
    return api.get(f"/v2.0/ports/{port_id}", admin=True, expect=200).json()["port"]


def test_create_show_list_update_delete(api):
    parent, (s1, s2) = setup(api)
    t = trunk(api, parent["id"], [sub(s1["id"], 100)], name="t", description="d")
    assert set(t) >= {"id", "name", "description", "project_id", "tenant_id", "admin_state_up",
                      "status", "port_id", "sub_ports", "tags", "created_at", "updated_at",
                      "revision_number"}
    assert (t["port_id"], t["name"], t["description"], t["status"], t["admin_state_up"]) == \
        (parent["id"], "t", "d", "DOWN", True)
    assert t["sub_ports"] == [sub(s1["id"], 100) | {"segmentation_id": 100}]
    assert api.get(f"{TRUNKS}/{t['id']}", expect=200).json()["trunk"] == t
    assert [x["id"] for x in api.get(f"{TRUNKS}?port_id={parent['id']}").json()["trunks"]] == [t["id"]]
    assert api.get(TRUNKS, project="p2").json()["trunks"] == []
    api.get(f"{TRUNKS}/{t['id']}", project="p2", expect=404)
    up = api.put(f"{TRUNKS}/{t['id']}", {"trunk": {"name": "u"}}, expect=200).json()["trunk"]
    assert (up["name"], up["revision_number"]) == ("u", t["revision_number"] + 1)
    api.put(f"{TRUNKS}/{t['id']}", {"trunk": {"port_id": s2["id"]}}, expect=400)
    api.delete(f"{TRUNKS}/{t['id']}", expect=204)
    api.get(f"{TRUNKS}/{t['id']}", expect=404)
    freed = port(api, s1["id"])
    assert (freed["device_owner"], freed["binding:profile"]) == ("", {})


def test_subport_becomes_child_and_parent_shows_trunk_details(api):
    parent, (s1, s2) = setup(api)
    t = trunk(api, parent["id"], [sub(s1["id"], 100)])
    child = port(api, s1["id"])
    assert child["device_owner"] == "trunk:subport"
    assert child["binding:profile"] == {"parent_name": parent["id"], "tag": 100}
    assert child["mac_address"] != parent["mac_address"]  # a different MAC is allowed
    details = port(api, parent["id"])["trunk_details"]
    assert details == {"trunk_id": t["id"], "sub_ports": [
        {"segmentation_id": 100, "segmentation_type": "vlan", "port_id": s1["id"],
         "mac_address": s1["mac_address"]}]}
    assert "trunk_details" not in port(api, s2["id"])
    listed = {p["id"]: p for p in api.get("/v2.0/ports").json()["ports"]}
    assert listed[parent["id"]]["trunk_details"]["trunk_id"] == t["id"]

    added = api.put(f"{TRUNKS}/{t['id']}/add_subports",
                    {"sub_ports": [sub(s2["id"], 200)]}, expect=200).json()
    assert [s["segmentation_id"] for s in added["sub_ports"]] == [100, 200]
    got = api.get(f"{TRUNKS}/{t['id']}/get_subports", expect=200).json()
    assert got == {"sub_ports": added["sub_ports"]}
    removed = api.put(f"{TRUNKS}/{t['id']}/remove_subports",
                      {"sub_ports": [{"port_id": s1["id"]}]}, expect=200).json()
    assert [s["port_id"] for s in removed["sub_ports"]] == [s2["id"]]
    assert port(api, s1["id"])["device_owner"] == ""
    assert "parent_name" not in port(api, s1["id"])["binding:profile"]


def test_validation_errors_change_nothing(api):
    parent, (s1, s2) = setup(api)
    t = trunk(api, parent["id"], [sub(s1["id"], 100)])
    cases = [
        ([sub(s2["id"], 100)], 409, "DuplicateSubPort"),
        ([sub(s2["id"], 0)], 400, "InvalidInput"),
        ([sub(s2["id"], 4095)], 400, "InvalidInput"),
        ([sub(s2["id"], 5, "geneve")], 400, "InvalidInput"),
        ([sub(s2["id"], 5, "inherit")], 400, "InvalidInput"),  # a geneve network's port
        ([{"port_id": s2["id"], "segmentation_type": "vlan"}], 400, "InvalidInput"),
        ([sub(s2["id"], 5), sub(s2["id"], 6)], 400, "InvalidInput"),
        ([{"port_id": "nope"}], 400, "InvalidInput"),
        ([sub(parent["id"], 5)], 409, "ParentPortInUse"),
        ([sub(s1["id"], 5)], 409, "TrunkPortInUse"),
        ([sub(str(uuid.uuid4()), 5)], 404, "PortNotFound"),
    ]
    for subs, status, kind in cases:
        resp = api.put(f"{TRUNKS}/{t['id']}/add_subports", {"sub_ports": subs}, expect=status)
        assert error_type(resp) == kind, subs
    assert api.get(f"{TRUNKS}/{t['id']}").json()["trunk"]["sub_ports"] == t["sub_ports"]
    resp = api.put(f"{TRUNKS}/{t['id']}/remove_subports",
                   {"sub_ports": [{"port_id": s2["id"]}]}, expect=404)
    assert error_type(resp) == "SubPortNotFound"
    # parent already a parent, or a subport
    assert error_type(trunk(api, parent["id"], expect=409)) == "ParentPortInUse"
    assert error_type(trunk(api, s1["id"], expect=409)) == "TrunkPortInUse"
    # create-time body checks are the API layer's (400)
    resp = trunk(api, s2["id"], [sub(s2["id"], 7), sub(s2["id"], 8)], expect=400)
    assert "Non unique UUID" in resp.json()["NeutronError"]["message"]
    # a port with a device cannot be a subport
    net = api.network()
    vm = api.port(net["id"], device_id="vm-1")
    resp = api.put(f"{TRUNKS}/{t['id']}/add_subports", {"sub_ports": [sub(vm["id"], 9)]},
                   expect=409)
    assert error_type(resp) == "PortInUse"


def test_inherit_takes_the_vlan_of_the_subports_network(api):
    vlan, other = (api.network(**{"provider:network_type": "vlan",
                                  "provider:physical_network": "physnet1",
                                  "provider:segmentation_id": v}) for v in (123, 124))
    vlan_port, parent = api.port(vlan["id"]), api.port(other["id"])
    t = trunk(api, parent["id"], [{"port_id": vlan_port["id"], "segmentation_type": "inherit"}])
    assert t["sub_ports"] == [sub(vlan_port["id"], 123)]


def test_mtu_of_subport_above_parent_is_refused(api):
    parent, (s1,) = setup(api, 1)
    small = api.network(mtu=1300)
    small_port = api.port(small["id"])
    resp = trunk(api, small_port["id"], [sub(s1["id"], 5)], expect=409)
    assert error_type(resp) == "SubPortMtuGreaterThanTrunkPortMtu"
    assert trunk(api, parent["id"], [sub(s1["id"], 5)])["sub_ports"]


def test_ports_of_a_trunk_cannot_be_deleted(api):
    parent, (s1,) = setup(api, 1)
    t = trunk(api, parent["id"], [sub(s1["id"], 100)])
    assert error_type(api.delete(f"/v2.0/ports/{parent['id']}", expect=409)) == \
        "PortInUseAsTrunkParent"
    assert error_type(api.delete(f"/v2.0/ports/{s1['id']}", expect=409)) == "PortInUseAsSubPort"
    api.delete(f"{TRUNKS}/{t['id']}", expect=204)
    api.delete(f"/v2.0/ports/{s1['id']}", expect=204)
    api.delete(f"/v2.0/ports/{parent['id']}", expect=204)


def test_disabled_trunk_refuses_changes(api):
    parent, (s1,) = setup(api, 1)
    t = trunk(api, parent["id"], admin_state_up=False)
    for action, body in (("add_subports", {"sub_ports": [sub(s1["id"], 5)]}),
                         ("remove_subports", {"sub_ports": [{"port_id": s1["id"]}]})):
        resp = api.put(f"{TRUNKS}/{t['id']}/{action}", body, expect=409)
        assert error_type(resp) == "TrunkDisabled"
    assert error_type(api.delete(f"{TRUNKS}/{t['id']}", expect=409)) == "TrunkDisabled"


def test_status_follows_parent_binding_and_subports_take_its_host(api):
    parent, (s1,) = setup(api, 1)
    t = trunk(api, parent["id"], [sub(s1["id"], 100)])
    assert t["status"] == "DOWN"
    api.put(f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": "hv1"}}, admin=True,
            expect=200)
    assert api.get(f"{TRUNKS}/{t['id']}").json()["trunk"]["status"] == "ACTIVE"
    assert port(api, s1["id"])["binding:host_id"] == "hv1"
    api.put(f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": ""}}, admin=True,
            expect=200)
    assert api.get(f"{TRUNKS}/{t['id']}").json()["trunk"]["status"] == "DOWN"
    assert port(api, s1["id"])["binding:host_id"] == ""


def test_tags_and_outbox(api):
    parent, (s1,) = setup(api, 1)
    t = trunk(api, parent["id"], [sub(s1["id"], 100)])
    api.put(f"{TRUNKS}/{t['id']}/tags", {"tags": ["a"]}, expect=200)
    assert api.get(f"{TRUNKS}/{t['id']}").json()["trunk"]["tags"] == ["a"]
    queued = api.env.db.run(lambda s: {(r.resource_type, r.resource_id)
                                       for r in s.scalars(select(OvnOutbox))}, write=False)
    assert ("port", s1["id"]) in queued


def test_desired_lsp_of_a_subport_is_a_child_port(api):
    parent, (s1,) = setup(api, 1)
    trunk(api, parent["id"], [sub(s1["id"], 100)])
    rows = api.env.db.run(lambda s: {p.id: p for p in s.scalars(select(Port))}, write=False)
    child = desired.desired_lsp(rows[s1["id"]], [], {})
    assert (child.parent_name, child.tag_request) == (parent["id"], 100)
    plain = desired.desired_lsp(rows[parent["id"]], [], {})
    assert (plain.parent_name, plain.tag_request) == (None, None)


def test_child_lsp_requests_no_chassis_and_follows_a_live_migration(api):
    parent, (s1,) = setup(api, 1)
    api.put(f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": "hv1",
                                                     "device_owner": "compute:nova"}},
            admin=True, expect=200)
    trunk(api, parent["id"], [sub(s1["id"], 100)])
    rows = api.env.db.run(lambda s: {p.id: p for p in s.scalars(select(Port))}, write=False)
    assert desired.desired_lsp(rows[s1["id"]], [], {}).options == {"requested-chassis": ""}
    assert desired.desired_lsp(rows[parent["id"]], [], {}).options == {"requested-chassis": "hv1"}
    bindings = f"/v2.0/ports/{parent['id']}/bindings"
    nova = {"project": None, "headers": {"X-Project-Id": "nova", "X-Roles": "service"}}
    api.post(bindings, {"binding": {"host": "hv2"}}, expect=201, **nova)
    api.put(f"{bindings}/hv2/activate", {}, expect=200, **nova)
    assert port(api, s1["id"])["binding:host_id"] == "hv2"


def test_subport_segmentation_that_is_a_list_or_object(api):
    """A ``segmentation_type`` or ``segmentation_id`` that is a list or an object
    answered 500 (unhashable in the uniqueness check); it is InvalidInput, as other
    malformed subport details, on add/remove_subports and on create."""
    parent, subs = setup(api, 1)
    t = trunk(api, parent["id"])
    for bad in ({"segmentation_type": {"k": 1}, "segmentation_id": 100},
                {"segmentation_type": "vlan", "segmentation_id": [100]}):
        body = {"sub_ports": [{"port_id": subs[0]["id"], **bad}]}
        for action in ("add_subports", "remove_subports"):
            resp = api.put(f"{TRUNKS}/{t['id']}/{action}", body, expect=400)
            assert error_type(resp) == "InvalidInput"
        assert error_type(trunk(api, parent["id"], [body["sub_ports"][0]], expect=400)) \
            == "InvalidInput"
    assert api.get(f"{TRUNKS}/{t['id']}", expect=200).json()["trunk"]["sub_ports"] == []

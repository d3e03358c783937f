"""Network RBAC policies through the API (extension ``rbac-policies``, reference A.5, B.9).

Projects: p1 owns the network, p2 is the target, p3 a bystander; ``admin=True``
is an admin of the caller's project.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from conftest import error_type

from neutrino.db.session import alembic_config

RBAC = "/v2.0/rbac-policies"


def policy(api, network_id, target="p2", action="access_as_shared", project="p1", admin=False,
           expect=201, **attrs):
    body = {"rbac_policy": {"object_type": "network", "object_id": network_id, "action": action,
                            "target_tenant": target, **attrs}}
    resp = api.post(RBAC, body, project=project, admin=admin, expect=expect)
    return resp.json()["rbac_policy"] if expect == 201 else resp


def network_ids(api, project, query=""):
    return {n["id"] for n in api.get(f"/v2.0/networks{query}", project=project).json()["networks"]}


def test_create_show_list_update_delete(api):
    net = api.network()
    assert "rbac-policies" in {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    pol = policy(api, net["id"])
    assert set(pol) == {"id", "project_id", "tenant_id", "object_type", "object_id", "action",
                        "target_tenant"}
    assert (pol["project_id"], pol["tenant_id"], pol["object_type"], pol["object_id"],
            pol["action"], pol["target_tenant"]) == ("p1", "p1", "network", net["id"],
                                                     "access_as_shared", "p2")
    assert api.get(f"{RBAC}/{pol['id']}", expect=200).json()["rbac_policy"] == pol
    other = api.network(name="other")
    pol2 = policy(api, other["id"], target="p3")
    listed = api.get(RBAC, expect=200).json()["rbac_policies"]
    assert {p["id"] for p in listed} == {pol["id"], pol2["id"]}
    # Neutron's filters, fields, sorting and paging
    assert [p["id"] for p in api.get(f"{RBAC}?target_tenant=p3").json()["rbac_policies"]] == [pol2["id"]]
    assert [p["id"] for p in api.get(f"{RBAC}?object_id={net['id']}").json()["rbac_policies"]] == [pol["id"]]
    assert api.get(f"{RBAC}?object_type=qos_policy").json()["rbac_policies"] == []
    assert api.get(f"{RBAC}?fields=target_tenant&sort_key=target_tenant&sort_dir=desc"
                   ).json()["rbac_policies"] == [{"target_tenant": "p3"}, {"target_tenant": "p2"}]
    page = api.get(f"{RBAC}?limit=1&sort_key=target_tenant").json()
    assert [p["id"] for p in page["rbac_policies"]] == [pol["id"]]
    assert page["rbac_policies_links"][0]["rel"] == "next"
    api.get(f"{RBAC}?bogus=1", expect=400)
    # only target_tenant may change
    upd = api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "p4"}},
                  expect=200).json()["rbac_policy"]
    assert upd == {**pol, "target_tenant": "p4"}
    api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"action": "access_as_external"}}, expect=400)
    api.delete(f"{RBAC}/{pol['id']}", expect=204)
    resp = api.get(f"{RBAC}/{pol['id']}", expect=404)
    assert error_type(resp) == "RbacPolicyNotFound"
    api.delete(f"{RBAC}/{pol['id']}", expect=404)


def test_a_policy_is_seen_by_its_project_and_admins(api):
    net = api.network()
    pol = policy(api, net["id"])
    for project in ("p2", "p3"):
        api.get(f"{RBAC}/{pol['id']}", project=project, expect=404)
        assert api.get(RBAC, project=project).json()["rbac_policies"] == []
        api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": project}},
                project=project, expect=404)
        api.delete(f"{RBAC}/{pol['id']}", project=project, expect=404)
    api.get(f"{RBAC}/{pol['id']}", project="p3", admin=True, expect=200)


def test_bad_requests(api):
    net = api.network()
    resp = policy(api, net["id"], object_type="address_book", expect=400)
    assert "'address_book' is not a valid RBAC object type" in resp.json()["NeutronError"]["message"]
    resp = policy(api, net["id"], action="access_as_owner", expect=400)
    assert error_type(resp) == "InvalidActionForType"
    assert policy(api, "not-a-uuid", expect=400)
    resp = api.post(RBAC, {"rbac_policy": {"object_type": "network", "object_id": net["id"],
                                           "action": "access_as_shared"}}, expect=400)
    assert "'target_tenant' not specified" in resp.json()["NeutronError"]["message"]
    # a network the caller cannot see, or does not exist
    assert error_type(policy(api, net["id"], project="p2", target="p3", expect=404)) == "NetworkNotFound"
    policy(api, "11111111-2222-3333-4444-555555555555", expect=404)
    # seen (shared to p2) but not owned: only admins manipulate policies on it
    policy(api, net["id"])
    resp = policy(api, net["id"], project="p2", target="p3", expect=400)
    assert "Only admins" in resp.json()["NeutronError"]["message"]
    # the same policy twice
    assert error_type(policy(api, net["id"], expect=409)) == "DuplicateRbacPolicy"
    # admins may act on any network, and for another project
    pol = policy(api, net["id"], target="p3", project="ops", admin=True, project_id="p1")
    assert pol["project_id"] == "p1"


def test_sharing_to_a_project_makes_the_network_usable_there(api):
    net = api.network()
    sub = api.subnet(net["id"])
    api.get(f"/v2.0/networks/{net['id']}", project="p2", expect=404)
    api.get(f"/v2.0/subnets/{sub['id']}", project="p2", expect=404)
    api.post("/v2.0/ports", {"port": {"network_id": net["id"]}}, project="p2", expect=404)
    assert net["id"] not in network_ids(api, "p2")

    policy(api, net["id"])
    seen = api.get(f"/v2.0/networks/{net['id']}", project="p2", expect=200).json()["network"]
    assert seen["shared"] is True  # shared as the caller sees it
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False  # owner
    assert net["id"] in network_ids(api, "p2") and net["id"] in network_ids(api, "p2", "?shared=true")
    assert net["id"] not in network_ids(api, "p2", "?shared=false")
    assert net["id"] in network_ids(api, "p1", "?shared=false")
    assert net["id"] not in network_ids(api, "p3")
    api.get(f"/v2.0/networks/{net['id']}", project="p3", expect=404)
    assert [s["id"] for s in api.get("/v2.0/subnets", project="p2").json()["subnets"]] == [sub["id"]]
    api.get(f"/v2.0/subnets/{sub['id']}", project="p3", expect=404)

    port = api.port(net["id"], project="p2", fixed_ips=[{"subnet_id": sub["id"]}])
    assert port["project_id"] == "p2" and port["fixed_ips"][0]["subnet_id"] == sub["id"]
    resp = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [
        {"ip_address": "10.0.0.77"}]}}, project="p2", expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    api.post("/v2.0/ports", {"port": {"network_id": net["id"]}}, project="p3", expect=404)
    # the network owner still may not change or delete it from p2
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"name": "x"}}, project="p2", expect=403)


def test_removing_access_in_use_is_refused(api):
    net = api.network()
    api.subnet(net["id"])
    pol = policy(api, net["id"])
    port = api.port(net["id"], project="p2")
    resp = api.delete(f"{RBAC}/{pol['id']}", expect=409)
    assert error_type(resp) == "RbacPolicyInUse"
    assert net["id"] in resp.json()["NeutronError"]["message"]
    resp = api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "p3"}}, expect=409)
    assert error_type(resp) == "RbacPolicyInUse"
    # ports of the network's owner and of other projects do not depend on it
    api.port(net["id"])
    other = policy(api, net["id"], target="p3")
    api.delete(f"{RBAC}/{other['id']}", expect=204)
    # a '*' entry keeps everyone's access
    star = policy(api, net["id"], target="*", admin=True)
    api.delete(f"{RBAC}/{pol['id']}", expect=204)
    # ...and now p2's port depends on the '*' entry
    assert error_type(api.delete(f"{RBAC}/{star['id']}", admin=True, expect=409)) == "RbacPolicyInUse"
    assert error_type(api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": False}},
                              admin=True, expect=409)) == "InvalidSharedSetting"
    pol = policy(api, net["id"])  # p2 named again: '*' may go
    api.delete(f"{RBAC}/{star['id']}", admin=True, expect=204)
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": True}}, admin=True, expect=200)
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": False}}, admin=True, expect=200)
    api.delete(f"/v2.0/ports/{port['id']}", project="p2", expect=204)
    api.delete(f"{RBAC}/{pol['id']}", expect=204)
    api.get(f"/v2.0/networks/{net['id']}", project="p2", expect=404)


def test_wildcard_needs_admin_and_mirrors_shared(api):
    net = api.network()
    resp = policy(api, net["id"], target="*", expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    assert "create_rbac_policy:target_tenant" in resp.json()["NeutronError"]["message"]
    pol = policy(api, net["id"])
    api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "*"}}, expect=403)

    star = policy(api, net["id"], target="*", admin=True)
    got = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert got["shared"] is True and got["revision_number"] == net["revision_number"] + 1
    assert api.get(f"/v2.0/networks/{net['id']}", project="p3").json()["network"]["shared"] is True
    api.delete(f"{RBAC}/{star['id']}", admin=True, expect=204)
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False
    api.get(f"/v2.0/networks/{net['id']}", project="p3", expect=404)
    # retargeting to '*' (admin) shares it with everyone, and back
    api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "*"}}, admin=True, expect=200)
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is True
    api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "p2"}}, admin=True, expect=200)
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False


def test_network_shared_flag_creates_and_deletes_the_wildcard_entry(api):
    def entries(net_id):
        return sorted((p["action"], p["target_tenant"], p["project_id"]) for p in api.get(
            f"{RBAC}?object_id={net_id}", admin=True).json()["rbac_policies"])

    net = api.network(project="p1", shared=True)
    assert entries(net["id"]) == [("access_as_shared", "*", "p1")]
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": False}}, admin=True, expect=200)
    assert entries(net["id"]) == []
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": True}}, admin=True, expect=200)
    assert entries(net["id"]) == [("access_as_shared", "*", "p1")]
    # the '*' entry is the owner's: p1 sees it and deleting it unshares the network
    [star] = api.get(RBAC).json()["rbac_policies"]
    api.delete(f"{RBAC}/{star['id']}", expect=204)
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False

    ext = api.network(project="p1", **{"router:external": True})
    assert entries(ext["id"]) == [("access_as_external", "*", "p1")]
    api.put(f"/v2.0/networks/{ext['id']}", {"network": {"router:external": False}}, admin=True,
            expect=200)
    assert entries(ext["id"]) == []
    # the networks' rows go with their entries
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": True}}, admin=True, expect=200)
    api.delete(f"/v2.0/networks/{net['id']}", expect=204)
    assert entries(net["id"]) == []


def test_access_as_external_allows_gateways_and_floating_ips_only(api):
    ext = api.network(project="p1", name="public")
    sub = api.subnet(ext["id"], "172.24.4.0/24", enable_dhcp=False)
    pol = policy(api, ext["id"], action="access_as_external")
    seen = api.get(f"/v2.0/networks/{ext['id']}", project="p2", expect=200).json()["network"]
    assert seen["router:external"] is True and seen["shared"] is False
    # the owner sees it external as long as an entry exists (Neutron: per network)
    assert api.get(f"/v2.0/networks/{ext['id']}").json()["network"]["router:external"] is True
    assert ext["id"] in network_ids(api, "p2", "?router:external=true")
    assert ext["id"] not in network_ids(api, "p2", "?router:external=false")
    api.get(f"/v2.0/networks/{ext['id']}", project="p3", expect=404)
    # not a network for ports or subnets of p2
    api.post("/v2.0/ports", {"port": {"network_id": ext["id"]}}, project="p2", expect=403)
    api.get(f"/v2.0/subnets/{sub['id']}", project="p2", expect=404)

    router = api.post("/v2.0/routers", {"router": {"name": "r", "external_gateway_info": {
        "network_id": ext["id"]}}}, project="p2", expect=201).json()["router"]
    assert router["external_gateway_info"]["network_id"] == ext["id"]
    # p3 cannot see the network at all: 404, as Neutron's get_network in p3's context
    resp = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": ext["id"]}}}, project="p3", expect=404)
    assert error_type(resp) == "NetworkNotFound"
    fip = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": ext["id"]}},
                   project="p2", expect=201).json()["floatingip"]
    resp = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": ext["id"]}},
                    project="p3", expect=404)
    assert error_type(resp) == "NetworkNotFound"

    resp = api.delete(f"{RBAC}/{pol['id']}", expect=409)
    assert error_type(resp) == "RbacPolicyInUse"
    api.put(f"{RBAC}/{pol['id']}", {"rbac_policy": {"target_tenant": "p3"}}, expect=409)
    api.delete(f"/v2.0/floatingips/{fip['id']}", project="p2", expect=204)
    api.delete(f"{RBAC}/{pol['id']}", expect=409)  # the router's gateway still uses it
    api.put(f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": {}}},
            project="p2", expect=200)
    api.delete(f"{RBAC}/{pol['id']}", expect=204)
    api.get(f"/v2.0/networks/{ext['id']}", project="p2", expect=404)
    assert api.get(f"/v2.0/networks/{ext['id']}").json()["network"]["router:external"] is False


def test_external_wildcard_mirrors_router_external(api):
    net = api.network(project="p1")
    star = policy(api, net["id"], target="*", action="access_as_external", admin=True)
    got = api.get(f"/v2.0/networks/{net['id']}", project="p3", expect=200).json()["network"]
    assert got["router:external"] is True
    api.subnet(net["id"], "172.24.4.0/24", enable_dhcp=False)
    api.post("/v2.0/routers", {"router": {"external_gateway_info": {"network_id": net["id"]}}},
             project="p3", expect=201)
    # p3's gateway depends on the '*' entry; an entry naming p3 lets it go
    assert error_type(api.delete(f"{RBAC}/{star['id']}", admin=True, expect=409)) == "RbacPolicyInUse"
    policy(api, net["id"], target="p3", action="access_as_external")
    api.delete(f"{RBAC}/{star['id']}", admin=True, expect=204)
    assert api.get(f"/v2.0/networks/{net['id']}", project="p2", expect=404)
    assert api.get(f"/v2.0/networks/{net['id']}", project="p3").json()["network"]["router:external"]
    assert net["id"] in network_ids(api, "p1", "?router:external=true")


def test_rbac_policy_quota(api):
    net = api.network()
    assert api.get("/v2.0/quotas/p1").json()["quota"]["rbac_policy"] == 10
    api.put("/v2.0/quotas/p1", {"quota": {"rbac_policy": 1}}, admin=True, expect=200)
    policy(api, net["id"])
    assert error_type(policy(api, net["id"], target="p3", expect=409)) == "OverQuota"
    details = api.get("/v2.0/quotas/p1/details").json()["quota"]["rbac_policy"]
    assert details == {"limit": 1, "used": 1, "reserved": 0}


def subnet_ids(api, project, query="", admin=False):
    return {s["id"] for s in api.get(f"/v2.0/subnets{query}", project=project,
                                     admin=admin, expect=200).json()["subnets"]}


def test_subnets_filter_on_their_networks_shared_flag(api):
    priv = api.subnet(api.network(project="p1")["id"], project="p1")
    shared_net = api.network(project="p9", shared=True)
    shared = api.subnet(shared_net["id"], "10.1.0.0/24", project="p9")
    named_net = api.network(project="p9")
    named = api.subnet(named_net["id"], "10.2.0.0/24", project="p9")
    policy(api, named_net["id"], target="p1", project="p9")
    assert "shared" not in api.get(f"/v2.0/subnets/{shared['id']}").json()["subnet"]
    assert subnet_ids(api, "p1", "?shared=true") == {shared["id"], named["id"]}
    assert subnet_ids(api, "p1", "?shared=False") == {priv["id"]}
    assert subnet_ids(api, "p1", "?shared=true&shared=false") == {priv["id"], shared["id"],
                                                                  named["id"]}
    # the admin sees `shared` as its own project does: only `*` entries count for it
    assert subnet_ids(api, "p7", "?shared=True", admin=True) == {shared["id"]}
    assert subnet_ids(api, "p7", "?shared=0", admin=True) == {priv["id"], named["id"]}
    resp = api.get("/v2.0/subnets?shared=maybe", expect=400)
    assert error_type(resp) == "InvalidInput"


def test_gateway_on_an_external_network_without_subnets_has_no_address(api):
    net = api.network(project="p1")
    policy(api, net["id"], target="p2", action="access_as_external")
    router = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": net["id"]}}}, project="p2", expect=201).json()["router"]
    info = router["external_gateway_info"]
    assert info["network_id"] == net["id"] and info["external_fixed_ips"] == []
    # a visible network that is not external to p3 is a bad request, not a 404
    shared = api.network(project="p1", shared=True)
    resp = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": shared["id"]}}}, project="p3", expect=400)
    assert error_type(resp) == "BadRequest"


def test_is_default_external_network(api):
    ext = api.network(project="p1", **{"router:external": True})
    assert ext["is_default"] is False
    plain = api.network(project="p1")
    path = f"/v2.0/networks/{ext['id']}"
    resp = api.put(path, {"network": {"is_default": True}}, expect=403)  # admin only
    assert error_type(resp) == "PolicyNotAuthorized"
    got = api.put(path, {"network": {"is_default": True}}, admin=True, expect=200).json()
    assert got["network"]["is_default"] is True
    assert api.get(path, project="p2").json()["network"]["is_default"] is True
    assert {n["id"] for n in api.get("/v2.0/networks?is_default=true", admin=True)
            .json()["networks"]} == {ext["id"]}
    # at most one default; a network that is not external does not keep the flag
    second = api.network(project="p1", **{"router:external": True})
    resp = api.put(f"/v2.0/networks/{second['id']}", {"network": {"is_default": True}},
                   admin=True, expect=409)
    assert error_type(resp) == "DefaultExternalNetworkExists"
    got = api.put(f"/v2.0/networks/{plain['id']}", {"network": {"is_default": False}},
                  admin=True, expect=200).json()["network"]
    assert got["is_default"] is False
    # the default's `*` external entry cannot go
    star = api.get(f"{RBAC}?object_id={ext['id']}&action=access_as_external", admin=True
                   ).json()["rbac_policies"][0]
    assert star["target_tenant"] == "*"
    resp = api.delete(f"{RBAC}/{star['id']}", admin=True, expect=409)
    assert error_type(resp) == "RbacPolicyInUse" and "shared to everyone" in resp.text
    # no longer external: no longer the default
    got = api.put(path, {"network": {"router:external": False}}, admin=True, expect=200).json()
    assert got["network"]["is_default"] is False
    api.put(f"/v2.0/networks/{second['id']}", {"network": {"is_default": True}}, admin=True,
            expect=200)


def test_migration_0014_goes_down_and_up(api, database_url):
    net = api.network(project="p1", **{"router:external": True})
    engine = api.env.db.engine
    config = alembic_config(database_url, engine=engine)
    command.downgrade(config, "0013")
    assert "is_default" not in {c["name"] for c in sa.inspect(engine).get_columns("networks")}
    command.upgrade(config, "head")
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["is_default"] is False

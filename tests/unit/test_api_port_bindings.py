"""Extension binding-extended (``/v2.0/ports/{id}/bindings``, Nova's live migration):
endpoints, statuses, errors and policy as Neutron's ML2 plugin, and the LSP options the
NB sync derives during a migration (``ovn.load`` + ``ovn.desired.chassis_options``)."""

from __future__ import annotations

import pytest

from neutrino.ovn import load
from neutrino.services import ports
from tests.unit.conftest import error_type

SERVICE = {"X-Project-Id": "nova", "X-Roles": "service"}


def call(api, method, path, body=None, *, expect, headers=SERVICE):
    kw = {"json": body} if body is not None else {}
    return api.request(method, path, project=None, headers=headers, expect=expect, **kw)


@pytest.fixture
def vm_port(api):
    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], device_owner="compute:nova", device_id="vm1")
    call(api, "PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "hostA"}},
         expect=200)
    return port


def bindings_path(port, *rest):
    return "/".join([f"/v2.0/ports/{port['id']}/bindings", *rest])


def lsp_options(api, port_id):
    _, desired = api.env.db.run(lambda s: load.load_resources(
        s, [("port", port_id)], base_mac=api.env.settings.base_mac, lease_time=60),
        write=False)
    return desired.ports[port_id].options


def test_list_shows_the_active_binding(api, vm_port):
    got = call(api, "GET", bindings_path(vm_port), expect=200).json()
    assert got == {"bindings": [{
        "host": "hostA", "vif_type": "ovs", "vif_details": {"port_filter": True,
                                                            "connectivity": "l2"},
        "vnic_type": "normal", "profile": {}, "status": "ACTIVE"}]}
    assert lsp_options(api, vm_port["id"]) == {"requested-chassis": "hostA"}


def test_live_migration_create_activate_delete(api, vm_port):
    created = call(api, "POST", bindings_path(vm_port),
                   {"binding": {"host": "hostB", "profile": {"os_vif_delegation": True}}},
                   expect=201).json()["binding"]
    assert created["status"] == "INACTIVE" and created["host"] == "hostB"
    assert created["vif_type"] == "ovs" and created["profile"] == {"os_vif_delegation": True}
    # OVN binds the port on both chassis; the destination waits for a RARP (ML2/OVN)
    assert lsp_options(api, vm_port["id"]) == {"requested-chassis": "hostA,hostB",
                                               "activation-strategy": "rarp"}
    listed = call(api, "GET", bindings_path(vm_port), expect=200).json()["bindings"]
    assert [(b["host"], b["status"]) for b in listed] == [("hostA", "ACTIVE"),
                                                          ("hostB", "INACTIVE")]
    filtered = call(api, "GET", bindings_path(vm_port) + "?status=INACTIVE&fields=host",
                    expect=200).json()
    assert filtered == {"bindings": [{"host": "hostB"}]}
    assert call(api, "GET", bindings_path(vm_port, "hostB"), expect=200).json()[
        "binding"] == created

    active = call(api, "PUT", bindings_path(vm_port, "hostB", "activate"), expect=200).json()
    assert active["binding"]["status"] == "ACTIVE" and active["binding"]["host"] == "hostB"
    port = api.get(f"/v2.0/ports/{vm_port['id']}", admin=True, expect=200).json()["port"]
    assert port["binding:host_id"] == "hostB" and port["status"] == "DOWN"
    assert port["binding:profile"] == {"os_vif_delegation": True}
    old = call(api, "GET", bindings_path(vm_port, "hostA"), expect=200).json()["binding"]
    assert (old["status"], old["vif_type"], old["vif_details"]) == ("INACTIVE", "unbound", {})
    assert lsp_options(api, vm_port["id"]) == {"requested-chassis": "hostB"}

    call(api, "DELETE", bindings_path(vm_port, "hostA"), expect=204)
    assert [b["host"] for b in call(api, "GET", bindings_path(vm_port),
                                    expect=200).json()["bindings"]] == ["hostB"]


def test_errors_are_neutrons(api, vm_port):
    body = {"binding": {"host": "hostB"}}
    call(api, "POST", bindings_path(vm_port), body, expect=201)
    resp = call(api, "POST", bindings_path(vm_port), body, expect=409)
    assert error_type(resp) == "PortBindingAlreadyExists"
    resp = call(api, "POST", bindings_path(vm_port), {"binding": {"host": "hostA"}}, expect=409)
    assert error_type(resp) == "PortBindingAlreadyExists"
    resp = call(api, "PUT", bindings_path(vm_port, "hostA", "activate"), expect=409)
    assert error_type(resp) == "PortBindingAlreadyActive"
    assert "hostA is already active" in resp.json()["NeutronError"]["message"]
    resp = call(api, "PUT", bindings_path(vm_port, "hostC", "activate"), expect=404)
    assert error_type(resp) == "PortBindingNotFound"
    resp = call(api, "GET", bindings_path(vm_port, "hostC"), expect=404)
    assert error_type(resp) == "PortBindingNotFound"
    # the active binding stays: unbinding is a port update (Neutron would drop the row)
    resp = call(api, "DELETE", bindings_path(vm_port, "hostA"), expect=409)
    assert error_type(resp) == "PortBindingAlreadyActive"
    call(api, "DELETE", bindings_path(vm_port, "hostC"), expect=204)  # nothing there
    resp = call(api, "POST", bindings_path(vm_port), {"binding": {"vnic_type": "normal"}},
                expect=400)
    resp = call(api, "POST", bindings_path(vm_port), {"binding": {"host": "h", "vnic_type": "x"}},
                expect=400)
    assert error_type(resp) == "InvalidInput"
    resp = call(api, "POST", bindings_path(vm_port), {"binding": {"host": "h", "status": "ACTIVE"}},
                expect=400)
    resp = call(api, "GET", "/v2.0/ports/00000000-0000-0000-0000-000000000000/bindings",
                expect=404)
    assert error_type(resp) == "PortNotFound"
    # bad input changed nothing
    assert [b["host"] for b in call(api, "GET", bindings_path(vm_port),
                                    expect=200).json()["bindings"]] == ["hostA", "hostB"]


def test_only_compute_ports_have_bindings(api):
    net = api.network()
    port = api.port(net["id"])
    resp = call(api, "GET", bindings_path(port), expect=400)
    assert error_type(resp) == "BadRequest" and "compute" in resp.text


def test_policy_reads_for_admin_and_service_writes_for_service(api, vm_port):
    api.get(bindings_path(vm_port), admin=True, expect=200)
    resp = api.get(bindings_path(vm_port), expect=403)
    assert error_type(resp) == "PolicyNotAuthorized"
    for method, path in (("POST", bindings_path(vm_port)),
                         ("PUT", bindings_path(vm_port, "hostA", "activate")),
                         ("DELETE", bindings_path(vm_port, "hostB"))):
        body = {"json": {"binding": {"host": "hostB"}}} if method == "POST" else {}
        api.request(method, path, admin=True, expect=403, **body)


def test_update_binding_profile(api, vm_port):
    call(api, "POST", bindings_path(vm_port), {"binding": {"host": "hostB"}}, expect=201)
    got = call(api, "PUT", bindings_path(vm_port, "hostB"),
               {"binding": {"profile": {"pci_slot": "0000:05:00.1"}}}, expect=200).json()
    assert got["binding"]["profile"] == {"pci_slot": "0000:05:00.1"}
    assert got["binding"]["status"] == "INACTIVE"


def test_migrating_to_in_profile_asks_for_both_chassis(api, vm_port):
    # what Nova writes on the active binding and ML2/OVN reads (ovn_const.MIGRATING_ATTR)
    call(api, "PUT", f"/v2.0/ports/{vm_port['id']}",
         {"port": {"binding:profile": {"migrating_to": "hostC"}}}, expect=200)
    assert lsp_options(api, vm_port["id"]) == {"requested-chassis": "hostA,hostC",
                                               "activation-strategy": "rarp"}


def test_status_watcher_keeps_the_active_host_during_migration(api, vm_port):
    call(api, "POST", bindings_path(vm_port), {"binding": {"host": "hostB"}}, expect=201)
    call(api, "PUT", bindings_path(vm_port, "hostB", "activate"), expect=200)
    # the source chassis still claims the port until the NB change reaches it
    assert ports.set_port_binding_state(api.env, vm_port["id"], up=True, chassis_host="hostA")
    port = api.get(f"/v2.0/ports/{vm_port['id']}", admin=True, expect=200).json()["port"]
    assert port["binding:host_id"] == "hostB" and port["status"] == "ACTIVE"
    assert ports.set_port_binding_state(api.env, vm_port["id"], up=True, chassis_host="hostB")
    assert lsp_options(api, vm_port["id"]) == {"requested-chassis": "hostB"}


def test_extension_advertised(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions", expect=200).json()["extensions"]}
    assert {"binding-extended", "port-mac-address-regenerate", "port-trusted-vif",
            "port-device-profile", "port-numa-affinity-policy",
            "port-numa-affinity-policy-socket", "uplink-status-propagation",
            "uplink-status-propagation-updatable"} <= aliases

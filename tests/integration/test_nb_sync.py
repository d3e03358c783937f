"""The NB sync (neutrino.ovn) against a real OVN northbound ovsdb-server.

Resources are made through ``neutrino.services`` on a fresh migrated SQLite
database per test, so the outbox rows are the real ones; ``run_once`` /
``run_forever`` / ``audit`` then write the lab's NB. The ``ovn_lab``
deployment is shared with other modules: every NB row a test makes (switches
``neutron-<random uuid>``, DHCP rows of its subnets, hand-made rows named with
the run prefix) is removed after it, and the audits, which look at the whole
NB, only run when no other test's neutron-owned rows are there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import pytest
import wire
from ovsdbapp.backend.ovs_idl import event as row_event

from sqlalchemy import func, select

from neutrino.db.models import OvnOutbox
from neutrino.lab.daemons import wait_until
from neutrino.ovn import apply, idl
from neutrino.ovn.rows import derived_mac
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import common, listing, networks, ports, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")
BASE_MAC = "fa:16:3e:00:00:00"


# --- fixtures -------------------------------------------------------------------

@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


# --- helpers --------------------------------------------------------------------

def make_network(env: Env, name: str = "net", cidr: str = "10.0.0.0/24",
                 **subnet_attrs) -> tuple[dict, dict]:
    """A network with one subnet, through the services."""
    net = wire.create("network", env, ADMIN, [{"name": name}])[0]
    version = 6 if ":" in cidr else 4
    sub = wire.create("subnet", env, ADMIN, [{"network_id": net["id"], "cidr": cidr,
                                               "ip_version": version, **subnet_attrs}])[0]
    return net, sub


def make_ports(env: Env, network_id: str, count: int = 1, **attrs) -> list[dict]:
    return wire.create("port", env, ADMIN, [{"network_id": network_id, **attrs}
                                           for _ in range(count)])


def drain(sync: NorthboundSync) -> int:
    """run_once until the outbox is empty; the number of rows consumed."""
    total = 0
    while (done := sync.run_once()):
        total += done
    return total


def outbox_size(env: Env) -> int:
    return env.db.run(lambda s: s.scalar(select(func.count()).select_from(OvnOutbox)), write=False)


def ls(nb, network_id: str):
    return nb.lookup("Logical_Switch", f"neutron-{network_id}", default=None)


def vif_names(nb, network_id: str) -> list[str]:
    """Sorted names of the switch's LSPs but its metadata port (a localport the
    subnet made, reference C.4)."""
    return sorted(p.name for p in ls(nb, network_id).ports if p.type != "localport")


def lsp(nb, port_id: str):
    return nb.lookup("Logical_Switch_Port", port_id, default=None)


def dhcp_rows(nb, subnet_id: str) -> list:
    with nb.ovsdb_connection.lock:
        return [r for r in nb.tables["DHCP_Options"].rows.values()
                if r.external_ids.get("subnet_id") == subnet_id]


def entry(port: dict) -> str:
    return " ".join([port["mac_address"], *(f["ip_address"] for f in port["fixed_ips"])])


# --- outbox -> NB -----------------------------------------------------------------

def test_network_subnet_and_port_become_switch_lsp_and_dhcp_options(env, nb, sync):
    net, sub = make_network(env, "blue", dns_nameservers=["10.0.0.53"],
                            host_routes=[{"destination": "192.168.5.0/24",
                                          "nexthop": "10.0.0.254"}])
    port = make_ports(env, net["id"], name="vm1", device_id="vm-1", device_owner="compute:nova")[0]

    # network; subnet, network and metadata port; port (and whatever else the port
    # brings): one batch, one transaction
    pending = outbox_size(env)
    assert pending >= 5 and drain(sync) == pending and sync.stats.nb_transactions == 1

    switch = ls(nb, net["id"])
    assert switch.external_ids["neutron:network_name"] == "blue"
    assert switch.external_ids["neutron:mtu"] == "1442"
    row = lsp(nb, port["id"])
    assert row in switch.ports
    assert row.addresses == [entry(port)] and row.port_security == [entry(port)]
    assert row.enabled == [True] and row.type == ""
    assert row.external_ids["neutron:cidrs"] == f"{port['fixed_ips'][0]['ip_address']}/24"
    assert row.external_ids["neutron:device_owner"] == "compute:nova"
    [dhcp] = dhcp_rows(nb, sub["id"])
    assert row.dhcpv4_options[0].uuid == dhcp.uuid
    assert dhcp.cidr == "10.0.0.0/24"
    # the metadata port (reference C.4, D.4, D.7): a localport at the first pool address,
    # where option 121 routes 169.254.169.254 first
    [meta] = wire.listed(env, ADMIN, "port", listing.ListQuery(
        filters={"device_owner": ["network:distributed"], "network_id": [net["id"]]}))
    assert meta["device_id"] == f"ovnmeta-{net['id']}"
    assert [f["ip_address"] for f in meta["fixed_ips"]] == ["10.0.0.2"]
    meta_lsp = lsp(nb, meta["id"])
    assert meta_lsp.type == "localport" and meta_lsp.port_security == []
    assert meta_lsp.dhcpv4_options == []
    assert dhcp.options == {
        "server_id": "10.0.0.1", "server_mac": derived_mac(BASE_MAC, sub["id"]),
        "lease_time": "43200", "mtu": "1442", "router": "10.0.0.1", "dns_server": "{10.0.0.53}",
        "classless_static_route": "{169.254.169.254/32,10.0.0.2, 192.168.5.0/24,10.0.0.254, "
                                  "0.0.0.0/0,10.0.0.1}"}
    assert outbox_size(env) == 0


def test_applying_the_same_resources_again_changes_nothing(env, nb, sync):
    net, sub = make_network(env)
    made = make_ports(env, net["id"], 3)
    drain(sync)
    uuids = (ls(nb, net["id"]).uuid, [lsp(nb, p["id"]).uuid for p in made],
             [r.uuid for r in dhcp_rows(nb, sub["id"])])
    transactions = sync.stats.nb_transactions
    resources = {("network", net["id"]), ("subnet", sub["id"])} | {("port", p["id"]) for p in made}

    again = apply.apply_resources(env, nb, resources)
    env.db.run(lambda s: [common.enqueue_ovn(s, *r) for r in sorted(resources)])
    consumed = drain(sync)  # the same outbox rows once more, through the sync

    assert again == [] and consumed == len(resources)
    assert sync.stats.nb_transactions == transactions
    assert uuids == (ls(nb, net["id"]).uuid, [lsp(nb, p["id"]).uuid for p in made],
                     [r.uuid for r in dhcp_rows(nb, sub["id"])])


def test_updates_reach_the_lsp(env, nb, sync):
    net, _ = make_network(env)
    port = make_ports(env, net["id"], name="before")[0]
    drain(sync)

    ports.update_port(env, ADMIN, port["id"], {"name": "after", "admin_state_up": False})
    drain(sync)

    row = lsp(nb, port["id"])
    assert row.external_ids["neutron:port_name"] == "after"
    assert row.enabled == [False]
    assert row.external_ids["neutron:revision_number"] == "2"


def test_disabling_dhcp_drops_the_row_and_the_port_reference(env, nb, sync):
    net, sub = make_network(env)
    port = make_ports(env, net["id"])[0]
    drain(sync)
    assert lsp(nb, port["id"]).dhcpv4_options

    subnets.update_subnet(env, ADMIN, sub["id"], {"enable_dhcp": False})
    drain(sync)
    assert dhcp_rows(nb, sub["id"]) == [] and lsp(nb, port["id"]).dhcpv4_options == []

    subnets.update_subnet(env, ADMIN, sub["id"], {"enable_dhcp": True})
    drain(sync)
    [dhcp] = dhcp_rows(nb, sub["id"])
    assert lsp(nb, port["id"]).dhcpv4_options[0].uuid == dhcp.uuid


def test_network_owned_and_metadata_ports(env, nb, sync):
    net, _ = make_network(env)
    router, meta = make_ports(env, net["id"], device_owner="network:dhcp")[0], \
        make_ports(env, net["id"], device_owner="network:distributed",
                   device_id=f"ovnmeta-{net['id']}")[0]
    drain(sync)

    r, m = lsp(nb, router["id"]), lsp(nb, meta["id"])
    assert (r.type, r.port_security, sorted(r.addresses)) == ("", [], sorted([entry(router),
                                                                             "unknown"]))
    assert (m.type, m.port_security, m.addresses) == ("localport", [], [entry(meta)])
    assert r.dhcpv4_options == [] and m.dhcpv4_options == []


def test_ipv6_stateless_and_slaac_subnets(env, nb, sync):
    net, stateless = make_network(env, cidr="2001:db8:1::/64", ipv6_ra_mode="dhcpv6-stateless",
                                  ipv6_address_mode="dhcpv6-stateless")
    slaac = wire.create("subnet", env, ADMIN, [{
        "network_id": net["id"], "cidr": "2001:db8:2::/64", "ip_version": 6,
        "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}])[0]
    port = make_ports(env, net["id"])[0]
    drain(sync)

    [row] = dhcp_rows(nb, stateless["id"])
    assert row.options == {"server_id": derived_mac(BASE_MAC, stateless["id"]),
                           "dhcpv6_stateless": "true"}
    assert dhcp_rows(nb, slaac["id"]) == []
    assert lsp(nb, port["id"]).dhcpv6_options[0].uuid == row.uuid
    assert lsp(nb, port["id"]).addresses == [entry(port)]


def test_ports_made_while_the_sync_was_stopped_converge_when_it_starts(env, nb, sync):
    net, _ = make_network(env, cidr="10.1.0.0/24")
    made = make_ports(env, net["id"], 50)
    stop = threading.Event()
    thread = threading.Thread(target=sync.run_forever, args=(stop,), daemon=True)

    thread.start()
    try:
        wait_until(lambda: outbox_size(env) == 0, timeout=30, what="the outbox to drain")
    finally:
        stop.set()
        sync.wake.set()
        thread.join(10)

    assert not thread.is_alive()
    assert vif_names(nb, net["id"]) == sorted(p["id"] for p in made)
    assert all(lsp(nb, p["id"]).addresses == [entry(p)] for p in made)


def test_crash_between_nb_commit_and_outbox_delete_loses_nothing(env, nb, sync, monkeypatch):
    net, sub = make_network(env)
    made = make_ports(env, net["id"], 5)
    real_delete = sync._delete_outbox
    calls = []

    def crash_once(ids):
        calls.append(ids)
        if len(calls) == 1:
            raise RuntimeError("crash after the NB commit")
        real_delete(ids)

    monkeypatch.setattr(sync, "_delete_outbox", crash_once)
    with pytest.raises(RuntimeError, match="crash after"):
        sync.run_once()
    assert lsp(nb, made[0]["id"]) is not None  # the NB commit happened
    pending = outbox_size(env)
    ports.update_port(env, ADMIN, made[0]["id"], {"name": "renamed"})
    ports.delete_port(env, ADMIN, made[1]["id"])

    drain(sync)

    assert pending > 0 and outbox_size(env) == 0
    assert len(dhcp_rows(nb, sub["id"])) == 1
    assert vif_names(nb, net["id"]) == sorted(
        p["id"] for p in made if p is not made[1])
    assert lsp(nb, made[0]["id"]).external_ids["neutron:port_name"] == "renamed"


def test_deleting_port_subnet_and_network_removes_their_rows(env, nb, sync):
    net, sub = make_network(env)
    first, second = make_ports(env, net["id"], 2)
    drain(sync)

    ports.delete_port(env, ADMIN, first["id"])
    drain(sync)
    assert lsp(nb, first["id"]) is None and lsp(nb, second["id"]) is not None

    ports.delete_port(env, ADMIN, second["id"])
    subnets.delete_subnet(env, ADMIN, sub["id"])
    drain(sync)
    assert dhcp_rows(nb, sub["id"]) == [] and ls(nb, net["id"]) is not None

    networks.delete_network(env, ADMIN, net["id"])
    drain(sync)
    assert ls(nb, net["id"]) is None


def test_deleting_a_network_with_its_metadata_port_removes_switch_and_dhcp(env, nb, sync):
    net, sub = make_network(env)
    meta = make_ports(env, net["id"], device_owner="network:distributed")[0]
    drain(sync)

    networks.delete_network(env, ADMIN, net["id"])
    drain(sync)

    assert ls(nb, net["id"]) is None and lsp(nb, meta["id"]) is None
    assert dhcp_rows(nb, sub["id"]) == []


# --- audit --------------------------------------------------------------------------

def test_audit_reports_and_repairs_lsps_deleted_and_added_by_hand(ovn_lab, env, nb, sync,
                                                                   only_our_rows):
    central = ovn_lab.deployment.central
    net, sub = make_network(env)
    kept, removed = make_ports(env, net["id"], 2)
    drain(sync)
    hand_ls, hand_lsp = f"{ovn_lab.prefix}-hand", f"{ovn_lab.prefix}-intruder"
    central.nbctl("ls-add", hand_ls, "--", "lsp-add", hand_ls, f"{ovn_lab.prefix}-own")
    try:
        central.nbctl("lsp-del", removed["id"], "--", "lsp-add", f"neutron-{net['id']}", hand_lsp,
                      "--", "set", "DHCP_Options", str(dhcp_rows(nb, sub["id"])[0].uuid),
                      "options:lease_time=60")
        wait_until(lambda: lsp(nb, hand_lsp) is not None and lsp(nb, removed["id"]) is None,
                   timeout=10, what="the IDL to see the hand-made changes")

        report = sync.audit(repair=False)
        assert {(c.drift, c.table, c.key) for c in report.changes} == {
            ("missing", "Logical_Switch_Port", removed["id"]),
            ("extra", "Logical_Switch_Port", hand_lsp),
            ("different", "DHCP_Options", sub["id"])}
        assert report.different[0].columns == ("options",) and not report.repaired
        assert lsp(nb, hand_lsp) is not None  # a report changes nothing

        repaired = sync.audit(repair=True)
        after = sync.audit(repair=False)

        assert repaired.repaired and len(repaired.changes) == 3
        assert not after.has_drift, after
        assert lsp(nb, hand_lsp) is None and lsp(nb, removed["id"]).addresses == [entry(removed)]
        assert dhcp_rows(nb, sub["id"])[0].options["lease_time"] == "43200"
        assert lsp(nb, kept["id"]) is not None
        assert central.nbctl("--bare", "--columns=name", "list", "Logical_Switch_Port",
                             f"{ovn_lab.prefix}-own").strip() == f"{ovn_lab.prefix}-own"
    finally:
        central.nbctl("--if-exists", "ls-del", hand_ls)


def test_audit_recreates_a_switch_deleted_by_hand_and_removes_a_stray_one(ovn_lab, env, nb,
                                                                         sync, only_our_rows):
    central = ovn_lab.deployment.central
    net, _ = make_network(env)
    made = make_ports(env, net["id"], 3)
    drain(sync)
    stray = f"neutron-{uuid.uuid4()}"
    central.nbctl("ls-del", f"neutron-{net['id']}", "--", "ls-add", stray)
    wait_until(lambda: ls(nb, net["id"]) is None and nb.lookup("Logical_Switch", stray, None),
               timeout=10, what="the IDL to see the hand-made changes")

    report = sync.audit(repair=True)

    assert ("missing", "Logical_Switch", f"neutron-{net['id']}") in {
        (c.drift, c.table, c.key) for c in report.changes}
    assert ("extra", "Logical_Switch", stray) in {(c.drift, c.table, c.key) for c in report.changes}
    assert vif_names(nb, net["id"]) == sorted(p["id"] for p in made)
    assert nb.lookup("Logical_Switch", stray, None) is None
    assert not sync.audit(repair=False).has_drift


def test_run_forever_audits_at_start_and_repairs(ovn_lab, env, nb, only_our_rows):
    net, _ = make_network(env)
    port = make_ports(env, net["id"])[0]
    sync = NorthboundSync(env, nb, audit_interval=3600)
    drain(sync)
    ovn_lab.deployment.central.nbctl("lsp-del", port["id"])
    wait_until(lambda: lsp(nb, port["id"]) is None, timeout=10, what="the IDL to see the delete")
    stop = threading.Event()
    thread = threading.Thread(target=sync.run_forever, args=(stop,), daemon=True)

    thread.start()
    try:
        wait_until(lambda: lsp(nb, port["id"]) is not None, timeout=10,
                   what="the start-up audit to put the LSP back")
    finally:
        stop.set()
        sync.wake.set()
        thread.join(10)

    assert sync.stats.audits == 1 and not thread.is_alive()
    assert lsp(nb, port["id"]).addresses == [entry(port)]


def test_audit_refuses_an_idl_without_a_complete_copy(env, nb, sync, monkeypatch):
    monkeypatch.setattr(idl, "is_ready", lambda api: False)

    with pytest.raises(idl.IdlNotReady):
        sync.audit(repair=True)


def test_nb_api_is_one_per_process_and_complete_on_return(ovn_lab, nb):
    assert idl.nb_api(ovn_lab.nb_connection) is nb
    assert idl.is_ready(nb)
    with pytest.raises(ValueError):
        idl.nb_api("unix:/nonexistent/nb.sock")


def test_neutrino_sync_command_reports_drift_and_repairs_it(ovn_lab, env, nb, sync, only_our_rows):
    net, _ = make_network(env)
    port = make_ports(env, net["id"])[0]
    drain(sync)

    def neutrino_sync(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "neutrino.cli", "sync", "--database-url",
             env.settings.database_url, "--ovn-nb-connection", ovn_lab.nb_connection, *flags],
            check=False, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "250"})

    clean = neutrino_sync()
    ovn_lab.deployment.central.nbctl("lsp-del", port["id"])
    drifted = neutrino_sync()
    repaired = neutrino_sync("--repair")
    after = neutrino_sync()

    assert clean.returncode == 0 and clean.stdout.startswith("no drift"), clean
    assert drifted.returncode == 1, drifted
    assert "missing" in drifted.stdout and port["id"] in drifted.stdout
    assert repaired.returncode == 0 and "repaired 1 row(s); no drift left" in repaired.stdout
    assert after.returncode == 0 and after.stdout.startswith("no drift"), after


def test_sb_api_is_complete_on_return_and_idls_deliver_row_events(ovn_lab, nb):
    switch = f"{ovn_lab.prefix}-evented"
    created = row_event.WaitEvent((row_event.RowEvent.ROW_CREATE,), "Logical_Switch",
                                  (("name", "=", switch),), timeout=10)
    sb = idl.sb_api(ovn_lab.sb_connection)
    try:
        chassis = sb.lookup("Chassis", ovn_lab.chassis_name, default=None)
        nb.idl.notify_handler.watch_event(created)
        ovn_lab.deployment.central.nbctl("ls-add", switch)

        assert idl.is_ready(sb) and chassis is not None
        assert "Port_Binding" in sb.tables and "Logical_Flow" not in sb.tables
        assert created.wait()
    finally:
        idl.disconnect(sb)
        ovn_lab.deployment.central.nbctl("--if-exists", "ls-del", switch)

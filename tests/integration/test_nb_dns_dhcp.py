"""DNS records and extra DHCP options in a real OVN northbound ovsdb-server.

As ``test_nb_sync.py``: resources are made through ``neutrino.services`` on a fresh
database, the NB sync writes the shared ``ovn_lab``'s NB, every neutron-owned row
a test made is removed after it (``nb_cleanup``, DNS rows included) and audits run
on an NB holding only this test's rows (``only_our_rows``). The services run with
``dns_domain = example.org.`` (so ports keep their ``dns_name``) and
``dns_servers = 192.0.2.53`` (so no test depends on this host's resolv.conf).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import wire

from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.lab.daemons import wait_until
from neutrino.ovn.dns import reverse_name
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import networks, ports, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")
RESOLVER = "192.0.2.53"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    db = Database(database_url)
    yield Env(db=db, settings=Settings(state_dir=tmp_path, database_url=database_url,
                                       dns_domain="example.org.", dns_servers=RESOLVER))
    db.dispose()


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


# --- helpers --------------------------------------------------------------------

def drain(sync: NorthboundSync) -> None:
    while sync.run_once():
        pass


def network(env: Env, cidr: str = "10.0.0.0/24", **attrs) -> tuple[dict, dict]:
    net = wire.create("network", env, ADMIN, [{"name": "dns", **attrs}])[0]
    sub = wire.create("subnet", env, ADMIN, [{"network_id": net["id"], "cidr": cidr,
                                               "ip_version": 4}])[0]
    return net, sub


def port(env: Env, network_id: str, **attrs) -> dict:
    return wire.create("port", env, ADMIN, [{"network_id": network_id, **attrs}])[0]


def ip_of(p: dict) -> str:
    return p["fixed_ips"][0]["ip_address"]


def lsp(nb, port_id: str):
    return nb.lookup("Logical_Switch_Port", port_id, default=None)


def switch(nb, network_id: str):
    return nb.lookup("Logical_Switch", f"neutron-{network_id}", default=None)


def dhcp_rows(nb, subnet_id: str) -> dict[str | None, object]:
    """``{port id or None: row}`` of the subnet's DHCP_Options rows."""
    with nb.ovsdb_connection.lock:
        return {r.external_ids.get("port_id"): r for r in nb.tables["DHCP_Options"].rows.values()
                if r.external_ids.get("subnet_id") == subnet_id}


def dns_rows(nb, network_id: str) -> list:
    with nb.ovsdb_connection.lock:
        return [r for r in nb.tables["DNS"].rows.values()
                if r.external_ids.get("ls_name") == f"neutron-{network_id}"]


def records(name: str, ip: str, *, network_domain: str | None = None) -> dict[str, str]:
    """The records ML2/OVN writes for a port named ``name`` at ``ip``."""
    result = {name: ip, f"{name}.example.org": ip, reverse_name(ip): f"{name}.example.org"}
    if network_domain:
        result[f"{name}.{network_domain}"] = ip
    return result


# --- extra DHCP options -------------------------------------------------------------

def test_extra_dhcp_options_get_a_dhcp_row_of_the_port(env, nb, sync):
    net, sub = network(env)
    vm = port(env, net["id"], device_id="vm-1", device_owner="compute:nova", extra_dhcp_opts=[
        {"opt_name": "mtu", "opt_value": "1400"},
        {"opt_name": "domain-search", "opt_value": "lab.example"},
        {"opt_name": "121", "opt_value": "10.9.0.0/16,10.0.0.254"}])
    plain = port(env, net["id"], device_id="vm-2", device_owner="compute:nova")
    drain(sync)

    rows = dhcp_rows(nb, sub["id"])
    assert set(rows) == {None, vm["id"]}
    subnet_row, own = rows[None], rows[vm["id"]]
    assert lsp(nb, vm["id"]).dhcpv4_options[0].uuid == own.uuid
    assert lsp(nb, plain["id"]).dhcpv4_options[0].uuid == subnet_row.uuid
    assert own.cidr == subnet_row.cidr
    assert own.external_ids == {**subnet_row.external_ids, "port_id": vm["id"]}
    assert own.options == {
        **subnet_row.options, "mtu": "1400", "domain_search_list": '"lab.example"',
        "classless_static_route": "{169.254.169.254/32,10.0.0.2, 0.0.0.0/0,10.0.0.1, "
                                  "10.9.0.0/16,10.0.0.254}"}
    # the subnet's options reach the port's row too
    assert subnet_row.options["dns_server"] == own.options["dns_server"] == f"{{{RESOLVER}}}"
    subnets.update_subnet(env, ADMIN, sub["id"], {"dns_nameservers": ["10.0.0.53"]})
    drain(sync)
    assert dhcp_rows(nb, sub["id"])[vm["id"]].options["dns_server"] == "{10.0.0.53}"

    # a null value removes one option: the subnet's MTU is back
    ports.update_port(env, ADMIN, vm["id"], {"extra_dhcp_opts": [
        {"opt_name": "mtu", "opt_value": None}]})
    drain(sync)
    assert dhcp_rows(nb, sub["id"])[vm["id"]].options["mtu"] == "1442"

    # dhcp_disabled: no DHCP for the port at all, and no row of its own
    ports.update_port(env, ADMIN, vm["id"], {"extra_dhcp_opts": [
        {"opt_name": "dhcp_disabled", "opt_value": "true"}]})
    drain(sync)
    assert lsp(nb, vm["id"]).dhcpv4_options == [] and set(dhcp_rows(nb, sub["id"])) == {None}

    # without options the port uses the subnet's row again
    ports.update_port(env, ADMIN, vm["id"], {"extra_dhcp_opts": [
        {"opt_name": o, "opt_value": None} for o in ("dhcp_disabled", "domain-search", "121")]})
    drain(sync)
    assert wire.show(env, ADMIN, "port", vm["id"])["extra_dhcp_opts"] == []
    assert lsp(nb, vm["id"]).dhcpv4_options[0].uuid == dhcp_rows(nb, sub["id"])[None].uuid


def test_a_deleted_port_or_subnet_takes_its_dhcp_row_along(env, nb, sync):
    net, sub = network(env)
    vm = port(env, net["id"], extra_dhcp_opts=[{"opt_name": "bootfile-name",
                                                "opt_value": "pxelinux.0"}])
    drain(sync)
    assert dhcp_rows(nb, sub["id"])[vm["id"]].options["bootfile_name"] == '"pxelinux.0"'
    ports.delete_port(env, ADMIN, vm["id"])
    drain(sync)
    assert set(dhcp_rows(nb, sub["id"])) == {None}

    again = port(env, net["id"], extra_dhcp_opts=[{"opt_name": "tftp-server",
                                                   "opt_value": "10.0.0.9"}])
    drain(sync)
    assert set(dhcp_rows(nb, sub["id"])) == {None, again["id"]}
    ports.delete_port(env, ADMIN, again["id"])
    subnets.delete_subnet(env, ADMIN, sub["id"])
    drain(sync)
    assert dhcp_rows(nb, sub["id"]) == {}


# --- DNS ------------------------------------------------------------------------------

def test_ports_with_names_give_their_switch_one_dns_row(env, nb, sync):
    net, sub = network(env, dns_domain="corp.example.")
    vm1 = port(env, net["id"], dns_name="vm1", device_id="vm-1")
    vm2 = port(env, net["id"], dns_name="VM2", device_id="vm-2")
    port(env, net["id"], device_id="vm-3")  # no name: no records
    port(env, net["id"], dns_name="vm4")  # no device: no records (ML2/OVN)
    drain(sync)

    [row] = dns_rows(nb, net["id"])
    assert switch(nb, net["id"]).dns_records == [row]
    assert row.external_ids == {"ls_name": f"neutron-{net['id']}"}
    assert row.records == {**records("vm1", ip_of(vm1), network_domain="corp.example"),
                           **records("vm2", ip_of(vm2), network_domain="corp.example")}

    # a new name replaces the old one; the network's domain goes
    ports.update_port(env, ADMIN, vm1["id"], {"dns_name": "web"})
    networks.update_network(env, ADMIN, net["id"], {"dns_domain": ""})
    drain(sync)
    [row] = dns_rows(nb, net["id"])
    assert row.records == {**records("web", ip_of(vm1)), **records("vm2", ip_of(vm2))}

    # a deleted port's records go; with the last one the row goes
    ports.delete_port(env, ADMIN, vm2["id"])
    drain(sync)
    assert dns_rows(nb, net["id"])[0].records == records("web", ip_of(vm1))
    ports.update_port(env, ADMIN, vm1["id"], {"dns_name": ""})
    drain(sync)
    assert dns_rows(nb, net["id"]) == [] and switch(nb, net["id"]).dns_records == []


def test_subnets_get_the_default_resolver_and_the_domain(env, nb, sync):
    net, sub = network(env)
    own = wire.create("subnet", env, ADMIN, [{"network_id": net["id"], "cidr": "10.1.0.0/24",
                                               "ip_version": 4,
                                               "dns_nameservers": ["10.1.0.53"]}])[0]
    drain(sync)
    options = dhcp_rows(nb, sub["id"])[None].options
    assert options["dns_server"] == f"{{{RESOLVER}}}"
    assert options["domain_name"] == '"example.org."'
    assert dhcp_rows(nb, own["id"])[None].options["dns_server"] == "{10.1.0.53}"


# --- audit ------------------------------------------------------------------------------

def test_audit_repairs_dns_and_port_dhcp_rows(ovn_lab, env, nb, sync, only_our_rows):
    central = ovn_lab.deployment.central
    net, sub = network(env)
    vm = port(env, net["id"], dns_name="vm1", device_id="vm-1",
              extra_dhcp_opts=[{"opt_name": "mtu", "opt_value": "1400"}])
    drain(sync)
    assert not sync.audit(repair=False).has_drift
    [row] = dns_rows(nb, net["id"])
    own = dhcp_rows(nb, sub["id"])[vm["id"]]
    stray = f"neutron-{uuid.uuid4()}"
    central.nbctl("destroy", "DNS", str(row.uuid),
                  "--", "set", "DHCP_Options", str(own.uuid), "options:mtu=9000",
                  "--", "create", "DNS", f"external_ids:ls_name={stray}", "records:x=10.9.9.9")
    wait_until(lambda: not dns_rows(nb, net["id"]) and dhcp_rows(
        nb, sub["id"])[vm["id"]].options["mtu"] == "9000", timeout=10,
        what="the IDL to see the hand-made changes")

    report = sync.audit(repair=False)
    switch_name = f"neutron-{net['id']}"
    assert {(c.drift, c.table, c.key) for c in report.changes} == {
        ("missing", "DNS", switch_name), ("different", "Logical_Switch", switch_name),
        ("different", "DHCP_Options", f"{sub['id']}/{vm['id']}"), ("extra", "DNS", stray)}
    assert {c.resource for c in report.changes if c.drift != "extra"} == {
        f"network {net['id']}", f"port {vm['id']}"}

    assert sync.audit(repair=True).repaired
    assert not sync.audit(repair=False).has_drift
    [row] = dns_rows(nb, net["id"])
    assert switch(nb, net["id"]).dns_records == [row]
    assert row.records == records("vm1", ip_of(vm))
    assert dhcp_rows(nb, sub["id"])[vm["id"]].options["mtu"] == "1400"

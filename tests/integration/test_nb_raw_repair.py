"""A repair from an empty NB through raw operations (``ovn.raw_transact``) writes the
same rows as ovsdbapp's commands (``ovn.apply``), against the real NB and SB of the
shared ``ovn_lab``.

A cloud touching every NB table the sync writes is made through ``neutrino.services``
and synced round by round; then, twice, every neutron-owned NB row is deleted and one
audit repairs them all: once through ovsdbapp's commands, once through raw operations.
The three NB contents (uuids replaced by the referenced rows' contents, columns other
daemons write left out) must be equal, and an audit after each finds no drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wire
from nbfixtures import delete_rows, env_with, owned_rows
from ovnlab import PHYSNET
from ovs.db import idl as ovs_idl

from neutrino.ovn import raw_transact
from neutrino.ovn.plan import ADD
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import (floatingips, network_logs, port_forwardings, ports, qos_rules,
                               routers, security_groups, subnets, trunks)
from neutrino.services.context import Context
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]

ADMIN = Context.admin("p1")
# The tables the sync writes (Meter_Band and BFD through their meters and routes).
TABLES = ("Logical_Switch", "Logical_Switch_Port", "DHCP_Options", "DNS", "QoS",
          "Logical_Router", "Logical_Router_Port", "Gateway_Chassis",
          "Logical_Router_Static_Route", "NAT", "Logical_Router_Policy", "BFD",
          "Port_Group", "ACL", "Address_Set", "Meter", "Meter_Band", "Load_Balancer")
# Columns ovn-northd and ovn-controller write (an LSP's up and dynamic addresses, a
# child port's tag, router port and BFD status).
OTHERS = {"up", "dynamic_addresses", "tag", "status"}


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    yield from env_with(database_url, tmp_path, dns_domain="example.org.",
                        dns_servers="192.0.2.53")


def cloud(env: Env) -> None:
    """Switches with VIF, metadata, router and localnet (flat and VLAN) ports, a trunk's
    child port, v4 and v6 DHCP rows and a port's own (extra options), DNS records, QoS,
    security groups with a remote group and an address group, a network log (meters,
    logged ACLs), a router with gateway (gateway chassis, SNAT, BFD default route),
    interface (metadata policy), extra route, floating IP and port forwarding."""
    ext = wire.create("network", env, ADMIN, [{
        "name": "public", "router_external": True, "provider_network_type": "flat",
        "provider_physical_network": PHYSNET}])[0]
    subnets.create_subnets(env, ADMIN, [{"network_id": ext["id"], "cidr": "172.24.4.0/24",
                                         "ip_version": 4, "enable_dhcp": False}])
    policy = wire.create("qos_policy", env, ADMIN, [{"name": "limit"}])[0]
    qos_rules.create_rule(env, ADMIN, "bandwidth_limit", policy["id"],
                          {"max_kbps": 10000, "max_burst_kbps": 8000, "direction": "egress"})
    net = wire.create("network", env, ADMIN, [{"name": "private", "dns_domain": "corp.example.",
                                                 "qos_policy_id": policy["id"]}])[0]
    sub = wire.create("subnet", env, ADMIN, [
        {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
         "dns_nameservers": ["10.0.0.53"]},
        {"network_id": net["id"], "cidr": "fd00:1::/64", "ip_version": 6,
         "ipv6_address_mode": "dhcpv6-stateful", "ipv6_ra_mode": "dhcpv6-stateful"}])[0]
    vlan = wire.create("network", env, ADMIN, [{
        "name": "vlan", "provider_network_type": "vlan", "provider_physical_network": PHYSNET,
        "provider_segmentation_id": 120}])[0]
    subnets.create_subnets(env, ADMIN, [{"network_id": vlan["id"], "cidr": "10.1.0.0/24",
                                         "ip_version": 4}])
    ag = wire.create("address_group", env, ADMIN, [{
        "name": "office", "addresses": ["192.0.2.10/32", "2001:db8::5/64"]}])[0]
    web = wire.create("security_group", env, ADMIN, [{"name": "web"}])[0]
    security_groups.create_security_group_rules(env, ADMIN, [
        {"security_group_id": web["id"], "direction": "ingress", "protocol": "tcp",
         "port_range_min": 22, "port_range_max": 22, "remote_address_group_id": ag["id"]},
        {"security_group_id": web["id"], "direction": "ingress", "ethertype": "IPv4",
         "remote_group_id": web["id"]}])
    vm = wire.create("port", env, ADMIN, [
        {"network_id": net["id"], "device_id": f"vm-{i}", "device_owner": "compute:nova",
         "dns_name": f"vm{i}", "security_groups": [web["id"]],
         **({"extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400"}]} if i else {})}
        for i in range(3)])
    ports.create_ports(env, ADMIN, [{"network_id": vlan["id"]}])
    inner = wire.create("network", env, ADMIN, [{"name": "inner"}])[0]
    subnets.create_subnets(env, ADMIN, [{"network_id": inner["id"], "cidr": "10.2.0.0/24",
                                         "ip_version": 4}])
    sub_port = wire.create("port", env, ADMIN, [{"network_id": inner["id"]}])[0]
    trunks.create_trunks(env, ADMIN, [{"port_id": vm[2]["id"], "sub_ports": [
        {"port_id": sub_port["id"], "segmentation_type": "vlan", "segmentation_id": 42}]}])
    network_logs.create_logs(env, ADMIN, [{"resource_type": "security_group",
                                           "resource_id": web["id"], "event": "ALL",
                                           "project_id": ADMIN.project_id}])
    r = wire.create("router", env, ADMIN, [{
        "name": "r", "external_gateway_info": {"network_id": ext["id"]},
        "enable_default_route_bfd": True}])[0]
    routers.add_router_interface(env, ADMIN, r["id"], {"subnet_id": sub["id"]})
    routers.add_extraroutes(env, ADMIN, r["id"], [
        {"destination": "192.168.7.0/24", "nexthop": "10.0.0.254"}])
    floatingips.create_floatingips(env, ADMIN, [{"floating_network_id": ext["id"],
                                                 "port_id": vm[0]["id"]}])
    fip = wire.create("floatingip", env, ADMIN, [{"floating_network_id": ext["id"]}])[0]
    port_forwardings.create_port_forwarding(env, ADMIN, fip["id"], {
        "protocol": "tcp", "internal_port_id": vm[1]["id"],
        "internal_ip_address": vm[1]["fixed_ips"][0]["ip_address"],
        "internal_port": 22, "external_port": 2222})


def drain(sync: NorthboundSync) -> None:
    while sync.run_once():
        pass


def dump(nb) -> dict[str, list[str]]:
    """Every row of ``TABLES`` as sorted JSON, a reference as the referenced row's own."""
    with nb.ovsdb_connection.lock:
        return {t: sorted(json.dumps(_content(r), sort_keys=True)
                          for r in nb.tables[t].rows.values()) for t in TABLES}


def _content(row: Any) -> dict[str, Any]:
    return {c: _plain(getattr(row, c)) for c in row._table.columns if c not in OTHERS}


def _plain(value: Any) -> Any:
    if isinstance(value, ovs_idl.Row):
        return _content(value)
    if isinstance(value, dict):
        return sorted([json.dumps(_plain(k), sort_keys=True), _plain(v)]
                      for k, v in value.items())
    if isinstance(value, list):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def test_raw_repair_writes_what_ovsdbapp_writes(ovn_lab, env, nb, sb_sync, only_our_rows,
                                                monkeypatch):
    sync = sb_sync
    cloud(env)
    drain(sync)
    assert not sync.audit().has_drift
    rounds = dump(nb)
    assert all(rounds[t] for t in TABLES), [t for t in TABLES if not rounds[t]]

    encoded = []
    real_operations = raw_transact.operations
    monkeypatch.setattr(raw_transact, "operations",
                        lambda *a: encoded.append(real_operations(*a)) or encoded[-1])
    repaired = {}
    for raw in (False, True):
        monkeypatch.setattr(raw_transact, "MIN_CHANGES", 1 if raw else 10**9)
        delete_rows(nb, owned_rows(nb))
        report = sync.audit(repair=True)
        assert report.repaired and {c.action for c in report.changes} == {ADD}
        assert bool(encoded) == raw
        repaired[raw] = dump(nb)
        assert not sync.audit().has_drift
    assert repaired[True] == repaired[False] == rounds

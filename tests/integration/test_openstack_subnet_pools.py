"""Subnet pools and address scopes with the real, unmodified ``openstack`` CLI and
openstacksdk (see ``test_openstack_clients.py`` for how they are pointed at the
server): ``openstack address scope create/list/show/set/delete``, ``openstack subnet
pool create/list/show/set/delete``, ``openstack subnet create --subnet-pool`` and
``--use-default-subnet-pool``, and the SDK's prefix operations. The CLI runs as the
noauth operator (admin).
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import openstack
import pytest
from neutrino_server import (OPENSTACK_CLI, NeutrinoServer, neutrino_sqlite,  # noqa: F401
                             noauth_openstack)


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):  # noqa: F811
    return noauth_openstack(neutrino_sqlite, tmp_path)


def cli_fails(server: NeutrinoServer, home: Path, *args: str) -> str:
    """Run ``openstack ARGS`` expecting failure; returns its output."""
    res = subprocess.run([str(OPENSTACK_CLI), "--os-auth-type", "none", "--os-endpoint",
                          server.url, *args], env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode != 0, res.stdout
    return res.stdout + res.stderr


def test_address_scope_and_subnet_pool_lifecycle(cli, neutrino_sqlite, tmp_path):  # noqa: F811
    scope = cli("address scope create", "--ip-version", "4", "--share", "cli-scope", "-f", "json")
    assert (scope["name"], scope["ip_version"], scope["shared"]) == ("cli-scope", 4, True)
    assert scope["id"] in {s["ID"] for s in cli("address scope list", "-f", "json")}
    cli("address scope set", "--name", "cli-scope-2", scope["id"])
    assert cli("address scope show", "cli-scope-2", "-f", "json")["id"] == scope["id"]

    pool = cli("subnet pool create", "--pool-prefix", "10.70.0.0/16", "--pool-prefix",
               "10.71.0.0/16", "--default-prefix-length", "26", "--min-prefix-length", "24",
               "--max-prefix-length", "28", "--address-scope", "cli-scope-2", "--share",
               "--default", "--description", "from the CLI", "--tag", "cli", "cli-pool",
               "-f", "json")
    assert pool["prefixes"] == ["10.70.0.0/15"]  # compacted
    assert int(pool["default_prefixlen"]) == 26 and int(pool["max_prefixlen"]) == 28
    assert pool["address_scope_id"] == scope["id"] and pool["is_default"] is True
    assert pool["shared"] is True and pool["ip_version"] == 4
    listed = cli("subnet pool list", "--long", "-f", "json")
    assert [p["Name"] for p in listed if p["ID"] == pool["id"]] == ["cli-pool"]
    cli("subnet pool set", "--pool-prefix", "10.80.0.0/24", "--name", "cli-pool-2", pool["id"])
    shown = cli("subnet pool show", "cli-pool-2", "-f", "json")
    assert shown["prefixes"] == ["10.70.0.0/15", "10.80.0.0/24"]
    assert shown["description"] == "from the CLI" and shown["tags"] == ["cli"]

    net = cli("network create", "cli-pool-net", "-f", "json")
    sub = cli("subnet create", "--network", net["id"], "--subnet-pool", "cli-pool-2",
              "--prefix-length", "27", "cli-pool-sub", "-f", "json")
    assert sub["subnetpool_id"] == pool["id"]
    assert ipaddress.ip_network(sub["cidr"]).prefixlen == 27
    default = cli("subnet create", "--network", net["id"], "--use-default-subnet-pool",
                  "--ip-version", "4", "cli-default-sub", "-f", "json")
    assert default["subnetpool_id"] == pool["id"]
    assert ipaddress.ip_network(default["cidr"]).prefixlen == 26
    assert not ipaddress.ip_network(sub["cidr"]).overlaps(ipaddress.ip_network(default["cidr"]))
    shown_net = cli("network show", net["id"], "-f", "json")
    assert shown_net["ipv4_address_scope"] == scope["id"]
    assert shown_net["ipv6_address_scope"] is None

    # in use: the pool and the scope stay
    out = cli_fails(neutrino_sqlite, tmp_path, "subnet pool delete", pool["id"])
    assert "existing allocations" in out
    out = cli_fails(neutrino_sqlite, tmp_path, "address scope delete", scope["id"])
    assert "subnet pools in use" in out
    out = cli_fails(neutrino_sqlite, tmp_path, "subnet create", "--network", net["id"],
                    "--subnet-pool", "cli-pool-2", "--prefix-length", "30", "too-small")
    assert "maximum allowed prefix is 28" in out

    for name in ("cli-pool-sub", "cli-default-sub"):
        cli("subnet delete", name)
    cli("subnet pool delete", pool["id"])
    cli("address scope delete", scope["id"])
    assert all(p["ID"] != pool["id"] for p in cli("subnet pool list", "-f", "json"))
    assert all(s["ID"] != scope["id"] for s in cli("address scope list", "-f", "json"))
    cli("network delete", net["id"])


def test_openstacksdk_prefix_operations_and_onboarding(neutrino_sqlite):  # noqa: F811
    conn = openstack.connect(auth_type="none", endpoint=neutrino_sqlite.url,
                             network_endpoint_override=neutrino_sqlite.url)
    net = conn.network.create_network(name="sdk-onboard")
    try:
        legacy = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                            cidr="192.168.77.0/24")
        pool = conn.network.create_subnet_pool(name="sdk-pool", prefixes=["10.90.0.0/24"],
                                               default_prefix_length=28)
        assert pool.minimum_prefix_length == 8 and pool.default_prefix_length == 28
        conn.network.put(f"/subnetpools/{pool.id}/add_prefixes",
                         json={"prefixes": ["10.91.0.0/24"]}).raise_for_status()
        resp = conn.network.put(f"/subnetpools/{pool.id}/onboard_network_subnets",
                                json={"network_id": net.id})
        resp.raise_for_status()
        assert resp.json() == [{"id": legacy.id, "cidr": "192.168.77.0/24"}]
        pool = conn.network.get_subnet_pool(pool.id)
        assert pool.prefixes == ["10.90.0.0/24", "10.91.0.0/24", "192.168.77.0/24"]
        assert conn.network.get_subnet(legacy.id).subnet_pool_id == pool.id
        resp = conn.network.put(f"/subnetpools/{pool.id}/remove_prefixes",
                                json={"prefixes": ["10.91.0.0/24"]})
        assert resp.json() == {"prefixes": ["10.90.0.0/24", "192.168.77.0/24"]}
        sub = conn.network.create_subnet(network_id=net.id, ip_version=4,
                                         subnetpool_id=pool.id, prefixlen=28)
        assert sub.cidr == "10.90.0.0/28" and sub.subnet_pool_id == pool.id
        conn.network.delete_subnet(sub)
        conn.network.delete_subnet(legacy)
        conn.network.delete_subnet_pool(pool)
    finally:
        conn.network.delete_network(net)
        conn.close()

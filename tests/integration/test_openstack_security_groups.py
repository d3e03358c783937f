"""Security groups with the real, unmodified ``openstack`` CLI and openstacksdk
(see ``test_openstack_clients.py`` for how they are pointed at the server)."""

from __future__ import annotations

from pathlib import Path

import openstack
import pytest
from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401  (fixture)



@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):  # noqa: F811
    """Run ``openstack ARGS``; JSON output is parsed."""
    return noauth_openstack(neutrino_sqlite, tmp_path)


def test_cli_groups_rules_and_port_security(cli):
    assert [g["Name"] for g in cli("security", "group", "list", "-f", "json")] == ["default"]
    web = cli("security", "group", "create", "cli-web", "-f", "json")
    rule = cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
               "--remote-ip", "10.0.0.5/24", "cli-web", "-f", "json")
    assert (rule["protocol"], rule["port_range_min"], rule["normalized_cidr"]) == (
        "tcp", 22, "10.0.0.0/24")
    listed = cli("security", "group", "rule", "list", "cli-web", "-f", "json")
    assert len(listed) == 3  # two egress rules and ours

    cli("network", "create", "cli-sg-net")
    cli("subnet", "create", "--network", "cli-sg-net", "--subnet-range", "10.2.0.0/24", "cli-sg")
    port = cli("port", "create", "--network", "cli-sg-net", "--security-group", "cli-web",
               "--allowed-address", "ip-address=10.2.0.100", "cli-sg-port", "-f", "json")
    assert port["security_group_ids"] == [web["id"]] and port["port_security_enabled"] is True
    assert port["allowed_address_pairs"] == [{"ip_address": "10.2.0.100",
                                              "mac_address": port["mac_address"]}]
    cli("port", "set", "--no-allowed-address", "--no-security-group", "--disable-port-security",
        "cli-sg-port")
    shown = cli("port", "show", "cli-sg-port", "-f", "json")
    assert (shown["security_group_ids"], shown["port_security_enabled"]) == ([], False)

    cli("security", "group", "rule", "delete", rule["id"])
    cli("port", "delete", "cli-sg-port")
    cli("security", "group", "delete", "cli-web")
    assert [g["Name"] for g in cli("security", "group", "list", "-f", "json")] == ["default"]


def test_sdk_groups_and_rules(neutrino_sqlite: NeutrinoServer):  # noqa: F811
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, auth_type="none",
                             network_endpoint_override=neutrino_sqlite.url)
    try:
        assert conn.network.find_extension("security-group") is not None
        sg = conn.network.create_security_group(name="sdk-db")
        rule = conn.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", protocol="udp",
            port_range_min=53, port_range_max=53, remote_group_id=sg.id)
        assert (rule.protocol, rule.remote_group_id) == ("udp", sg.id)
        assert rule.id in {r["id"] for r in conn.network.get_security_group(sg.id)
                           .security_group_rules}
        with pytest.raises(openstack.exceptions.ConflictException):
            conn.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", protocol="17",
                port_range_min=53, port_range_max=53, remote_group_id=sg.id)
        conn.network.delete_security_group(sg)
        assert conn.network.find_security_group("sdk-db") is None
    finally:
        conn.close()


def test_cli_default_security_group_rules(cli):
    """``openstack default security group rule``: the seeded templates, and a new
    template that new groups then get."""
    listed = cli("default", "security", "group", "rule", "list", "-f", "json")
    assert len(listed) == 4
    made = cli("default", "security", "group", "rule", "create", "--protocol", "tcp",
               "--dst-port", "443", "--ingress", "--for-custom-sg", "-f", "json")
    assert (made["protocol"], made["port_range_min"], made["used_in_default_sg"],
            made["used_in_non_default_sg"]) == ("tcp", 443, False, True)
    group = cli("security", "group", "create", "cli-templated", "-f", "json")
    assert 443 in {r["port_range_min"] for r in group["rules"]}
    cli("default", "security", "group", "rule", "delete", made["id"])
    assert len(cli("default", "security", "group", "rule", "list", "-f", "json")) == 4
    cli("security", "group", "delete", "cli-templated")

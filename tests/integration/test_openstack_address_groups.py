"""Address groups with the real, unmodified ``openstack`` CLI: create with
addresses, add and remove them, a security group rule whose remote is the group,
and the group in use (see ``test_openstack_clients.py`` for how the CLI is
pointed at the server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401  (fixture)


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):  # noqa: F811
    """Run ``openstack ARGS``; JSON output is parsed."""
    return noauth_openstack(neutrino_sqlite, tmp_path)


def test_cli_address_groups_and_remote_address_group_rules(cli):
    ag = cli("address", "group", "create", "--address", "10.0.0.5/24", "--address",
             "192.0.2.1", "--description", "office", "cli-ag", "-f", "json")
    assert sorted(ag["addresses"]) == ["10.0.0.0/24", "192.0.2.1/32"]
    cli("address", "group", "set", "--address", "2001:db8::1/64", "--name", "cli-ag2", "cli-ag")
    shown = cli("address", "group", "show", "cli-ag2", "-f", "json")
    assert sorted(shown["addresses"]) == ["10.0.0.0/24", "192.0.2.1/32", "2001:db8::/64"]
    cli("address", "group", "unset", "--address", "192.0.2.1", "cli-ag2")
    shown = cli("address", "group", "show", "cli-ag2", "-f", "json")
    assert sorted(shown["addresses"]) == ["10.0.0.0/24", "2001:db8::/64"]
    assert [g["Name"] for g in cli("address", "group", "list", "-f", "json")] == ["cli-ag2"]

    cli("security", "group", "create", "cli-ag-web")
    rule = cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
               "--remote-address-group", "cli-ag2", "cli-ag-web", "-f", "json")
    assert rule["remote_address_group_id"] == ag["id"] and rule["remote_ip_prefix"] is None
    with pytest.raises(AssertionError, match="in use"):
        cli("address", "group", "delete", "cli-ag2")
    cli("security", "group", "rule", "delete", rule["id"])
    cli("address", "group", "delete", "cli-ag2")
    assert cli("address", "group", "list", "-f", "json") == []

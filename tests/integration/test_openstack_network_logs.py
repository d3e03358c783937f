"""Network logs with the real, unmodified ``openstack`` CLI (python-neutronclient's
``network log`` commands): list loggable resources, create a disabled log on a
security group, delete it (see ``test_openstack_clients.py`` for how the CLI is pointed at
the server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from neutrino_server import NeutrinoServer, neutrino_sqlite, noauth_openstack  # noqa: F401  (fixture)


@pytest.fixture
def cli(neutrino_sqlite: NeutrinoServer, tmp_path: Path):  # noqa: F811
    """Run ``openstack ARGS``; JSON output is parsed."""
    return noauth_openstack(neutrino_sqlite, tmp_path)


def test_cli_network_log_lifecycle(cli):
    sg = cli("security", "group", "create", "cli-log-web", "-f", "json")
    types = cli("network", "loggable", "resources", "list", "-f", "json")
    assert [t["Supported types"] for t in types] == ["security_group"]
    log = cli("network", "log", "create", "--resource-type", "security_group", "--resource",
              "cli-log-web", "--event", "DROP", "--disable", "cli-log", "-f", "json")
    assert (log["Resource"], log["Event"], log["Enabled"]) == (sg["id"], "DROP", False)
    cli("network", "log", "delete", "cli-log")

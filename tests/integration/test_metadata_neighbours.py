"""The metadata agent's view of a namespace's neighbour table
(``neutrino/metadata/neighbours.py``), on a real namespace and real netlink: entries
made, changed and removed by ``ip neigh`` are seen by the very next lookup."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from neutrino.host import netns as host_netns
from neutrino.metadata.neighbours import NeighbourTable, canonical

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True)


@pytest.fixture
def namespace(run_prefix: str) -> Iterator[str]:
    """A namespace with a veth pair ``m0``/``m1`` (both ends in it, up)."""
    ns = f"{run_prefix}-neigh"
    host_netns.ensure_netns(ns)
    try:
        ip(ns, "link", "add", "m1", "type", "veth", "peer", "name", "m0")
        ip(ns, "link", "set", "m1", "up")
        ip(ns, "link", "set", "m0", "up")
        ip(ns, "addr", "add", "10.0.0.2/24", "dev", "m1")
        yield ns
    finally:
        host_netns.remove_netns(ns)


def test_lookups_follow_the_kernels_table(namespace):
    ns = namespace
    ip(ns, "neigh", "replace", "10.0.0.5", "lladdr", "fa:16:3e:00:00:05", "dev", "m1",
       "nud", "reachable")
    ip(ns, "neigh", "replace", "10.0.0.9", "lladdr", "fa:16:3e:00:00:09", "dev", "m0",
       "nud", "reachable")  # another interface: not the metadata namespace's end
    table = NeighbourTable(ns, "m1")
    try:
        assert table.mac_of("10.0.0.5") == "fa:16:3e:00:00:05"  # from the first dump
        assert table.mac_of("::ffff:10.0.0.5") == "fa:16:3e:00:00:05"
        assert table.mac_of("10.0.0.9") is None and table.mac_of("10.0.0.6") is None
        # a guest takes 10.0.0.5 with another MAC: the next lookup sees it
        ip(ns, "neigh", "replace", "10.0.0.5", "lladdr", "FA:16:3E:00:00:66", "dev", "m1",
           "nud", "stale")
        assert table.mac_of("10.0.0.5") == "fa:16:3e:00:00:66"
        # IPv6 link-local, any interface identifier, asked with a scope
        ip(ns, "neigh", "replace", "fe80::1c2b:9e4d:77a1:3f02", "lladdr", "fa:16:3e:00:00:07",
           "dev", "m1", "nud", "reachable")
        assert table.mac_of("fe80::1c2b:9e4d:77a1:3f02%m1") == "fa:16:3e:00:00:07"
        ip(ns, "neigh", "del", "10.0.0.5", "dev", "m1")
        assert table.mac_of("10.0.0.5") is None
        assert table.entries() == {"fe80::1c2b:9e4d:77a1:3f02": "fa:16:3e:00:00:07"}
        # many changes at once (more than one recv's worth) arrive in order
        for i in range(1, 200):
            ip(ns, "neigh", "replace", f"10.0.0.{i}", "lladdr", f"fa:16:3e:00:01:{i % 256:02x}",
               "dev", "m1", "nud", "reachable")
        got = table.entries()
        assert all(got[f"10.0.0.{i}"] == f"fa:16:3e:00:01:{i % 256:02x}" for i in range(1, 200))
    finally:
        table.close()


def test_a_missing_interface_or_namespace_is_an_error(namespace, run_prefix):
    with pytest.raises(FileNotFoundError):
        NeighbourTable(namespace, "nosuch0")
    with pytest.raises(FileNotFoundError):
        NeighbourTable(f"{run_prefix}-absent", "m1")


def test_addresses_are_keyed_canonically():
    assert canonical("FE80::0001%eth0") == "fe80::1"
    assert canonical("::ffff:10.0.0.5") == "10.0.0.5"
    assert canonical("10.0.0.5") == "10.0.0.5"
    assert canonical("bogus") is None


def test_a_closed_table_knows_nobody(namespace):
    ip(namespace, "neigh", "replace", "10.0.0.5", "lladdr", "fa:16:3e:00:00:05", "dev", "m1",
       "nud", "reachable")
    table = NeighbourTable(namespace, "m1")
    table.close()
    assert table.mac_of("10.0.0.5") is None  # a request racing the namespace's teardown: 404

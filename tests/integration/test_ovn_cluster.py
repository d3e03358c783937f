"""RAFT-clustered NB/SB (neutrino.lab.cluster) and the _Server probe
(neutrino.ovn.cluster) with real ovsdb-servers and ovn-northd on loopback."""

from __future__ import annotations

import socket
import time

import pytest
from ovncluster import SIZE

from neutrino.lab.cluster import OvnCluster
from neutrino.lab.daemons import program_path, run, wait_until
from neutrino.ovn import idl
from neutrino.ovn.cluster import cluster_status, remote_status, split_remotes

pytestmark = pytest.mark.ovn
# Upper bound for the IDL to reach the new NB leader, see the failover test.
IDL_FAILOVER_S = 10
# ovn-northd (the C IDL, its own doubling reconnect backoff up to 8 s) follows later.
NORTHD_FAILOVER_S = 30


@pytest.fixture(scope="module")
def cluster(ovn_cluster: OvnCluster) -> OvnCluster:
    return ovn_cluster


def _switches(api, name: str) -> int:
    with api.ovsdb_connection.lock:
        return sum(r.name == name for r in api.tables["Logical_Switch"].rows.values())


def _sb_datapaths(lab: OvnCluster) -> set[str]:
    out = run([program_path("ovn-sbctl"), f"--db={lab.sb_unix_connection}", "--bare",
               "--columns=external_ids", "list", "Datapath_Binding"], timeout=10)
    return {word.split("=", 1)[1] for word in out.split() if word.startswith("name=")}


def test_cluster_forms_with_one_leader_per_database(cluster: OvnCluster):
    for db, schema in (("nb", "OVN_Northbound"), ("sb", "OVN_Southbound")):
        statuses = cluster_status(cluster.nb_connection if db == "nb" else cluster.sb_connection,
                                  schema)
        assert len(statuses) == len(cluster.members(db)) == SIZE
        assert all(s.connected and s.model == "clustered" for s in statuses), statuses
        assert [s.role for s in statuses].count("leader") == 1, statuses
        assert statuses[cluster.leader(db)].role == "leader"
        unix = cluster_status(cluster.nb_unix_connection if db == "nb"
                              else cluster.sb_unix_connection, schema)
        assert [s.role for s in unix] == [s.role for s in statuses]
        assert "Role: leader" in cluster.appctl(db, cluster.leader(db), "cluster/status", schema)
    assert all(s.running for s in cluster.status()), cluster.status()
    assert len(split_remotes(cluster.nb_connection)) == SIZE
    assert cluster.start() == []  # idempotent: everything runs already
    # The ports are persisted: another object on the same state dir uses the same ones.
    again = OvnCluster(cluster.state_dir, size=SIZE)
    assert (again.nb_connection, again.sb_unix_connection) == (
        cluster.nb_connection, cluster.sb_unix_connection)


def test_writes_follow_the_new_leader_after_sigkill(cluster: OvnCluster, run_prefix: str):
    api = idl.nb_api(cluster.nb_connection, timeout=30)
    first, second = f"{run_prefix}-ls-a", f"{run_prefix}-ls-b"
    api.ls_add(first).execute(check_error=True)

    old = cluster.leader("nb")
    cluster.kill("nb", old)
    try:
        killed_at = time.monotonic()
        api.ls_add(second).execute(check_error=True)  # the IDL has to find the new leader
        write_s = time.monotonic() - killed_at
        new = cluster.wait_leader("nb", timeout=10, exclude=old)

        # RAFT elects a new leader ~1-1.5 s after the kill (1000 ms election timer); the
        # IDL walks the remotes a second apart (ovn.idl.RECONNECT_BACKOFF_MS; python-ovs'
        # own doubling backoff made it 7-16 s): measured 1-4 s.
        assert write_s < IDL_FAILOVER_S, f"write after leader kill took {write_s:.1f}s"
        assert (_switches(api, first), _switches(api, second)) == (1, 1)
        statuses = cluster.cluster_status("nb")
        reachable = [s for s in statuses if s.role != "unreachable"]
        assert [s.role for s in reachable].count("leader") == 1, statuses
        assert statuses[new].role == "leader"
        assert statuses[old].role == "unreachable" and not statuses[old].connected
        assert statuses[old].error
        assert len(reachable) == SIZE - 1
        # northd followed the NB leader too: both switches reach the SB.
        wait_until(lambda: {first, second} <= _sb_datapaths(cluster), NORTHD_FAILOVER_S,
                   "both switches as SB datapaths")
    finally:
        cluster.restart("nb", old)

    statuses = cluster.cluster_status("nb")
    assert all(s.connected for s in statuses), statuses
    assert [s.role for s in statuses].count("leader") == 1, statuses
    assert statuses[old].role in ("follower", "leader")
    # The rejoined member serves the data committed while it was down.
    out = run([program_path("ovn-nbctl"), "--no-leader-only",
               f"--db={cluster.members('nb')[old].unix_remote}", "ls-list"], timeout=10)
    assert first in out and second in out
    api.ls_del(first).execute(check_error=True)
    api.ls_del(second).execute(check_error=True)


def test_remote_status_never_raises_and_bounds_time(cluster: OvnCluster):
    silent = [socket.create_server(("127.0.0.1", 0)) for _ in range(6)]  # accept, never reply
    try:
        connection = ",".join(f"tcp:127.0.0.1:{s.getsockname()[1]}" for s in silent)
        started = time.monotonic()
        statuses = cluster_status(connection, "OVN_Northbound", timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        for sock in silent:
            sock.close()
    assert elapsed < 1.8, elapsed
    assert [s.role for s in statuses] == ["unreachable"] * 6
    assert all("timed out" in s.error for s in statuses)
    missing = remote_status(f"unix:{cluster.state_dir}/absent.sock", "OVN_Northbound")
    assert (missing.role, missing.connected, missing.leader) == ("unreachable", False, None)
    unknown = remote_status(cluster.members("nb")[0].unix_remote, "No_Such_DB")
    assert unknown.role == "unreachable" and "does not serve" in unknown.error

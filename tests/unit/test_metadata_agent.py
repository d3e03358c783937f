"""The metadata agent itself without namespaces (``neutrino/metadata/agent.py``): its
interface names, and the status watcher holding ACTIVE back until the agent's
readiness hook says the metadata path is there.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from test_metadata_index import NET_A

from neutrino.metadata.agent import veth_names


def test_veth_names_fit_ifnamsiz():
    outer, inner = veth_names(NET_A)
    assert (outer, inner) == ("tapaaaaaaaa-00", "tapaaaaaaaa-01")
    assert len(outer) <= 15 and len(inner) <= 15

# --- ACTIVE waits for the metadata path ----------------------------------------------

def test_the_status_watcher_reports_active_only_once_the_hook_says_ready(api):
    from neutrino.ovn.status import PortStatusWatcher

    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], device_owner="compute:nova")
    asked: list[list[str]] = []
    ready_after = 3  # the hook's third answer is "ready"

    def hook(port_ids, timeout):
        asked.append(list(port_ids))
        return set(port_ids) if len(asked) >= ready_after else set()

    sb = SimpleNamespace(idl=SimpleNamespace(notify_handler=SimpleNamespace(
        watch_event=lambda e: None, unwatch_event=lambda e: None)))
    watcher = PortStatusWatcher(api.env, sb, metadata_ready=hook, ready_timeout=0.1)
    watcher._thread.start()  # the worker alone: no SB to resync from
    try:
        watcher.changed(port["id"], (True, "chassis-1"))
        status = lambda: api.get(f"/v2.0/ports/{port['id']}").json()["port"]["status"]
        deadline = time.monotonic() + 10
        while len(asked) < ready_after - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert status() == "DOWN"  # held back while the path is not ready
        while status() != "ACTIVE" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert status() == "ACTIVE" and len(asked) == ready_after
        assert all(call == [port["id"]] for call in asked)
        # going down never waits for the hook
        watcher.changed(port["id"], (False, None))
        while status() != "DOWN" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert status() == "DOWN" and len(asked) == ready_after
    finally:
        watcher.stop()

"""``neutrino lab ...``: lab instances on a running all-in-one, through its API.

Ports are made with the public API (``device_owner=compute:lab``, a fresh
instance UUID as ``device_id``), as Nova makes them; the instance itself is
``lab/instances.py``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from neutrino.lab import instances
from neutrino.lab.runtime import RuntimeInfo

DEVICE_OWNER = "compute:lab"


class LabError(Exception):
    """A lab command cannot be done; the message says why."""


def running(state_dir: Path) -> RuntimeInfo:
    """The all-in-one of this state dir, or LabError saying how to start one."""
    info = RuntimeInfo.load(state_dir)
    if info is None:
        raise LabError(f"no neutrino up is running with state dir {state_dir}: start it with "
                       f"'neutrino up --state-dir {state_dir}'")
    return info


def api_client(info: RuntimeInfo, project: str | None) -> httpx.Client:
    """A client of the all-in-one's API as ``project`` (noauth), or as its admin."""
    headers = {"X-Project-Id": project, "X-Roles": "member"} if project else {}
    return httpx.Client(base_url=info.api_url + "/v2.0", headers=headers, timeout=30)


def find_network(client: httpx.Client, network: str | None) -> dict[str, Any]:
    """A network by id or name; without one, the only network the caller has."""
    if network is None:
        nets = _ok(client.get("/networks")).json()["networks"]
        if len(nets) != 1:
            raise LabError(f"{len(nets)} networks are visible: say which with --network")
        return nets[0]
    resp = client.get(f"/networks/{network}")
    if resp.status_code == 200:
        return resp.json()["network"]
    nets = _ok(client.get("/networks", params={"name": network})).json()["networks"]
    if len(nets) != 1:
        raise LabError(f"{'no' if not nets else len(nets)} network(s) named {network!r}")
    return nets[0]


def boot(state_dir: Path, name: str, network: str | None = None,
         project: str | None = None) -> instances.Instance:
    """Create a port on ``network`` and boot instance ``name`` on it (DHCP lease included).
    The port is deleted again if the instance does not come up."""
    info = running(state_dir)
    with api_client(info, project) as client:
        net = find_network(client, network)
        body = {"port": {"network_id": net["id"], "name": name, "device_owner": DEVICE_OWNER,
                         "device_id": str(uuid.uuid4())}}
        port = _ok(client.post("/ports", json=body)).json()["port"]
        try:
            return instances.boot_instance(state_dir, name, port, info.chassis_netns,
                                           info.ovs_connection)
        except Exception:
            client.delete(f"/ports/{port['id']}")
            raise


def delete(state_dir: Path, name: str) -> None:
    """Remove the instance (namespace, veth, OVS port, DHCP client) and its port."""
    info = running(state_dir)
    inst = instances.get_instance(state_dir, name)
    instances.delete_instance(state_dir, name, info.ovs_connection)
    with api_client(info, None) as client:
        resp = client.delete(f"/ports/{inst.port_id}")
        if resp.status_code not in (204, 404):
            _ok(resp)


def _ok(resp: httpx.Response) -> httpx.Response:
    if resp.status_code >= 400:
        try:
            error = resp.json()["NeutronError"]
            message = f"{error['type']}: {error['message']}"
        except (ValueError, KeyError):
            message = resp.text
        raise LabError(f"{resp.request.method} {resp.request.url.path}: {message}")
    return resp

"""``neutrino demo --clean``: remove everything the demo built, and stop the service
when the demo started it (``demo.json`` says what it started and created)."""

from __future__ import annotations

import contextlib

from openstack.connection import Connection

from neutrino.constants import DEVICE_OWNER_ROUTER_INTF
from neutrino.config import Settings
from neutrino.lab import commands, sdk
from neutrino.lab.demo.guests import instances_dir_has, remove_guests
from neutrino.lab.demo.scenario import (
    EXTERNAL_NETWORK,
    EXTERNAL_PHYSNET,
    FIP_DESCRIPTION,
    PRIVATE_NETWORK,
    PROJECTS,
    ROUTER,
    SECURITY_GROUP,
    SEGMENTED,
    VLAN_PHYSNET,
    VLANS,
    Progress,
    guest_names,
)
from neutrino.lab.demo.service import ensure_service, stop_service
from neutrino.lab.demo.state import load_state, remove_files
from neutrino.lab.runtime import RuntimeInfo


def clean(settings: Settings, *, prefix: str | None = None, port: int | None = None,
          metadata_port: int | None = None, progress: Progress = lambda s: None) -> list[str]:
    """Remove what the demo built; a list of what was done.

    Instances (and stray ports) of ``prefix`` (default: the last run's), the projects'
    floating IPs, routers, networks and security groups (``default`` too), the shared
    networks pub100, pub101, pub2xx (and pub200, pub201 of earlier demos), the VLAN gateways and upstream switch, the external
    network and its upstream namespace when the demo created them; then ``neutrino
    down`` when the demo started the service. A service needed for this and not
    running is started for the time of the clean.
    """
    state_dir = settings.state_dir
    state = load_state(state_dir)
    prefix = prefix or state.get("prefix") or "demo-"
    info = RuntimeInfo.load(state_dir)
    ours = any(instances_dir_has(state_dir, n) for n in guest_names(prefix))
    if info is None and not state and not ours:
        return []
    done = []
    started = False
    if info is None:
        info, started = ensure_service(settings, port=port, metadata_port=metadata_port,
                                       progress=progress)
    progress("removing the instances")
    done += [f"instance {n}" for n in remove_guests(state_dir, info, prefix)]
    for project in PROJECTS:
        progress(f"removing project {project}'s resources")
        with sdk.connect(info, project) as client:
            done += _clean_project(client, project)
    progress(f"removing pub100, pub101, {SEGMENTED} and the VLAN gateways")
    vlan_physnet = state.get("vlan_physnet", VLAN_PHYSNET)
    with sdk.connect(info, None) as admin:
        for net in sdk.call(admin, "GET", "/networks", params={"name": SEGMENTED})["networks"]:
            if net.get("shared") and net.get("segments"):
                sdk.call(admin, "DELETE", f"/networks/{net['id']}", missing_ok=True)
                done.append(f"network {SEGMENTED}")
        for vlan in VLANS:
            for net in sdk.call(admin, "GET", "/networks",
                                params={"name": f"pub{vlan}"})["networks"]:
                if net.get("provider:segmentation_id") == vlan:
                    sdk.call(admin, "DELETE", f"/networks/{net['id']}", missing_ok=True)
                    done.append(f"network pub{vlan}")
            with contextlib.suppress(commands.LabError):
                commands.vlan_delete(state_dir, vlan_physnet, vlan)
                done.append(f"VLAN {vlan} gateway")
        for project in PROJECTS:  # last: acting as the project makes it again
            for sg in sdk.call(admin, "GET", "/security-groups", params={
                    "project_id": project, "name": "default"})["security_groups"]:
                sdk.call(admin, "DELETE", f"/security-groups/{sg['id']}", missing_ok=True)
    if state.get("external_created"):
        progress(f"removing the external network {EXTERNAL_NETWORK} and its upstream")
        with contextlib.suppress(commands.LabError):
            commands.external_delete(state_dir, state.get("external_physnet", EXTERNAL_PHYSNET))
            done.append(f"external network {EXTERNAL_NETWORK} and its upstream namespace")
    pid = state.get("service_pid")
    if started or (pid and pid == info.pid):
        progress("stopping the service the demo started")
        stop_service(settings)
        done.append(f"neutrino up (pid {info.pid})")
    remove_files(state_dir)
    return done


def _clean_project(client: Connection, project: str) -> list[str]:
    done = []
    for fip in sdk.call(client, "GET", "/floatingips")["floatingips"]:
        if fip.get("description") == FIP_DESCRIPTION and fip["project_id"] == project:
            sdk.call(client, "DELETE", f"/floatingips/{fip['id']}", missing_ok=True)
            done.append(f"{project} floating IP {fip['floating_ip_address']}")
    for router in sdk.call(client, "GET", "/routers", params={"name": ROUTER})["routers"]:
        if router["project_id"] != project:
            continue
        ports = sdk.call(client, "GET", "/ports", params={"device_id": router["id"]})["ports"]
        for port in ports:
            if port["device_owner"] == DEVICE_OWNER_ROUTER_INTF:
                for ip in port["fixed_ips"]:
                    sdk.call(client, "PUT", f"/routers/{router['id']}/remove_router_interface",
                             {"subnet_id": ip["subnet_id"]})
        sdk.call(client, "DELETE", f"/routers/{router['id']}", missing_ok=True)
        done.append(f"{project} router {ROUTER}")
    for net in sdk.call(client, "GET", "/networks", params={"name": PRIVATE_NETWORK})["networks"]:
        if net["project_id"] == project:
            sdk.call(client, "DELETE", f"/networks/{net['id']}", missing_ok=True)
            done.append(f"{project} network {PRIVATE_NETWORK}")
    for sg in sdk.call(client, "GET", "/security-groups", params={"name": SECURITY_GROUP})[
            "security_groups"]:
        if sg["project_id"] == project:
            sdk.call(client, "DELETE", f"/security-groups/{sg['id']}", missing_ok=True)
            done.append(f"{project} security group {SECURITY_GROUP}")
    return done

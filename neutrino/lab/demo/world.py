"""The demo's world through the API and the lab: the external network and its
upstream, seed 001's VLAN gateways and shared networks, and per project the
security group, private network, router and floating IP. Everything is found by
name and brought in line, or made."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openstack.connection import Connection

from neutrino.constants import DEVICE_OWNER_NETWORK_PREFIX
from neutrino.lab import commands, sdk
from neutrino.lab.demo.scenario import (
    EXTERNAL_NETWORK,
    EXTERNAL_PHYSNET,
    FIP_DESCRIPTION,
    FULL_POOL,
    FULL_VLAN,
    OPEN_PORT,
    PRIVATE_CIDR,
    PRIVATE_NETWORK,
    PRIVATE_PROJECTS,
    PROJECTS,
    ROUTER,
    SECURITY_GROUP,
    SEGMENTED,
    SEGMENTED_VLANS,
    SINGLE_VLANS,
    VLAN_PHYSNET,
    VLANS,
    DemoError,
    Progress,
)
from neutrino.lab.demo.state import save_state
from neutrino.lab.runtime import RuntimeInfo


@dataclass
class World:
    """What :func:`build` made or found: ids by name."""

    info: RuntimeInfo
    external_physnet: str
    vlan_physnet: str
    public: dict[str, Any]
    provider: dict[int, dict[str, Any]]          # vlan -> network (one VLAN each)
    segmented: dict[str, Any]                    # seed 004's network of two VLAN segments
    private: dict[str, dict[str, Any]]           # project -> network
    routers: dict[str, dict[str, Any]]           # project -> router
    fips: dict[str, dict[str, Any]]              # project -> floating IP


def build(state_dir: Path, info: RuntimeInfo, progress: Progress) -> World:
    """Make (or find and bring in line) every API resource and lab upstream of the
    demo; commands.LabError or DemoError when the API or the lab refuses."""
    ext_physnet = EXTERNAL_PHYSNET if EXTERNAL_PHYSNET in info.bridge_mappings else \
        next(iter(info.bridge_mappings), EXTERNAL_PHYSNET)
    vlan_physnet = VLAN_PHYSNET if VLAN_PHYSNET in info.bridge_mappings else ext_physnet
    if vlan_physnet != VLAN_PHYSNET:
        progress(f"physnet {VLAN_PHYSNET} is not mapped by the running service: "
                 f"the VLANs go on {vlan_physnet}")
    progress(f"external network {EXTERNAL_NETWORK} on {ext_physnet} and its upstream")
    with sdk.connect(info, None) as admin:
        with sdk.refused():
            existed = any(admin.network.networks(name=EXTERNAL_NETWORK))
        if not existed:
            save_state(state_dir, external_created=True)
        save_state(state_dir, vlan_physnet=vlan_physnet, external_physnet=ext_physnet)
        _, public, _ = commands.external_create(state_dir, ext_physnet, network_name=EXTERNAL_NETWORK)

        progress(f"seed 001: VLAN gateways and shared networks pub100, pub101; seed 004: "
                 f"{SEGMENTED} with VLAN segments 200 and 201")
        provider = {}
        for vlan in VLANS:
            commands.vlan_create(state_dir, vlan_physnet, vlan, f"10.10.{vlan}.0/24")
        for vlan in SINGLE_VLANS:
            provider[vlan] = _provider_network(admin, vlan, vlan_physnet)
            pool = FULL_POOL if vlan == FULL_VLAN else None
            _subnet(admin, provider[vlan], f"pub{vlan}-subnet", f"10.10.{vlan}.0/24", pool)
        segmented = _segmented_network(admin, vlan_physnet)

    private, routers, fips = {}, {}, {}
    for project in PROJECTS:
        progress(f"project {project}: security group {SECURITY_GROUP}"
                 + (f", {PRIVATE_NETWORK} {PRIVATE_CIDR}, router, floating IP"
                    if project in PRIVATE_PROJECTS else ""))
        with sdk.connect(info, project) as client:
            _security_group(client)
            if project not in PRIVATE_PROJECTS:
                continue
            private[project] = _find_or_create(client, "network", {"name": PRIVATE_NETWORK})
            subnet = _subnet(client, private[project], f"{PRIVATE_NETWORK}-subnet",
                             PRIVATE_CIDR, None)
            routers[project] = _router(client, public, private[project], subnet)
            fips[project] = _floating_ip(client, public)
    return World(info, ext_physnet, vlan_physnet, public, provider, segmented, private,
                 routers, fips)


def _find_or_create(conn: Connection, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The caller's one ``kind`` (``network``, ``security_group``, ``router``) named
    ``body["name"]``, else a new one (openstacksdk's ``<kind>s(name=)`` and
    ``create_<kind>``; ``body`` in the API's attribute names), as the API's JSON.
    A name held by several is DemoError: the demo never guesses which."""
    with sdk.refused():
        found = [sdk.wire(r) for r in getattr(conn.network, kind + "s")(name=body["name"])]
        project = sdk.project_of(conn)
        if project:  # shared ones are visible too: own only
            found = [r for r in found if r.get("project_id") == project]
        if len(found) > 1:
            raise DemoError(f"{len(found)} {kind}s are named {body['name']!r}")
        if found:
            return found[0]
        return sdk.wire(getattr(conn.network, "create_" + kind)(**body))


def _provider_network(admin: Connection, vlan: int, physnet: str) -> dict[str, Any]:
    net = _find_or_create(admin, "network", {
        "name": f"pub{vlan}", "shared": True, "provider:network_type": "vlan",
        "provider:physical_network": physnet, "provider:segmentation_id": vlan})
    have = (net.get("provider:network_type"), net.get("provider:physical_network"),
            net.get("provider:segmentation_id"))
    if have != ("vlan", physnet, vlan):
        raise DemoError(f"network pub{vlan} ({net['id']}) exists as {have}, "
                        f"not VLAN {vlan} on {physnet}: delete it or run 'neutrino demo --clean'")
    if not net.get("shared"):
        with sdk.refused():
            net = sdk.wire(admin.network.update_network(net["id"], shared=True))
    return net


def _segmented_network(admin: Connection, physnet: str) -> dict[str, Any]:
    """Seed 004's network: ``pub2xx``, shared, VLAN segments 200 and 201 on ``physnet``,
    subnet ``pub2xx-<vlan>`` (10.10.<vlan>.0/24) on each. Networks pub200/pub201 of an
    earlier demo give their VLANs up first."""
    for vlan in SEGMENTED_VLANS:
        for old in sdk.call(admin, "GET", "/networks", params={"name": f"pub{vlan}"})["networks"]:
            if old.get("provider:segmentation_id") == vlan:
                for port in sdk.call(admin, "GET", "/ports",
                                     params={"network_id": old["id"]})["ports"]:
                    if not port["device_owner"].startswith(DEVICE_OWNER_NETWORK_PREFIX):
                        sdk.call(admin, "DELETE", f"/ports/{port['id']}")
                sdk.call(admin, "DELETE", f"/networks/{old['id']}")
    wanted = [("vlan", physnet, vlan) for vlan in SEGMENTED_VLANS]
    net = _find_or_create(admin, "network", {"name": SEGMENTED, "shared": True, "segments": [
        {"provider:network_type": t, "provider:physical_network": p,
         "provider:segmentation_id": v} for t, p, v in wanted]})
    segs = sdk.call(admin, "GET", "/segments", params={"network_id": net["id"]})["segments"]
    have = sorted((s["network_type"], s["physical_network"], s["segmentation_id"]) for s in segs)
    if have != wanted:
        raise DemoError(f"network {SEGMENTED} ({net['id']}) has segments {have}, not {wanted}: "
                        "delete it or run 'neutrino demo --clean'")
    for seg in segs:
        vlan = seg["segmentation_id"]
        _subnet(admin, net, f"{SEGMENTED}-{vlan}", f"10.10.{vlan}.0/24", None, seg["id"])
    return net


def _subnet(client: Connection, net: dict[str, Any], name: str, cidr: str,
            pool: tuple[str, str] | None, segment_id: str | None = None) -> dict[str, Any]:
    """The network's subnet ``cidr`` (gateway .1, on ``segment_id`` when given), its pool
    made ``pool`` when given."""
    subnets = sdk.call(client, "GET", "/subnets", params={"network_id": net["id"]})["subnets"]
    subnet = next((s for s in subnets if s["cidr"] == cidr), None)
    pools = [{"start": pool[0], "end": pool[1]}] if pool else None
    if subnet is None:
        body = {"network_id": net["id"], "name": name, "cidr": cidr, "ip_version": 4,
                "gateway_ip": str(next(ipaddress.ip_network(cidr).hosts()))}
        if pools:
            body["allocation_pools"] = pools
        if segment_id:
            body["segment_id"] = segment_id
        return sdk.call(client, "POST", "/subnets", {"subnet": body})["subnet"]
    if pools and subnet["allocation_pools"] != pools:
        subnet = sdk.call(client, "PUT", f"/subnets/{subnet['id']}", {
            "subnet": {"allocation_pools": pools}})["subnet"]
    return subnet


def _security_group(client: Connection) -> dict[str, Any]:
    """``demo-web``: Neutron's egress rules plus ICMP and TCP ``OPEN_PORT`` in."""
    sg = _find_or_create(client, "security_group", {
        "name": SECURITY_GROUP, "description": "neutrino demo: ping and TCP 8080 in"})
    wanted = [("icmp", None), ("tcp", OPEN_PORT)]
    have = {(r["protocol"], r["port_range_min"]) for r in sg["security_group_rules"]
            if r["direction"] == "ingress" and r["ethertype"] == "IPv4"}
    for protocol, port in wanted:
        if (protocol, port) not in have:
            body = {"security_group_id": sg["id"], "direction": "ingress",
                    "ethertype": "IPv4", "protocol": protocol}
            if port:
                body.update(port_range_min=port, port_range_max=port)
            sdk.call(client, "POST", "/security-group-rules", {"security_group_rule": body})
    return sg


def _router(client: Connection, public: dict[str, Any], net: dict[str, Any],
            subnet: dict[str, Any]) -> dict[str, Any]:
    router = _find_or_create(client, "router", {
        "name": ROUTER, "external_gateway_info": {"network_id": public["id"]}})
    if (router.get("external_gateway_info") or {}).get("network_id") != public["id"]:
        router = sdk.call(client, "PUT", f"/routers/{router['id']}", {"router": {
            "external_gateway_info": {"network_id": public["id"]}}})["router"]
    with sdk.refused():
        attached = any(client.network.ports(device_id=router["id"], network_id=net["id"]))
        if not attached:
            client.network.add_interface_to_router(router["id"], subnet_id=subnet["id"])
    return router


def _floating_ip(client: Connection, public: dict[str, Any]) -> dict[str, Any]:
    project = sdk.project_of(client)
    fips = [f for f in sdk.call(client, "GET", "/floatingips")["floatingips"]
            if f.get("description") == FIP_DESCRIPTION and f["project_id"] == project]
    for extra in fips[1:]:  # never more than one
        sdk.call(client, "DELETE", f"/floatingips/{extra['id']}")
    if fips:
        return fips[0]
    return sdk.call(client, "POST", "/floatingips", {"floatingip": {
        "floating_network_id": public["id"], "description": FIP_DESCRIPTION}})[
        "floatingip"]

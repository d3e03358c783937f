"""``neutrino lab ...``: lab instances on a running all-in-one, through its API
(an openstacksdk Connection, ``lab/sdk.py``).

Ports are made with the public API (``device_owner=compute:lab``, a fresh
instance UUID as ``device_id``), as Nova makes them; without ``--network`` the
network scheduler picks the network (``/v2.0/scheduled-ports``). The instance
itself is ``lab/instances.py``.  ``lab external`` makes the external network (flat,
``router:external``) and its subnet as devstack does, then the upstream namespace
of ``lab/external.py`` owning the subnet's gateway and an outside address. ``lab vlan``
plumbs a provider VLAN's gateway behind the upstream switch of ``lab/vlans.py`` (the
data centre's side only: the networks are made through the API, by an admin).
"""

from __future__ import annotations

import base64
import ipaddress
import uuid
from pathlib import Path
from typing import Any, Callable

from openstack.connection import Connection

from neutrino.lab import external, fleet, instances, sdk, vlans
from neutrino.lab.runtime import RuntimeInfo
from neutrino.lab.sdk import LabError

DEVICE_OWNER = "compute:lab"


def running(state_dir: Path) -> RuntimeInfo:
    """The all-in-one of this state dir, or LabError saying how to start one."""
    info = RuntimeInfo.load(state_dir)
    if info is None:
        raise LabError(f"no neutrino up is running with state dir {state_dir}: start it with "
                       f"'neutrino up --state-dir {state_dir}'")
    return info


def find_network(conn: Connection, network: str) -> dict[str, Any]:
    """A network by id or name (``conn.network.find_network``); LabError when none or
    several have that name."""
    return sdk.wire(sdk.find(conn, "network", network, "network"))


def boot(state_dir: Path, name: str, network: str | None = None,
         project: str | None = None, *, user_data: bytes | None = None,
         keys: list[tuple[str, str]] = (),
         on_scheduled: Callable[[dict[str, Any]], None] | None = None,
         security_groups: list[str] | None = None,
         port_security: bool = True, subnet: str | None = None,
         fixed_ip: str | None = None, chassis: str | None = None,
         dhcp: bool = True) -> instances.Instance:
    """Create a port on ``network``, register the instance's metadata (id = the port's
    ``device_id``, hostname from ``name``, ``keys`` as [(name, public key)], ``user_data``)
    and boot instance ``name`` on it (DHCP lease included). Port and registration are
    deleted again if the instance does not come up.

    Without ``network`` the network scheduler chooses one (``POST /v2.0/scheduled-ports``)
    and ``on_scheduled`` is called with that network. LabError when nothing fits.
    ``security_groups`` (names or ids) replace the project's ``default`` group;
    ``port_security`` False makes a port without port security (and groups).
    ``subnet`` (name or id) asks for an address of that subnet, ``fixed_ip`` for that
    address (of ``subnet`` when both are given). The instance goes to lab chassis
    ``chassis`` (a name; default: the hypervisor with the fewest instances,
    ``fleet.pick``), and the port is bound there first (``binding:host_id``, as Nova
    does), so on a routed network it gets an address of a segment that chassis reaches.
    ``dhcp`` False: no DHCP client; the instance's interface is given the port's IPv4
    addresses with their subnets' prefixes, as a guest configured by hand (no route:
    the guest adds its own, e.g. to 169.254.169.254 via the metadata port).
    """
    info = running(state_dir)
    home = _home_chassis(state_dir, info, chassis)
    with sdk.connect(info, project) as conn, sdk.connect(info, None) as admin:
        body: dict[str, Any] = {"name": name, "device_owner": DEVICE_OWNER,
                                "device_id": str(uuid.uuid4())}
        if security_groups is not None:
            body["security_groups"] = [find_security_group(conn, g)["id"]
                                       for g in security_groups]
        if not port_security:
            body["port_security_enabled"] = False
        if subnet is not None or fixed_ip is not None:
            wanted: dict[str, str] = {}
            if subnet is not None:
                wanted["subnet_id"] = find_subnet(conn, subnet)["id"]
            if fixed_ip is not None:
                wanted["ip_address"] = fixed_ip
            body["fixed_ips"] = [wanted]
        if network is None:
            port = sdk.call(conn, "POST", "/scheduled-ports", {"port": body})["port"]
            if on_scheduled is not None:
                with sdk.refused():
                    on_scheduled(sdk.wire(conn.network.get_network(port["network_id"])))
        else:
            body["network_id"] = find_network(conn, network)["id"]
            with sdk.refused():
                port = sdk.wire(conn.network.create_port(**body))
        try:
            with sdk.refused():
                port = sdk.wire(admin.network.update_port(
                    port["id"], **{"binding:host_id": home.name}))
            sdk.call(admin, "POST", "/instances",
                     {"instance": instance_body(port, name, user_data, keys)})
            static = () if dhcp else _static_addresses(conn, port)
            return instances.boot_instance(state_dir, name, port, home.netns,
                                           home.ovs_connection, dhcp=dhcp,
                                           static_addresses=static)
        except Exception:
            sdk.call(admin, "DELETE", f"/instances/{port['device_id']}", missing_ok=True)
            sdk.call(conn, "DELETE", f"/ports/{port['id']}", missing_ok=True)
            raise


def _static_addresses(conn: Connection, port: dict[str, Any]) -> tuple[str, ...]:
    """``port``'s IPv4 fixed IPs with their subnets' prefix lengths (``10.0.0.5/24``)."""
    found = []
    for fixed in port.get("fixed_ips") or ():
        if ":" in fixed["ip_address"]:
            continue
        with sdk.refused():
            cidr = conn.network.get_subnet(fixed["subnet_id"]).cidr
        found.append(f"{fixed['ip_address']}/{cidr.split('/')[1]}")
    return tuple(found)


def _home_chassis(state_dir: Path, info: RuntimeInfo, name: str | None) -> fleet.LabChassis:
    """Where a new instance goes (see :func:`boot`); LabError for an unknown chassis."""
    lab = info.fleet()
    if not lab:
        raise LabError("lab instances need neutrino's own OVN (ovn_nb_connection unset)")
    by_netns = {c.netns: c.name for c in lab}
    placed = [by_netns.get(i.chassis_netns or "", "") for i in instances.list_instances(state_dir)]
    try:
        return fleet.pick(lab, name, placed)
    except ValueError as exc:
        raise LabError(str(exc)) from None


def find_subnet(conn: Connection, subnet: str) -> dict[str, Any]:
    """A subnet by id or name (``conn.network.find_subnet``); LabError as find_network."""
    return sdk.wire(sdk.find(conn, "subnet", subnet, "subnet"))


def find_security_group(conn: Connection, group: str) -> dict[str, Any]:
    """One of the caller's security groups, by id or name
    (``conn.network.find_security_group``); LabError as find_network."""
    return sdk.wire(sdk.find(conn, "security_group", group, "security group"))


def instance_body(port: dict[str, Any], name: str, user_data: bytes | None,
                  keys: list[tuple[str, str]]) -> dict[str, Any]:
    """The ``/v2.0/instances`` registration of a lab instance on ``port``."""
    body: dict[str, Any] = {"id": port["device_id"], "project_id": port["project_id"], "name": name,
                            "public_keys": [{"name": k, "key": v} for k, v in keys]}
    if user_data is not None:
        body["user_data"] = base64.b64encode(user_data).decode()
    return body


def delete(state_dir: Path, name: str) -> None:
    """Remove the instance (namespace, veth, OVS port, DHCP client) and its port."""
    info = running(state_dir)
    inst = instances.get_instance(state_dir, name)
    try:
        ovs = info.chassis_of(netns=inst.chassis_netns).ovs_connection
    except ValueError:
        ovs = info.ovs_connection
    instances.delete_instance(state_dir, name, ovs)
    with sdk.connect(info, None) as admin:
        sdk.call(admin, "DELETE", f"/ports/{inst.port_id}", missing_ok=True)
        sdk.call(admin, "DELETE", f"/instances/{inst.instance_id}", missing_ok=True)


def external_create(state_dir: Path, physnet: str = "physnet1", cidr: str = "172.24.4.0/24",
                    gateway_ip: str | None = None, outside_ip: str = "203.0.113.10",
                    network_name: str = "public"
                    ) -> tuple[external.Upstream, dict[str, Any], dict[str, Any]]:
    """The external network, its subnet and their upstream, each created unless there.

    As admin through the API: the network ``network_name`` (``router:external``, flat on
    ``physnet``; an existing one of that name must be just that) and a subnet ``cidr``
    with ``gateway_ip`` (default: the first address) and DHCP off, as devstack makes
    ``public``.  Then the upstream namespace on the bridge ``physnet`` is mapped to,
    owning ``gateway_ip`` and ``outside_ip`` (/32, outside ``cidr``), plugged into
    every lab chassis (they all map the same physical networks).  Returns
    (upstream, network, subnet).  LabError when no all-in-one runs, ``physnet`` is not
    in its bridge mappings, or the API refuses; ValueError for bad addresses.
    """
    info = running(state_dir)
    bridge, subnet_cidr, gateway = _mapped_gateway(info, physnet, cidr, gateway_ip)
    with sdk.connect(info, None) as admin:
        net = _external_network(admin, network_name, physnet)
        subnet = _external_subnet(admin, net, str(subnet_cidr), str(gateway))
    up = external.create_upstream(state_dir, physnet, bridge, info.chassis_netns,
                                  info.ovs_connection, f"{gateway}/{subnet_cidr.prefixlen}",
                                  [outside_ip], network_id=net["id"], subnet_id=subnet["id"],
                                  extra_chassis=[(c.netns, c.ovs_connection)
                                                 for c in info.fleet()[1:]])
    return up, net, subnet


def _mapped_gateway(info: RuntimeInfo, physnet: str, cidr: str, gateway_ip: str | None
                    ) -> tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network,
                               ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """``(bridge, network, gateway)`` of a lab gateway on ``physnet``: the bridge the
    all-in-one's chassis map it to, ``cidr`` and ``gateway_ip`` (default: its first
    address). LabError when ``physnet`` is not mapped; ValueError for bad addresses."""
    bridge = info.bridge_mappings.get(physnet)
    if not info.chassis_netns or bridge is None:
        raise LabError(f"physical network {physnet!r} is not mapped on the all-in-one's "
                       f"chassis (bridge_mappings: {info.bridge_mappings or 'none'})")
    net = ipaddress.ip_network(cidr)
    gateway = ipaddress.ip_address(gateway_ip) if gateway_ip else next(net.hosts())
    if gateway not in net:
        raise ValueError(f"gateway {gateway} is not in {net}")
    return bridge, net, gateway


def external_delete(state_dir: Path, physnet: str = "physnet1",
                    keep_network: bool = False) -> external.Upstream:
    """Remove the upstream of ``physnet`` and (unless ``keep_network``) the external
    network it was made for.  The network goes first: while routers or floating IPs
    use it the API refuses (LabError) and the upstream stays."""
    info = running(state_dir)
    try:
        up = external.get_upstream(state_dir, physnet)
    except external.UpstreamNotFound as exc:
        raise LabError(str(exc)) from None
    if up.network_id and not keep_network:
        with sdk.connect(info, None) as admin:
            sdk.call(admin, "DELETE", f"/networks/{up.network_id}", missing_ok=True)
    external.remove_upstream(state_dir, physnet, info.ovs_connection)
    return up


def vlan_create(state_dir: Path, physnet: str, vlan: int, cidr: str,
                gateway_ip: str | None = None) -> vlans.VlanGateway:
    """The gateway of VLAN ``vlan`` on ``physnet`` (``gateway_ip``, default the first
    address of ``cidr``) behind the upstream switch of ``physnet``'s bridge. LabError
    when no all-in-one runs or ``physnet`` is not in its bridge mappings; ValueError
    for bad addresses or VLAN."""
    info = running(state_dir)
    bridge, net, gateway = _mapped_gateway(info, physnet, cidr, gateway_ip)
    return vlans.create_vlan(state_dir, physnet, vlan, bridge, info.chassis_netns,
                             info.ovs_connection, f"{gateway}/{net.prefixlen}")


def vlan_delete(state_dir: Path, physnet: str, vlan: int) -> vlans.VlanGateway:
    """Remove the gateway of (``physnet``, ``vlan``) (and the upstream switch with the
    physnet's last VLAN). LabError when there is none or no all-in-one runs."""
    info = running(state_dir)
    try:
        gw = vlans.get_vlan(state_dir, physnet, vlan)
    except vlans.VlanNotFound as exc:
        raise LabError(str(exc)) from None
    vlans.remove_vlan(state_dir, physnet, vlan, info.ovs_connection)
    return gw


def _external_network(admin: Connection, name: str, physnet: str) -> dict[str, Any]:
    with sdk.refused():
        nets = [sdk.wire(n) for n in admin.network.networks(name=name)]
    if len(nets) > 1:
        raise LabError(f"{len(nets)} networks are named {name!r}")
    if nets:
        net = nets[0]
        if not net.get("router:external") or net.get("provider:physical_network") != physnet:
            raise LabError(f"network {name!r} ({net['id']}) exists but is not an external "
                           f"network on {physnet}")
        return net
    return sdk.call(admin, "POST", "/networks", {"network": {
        "name": name, "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": physnet}})["network"]


def _external_subnet(admin: Connection, net: dict[str, Any], cidr: str,
                     gateway: str) -> dict[str, Any]:
    with sdk.refused():
        subnets = [sdk.wire(s) for s in admin.network.subnets(network_id=net["id"])]
    for subnet in subnets:
        if subnet["cidr"] == cidr:
            if subnet["gateway_ip"] != gateway:
                raise LabError(f"subnet {subnet['id']} ({cidr}) has gateway "
                               f"{subnet['gateway_ip']}, not {gateway}")
            return subnet
    with sdk.refused():
        return sdk.wire(admin.network.create_subnet(
            network_id=net["id"], name=f"{net['name']}-subnet", cidr=cidr, ip_version=4,
            gateway_ip=gateway, is_dhcp_enabled=False))

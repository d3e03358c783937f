"""What the metadata service answers: pure functions of one instance's data.

Paths, versions, listings and documents follow Nova's metadata API
(``nova/api/metadata/base.py``, ``nova/virt/netutils.py``; metadata-clients §5),
which cloud-init's OpenStack and EC2 datasources and botocore read (§1, §2, §4).
No I/O here: ``service.py`` identifies the caller and loads :class:`InstanceData`.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any, Union

# EC2 API versions Nova answers; "latest" is the newest (base.py VERSIONS).
EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                "2008-02-01", "2008-09-01", "2009-04-04")
# OpenStack metadata versions (base.py OPENSTACK_VERSIONS); listed only once their date is past.
OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                      "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "2025-04-04")
LATEST = "latest"

# A node of the EC2 tree: a leaf string, or a directory. A directory whose "_name"
# is set is listed under that name (how public-keys/ lists "0=mykey").
Node = Union[str, dict[str, Any]]


@dataclass(frozen=True)
class SubnetData:
    """The subnet attributes network_data.json needs (reference B.2)."""

    id: str
    network_id: str
    ip_version: int
    cidr: str
    gateway_ip: str | None
    enable_dhcp: bool
    ipv6_address_mode: str | None
    dns_nameservers: tuple[str, ...] = ()
    host_routes: tuple[tuple[str, str], ...] = ()  # ((destination cidr, nexthop), ...)


@dataclass(frozen=True)
class PortData:
    """One port of the instance: ``fixed_ips`` are (address, subnet) in subnet order."""

    id: str
    mac_address: str
    network_id: str
    mtu: int | None
    fixed_ips: tuple[tuple[str, SubnetData], ...] = ()


@dataclass(frozen=True)
class InstanceData:
    """Everything served about one instance: the registry row (``Instance``) plus
    its ports (``device_id`` = ``id``, creation order) and the addresses of the
    floating IPs associated with them."""

    id: str
    project_id: str
    name: str
    hostname: str
    availability_zone: str
    launch_index: int
    public_keys: tuple[tuple[str, str], ...] = ()  # ((name, key), ...) in order
    user_data: bytes | None = None
    vendor_data: dict[str, Any] = field(default_factory=dict)
    ports: tuple[PortData, ...] = ()
    floating_ips: tuple[str, ...] = ()

    @property
    def fixed_ipv4(self) -> str | None:
        """The first fixed IPv4 address over all ports, or None."""
        for port in self.ports:
            for address, subnet in port.fixed_ips:
                if subnet.ip_version == 4:
                    return address
        return None


# --- OpenStack format ------------------------------------------------------------

def openstack_versions(today: datetime.date | None = None) -> list[str]:
    """``GET /openstack``: versions dated up to ``today``, then ``latest``."""
    today_s = (today or datetime.date.today()).isoformat()
    return [v for v in OPENSTACK_VERSIONS if v <= today_s] + [LATEST]


def openstack_version(version: str) -> str | None:
    """The dated version a requested one means (``latest`` is the newest), or None if unknown."""
    if version == LATEST:
        return OPENSTACK_VERSIONS[-1]
    return version if version in OPENSTACK_VERSIONS else None


def openstack_files(inst: InstanceData, version: str) -> list[str]:
    """``GET /openstack/<version>``: the files of that (dated) version (base.py:467-481;
    ``password`` is not served)."""
    files = ["meta_data.json"]
    if inst.user_data is not None:
        files.append("user_data")
    if version >= "2013-10-17":
        files.append("vendor_data.json")
    if version >= "2015-10-15":
        files.append("network_data.json")
    if version >= "2016-10-06":
        files.append("vendor_data2.json")
    return files


def meta_data_json(inst: InstanceData, version: str) -> dict[str, Any]:
    """``meta_data.json`` of a dated version (base.py:317-369). ``random_seed`` is
    512 fresh random bytes per call, as Nova."""
    data: dict[str, Any] = {"uuid": inst.id, "hostname": inst.hostname, "name": inst.name,
                            "launch_index": inst.launch_index,
                            "availability_zone": inst.availability_zone}
    if inst.public_keys:
        data["public_keys"] = {name: key for name, key in inst.public_keys}
        data["keys"] = [{"name": name, "type": "ssh", "data": key} for name, key in inst.public_keys]
    if version >= "2013-04-04":
        data["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    if version >= "2015-10-15":
        data["project_id"] = inst.project_id
    if version >= "2016-06-30":
        data["devices"] = []
    return data


def vendor_data_json(inst: InstanceData) -> dict[str, Any]:
    """``vendor_data.json``: the registered vendor data (Nova's StaticJSON provider)."""
    return inst.vendor_data


def vendor_data2_json(inst: InstanceData) -> dict[str, Any]:
    """``vendor_data2.json``: ``{"static": <vendor data>}`` (base.py:509-528; no dynamic providers)."""
    return {"static": inst.vendor_data}


def network_data_json(inst: InstanceData) -> dict[str, Any]:
    """``network_data.json`` as Nova builds it (``nova/virt/netutils.py``
    ``get_network_metadata``): one ``ovs`` link per port with addresses (id
    ``tap`` + 11 characters of the port id, the port's MAC; ``mtu`` null when DHCP
    serves it), one network per port for its first IPv4 and its first IPv6 subnet
    (``ipv4_dhcp``/``ipv6_dhcp`` without addresses when DHCP is on and no IPv6 address
    mode is set; else static with address, netmask, default and host routes, DNS), and
    every DNS server once in the top-level ``services``."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, str]] = []
    for port in inst.ports:
        firsts = [_first(port, 4), _first(port, 6)]
        firsts = [f for f in firsts if f is not None]
        if not firsts:
            continue
        link_id = ("tap" + port.id)[:14]
        dhcp = any(s.enable_dhcp and s.ip_version == 4 for _, s in firsts)
        links.append({"id": link_id, "vif_id": port.id, "type": "ovs",
                      "mtu": None if dhcp else port.mtu, "ethernet_mac_address": port.mac_address})
        for address, subnet in firsts:
            networks.append(_network(len(networks), link_id, address, subnet))
            for dns in _dns_services(subnet):
                if dns not in services:
                    services.append(dns)
    return {"links": links, "networks": networks, "services": services}


def _first(port: PortData, version: int) -> tuple[str, SubnetData] | None:
    return next(((a, s) for a, s in port.fixed_ips if s.ip_version == version), None)


def _network(index: int, link_id: str, address: str, subnet: SubnetData) -> dict[str, Any]:
    v = subnet.ip_version
    if subnet.ipv6_address_mode is None and subnet.enable_dhcp:
        return {"id": f"network{index}", "type": f"ipv{v}_dhcp", "link": link_id,
                "network_id": subnet.network_id}
    kind = f"ipv{v}" + (f"_{subnet.ipv6_address_mode}" if subnet.ipv6_address_mode else "")
    net = ipaddress.ip_network(subnet.cidr, strict=False)
    routes = []
    if subnet.gateway_ip:
        any_ = "0.0.0.0" if v == 4 else "::"
        routes.append({"network": any_, "netmask": any_, "gateway": subnet.gateway_ip})
    for destination, nexthop in subnet.host_routes:
        dest = ipaddress.ip_network(destination, strict=False)
        routes.append({"network": str(dest.network_address), "netmask": str(dest.netmask),
                       "gateway": nexthop})
    return {"id": f"network{index}", "type": kind, "link": link_id, "ip_address": address,
            "netmask": str(net.netmask), "routes": routes, "network_id": subnet.network_id,
            "services": _dns_services(subnet)}


def _dns_services(subnet: SubnetData) -> list[dict[str, str]]:
    return [{"type": "dns", "address": a} for a in subnet.dns_nameservers]


# --- EC2 format ---------------------------------------------------------------------

def ec2_version(version: str) -> str | None:
    """The EC2 version a requested one means (``latest`` is 2009-04-04), or None.
    Newer AWS versions (2016-09-02, 2021-03-23, ...) are unknown, so cloud-init
    falls back to 2009-04-04 (metadata-clients §2.2)."""
    if version == LATEST:
        return EC2_VERSIONS[-1]
    return version if version in EC2_VERSIONS else None


def ec2_tree(inst: InstanceData, version: str, client_ip: str | None = None) -> dict[str, Any]:
    """The EC2 tree of a (resolved) version: ``{"meta-data": {...}, "user-data": bytes}``
    (base.py:237-305). ``instance-id`` is the instance UUID (Nova prints an
    ``i-xxxxxxxx`` alias; the UUID keeps the OpenStack and EC2 views identical).
    ``local-ipv4`` is the first fixed IPv4, else ``client_ip``; ``public-ipv4`` the
    first associated floating IP, else empty; ``public-keys/N`` lists ``N=<name>``."""
    at = EC2_VERSIONS.index(version)

    def since(v: str) -> bool:
        return at >= EC2_VERSIONS.index(v)

    md: dict[str, Any] = {
        "ami-id": "ami-00000000",
        "ami-launch-index": str(inst.launch_index),
        "ami-manifest-path": "FIXME",
        "hostname": inst.hostname,
        "instance-id": inst.id,
        "local-ipv4": inst.fixed_ipv4 or client_ip or "",
        "reservation-id": "r-" + inst.id[:8],
    }
    if inst.ports:
        md["mac"] = inst.ports[0].mac_address
    if inst.public_keys:
        md["public-keys"] = {str(i): {"_name": f"{i}={name}", "openssh-key": key}
                             for i, (name, key) in enumerate(inst.public_keys)}
    if since("2007-01-19"):
        md["local-hostname"] = inst.hostname
        md["public-hostname"] = inst.hostname
        md["public-ipv4"] = inst.floating_ips[0] if inst.floating_ips else ""
    if since("2007-12-15"):
        md["block-device-mapping"] = {"ami": "vda", "root": "/dev/vda"}
    if since("2008-02-01"):
        md["placement"] = {"availability-zone": inst.availability_zone}
    if since("2008-09-01"):
        md["instance-action"] = "none"
    tree: dict[str, Any] = {"meta-data": md}
    if inst.user_data is not None:
        tree["user-data"] = inst.user_data
    return tree


def lookup(node: Any, segments: list[str]) -> Any:
    """The node at ``segments`` below ``node`` (None if there is none)."""
    for segment in segments:
        if not isinstance(node, dict) or segment.startswith("_") or segment not in node:
            return None
        node = node[segment]
    return node


def listing(node: dict[str, Any]) -> str:
    """A directory as Nova prints it (``ec2_md_print``): sorted names, sub-directories
    with a trailing ``/`` (or their ``_name``), one per line, no final newline."""
    lines = []
    keys = [k for k in node if not k.startswith("_")]
    for key in sorted(keys, key=lambda k: (0, int(k), "") if k.isdigit() else (1, 0, k)):
        value = node[key]
        if isinstance(value, dict):
            lines.append(value.get("_name") or key + "/")
        else:
            lines.append(key)
    return "\n".join(lines)

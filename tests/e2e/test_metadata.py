"""Instance metadata at 169.254.169.254 end to end (issue 5), inside lab instances.

One ``neutrino up`` for the module: its metadata service and the chassis' metadata
agent. Projects mda and mdb use the same 10.0.0.0/24 with an instance at 10.0.0.5 each
(the metadata port takes the first pool address, 10.0.0.4); mda's subnet is also
behind a router, so the route to 169.254.169.254 must not follow the default route.
An admin flat network on physnet1 has no gateway and no router at all (seed 001).
Instances are booted with ``neutrino lab boot --user-data FILE --key NAME=PUBKEY``
and asked with busybox ``wget`` (never with ``-T``: Debian 12's busybox 1.35 wget
crashes with it) or, where headers, methods or source addresses matter, Python's
``http.client``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from allinone import AllInOne, host_state, neutrino, running_allinone
from neutrino_server import NEUTRINO

from neutrino.lab.daemons import wait_until
from neutrino.lab.instances import get_instance, netns_name
from neutrino.metadata import auth

pytestmark = pytest.mark.ovn

META = "http://169.254.169.254"
# One request from inside an instance: prints "<status>\n<body>" (never raises for a
# status). argv: method url [header=value ...] [--source ADDRESS] [--timeout S].
CLIENT = r"""
import http.client, sys, urllib.parse
args = sys.argv[1:]
method, url = args.pop(0), urllib.parse.urlsplit(args.pop(0))
source, timeout, headers = None, 10.0, []
while args:
    arg = args.pop(0)
    if arg == "--source":
        source = (args.pop(0), 0)
    elif arg == "--timeout":
        timeout = float(args.pop(0))
    else:
        headers.append(arg.split("=", 1))
# "[fe80::a9fe:a9fe%25eth0]" -> "fe80::a9fe:a9fe%eth0" (the scope goes to getaddrinfo)
host = urllib.parse.unquote(url.netloc.strip("[]")) if url.netloc.startswith("[") else url.hostname
conn = http.client.HTTPConnection(host, 80, timeout=timeout, source_address=source)
conn.putrequest(method, url.path or "/", skip_accept_encoding=True)
for key, value in headers:
    conn.putheader(key, value)
conn.endheaders()
resp = conn.getresponse()
sys.stdout.write(f"{resp.status}\n")
sys.stdout.flush()
sys.stdout.buffer.write(resp.read())
"""


class World:
    """The all-in-one, its networks and instances, and ways to ask from inside them."""

    def __init__(self, aio: AllInOne, tmp: Path) -> None:
        self.aio, self.tmp = aio, tmp
        self.booted: dict[str, dict] = {}

    def boot(self, short: str, network_id: str, project: str | None, key: str) -> dict:
        """Boot ``<prefix><short>`` with user data and one key; its port, key and data."""
        name = self.aio.prefix + short
        user_data = f"#cloud-config\n# {name}\nruncmd: [echo {short}]\n".encode()
        path = self.tmp / f"{short}.user-data"
        path.write_bytes(user_data)
        extra = ["--project", project] if project else []
        self.aio.lab("boot", name, "--network", network_id, "--user-data", str(path),
                     "--key", f"{short}key={key}", *extra)
        info = {"name": name, "port": self.aio.port_of(name), "key": key,
                "key_name": f"{short}key", "user_data": user_data}
        self.booted[short] = info
        return info

    def wget(self, name: str, path: str, *headers: str) -> subprocess.CompletedProcess:
        """busybox wget of ``path`` in instance ``name`` (body on stdout)."""
        argv = ["ip", "netns", "exec", netns_name(name), "busybox", "wget", "-q", "-O", "-", *(h for header in headers for h in ("--header", header)),
                META + path]
        return subprocess.run(argv, capture_output=True, timeout=30, check=False)

    def request(self, name: str, method: str, url: str, *args: str) -> tuple[int, bytes]:
        """One ``http.client`` request from instance ``name``: (status, body)."""
        res = subprocess.run(["ip", "netns", "exec", netns_name(name), sys.executable, "-c",
                              CLIENT, method, url, *args], capture_output=True, timeout=30,
                             check=False)
        assert res.returncode == 0, res.stderr.decode()
        status, _, body = res.stdout.partition(b"\n")
        return int(status), body

    def meta_data(self, name: str) -> dict:
        res = self.wget(name, "/openstack/latest/meta_data.json")
        assert res.returncode == 0, res.stderr.decode()
        return json.loads(res.stdout)

    def routes(self, name: str) -> str:
        return self.aio.exec(name, "ip", "-4", "route").stdout


@pytest.fixture(scope="module")
def world(run_prefix, tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("metadata")
    (tmp / "state").mkdir()
    with host_state(), running_allinone(tmp / "state", run_prefix) as aio:
        yield World(aio, tmp)


@pytest.fixture(scope="module")
def overlapping(world: World) -> dict[str, dict]:
    """mda and mdb: 10.0.0.0/24, metadata port at .4, an instance at .5 each; mda's
    subnet is a router interface (a router without gateway: no external network)."""
    aio, made = world.aio, {}
    for project in ("mda", "mdb"):
        net = aio.network(project, "10.0.0.0/24", pool=("10.0.0.4", "10.0.0.5"))
        if project == "mda":
            with aio.client(project) as c:
                router = c.post("/routers", json={"router": {"name": "md-r"}}).json()["router"]
                [subnet_id] = c.get(f"/networks/{net['id']}").json()["network"]["subnets"]
                resp = c.put(f"/routers/{router['id']}/add_router_interface",
                             json={"subnet_id": subnet_id})
                assert resp.status_code == 200, resp.text
        made[project] = world.boot(project[-1], net["id"], project, f"ssh-ed25519 AAAA{project}")
        made[project]["network"] = net
        assert aio.leased(made[project]["name"]) == "10.0.0.5"
    return made


def wait_active(aio: AllInOne, name: str, timeout: float = 15) -> dict:
    return wait_until(lambda: (p := aio.port_of(name))["status"] == "ACTIVE" and p, timeout,
                      f"port of {name} ACTIVE", interval=0.02)


def test_overlapping_projects_each_get_their_own_metadata(world, overlapping):
    uuids = set()
    for project, inst in overlapping.items():
        wait_active(world.aio, inst["name"])
        meta = world.meta_data(inst["name"])
        assert meta["uuid"] == inst["port"]["device_id"]
        assert meta["hostname"] == meta["name"] == inst["name"]
        assert meta["project_id"] == project
        assert meta["public_keys"] == {inst["key_name"]: inst["key"]}
        user_data = world.wget(inst["name"], "/openstack/latest/user_data")
        assert user_data.returncode == 0 and user_data.stdout == inst["user_data"]
        ec2 = world.wget(inst["name"], "/latest/meta-data/public-keys/0/openssh-key")
        assert ec2.stdout.decode() == inst["key"]
        uuids.add(meta["uuid"])
    assert len(uuids) == 2


def test_the_route_to_metadata_comes_from_the_dhcp_lease(world, overlapping):
    for inst in overlapping.values():
        lease = get_instance(world.aio.state_dir, inst["name"]).lease
        assert ("169.254.169.254/32", "10.0.0.4") in lease.static_routes
        assert ("0.0.0.0/0", "10.0.0.1") in lease.static_routes  # the default route last
        routes = world.routes(inst["name"])
        assert "169.254.169.254 via 10.0.0.4 dev eth0 proto dhcp" in routes
        assert "default via 10.0.0.1 dev eth0 proto dhcp" in routes


def test_a_flat_provider_network_without_router_or_gateway(world):
    aio = world.aio
    with aio.client() as admin:  # as devstack's admin would, on the lab's physnet1
        net = admin.post("/networks", json={"network": {
            "name": f"{aio.prefix}-flat", "provider:network_type": "flat",
            "provider:physical_network": "physnet1", "shared": True}}).json()["network"]
        resp = admin.post("/subnets", json={"subnet": {
            "network_id": net["id"], "cidr": "192.168.50.0/24", "ip_version": 4,
            "gateway_ip": None}})
        assert resp.status_code == 201, resp.text
    inst = world.boot("f", net["id"], None, "ssh-rsa AAAAflat")
    lease = get_instance(aio.state_dir, inst["name"]).lease
    assert lease.router is None and lease.server_id == "192.168.50.1"  # the metadata port
    assert lease.static_routes == (("169.254.169.254/32", "192.168.50.1"),)
    assert "169.254.169.254 via 192.168.50.1 dev eth0 proto dhcp" in world.routes(inst["name"])
    assert "default" not in world.routes(inst["name"])
    wait_active(aio, inst["name"])
    meta = world.meta_data(inst["name"])
    assert meta["uuid"] == inst["port"]["device_id"]
    assert meta["public_keys"] == {"fkey": "ssh-rsa AAAAflat"}
    assert world.wget(inst["name"], "/openstack/latest/user_data").stdout == inst["user_data"]


def test_headers_sent_by_the_instance_change_nothing(world, overlapping):
    a, b = overlapping["mda"], overlapping["mdb"]
    other = b["port"]["device_id"]
    forged = (f"X-Instance-ID: {other}", "X-Tenant-ID: mdb", "X-Forwarded-For: 10.0.0.5",
              f"X-Instance-ID-Signature: {auth.sign_instance_id('guessed', other)}")
    got = world.wget(a["name"], "/openstack/latest/meta_data.json", *forged)
    assert json.loads(got.stdout)["uuid"] == a["port"]["device_id"]
    status, body = world.request(a["name"], "GET", META + "/latest/meta-data/instance-id",
                                 f"X-Instance-ID={other}", f"x-instance-id={other}",
                                 "X-Forwarded-For=10.0.0.5")
    assert (status, body.decode()) == (200, a["port"]["device_id"])


def test_an_address_that_belongs_to_no_port_gets_404(world, overlapping):
    """The port's security (OVN port_security, MAC + its address) would drop a foreign
    source address before the agent sees it; cleared by hand for this test (as a port
    with port security disabled would be) and put back after."""
    aio, inst = world.aio, overlapping["mdb"]
    port_id = inst["port"]["id"]
    nbctl = ["ovn-nbctl", f"--db={aio.runtime['nb_connection']}"]
    saved = subprocess.run(nbctl + ["lsp-get-port-security", port_id], capture_output=True,
                           text=True, check=True).stdout.strip()
    subprocess.run(nbctl + ["lsp-set-port-security", port_id], check=True)
    assert aio.exec(inst["name"], "ip", "addr", "add", "10.0.0.77/24", "dev", "eth0").returncode == 0
    try:
        status, _ = world.request(inst["name"], "GET", META + "/openstack", "--source", "10.0.0.77")
        assert status == 404
        status, body = world.request(inst["name"], "GET", META + "/openstack",
                                     "--source", "10.0.0.5")
        assert status == 200 and b"latest" in body
    finally:
        aio.exec(inst["name"], "ip", "addr", "del", "10.0.0.77/24", "dev", "eth0")
        subprocess.run(nbctl + ["lsp-set-port-security", port_id, saved], check=True)


def test_a_bad_signature_sent_straight_to_the_service_gets_403(world, overlapping):
    inst = overlapping["mda"]
    instance_id = inst["port"]["device_id"]
    url = world.aio.runtime["metadata_url"] + "/openstack/latest/meta_data.json"
    bad = {"X-Instance-ID": instance_id, "X-Tenant-ID": "mda",
           "X-Instance-ID-Signature": auth.sign_instance_id("not-the-secret", instance_id)}
    assert httpx.get(url, headers=bad, timeout=5).status_code == 403
    assert httpx.get(url, timeout=5).status_code == 403
    assert httpx.get(url, headers={"X-Instance-ID": instance_id, "X-Forwarded-For": "10.0.0.5"},
                     timeout=5).status_code == 403


def test_an_expired_imdsv2_token_gets_401(world, overlapping):
    name = overlapping["mda"]["name"]
    token_url = META + "/latest/api/token"
    status, token = world.request(name, "PUT", token_url, "X-aws-ec2-metadata-token-ttl-seconds=60")
    assert status == 200
    status, body = world.request(name, "GET", META + "/latest/meta-data/instance-id",
                                 f"X-aws-ec2-metadata-token={token.decode()}")
    assert (status, body.decode()) == (200, overlapping["mda"]["port"]["device_id"])
    status, short = world.request(name, "PUT", token_url, "X-aws-ec2-metadata-token-ttl-seconds=1")
    assert status == 200
    time.sleep(2.1)
    status, _ = world.request(name, "GET", META + "/latest/meta-data/instance-id",
                              f"X-aws-ec2-metadata-token={short.decode()}")
    assert status == 401
    # a token of one instance is no use to another (same address, other network)
    status, _ = world.request(overlapping["mdb"]["name"], "GET", META + "/latest/meta-data/",
                              f"X-aws-ec2-metadata-token={token.decode()}")
    assert status == 401


def test_active_means_the_metadata_path_is_listening(world):
    """A fresh network: its namespace is made when the first port binds, and the
    port turns ACTIVE only once it listens; the first request then succeeds."""
    aio = world.aio
    net = aio.network("mdc", "10.7.0.0/24")
    name = aio.prefix + "c"
    ns = f"ovnmeta-{net['id']}"
    boot = subprocess.Popen([str(NEUTRINO), "lab", "boot", name, "--network", net["id"],
                             "--project", "mdc", "--state-dir", str(aio.state_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={k: v for k, v in os.environ.items()
                                 if not k.startswith("NEUTRINO_")})
    try:
        def active_port():
            with aio.client() as c:
                ports = c.get("/ports", params={"name": name}).json()["ports"]
            return ports and ports[0]["status"] == "ACTIVE" and ports[0]
        wait_until(active_port, 30, "the port ACTIVE", interval=0.01)
        listening = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn",
                                    "src", "169.254.169.254:80"],
                                   capture_output=True, text=True).stdout
        assert "169.254.169.254:80" in listening  # already, at the moment it was ACTIVE
    finally:
        out, _ = boot.communicate(timeout=60)
    assert boot.returncode == 0, out
    port = aio.port_of(name)
    # one attempt, as Debian 12's cloud-init makes it
    res = world.wget(name, "/openstack")
    assert res.returncode == 0 and b"2018-08-27" in res.stdout
    assert world.meta_data(name)["uuid"] == port["device_id"]
    # the namespace goes with the network's last local port
    aio.lab("delete", name)
    wait_until(lambda: ns not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                text=True).stdout, 10, f"{ns} removed")


def test_ipv6_link_local_metadata_on_a_dual_stack_network(world):
    """fe80::a9fe:a9fe answers ports that have an IPv6 address (OVN port security drops
    IPv6 of an IPv4-only port); the caller is known by the MAC in its EUI-64."""
    aio = world.aio
    net = aio.network("mdd", "10.8.0.0/24")
    with aio.client("mdd") as c:
        resp = c.post("/subnets", json={"subnet": {
            "network_id": net["id"], "cidr": "2001:db8:8::/64", "ip_version": 6,
            "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}})
        assert resp.status_code == 201, resp.text
    inst = world.boot("d", net["id"], "mdd", "ssh-ed25519 AAAAv6")
    wait_active(aio, inst["name"])

    def ask():
        status, body = world.request(inst["name"], "GET",
                                     "http://[fe80::a9fe:a9fe%25eth0]/openstack/latest/meta_data.json",
                                     "--timeout", "3")
        return status == 200 and json.loads(body)
    meta = wait_until(ask, 15, "an answer on fe80::a9fe:a9fe")  # link-local DAD on the guest
    assert meta["uuid"] == inst["port"]["device_id"]


def test_status_shows_the_metadata_service(world):
    out = neutrino("status", "--state-dir", str(world.aio.state_dir)).stdout
    assert "metadata" in out and world.aio.runtime["metadata_url"] in out

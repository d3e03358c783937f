"""Instance metadata at 169.254.169.254 end to end (issue 5), inside lab instances.

One ``neutrino up`` for the module: its metadata service and the chassis' metadata
agent. Projects mda and mdb use the same 10.0.0.0/24 with an instance at 10.0.0.5 each
(the metadata port takes the first pool address, 10.0.0.4); mda's subnet is also
behind a router, so the route to 169.254.169.254 must not follow the default route.
An admin flat network on physnet1 has no gateway and no router at all (seed 001).
The all-in-one runs with ``metadata_without_dhcp`` (DHCP-disabled subnets get a
metadata address too). Identity is (network, address, MAC): spoofing a neighbour's
address, then also its MAC, from a port without port security gets nothing.
Instances are booted with ``neutrino lab boot --user-data FILE --key NAME=PUBKEY``
and asked with busybox ``wget`` (never with ``-T``: Debian 12's busybox 1.35 wget
crashes with it) or, where headers, methods or source addresses matter, Python's
``http.client``; and by real clients: Debian 12's cloud-init (its OpenStack and Ec2
datasources, run by ``/usr/bin/python3`` from the ``cloud-init`` package, which the
host never runs itself: scripts/bootstrap.sh) and botocore's IMDS fetcher.
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

# cloud-init's own datasource search, as ``cloud-init init`` does it (stages.Init
# ._get_data_source -> sources.find_source over the configured datasource_list), run by
# Debian's system Python with Debian's cloud-init package; every path it writes is
# under argv[2] (helpers.Paths), nothing under /var/lib/cloud or /run/cloud-init.
# argv: config (JSON, merged over cloud-init's builtin config) workdir. Prints JSON.
CLOUD_INIT = r"""
import json, sys
from cloudinit import distros, helpers, settings, sources, util, version
from cloudinit.reporting import events
config, workdir = json.loads(sys.argv[1]), sys.argv[2]
cfg = util.mergemanydict([config, settings.CFG_BUILTIN])
paths = helpers.Paths({"cloud_dir": workdir + "/cloud", "run_dir": workdir + "/run"})
distro = distros.fetch("debian")("debian", {}, paths)
ds, name = sources.find_source(
    cfg, distro, paths, [sources.DEP_FILESYSTEM, sources.DEP_NETWORK], cfg["datasource_list"],
    ["", "cloudinit.sources"], events.ReportEventStack("neutrino", "", reporting_enabled=False))
out = {"version": version.version_string(), "datasource": name,
       "instance_id": ds.get_instance_id(), "hostname": ds.get_hostname().hostname,
       "public_keys": ds.get_public_ssh_keys(), "availability_zone": ds.availability_zone,
       "user_data": ds.get_userdata_raw().decode(), "subplatform": ds.subplatform}
if name == "DataSourceOpenStack":
    out["network_config"] = ds.network_config
print(json.dumps(out))
"""
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where the cloud-init package installs
# Pinned to 169.254.169.254, bounded waits (defaults: one 10 s try for OpenStack, 120 s
# polls for Ec2), metadata-clients §3. Ec2: an unknown cloud may proceed (strict_id).
CLOUD_INIT_CONFIG = {
    "OpenStack": {"metadata_urls": [META], "max_wait": 10, "timeout": 2, "retries": 1},
    "Ec2": {"metadata_urls": [META], "max_wait": 10, "timeout": 2, "strict_id": False},
}
# botocore's IMDS fetcher with IMDSv1 disabled (so nothing is read without a token),
# default endpoint (169.254.169.254). Prints JSON: the token, instance-id read with
# it, and what a forged token of the same length gets.
BOTOCORE = r"""
import json
from botocore.utils import InstanceMetadataFetcher
fetcher = InstanceMetadataFetcher(timeout=2, num_attempts=2,
                                  config={"ec2_metadata_v1_disabled": True})
token = fetcher._fetch_metadata_token()
out = {"endpoint": fetcher.get_base_url(), "token": token}
if token:
    out["instance_id"] = fetcher._get_request("latest/meta-data/instance-id", None, token).text
    try:
        fetcher._get_request("latest/meta-data/instance-id", None, "A" * len(token))
        out["forged"] = "accepted"
    except Exception as exc:
        out["forged"] = type(exc).__name__
print(json.dumps(out))
"""


class World:
    """The all-in-one, its networks and instances, and ways to ask from inside them."""

    def __init__(self, aio: AllInOne, tmp: Path) -> None:
        self.aio, self.tmp = aio, tmp
        self.booted: dict[str, dict] = {}

    def boot(self, short: str, network_id: str, project: str | None, key: str,
             *options: str) -> dict:
        """Boot ``<prefix><short>`` with user data and one key (``options``: more
        ``neutrino lab boot`` options); its port, key and data."""
        name = self.aio.prefix + short
        user_data = f"#cloud-config\n# {name}\nruncmd: [echo {short}]\n".encode()
        path = self.tmp / f"{short}.user-data"
        path.write_bytes(user_data)
        extra = ["--project", project] if project else []
        self.aio.lab("boot", name, "--network", network_id, "--user-data", str(path),
                     "--key", f"{short}key={key}", *extra, *options)
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

    def cloud_init(self, name: str, datasource: str) -> dict:
        """cloud-init's ``datasource`` (OpenStack or Ec2), forced by configuration
        (``datasource_list: [<it>]``), searched for inside instance ``name``: what it read.

        Debian 12's cloud-init (22.4.2) has no override of the OpenStack platform
        check (DMI), so it runs as PID 1 of a PID namespace of its own with
        ``product_name=OpenStack Nova`` in its environment: the nova-lxd path of
        ``detect_openstack`` (metadata-clients §1.1, §3)."""
        config = {"datasource_list": [datasource],
                  "datasource": {datasource: CLOUD_INIT_CONFIG[datasource]}}
        workdir = self.tmp / f"cloud-init-{name}-{datasource}"
        workdir.mkdir()
        argv = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", SYSTEM_PYTHON, "-c",
                CLOUD_INIT, json.dumps(config), str(workdir)]
        if datasource == "OpenStack":
            argv = ["unshare", "--pid", "--fork", "--mount-proc", *argv[:2],
                    "product_name=OpenStack Nova", *argv[2:]]
        # cloud-init first probes for a DNS that redirects unknown names (29 lookups in
        # util.is_resolvable); the lab's subnets have no upstream DNS, so each lookup
        # would time out. A resolver on the instance's own loopback, refused at once,
        # answers "not found" instead. Only this process' mount namespace sees it.
        resolv = workdir / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\noptions attempts:1\n")
        argv = ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
                str(resolv), *argv]
        res = subprocess.run(["ip", "netns", "exec", netns_name(name), *argv],
                             capture_output=True, text=True, timeout=60, check=False)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def botocore(self, name: str) -> dict:
        """botocore's IMDS fetcher run inside instance ``name`` (see BOTOCORE)."""
        res = subprocess.run(["ip", "netns", "exec", netns_name(name), "env", "-i",
                              "PATH=/usr/bin:/bin", sys.executable, "-c", BOTOCORE],
                             capture_output=True, text=True, timeout=60, check=False)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def meta_data(self, name: str) -> dict:
        res = self.wget(name, "/openstack/latest/meta_data.json")
        assert res.returncode == 0, res.stderr.decode()
        return json.loads(res.stdout)

    def routes(self, name: str) -> str:
        return self.aio.exec(name, "ip", "-4", "route").stdout

    def sh(self, name: str, *argv: str) -> None:
        """Run ``argv`` inside instance ``name``; it must succeed."""
        res = subprocess.run(["ip", "netns", "exec", netns_name(name), *argv],
                             capture_output=True, text=True, timeout=30, check=False)
        assert res.returncode == 0, f"{argv}: {res.stderr}"

    def try_request(self, name: str, method: str, url: str, *args: str) -> int | None:
        """As :meth:`request`, but None when no answer came (refused, reset, timeout)."""
        res = subprocess.run(["ip", "netns", "exec", netns_name(name), sys.executable, "-c",
                              CLIENT, method, url, *args], capture_output=True, timeout=30,
                             check=False)
        return int(res.stdout.partition(b"\n")[0]) if res.returncode == 0 else None

    def metadata_port(self, network_id: str) -> dict:
        with self.aio.client() as c:
            [port] = c.get("/ports", params={"network_id": network_id,
                                             "device_owner": "network:distributed"}
                           ).json()["ports"]
        return port


@pytest.fixture(scope="module")
def world(run_prefix, tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("metadata")
    (tmp / "state").mkdir()
    with host_state(), running_allinone(tmp / "state", run_prefix,
                                        settings={"metadata_without_dhcp": "true"}) as aio:
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


def _cloud_init_installed() -> bool:
    return subprocess.run([SYSTEM_PYTHON, "-c", "import cloudinit.sources"],
                          capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("datasource", ["OpenStack", "Ec2"])
def test_cloud_init_datasources_read_each_instance_its_own(world, overlapping, datasource):
    """Debian 12's cloud-init in each of two instances at the same address."""
    if not _cloud_init_installed():
        pytest.skip("Debian's cloud-init package is not installed (scripts/apt-packages.txt)")
    host_paths = [Path("/var/lib/cloud"), Path("/run/cloud-init")]
    before = [p.exists() for p in host_paths]
    for inst in overlapping.values():
        wait_active(world.aio, inst["name"])
        got = world.cloud_init(inst["name"], datasource)
        assert got["datasource"] == f"DataSource{datasource}"
        assert got["subplatform"] == f"metadata ({META})"
        assert got["instance_id"] == inst["port"]["device_id"]
        assert got["hostname"] == inst["name"]
        assert got["public_keys"] == [inst["key"]]
        assert got["user_data"] == inst["user_data"].decode()
        assert got["availability_zone"] == "nova"
        if datasource == "OpenStack":  # network_data.json: links by the port's MAC
            [link] = got["network_config"]["config"]
            assert (link["type"], link["mac_address"], link["name"]) == \
                ("physical", inst["port"]["mac_address"], "eth0")
    assert [p.exists() for p in host_paths] == before  # nothing written on the host


def test_botocore_reads_instance_id_with_an_imdsv2_token(world, overlapping):
    for inst in overlapping.values():
        wait_active(world.aio, inst["name"])
        got = world.botocore(inst["name"])
        assert got["endpoint"] == META + "/"
        assert got["token"], "no IMDSv2 token"
        assert got["instance_id"] == inst["port"]["device_id"]
        assert got["forged"] == "_RetriesExceededError"  # 401 for a token never issued


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


def test_an_address_that_belongs_to_no_port_gets_404(world):
    """A port without port security (``port_security_enabled`` false) may send from
    any address, so the agent, not OVN, must turn away one that no port has."""
    aio = world.aio
    net = aio.network("mde", "10.9.0.0/24", pool=("10.9.0.4", "10.9.0.20"))  # .77: no port's
    inst = world.boot("e", net["id"], "mde", "ssh-ed25519 AAAAnops", "--no-port-security")
    assert inst["port"]["port_security_enabled"] is False
    wait_active(aio, inst["name"])
    address = inst["port"]["fixed_ips"][0]["ip_address"]
    assert aio.exec(inst["name"], "ip", "addr", "add", "10.9.0.77/24", "dev", "eth0").returncode == 0
    status, _ = world.request(inst["name"], "GET", META + "/openstack", "--source", "10.9.0.77")
    assert status == 404
    status, body = world.request(inst["name"], "GET", META + "/openstack/latest/meta_data.json",
                                 "--source", address)
    assert status == 200 and json.loads(body)["uuid"] == inst["port"]["device_id"]


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
    IPv6 of an IPv4-only port); the caller is known by its neighbour entry's MAC."""
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


UUID_URL = META + "/openstack/latest/meta_data.json"


def test_a_neighbours_address_and_then_its_mac_get_nothing(world):
    """An instance without port security takes its neighbour's address: the metadata
    namespace sees the address from the attacker's MAC, so 404 (before identity by
    MAC: the neighbour's data); with the neighbour's MAC too, the namespace's answers
    go to the neighbour's port (OVN delivers by MAC): no answer. The neighbour keeps
    getting its own data."""
    aio = world.aio
    net = aio.network("mdf", "10.10.0.0/24", pool=("10.10.0.4", "10.10.0.20"))
    victim = world.boot("v", net["id"], "mdf", "ssh-ed25519 AAAAvictim")
    attacker = world.boot("x", net["id"], "mdf", "ssh-ed25519 AAAAattacker", "--no-port-security")
    for inst in (victim, attacker):
        wait_active(aio, inst["name"])
    address = victim["port"]["fixed_ips"][0]["ip_address"]
    own = victim["port"]["device_id"]
    assert json.loads(world.request(victim["name"], "GET", UUID_URL)[1])["uuid"] == own

    # the neighbour's address, 169.254.169.254 on-link: the attacker's ARP request for
    # it reaches the namespace (OVN answers ARP only for port addresses) and makes its
    # neighbour entry for the address carry the attacker's MAC, so the handshake
    # completes, and the MAC check answers 404
    world.sh(attacker["name"], "ip", "addr", "add", f"{address}/32", "dev", "eth0")
    world.sh(attacker["name"], "ip", "route", "replace", "169.254.169.254/32", "dev", "eth0",
             "src", address)
    world.sh(attacker["name"], "ip", "neigh", "flush", "dev", "eth0")
    status, body = world.request(attacker["name"], "GET", UUID_URL, "--source", address,
                                 "--timeout", "5")
    assert status == 404, body
    # and its MAC too: the namespace's SYN-ACK goes to the neighbour's port
    world.sh(attacker["name"], "ip", "link", "set", "eth0", "address",
             victim["port"]["mac_address"])
    world.sh(attacker["name"], "ip", "neigh", "flush", "dev", "eth0")
    got = world.try_request(attacker["name"], "GET", UUID_URL, "--source", address,
                            "--timeout", "3")
    assert got != 200
    # the neighbour still reads its own
    meta = wait_until(lambda: (r := world.request(victim["name"], "GET", UUID_URL,
                                                  "--timeout", "3"))[0] == 200
                      and json.loads(r[1]), 20, "the neighbour's own metadata")
    assert meta["uuid"] == own


def test_an_ipv6_only_network_without_eui64_addresses(world):
    """An IPv6-only network (SLAAC) has a metadata port and its namespace answers at
    fe80::a9fe:a9fe; the guest's only link-local address is not EUI-64 (port
    security lets it send from fe80::/64 through an allowed address pair)."""
    aio = world.aio
    with aio.client("mdg") as c:
        net = c.post("/networks", json={"network": {"name": f"{aio.prefix}-v6"}}).json()["network"]
        resp = c.post("/subnets", json={"subnet": {
            "network_id": net["id"], "cidr": "2001:db8:9::/64", "ip_version": 6,
            "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}})
        assert resp.status_code == 201, resp.text
    assert world.metadata_port(net["id"])["fixed_ips"]  # its SLAAC address
    inst = world.boot("g", net["id"], "mdg", "ssh-ed25519 AAAAv6only", "--no-dhcp")
    with aio.client("mdg") as c:
        resp = c.put(f"/ports/{inst['port']['id']}", json={"port": {
            "allowed_address_pairs": [{"ip_address": "fe80::/64"}]}})
        assert resp.status_code == 200, resp.text
    wait_active(aio, inst["name"])
    name = inst["name"]
    world.sh(name, "ip", "-6", "addr", "flush", "dev", "eth0", "scope", "link")
    world.sh(name, "ip", "-6", "addr", "add", "fe80::1c2b:9e4d:77a1:3f02/64", "dev", "eth0",
             "nodad")

    def ask():
        status, body = world.request(name, "GET",
                                     "http://[fe80::a9fe:a9fe%25eth0]/openstack/latest/meta_data.json",
                                     "--timeout", "3")
        return status == 200 and json.loads(body)
    meta = wait_until(ask, 20, "an answer on fe80::a9fe:a9fe")
    assert meta["uuid"] == inst["port"]["device_id"]


def test_a_dhcp_disabled_subnet_with_a_static_route(world):
    """A guest with a static address on a DHCP-disabled subnet reaches
    169.254.169.254 by a static route to the metadata port's address (README)."""
    aio = world.aio
    with aio.client("mdh") as c:
        net = c.post("/networks", json={"network": {"name": f"{aio.prefix}-static"}}).json()["network"]
        resp = c.post("/subnets", json={"subnet": {
            "network_id": net["id"], "cidr": "10.11.0.0/24", "ip_version": 4,
            "enable_dhcp": False}})
        assert resp.status_code == 201, resp.text
    [fixed] = world.metadata_port(net["id"])["fixed_ips"]
    assert fixed["ip_address"] == "10.11.0.2"  # the first pool address
    inst = world.boot("h", net["id"], "mdh", "ssh-ed25519 AAAAstatic", "--no-dhcp")
    wait_active(aio, inst["name"])
    assert "169.254.169.254" not in world.routes(inst["name"])
    world.sh(inst["name"], "ip", "route", "add", "169.254.169.254/32", "via", "10.11.0.2")
    meta = world.meta_data(inst["name"])
    assert meta["uuid"] == inst["port"]["device_id"]
    assert meta["public_keys"] == {"hkey": "ssh-ed25519 AAAAstatic"}

"""The metadata service (``neutrino/metadata``) and its registry API (``/v2.0/instances``).

The service runs in-process under aiohttp's test client over the same migrated
database as the API (SQLite, and PostgreSQL with ``-m postgres``); requests are
signed as the metadata agent signs them (Nova's proxy headers, reference E.3/E.4).
Paths are the ones cloud-init's OpenStack and EC2 datasources and botocore ask
for (shared/reference/metadata-clients.md §1.8, §2.5, §4).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import error_type

from neutrino.config import ConfigError, Settings
from neutrino.db.models import FloatingIP
from neutrino.metadata import auth, content
from neutrino.metadata.service import HANDLER_KEY, MetadataServer, create_app

SECRET = "s3cret"
KEY1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 alice@example"
KEY2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC2 bob@example"
USER_DATA = b"#cloud-config\nhostname: vm1\n\xff binary tail"


class Meta:
    """A signed client of the metadata service, as the agent would be."""

    def __init__(self, api, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = create_app(api.env.db, settings, SECRET)

        async def start() -> TestClient:
            client = TestClient(TestServer(self.app))
            await client.start_server()
            return client
        self.client = self.loop.run_until_complete(start())

    @property
    def store(self):
        return self.app[HANDLER_KEY].store

    def request(self, path: str, instance: dict | None = None, *, method: str = "GET",
                headers: dict[str, str] | None = None, signed: bool = True):
        hdrs: dict[str, Any] = {}
        if instance is not None and signed:
            hdrs.update(auth.proxy_headers(SECRET, instance["id"], instance["project_id"],
                                           "10.0.0.5"))
        hdrs.update(headers or {})

        async def go():
            resp = await self.client.request(method, path, headers=hdrs)
            return resp.status, resp.headers, await resp.read()
        return self.loop.run_until_complete(go())

    def get(self, path: str, instance: dict, **kw) -> bytes:
        status, _, body = self.request(path, instance, **kw)
        assert status == 200, f"GET {path}: {status} {body!r}"
        return body

    def text(self, path: str, instance: dict, **kw) -> str:
        return self.get(path, instance, **kw).decode()

    def json(self, path: str, instance: dict, **kw) -> Any:
        return json.loads(self.get(path, instance, **kw))

    def status(self, path: str, instance: dict | None, **kw) -> int:
        return self.request(path, instance, **kw)[0]

    def token(self, instance: dict, ttl: str = "21600") -> str:
        status, headers, body = self.request(
            "/latest/api/token", instance, method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        assert status == 200 and headers["X-aws-ec2-metadata-token-ttl-seconds"] == ttl
        return body.decode()

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def meta_client(api, **settings) -> Meta:
    values = {"state_dir": "/nonexistent", "database_url": api.env.settings.database_url,
              "metadata_cache_seconds": 0, **settings}
    return Meta(api, Settings(**values))


@pytest.fixture
def meta(api) -> Iterator[Meta]:
    client = meta_client(api)
    yield client
    client.close()


def register(api, instance_id: str | None = None, *, expect: int = 201, **attrs) -> dict:
    body = {"id": instance_id or str(uuid.uuid4()), "project_id": "p1", "name": "vm1",
            "hostname": "vm1.example", "availability_zone": "az1a", "launch_index": 0,
            "public_keys": [{"name": "k1", "key": KEY1}, {"name": "k2", "key": KEY2}],
            "user_data": base64.b64encode(USER_DATA).decode(),
            "vendor_data": {"cloud-init": "#cloud-config\n{}"}, **attrs}
    body = {k: v for k, v in body.items() if v is not None}
    resp = api.post("/v2.0/instances", {"instance": body}, admin=True, expect=expect)
    return resp.json().get("instance")


@pytest.fixture
def vm(api) -> dict:
    """An instance with one port on a DHCP-enabled 10.0.0.0/24 subnet."""
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/24", dns_nameservers=["10.0.0.2"])
    instance_id = str(uuid.uuid4())
    port = api.port(net["id"], device_id=instance_id, device_owner="compute:nova")
    inst = register(api, instance_id)
    inst["port"], inst["network"] = port, net
    return inst


# --- OpenStack format ----------------------------------------------------------------

def test_openstack_version_list_as_cloud_init_reads_it(meta, vm):
    versions = meta.text("/openstack", vm)
    assert versions == meta.text("/openstack/", vm)
    lines = versions.split("\n")
    assert lines[0] == "2012-08-10" and "2018-08-27" in lines and lines[-1] == "latest"
    assert not versions.endswith("\n")


def test_openstack_file_listings_follow_the_version(meta, vm):
    assert meta.text("/openstack/latest", vm).split("\n") == [
        "meta_data.json", "user_data", "vendor_data.json", "network_data.json", "vendor_data2.json"]
    assert meta.text("/openstack/2012-08-10/", vm).split("\n") == ["meta_data.json", "user_data"]
    assert meta.status("/openstack/2012-08-10/network_data.json", vm) == 404
    assert meta.status("/openstack/2011-01-01/meta_data.json", vm) == 404
    assert meta.status("/openstack/latest/password", vm) == 404
    assert meta.status("/openstack/latest/meta_data.json/x", vm) == 404


def test_meta_data_json_has_what_cloud_init_and_nova_clients_read(meta, vm):
    status, headers, body = meta.request("/openstack/2018-08-27/meta_data.json", vm)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    md = json.loads(body)
    assert {k: md[k] for k in ("uuid", "name", "hostname", "project_id", "availability_zone",
                               "launch_index")} == {
        "uuid": vm["id"], "name": "vm1", "hostname": "vm1.example", "project_id": "p1",
        "availability_zone": "az1a", "launch_index": 0}
    assert md["public_keys"] == {"k1": KEY1, "k2": KEY2}
    assert md["keys"] == [{"name": "k1", "type": "ssh", "data": KEY1},
                          {"name": "k2", "type": "ssh", "data": KEY2}]
    assert len(base64.b64decode(md["random_seed"], validate=True)) == 512
    assert md["devices"] == []
    assert meta.json("/openstack/latest/meta_data.json", vm)["uuid"] == vm["id"]
    old = meta.json("/openstack/2012-08-10/meta_data.json", vm)
    assert "project_id" not in old and "random_seed" not in old and old["uuid"] == vm["id"]


def test_user_data_is_served_byte_for_byte_and_404_when_none(api, meta, vm):
    assert meta.get("/openstack/latest/user_data", vm) == USER_DATA
    assert meta.get("/latest/user-data", vm) == USER_DATA
    assert meta.get("/2009-04-04/user-data/", vm) == USER_DATA
    bare = register(api, user_data=None, public_keys=[])
    assert meta.status("/openstack/latest/user_data", bare) == 404
    assert meta.status("/latest/user-data", bare) == 404
    assert "user_data" not in meta.text("/openstack/latest", bare).split("\n")
    assert meta.text("/latest", bare) == "meta-data/"
    assert "public_keys" not in meta.json("/openstack/latest/meta_data.json", bare)


def test_vendor_data_documents(meta, vm):
    assert meta.json("/openstack/latest/vendor_data.json", vm) == {"cloud-init": "#cloud-config\n{}"}
    assert meta.json("/openstack/latest/vendor_data2.json", vm) == {
        "static": {"cloud-init": "#cloud-config\n{}"}}


def test_network_data_json_is_built_from_the_instances_ports(api, meta):
    net = api.network(name="a")
    api.subnet(net["id"], "10.0.0.0/24", dns_nameservers=["10.0.0.2"])
    static_net = api.network(name="b")
    api.subnet(static_net["id"], "192.168.5.0/24", enable_dhcp=False, gateway_ip="192.168.5.1",
               dns_nameservers=["192.168.5.2", "10.0.0.2"],
               host_routes=[{"destination": "172.16.0.0/16", "nexthop": "192.168.5.254"}])
    v6_subnet = api.subnet(static_net["id"], "fd00:5::/64", ipv6_address_mode="slaac",
                           ipv6_ra_mode="slaac")
    instance_id = str(uuid.uuid4())
    p1 = api.port(net["id"], device_id=instance_id)
    p2 = api.port(static_net["id"], device_id=instance_id)
    api.port(net["id"], device_id=str(uuid.uuid4()))  # someone else's
    inst = register(api, instance_id)
    nd = meta.json("/openstack/latest/network_data.json", inst)
    tap1, tap2 = ("tap" + p1["id"])[:14], ("tap" + p2["id"])[:14]
    # ports of one second are in id order: look links and networks up by link
    assert {link["vif_id"]: link for link in nd["links"]} == {
        p1["id"]: {"id": tap1, "vif_id": p1["id"], "type": "ovs", "mtu": None,
                   "ethernet_mac_address": p1["mac_address"]},
        p2["id"]: {"id": tap2, "vif_id": p2["id"], "type": "ovs", "mtu": static_net["mtu"],
                   "ethernet_mac_address": p2["mac_address"]}}
    assert [n["id"] for n in nd["networks"]] == ["network0", "network1", "network2"]
    by_link = {}
    for n in nd["networks"]:
        by_link.setdefault(n.pop("link"), []).append(n)
        n.pop("id")
    v4 = next(ip["ip_address"] for ip in p2["fixed_ips"] if "." in ip["ip_address"])
    v6 = next(ip["ip_address"] for ip in p2["fixed_ips"] if ":" in ip["ip_address"])
    assert by_link[tap1] == [{"type": "ipv4_dhcp", "network_id": net["id"]}]
    assert by_link[tap2] == [
        {"type": "ipv4", "ip_address": v4, "netmask": "255.255.255.0",
         "network_id": static_net["id"],
         "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.5.1"},
                    {"network": "172.16.0.0", "netmask": "255.255.0.0", "gateway": "192.168.5.254"}],
         "services": [{"type": "dns", "address": "192.168.5.2"}, {"type": "dns", "address": "10.0.0.2"}]},
        {"type": "ipv6_slaac", "ip_address": v6, "netmask": "ffff:ffff:ffff:ffff::",
         "network_id": static_net["id"],
         "routes": [{"network": "::", "netmask": "::", "gateway": v6_subnet["gateway_ip"]}],
         "services": []}]
    assert sorted(d["address"] for d in nd["services"]) == ["10.0.0.2", "192.168.5.2"]


def test_network_data_json_without_ports_is_empty(api, meta):
    inst = register(api)
    assert meta.json("/openstack/latest/network_data.json", inst) == {
        "links": [], "networks": [], "services": []}


# --- EC2 format -----------------------------------------------------------------------

def test_ec2_version_list_and_version_root(meta, vm):
    versions = meta.text("/", vm).split("\n")
    assert versions[0] == "1.0" and versions[-2:] == ["2009-04-04", "latest"]
    assert meta.text("/latest", vm) == "meta-data/\nuser-data"
    assert meta.text("/2009-04-04/", vm) == "meta-data/\nuser-data"
    for newer in ("2016-09-02", "2018-09-24", "2021-03-23"):  # cloud-init probes, 404 like Nova
        assert meta.status(f"/{newer}/meta-data/instance-id", vm) == 404


def test_ec2_meta_data_listing_and_leaves(meta, vm):
    port_ip = vm["port"]["fixed_ips"][0]["ip_address"]
    listing = meta.text("/latest/meta-data/", vm)
    assert listing == meta.text("/latest/meta-data", vm)
    assert listing.split("\n") == [
        "ami-id", "ami-launch-index", "ami-manifest-path", "block-device-mapping/", "hostname",
        "instance-action", "instance-id", "local-hostname", "local-ipv4", "mac", "placement/",
        "public-hostname", "public-ipv4", "public-keys/", "reservation-id"]
    leaves = {"instance-id": vm["id"], "hostname": "vm1.example", "local-hostname": "vm1.example",
              "local-ipv4": port_ip, "public-ipv4": "", "mac": vm["port"]["mac_address"],
              "ami-launch-index": "0", "instance-action": "none",
              "placement/availability-zone": "az1a", "block-device-mapping/root": "/dev/vda"}
    for path, value in leaves.items():
        assert meta.text(f"/2009-04-04/meta-data/{path}", vm) == value, path
    # botocore asks for a leaf with a trailing slash (metadata-clients §4.3)
    assert meta.text("/latest/meta-data/placement/availability-zone/", vm) == "az1a"
    assert meta.text("/latest/meta-data/placement/", vm) == "availability-zone"
    assert meta.text("/latest/meta-data/block-device-mapping/", vm) == "ami\nroot"
    assert meta.status("/latest/meta-data/iam/security-credentials/", vm) == 404
    assert meta.status("/latest/meta-data/nonexistent", vm) == 404
    assert meta.text("/latest/meta-data/./placement/../instance-id", vm) == vm["id"]


def test_ec2_public_keys_tree(meta, vm):
    assert meta.text("/latest/meta-data/public-keys/", vm) == "0=k1\n1=k2"
    assert meta.text("/latest/meta-data/public-keys/0/", vm) == "openssh-key"
    assert meta.text("/latest/meta-data/public-keys/0/openssh-key", vm) == KEY1
    assert meta.text("/latest/meta-data/public-keys/1/openssh-key", vm) == KEY2
    assert meta.status("/latest/meta-data/public-keys/0/_name", vm) == 404
    assert meta.status("/latest/meta-data/public-keys/2/openssh-key", vm) == 404


def test_ec2_old_versions_have_fewer_keys(meta, vm):
    keys = meta.text("/1.0/meta-data/", vm).split("\n")
    assert "instance-id" in keys and "local-hostname" not in keys and "placement/" not in keys
    assert "placement/" in meta.text("/2008-02-01/meta-data", vm).split("\n")


def test_public_ipv4_comes_from_an_associated_floating_ip(api, meta, vm):
    assert meta.text("/latest/meta-data/public-ipv4", vm) == ""
    ext = api.network(name="ext")
    api.subnet(ext["id"], "203.0.113.0/24")
    fip_port = api.port(ext["id"])
    stamp = "2026-01-01T00:00:00Z"
    api.env.db.run(lambda s: s.add(FloatingIP(
        id=str(uuid.uuid4()), project_id="p1", name="", description="", created_at=stamp,
        updated_at=stamp, revision_number=1, floating_network_id=ext["id"],
        floating_port_id=fip_port["id"], floating_ip_address="203.0.113.10",
        fixed_port_id=vm["port"]["id"], fixed_ip_address=vm["port"]["fixed_ips"][0]["ip_address"],
        status="ACTIVE")))
    assert meta.text("/latest/meta-data/public-ipv4", vm) == "203.0.113.10"
    assert meta.text("/1.0/meta-data/local-ipv4", vm) == vm["port"]["fixed_ips"][0]["ip_address"]


def test_local_ipv4_falls_back_to_the_forwarded_address(api, meta):
    inst = register(api)  # no ports
    assert meta.text("/latest/meta-data/local-ipv4", inst) == "10.0.0.5"
    assert "mac" not in meta.text("/latest/meta-data/", inst).split("\n")


def test_head_and_other_methods(meta, vm):
    status, headers, body = meta.request("/latest/meta-data/instance-id", vm, method="HEAD")
    assert status == 200 and body == b""
    assert meta.status("/openstack/latest/password", vm, method="POST") == 405
    assert meta.status("/latest/meta-data/instance-id", vm, method="DELETE") == 405


# --- who may ask ------------------------------------------------------------------------

def test_unsigned_or_badly_signed_requests_get_403(meta, vm):
    good = auth.proxy_headers(SECRET, vm["id"], "p1", "10.0.0.5")
    assert meta.status("/openstack/latest/meta_data.json", None) == 403
    assert meta.status("/", None) == 403
    cases = [
        {**good, "X-Instance-ID-Signature": auth.sign_instance_id("other", vm["id"])},
        {**good, "X-Instance-ID-Signature": ""},
        {**good, "X-Instance-ID-Signature": good["X-Instance-ID-Signature"].upper()},
        {**good, "X-Instance-ID": str(uuid.uuid4())},  # signature of another instance
        {k: v for k, v in good.items() if k != "X-Tenant-ID"},
        {k: v for k, v in good.items() if k != "X-Instance-ID-Signature"},
    ]
    for headers in cases:
        assert meta.status("/openstack/latest/meta_data.json", vm, signed=False,
                           headers=headers) == 403, headers
    doubled = [(k, v) for k, v in good.items()] + [("X-Instance-ID", vm["id"])]

    async def go():
        resp = await meta.client.get("/latest/meta-data/instance-id", headers=doubled)
        return resp.status
    assert meta.loop.run_until_complete(go()) == 403


def test_unknown_instance_or_other_project_gets_404(meta, vm):
    stranger = {"id": str(uuid.uuid4()), "project_id": "p1"}
    assert meta.status("/openstack/latest/meta_data.json", stranger) == 404
    assert meta.status("/latest/meta-data/instance-id", stranger) == 404
    assert meta.status("/openstack", {"id": vm["id"], "project_id": "p2"}) == 404


def test_signature_matches_nova_and_neutron():
    # neutron/common/utils.py sign_instance_id == hmac(secret, id, sha256).hexdigest()
    instance_id = "9d5e3b1a-4bd8-4e9b-a7b0-3a6c1f0a8e11"
    expected = hmac.new(b"secret", instance_id.encode(), hashlib.sha256).hexdigest()
    assert auth.sign_instance_id("secret", instance_id) == expected
    assert auth.signature_ok("secret", instance_id, expected)
    assert not auth.signature_ok("", instance_id, auth.sign_instance_id("", instance_id))
    assert auth.proxy_headers("secret", instance_id, "p1", "10.0.0.5") == {
        "X-Instance-ID": instance_id, "X-Tenant-ID": "p1", "X-Instance-ID-Signature": expected,
        "X-Forwarded-For": "10.0.0.5"}


# --- IMDSv2 -------------------------------------------------------------------------

def test_imdsv2_token_is_issued_and_accepted(meta, vm):
    token = meta.token(vm)
    assert len(token) == 44
    hdr = {"X-aws-ec2-metadata-token": token}
    assert meta.text("/latest/meta-data/instance-id", vm, headers=hdr) == vm["id"]
    assert meta.text("/openstack/latest", vm, headers=hdr).startswith("meta_data.json")
    assert meta.token(vm, "1") != meta.token(vm, "1")


@pytest.mark.parametrize("ttl", [None, "", "0", "21601", "-5", "abc", "1.5", "9" * 5000])
def test_imdsv2_token_ttl_out_of_bounds_is_400(meta, vm, ttl):
    headers = {} if ttl is None else {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
    assert meta.status("/latest/api/token", vm, method="PUT", headers=headers) == 400


def test_imdsv2_token_paths(meta, vm):
    ttl = {"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    assert meta.status("/latest/api/token/", vm, method="PUT", headers=ttl) == 200
    assert meta.status("/2021-03-23/api/token", vm, method="PUT", headers=ttl) == 403
    assert meta.status("/latest/meta-data/instance-id", vm, method="PUT", headers=ttl) == 405
    assert meta.status("/latest/api/token", None, method="PUT", headers=ttl) == 403


def test_bad_expired_or_foreign_tokens_get_401(api, meta, vm):
    other = register(api)
    foreign = meta.token(other)
    expired = auth.TokenSigner(SECRET).issue(vm["id"], 5, now=time.time() - 10)
    forged = auth.TokenSigner("not-the-secret").issue(vm["id"], 60)
    for token in (foreign, expired, forged, "garbage", "A" * 44, ""):
        hdr = {"X-aws-ec2-metadata-token": token}
        assert meta.status("/latest/meta-data/instance-id", vm, headers=hdr) == 401, token
    assert meta.text("/latest/meta-data/instance-id", other,
                     headers={"X-aws-ec2-metadata-token": foreign}) == other["id"]


def test_token_signer_expiry_is_exact():
    signer = auth.TokenSigner("k")
    token = signer.issue("i-1", 10, now=1000.0)
    assert signer.check(token, "i-1", now=1009.9)
    assert not signer.check(token, "i-1", now=1010.0)
    assert not signer.check(token, "i-2", now=1000.0)
    with pytest.raises(ValueError):
        signer.issue("i-1", 0)


def test_required_tokens_refuse_imdsv1_on_the_ec2_tree_only(api, vm):
    meta = meta_client(api, metadata_require_tokens=True)
    try:
        assert meta.status("/latest/meta-data/instance-id", vm) == 401
        assert meta.status("/", vm) == 401
        hdr = {"X-aws-ec2-metadata-token": meta.token(vm)}
        assert meta.text("/latest/meta-data/instance-id", vm, headers=hdr) == vm["id"]
        # the OpenStack tree stays token-optional (cloud-init never sends one off AWS)
        assert meta.json("/openstack/latest/meta_data.json", vm)["uuid"] == vm["id"]
    finally:
        meta.close()


# --- cache and robustness --------------------------------------------------------------

def test_cache_serves_a_registration_change_after_expiry(api, vm):
    meta = meta_client(api, metadata_cache_seconds=600)
    try:
        assert meta.text("/latest/meta-data/hostname", vm) == "vm1.example"
        register(api, vm["id"], hostname="renamed")
        assert meta.text("/latest/meta-data/hostname", vm) == "vm1.example"  # cached
        meta.store.forget(vm["id"])
        assert meta.text("/latest/meta-data/hostname", vm) == "renamed"
        api.delete(f"/v2.0/instances/{vm['id']}", admin=True, expect=204)
        meta.store.forget(vm["id"])
        assert meta.status("/latest/meta-data/hostname", vm) == 404
    finally:
        meta.close()


def test_database_failure_serves_the_last_copy_or_503(api, vm, monkeypatch):
    meta = meta_client(api, metadata_cache_seconds=0.001)
    try:
        assert meta.text("/latest/meta-data/instance-id", vm) == vm["id"]
        time.sleep(0.01)

        async def broken(instance_id):
            raise RuntimeError("database away")
        monkeypatch.setattr(meta.store, "_load", broken)
        assert meta.text("/latest/meta-data/instance-id", vm) == vm["id"]  # stale copy
        other = {"id": str(uuid.uuid4()), "project_id": "p1"}
        status, headers, _ = meta.request("/openstack", other)
        assert status == 503 and headers["Retry-After"] == "1"
    finally:
        meta.close()


def test_concurrent_misses_share_one_load(api, vm):
    meta = meta_client(api, metadata_cache_seconds=60)
    try:
        calls = []
        original = meta.store._load

        async def counting(instance_id):
            calls.append(instance_id)
            await asyncio.sleep(0.01)
            return await original(instance_id)
        meta.store._load = counting

        async def many():
            results = await asyncio.gather(*(meta.store.get(vm["id"]) for _ in range(20)))
            return {r.id for r in results}
        assert meta.loop.run_until_complete(many()) == {vm["id"]}
        assert calls == [vm["id"]]
    finally:
        meta.close()


# --- running it ----------------------------------------------------------------------

def test_metadata_server_thread_serves_on_loopback(api, vm, tmp_path):
    settings = Settings(state_dir=tmp_path, database_url=api.env.settings.database_url,
                        metadata_proxy_shared_secret=SECRET)
    server = MetadataServer(api.env.db, settings, port=0)
    server.start()
    try:
        assert server.port != 0
        headers = auth.proxy_headers(SECRET, vm["id"], "p1", "10.0.0.5")
        resp = httpx.get(server.url + "/openstack/latest/meta_data.json", headers=headers)
        assert resp.status_code == 200 and resp.json()["uuid"] == vm["id"]
        assert httpx.get(server.url + "/openstack").status_code == 403
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/openstack")


def test_shared_secret_is_generated_once_and_kept(tmp_path):
    settings = Settings(state_dir=tmp_path)
    secret = auth.ensure_shared_secret(settings)
    assert len(secret) == 64 and auth.ensure_shared_secret(settings) == secret
    assert (tmp_path / auth.SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert auth.ensure_shared_secret(Settings(state_dir=tmp_path,
                                              metadata_proxy_shared_secret="x")) == "x"


def test_forward_url_points_at_nova_or_the_builtin_service():
    assert auth.forward_url(Settings()) == "http://127.0.0.1:8775"
    assert auth.forward_url(Settings(nova_metadata_url="http://nova:8775/")) == "http://nova:8775"
    with pytest.raises(ConfigError):
        auth.forward_url(Settings(nova_metadata_url="nova:8775"))


def test_listing_format_matches_nova():
    assert content.listing({"b": "x", "a": {"k": "v"}, "c": {"_name": "0=key"}}) == "a/\nb\n0=key"
    keys = {str(i): {"_name": f"{i}=k{i}"} for i in range(12)}
    assert content.listing(keys).split("\n")[:3] == ["0=k0", "1=k1", "2=k2"]


# --- the registry API ---------------------------------------------------------------

def test_instances_extension_is_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert "instance-metadata" in aliases


def test_instance_registry_is_admin_only(api):
    inst = register(api)
    path = f"/v2.0/instances/{inst['id']}"
    for resp in (api.get("/v2.0/instances"), api.get(path),
                 api.put(path, {"instance": {"name": "x"}}), api.delete(path),
                 api.post("/v2.0/instances", {"instance": {"id": str(uuid.uuid4())}})):
        assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"


def test_register_get_list_replace_delete(api):
    inst = register(api, project_id="p2", name="My VM_1")
    assert inst["hostname"] == "vm1.example" and inst["tenant_id"] == "p2"
    assert set(inst) == {"id", "project_id", "tenant_id", "name", "hostname",
                         "availability_zone", "launch_index", "public_keys", "user_data",
                         "vendor_data", "created_at", "updated_at"}
    assert base64.b64decode(inst["user_data"]) == USER_DATA
    assert api.get(f"/v2.0/instances/{inst['id']}", admin=True, expect=200).json()["instance"] == inst
    # POST again with the same id replaces it whole (defaults for what is left out)
    again = register(api, inst["id"], project_id=None, name="My VM_1", hostname=None,
                     public_keys=None, user_data=None, vendor_data=None, availability_zone=None)
    assert again["created_at"] == inst["created_at"] and again["project_id"] == "p2"
    assert again["hostname"] == "my-vm-1" and again["public_keys"] == []
    assert again["user_data"] is None and again["availability_zone"] == "nova"
    put = api.put(f"/v2.0/instances/{inst['id']}", {"instance": {"name": "", "launch_index": 3}},
                  admin=True, expect=200).json()["instance"]
    assert put["hostname"] == f"instance-{inst['id'][:8]}" and put["launch_index"] == 3
    new_id = str(uuid.uuid4())
    api.put(f"/v2.0/instances/{new_id}", {"instance": {"project_id": "p1"}}, admin=True, expect=200)
    listed = api.get("/v2.0/instances", admin=True, expect=200).json()["instances"]
    assert sorted(i["id"] for i in listed) == sorted([inst["id"], new_id])
    only = api.get("/v2.0/instances?project_id=p1", admin=True, expect=200).json()["instances"]
    assert [i["id"] for i in only] == [new_id]
    api.delete(f"/v2.0/instances/{inst['id']}", admin=True, expect=204)
    resp = api.get(f"/v2.0/instances/{inst['id']}", admin=True, expect=404)
    assert error_type(resp) == "InstanceNotFound"
    assert error_type(api.delete(f"/v2.0/instances/{inst['id']}", admin=True, expect=404)) == \
        "InstanceNotFound"


@pytest.mark.parametrize("attrs, kind, words", [
    ({"id": None}, "HTTPBadRequest", "Required attribute 'id'"),
    ({"id": "not-a-uuid"}, "InvalidInput", "not a valid UUID"),
    ({"flavor": "m1"}, "HTTPBadRequest", "Unrecognized attribute(s) 'flavor'"),
    ({"created_at": "2026-01-01T00:00:00Z"}, "HTTPBadRequest", "not allowed in POST"),
    ({"user_data": "***"}, "InvalidInput", "base64"),
    ({"user_data": base64.b64encode(b"x" * 65537).decode()}, "InvalidInput", "65536"),
    ({"public_keys": [{"name": "k", "key": KEY1}, {"name": "k", "key": KEY2}]}, "InvalidInput",
     "unique"),
    ({"public_keys": [{"name": "a=b", "key": KEY1}]}, "InvalidInput", "public_keys"),
    ({"public_keys": [{"name": "k"}]}, "InvalidInput", "public_keys"),
    ({"hostname": "-bad-.example"}, "InvalidInput", "not a valid hostname"),
    ({"launch_index": -1}, "InvalidInput", "launch_index"),
    ({"vendor_data": ["not", "an", "object"]}, "InvalidInput", "vendor_data"),
])
def test_register_validation_errors_are_neutron_style(api, attrs, kind, words):
    body = {"id": str(uuid.uuid4()), **attrs}
    body = {k: v for k, v in body.items() if v is not None}
    resp = api.post("/v2.0/instances", {"instance": body}, admin=True, expect=400)
    assert error_type(resp) == kind
    assert words in resp.json()["NeutronError"]["message"]


def test_put_validation_errors(api):
    inst = register(api)
    resp = api.put(f"/v2.0/instances/{inst['id']}", {"instance": {"id": inst["id"]}}, admin=True,
                   expect=400)
    assert "read-only attribute id" in resp.json()["NeutronError"]["message"]
    resp = api.put("/v2.0/instances/nope", {"instance": {}}, admin=True, expect=400)
    assert error_type(resp) == "InvalidInput"
    resp = api.put(f"/v2.0/instances/{inst['id']}", {"server": {}}, admin=True, expect=400)
    assert error_type(resp) == "HTTPBadRequest"


def test_lab_boot_registration_is_accepted_by_the_api(api):
    from neutrino.lab.commands import instance_body

    net = api.network()
    api.subnet(net["id"])
    port = api.port(net["id"], device_id=str(uuid.uuid4()))
    body = instance_body(port, "vm_7", b"\x00user data", [("mykey", KEY1)])
    inst = api.post("/v2.0/instances", {"instance": body}, admin=True, expect=201).json()["instance"]
    assert (inst["id"], inst["project_id"], inst["hostname"]) == (port["device_id"], "p1", "vm-7")
    assert base64.b64decode(inst["user_data"]) == b"\x00user data"
    assert inst["public_keys"] == [{"name": "mykey", "key": KEY1}]


def test_metadata_server_command_refuses_nova_mode_and_unmigrated_db(tmp_path):
    neutrino = str(Path(sys.executable).with_name("neutrino"))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([neutrino, "metadata-server", "--state-dir", str(tmp_path), "--port", "1"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 1 and "neutrino db upgrade" in res.stderr
    res = subprocess.run([neutrino, "metadata-server", "--state-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60,
                         env={**env, "NEUTRINO_NOVA_METADATA_URL": "http://nova:8775"})
    assert res.returncode == 2 and "Nova" in res.stderr

"""Provider VLAN networks with real packets: the seed-001 topology, and a network
with two VLAN segments (seeds 001 and 004).

One ``neutrino up`` for the module, its chassis mapping physnet ``default`` to
``br-eth1`` (``bridge_mappings``) and ``network_vlan_ranges`` =
``default:100:101,default:200:201,rack2``. The data centre's switch is the lab's
upstream switch (``lab/vlans.py``): trunked to ``br-eth1``, with an access port per
VLAN whose namespace is the VLAN's gateway (10.10.<vlan>.1). An admin makes the
shared networks pub100, pub101, pub200, pub201; instances are booted by projects
that are not admin. Tags are checked on the wire: a raw AF_PACKET socket on the
trunk (the kernel hands the 802.1Q tag over as packet auxdata).

The two-segment networks: OVN wires one localnet port per logical switch and chassis
(ovn-controller keeps one per datapath), so every segment after a network's first has a
switch of its own (``services.segment_switches``). Two cases: a routed provider network
(VLAN 200 on physnet ``default`` reached by the all-in-one's chassis, VLAN 201 on
physnet ``rack2`` reached by a second chassis the test starts, with its own namespace,
bridge ``br-eth2`` and upstream switch with the VLAN 201 gateway), and seed 004's own
network (VLANs 200 and 201 both on ``default``, instances of both on one chassis). Each
instance gets an address from its segment's subnet, reaches its own gateway, and its
frames carry its segment's tag: both tags are wired.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from allinone import AllInOne, host_state, neutrino, running_allinone

from neutrino.lab import instances, vlans
from neutrino.lab.daemons import wait_until
from neutrino.lab.deployment import Chassis

pytestmark = pytest.mark.ovn

SETTINGS = {"bridge_mappings": "default:br-eth1",
            "network_vlan_ranges": "default:100:101,default:200:201,rack2"}
VLANS = (100, 101, 200, 201)
TENANT = "tenant-a"  # not admin
SNIFF = r"""
import json, socket, struct, sys, time
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 1 << 4
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        data, anc, _, _ = s.recvmsg(2048, socket.CMSG_SPACE(64))
    except socket.timeout:
        continue
    vlan, kind, rest = None, struct.unpack("!H", data[12:14])[0], data[14:]
    for level, typ, aux in anc:
        if level == SOL_PACKET and typ == PACKET_AUXDATA:
            status, tci = struct.unpack("I", aux[:4])[0], struct.unpack("H", aux[16:18])[0]
            if status & TP_STATUS_VLAN_VALID:
                vlan = tci & 0xfff
    if kind == 0x8100:  # the tag still inline
        vlan, kind, rest = struct.unpack("!H", rest[:2])[0] & 0xfff, struct.unpack("!H", rest[2:4])[0], rest[4:]
    src = dst = None
    if kind == 0x0800:
        src, dst = socket.inet_ntoa(rest[12:16]), socket.inet_ntoa(rest[16:20])
    elif kind == 0x0806:
        src, dst = socket.inet_ntoa(rest[14:18]), socket.inet_ntoa(rest[24:28])
    print(json.dumps({"vlan": vlan, "type": kind, "src": src, "dst": dst}), flush=True)
"""


def capture(netns: str, ifname: str, action: Callable[[], object],
            seconds: float = 60) -> list[dict]:
    """Frames seen on ``ifname`` in ``netns`` while ``action`` runs (and half a second
    after): ``[{"vlan", "type", "src", "dst"}]`` (IPv4 and ARP addresses); ``seconds``
    bounds the capture. ``action`` runs once before the capture too: neighbours resolved
    and flows installed, a loaded machine loses no first echo."""
    action()
    proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", SNIFF, ifname,
                             str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        action()
        time.sleep(0.5)
        proc.terminate()  # the sniffer prints each frame as it sees it
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def pings(aio: AllInOne, name: str, address: str, count: int = 1) -> bool:
    return aio.exec(name, "ping", "-c", str(count), "-W", "2", address).returncode == 0


class World:
    """The all-in-one, its VLAN gateways and the shared provider networks."""

    def __init__(self, aio: AllInOne) -> None:
        self.aio = aio
        self.netns = aio.runtime["chassis_netns"]
        self.networks: dict[int, dict] = {}
        self.subnets: dict[int, dict] = {}

    def vlan(self, vlan: int, physnet: str = "default") -> None:
        neutrino("lab", "vlan", "create", "--state-dir", str(self.aio.state_dir), "--physnet",
                 physnet, "--vlan", str(vlan), "--cidr", f"10.10.{vlan}.0/24")

    def provider_network(self, vlan: int) -> None:
        with self.aio.client() as admin:
            resp = admin.post("/networks", json={"network": {
                "name": f"pub{vlan}", "shared": True, "provider:network_type": "vlan",
                "provider:physical_network": "default", "provider:segmentation_id": vlan}})
            assert resp.status_code == 201, resp.text
            self.networks[vlan] = resp.json()["network"]
            resp = admin.post("/subnets", json={"subnet": {
                "network_id": self.networks[vlan]["id"], "name": f"pub{vlan}-subnet",
                "cidr": f"10.10.{vlan}.0/24", "ip_version": 4, "gateway_ip": f"10.10.{vlan}.1"}})
            assert resp.status_code == 201, resp.text
            self.subnets[vlan] = resp.json()["subnet"]


def segmented_network(admin, name: str, segments: list[tuple[str, int]]) -> dict:
    """A shared network ``name`` with a VLAN segment per (physnet, VLAN) and, on each,
    subnet ``<name>-<vlan>`` 10.10.<vlan>.0/24 (gateway .1): ``{"network", "segments",
    "subnets"}``, the last two by VLAN."""
    resp = admin.post("/networks", json={"network": {"name": name, "shared": True, "segments": [
        {"provider:network_type": "vlan", "provider:physical_network": physnet,
         "provider:segmentation_id": vlan} for physnet, vlan in segments]}})
    assert resp.status_code == 201, resp.text
    net = resp.json()["network"]
    segs = {s["segmentation_id"]: s for s in admin.get(
        "/segments", params={"network_id": net["id"]}).json()["segments"]}
    subnets = {}
    for vlan, seg in segs.items():
        resp = admin.post("/subnets", json={"subnet": {
            "network_id": net["id"], "name": f"{name}-{vlan}", "cidr": f"10.10.{vlan}.0/24",
            "gateway_ip": f"10.10.{vlan}.1", "ip_version": 4, "segment_id": seg["id"]}})
        assert resp.status_code == 201, resp.text
        subnets[vlan] = resp.json()["subnet"]
    return {"network": net, "segments": segs, "subnets": subnets}


@pytest.fixture(scope="module")
def world(run_prefix, tmp_path_factory) -> Iterator[World]:
    with host_state(), running_allinone(tmp_path_factory.mktemp("vlans"), run_prefix,
                                        settings=SETTINGS) as aio:
        w = World(aio)
        for vlan in VLANS:
            w.vlan(vlan)
            w.provider_network(vlan)
        yield w


@pytest.fixture(scope="module")
def vm100(world: World) -> str:
    """An instance of project TENANT on pub100."""
    name = world.aio.boot("v100", world.networks[100]["id"], TENANT)
    leased = world.aio.leased(name)
    assert leased.startswith("10.10.100."), leased
    return name


def test_seed_001_networks_are_shared_and_their_vlans_hidden_from_members(world):
    with world.aio.client(TENANT) as c:
        nets = {n["name"]: n for n in c.get("/networks", params={"shared": True}).json()["networks"]}
    assert set(nets) == {f"pub{v}" for v in VLANS}
    assert all("provider:segmentation_id" not in n for n in nets.values())
    with world.aio.client() as admin:
        shown = admin.get(f"/networks/{world.networks[101]['id']}").json()["network"]
    assert (shown["provider:network_type"], shown["provider:physical_network"],
            shown["provider:segmentation_id"], shown["mtu"]) == ("vlan", "default", 101, 1500)


def test_member_instance_on_pub100_reaches_its_gateway_with_tag_100_only(world, vm100):
    ip = world.aio.leased(vm100)
    frames = capture(world.netns, vlans.trunk_ifname("default"),
                     lambda: pings(world.aio, vm100, "10.10.100.1", count=2))
    echo = [f for f in frames if f["type"] == 0x0800 and {f["src"], f["dst"]} == {ip, "10.10.100.1"}]
    assert len(echo) >= 4, frames  # two requests and two replies crossed the trunk
    assert {f["vlan"] for f in echo} == {100}
    assert pings(world.aio, vm100, "10.10.100.1")


def test_pub100_instance_cannot_reach_vlan_101(world, vm100):
    ip = world.aio.leased(vm100)
    assert not pings(world.aio, vm100, "10.10.101.1")  # the VLAN 100 gateway routes nothing
    # on-link: an ARP for 10.10.101.1 goes out on VLAN 100 only, where nobody answers
    assert world.aio.exec(vm100, "ip", "route", "replace", "10.10.101.1/32",
                          "dev", "eth0").returncode == 0
    def ping_unresolved() -> bool:  # a neighbour entry left FAILED may hold the next ARP
        world.aio.exec(vm100, "ip", "neigh", "flush", "to", "10.10.101.1")
        return pings(world.aio, vm100, "10.10.101.1")

    try:
        frames = capture(world.netns, vlans.trunk_ifname("default"), ping_unresolved)
    finally:
        world.aio.exec(vm100, "ip", "route", "del", "10.10.101.1/32")
    ours = [f for f in frames if f["src"] == ip]
    assert ours and {f["vlan"] for f in ours} == {100}, frames
    assert not [f for f in frames if f["src"] == "10.10.101.1"]


def test_metadata_works_on_the_provider_network(world, vm100):
    ip = world.aio.leased(vm100)
    res = world.aio.exec(vm100, "curl", "-s", "-m", "10",
                         "http://169.254.169.254/latest/meta-data/local-ipv4")
    assert res.returncode == 0 and res.stdout.strip() == ip, res.stdout + res.stderr
    res = world.aio.exec(vm100, "curl", "-s", "-m", "10",
                         "http://169.254.169.254/openstack/latest/meta_data.json")
    assert json.loads(res.stdout)["hostname"] == vm100, res.stdout + res.stderr


def test_api_provider_rules_on_the_running_service(world):
    body = {"network": {"name": "x", "provider:network_type": "vlan",
                        "provider:physical_network": "default"}}
    with world.aio.client(TENANT) as member:
        resp = member.post("/networks", json={"network": {**body["network"],
                                                         "provider:segmentation_id": 300}})
        assert resp.status_code == 403 and resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    with world.aio.client() as admin:
        resp = admin.post("/networks", json={"network": {**body["network"],
                                                        "provider:segmentation_id": 100}})
        assert resp.status_code == 409 and resp.json()["NeutronError"]["type"] == "VlanIdInUse"
        resp = admin.post("/networks", json=body)  # 100, 101, 200, 201 all taken
        error = resp.json()["NeutronError"]
        assert resp.status_code == 409 and error["type"] == "NoNetworkAvailable"
        assert "default" in error["message"] and "100-101, 200-201" in error["message"]


# --- a network with two VLAN segments --------------------------------------------------

@pytest.fixture(scope="module")
def rack2(world: World, run_prefix: str, tmp_path_factory) -> Iterator[dict]:
    """A second chassis bridging only physnet rack2 (br-eth2), with its own upstream
    switch and the VLAN 201 gateway 10.10.201.1."""
    aio = world.aio
    state = tmp_path_factory.mktemp("ch2")
    name, netns = f"{run_prefix}-vch2", f"{run_prefix}-vch2"
    chassis = Chassis(state, name, aio.runtime["sb_connection"], netns,
                      bridge_mappings={"rack2": "br-eth2"}, encap_ip="127.0.0.2")
    try:
        chassis.start()
        vlans.create_vlan(aio.state_dir, "rack2", 201, "br-eth2", netns,
                          chassis.ovs_connection, "10.10.201.1/24")
        yield {"name": name, "netns": netns, "ovs": chassis.ovs_connection}
    finally:
        for inst in instances.list_instances(aio.state_dir):
            if inst.chassis_netns == netns:
                instances.delete_instance(aio.state_dir, inst.name, chassis.ovs_connection)
        vlans.remove_vlan(aio.state_dir, "rack2", 201, chassis.ovs_connection)
        chassis.stop()


@pytest.fixture(scope="module")
def two_segments(world: World) -> dict:
    """pub200 and pub201 give their VLANs up for one network (seed 004): VLAN 200 on
    default and VLAN 201 on rack2, a shared network with a subnet on each segment."""
    with world.aio.client() as admin:
        for vlan in (200, 201):
            assert admin.delete(f"/networks/{world.networks[vlan]['id']}").status_code == 204
        return segmented_network(admin, "pub2xx", [("default", 200), ("rack2", 201)])


def test_instances_on_each_segment_reach_their_own_gateway_with_their_tag(world, rack2,
                                                                          two_segments):
    aio, net_id = world.aio, two_segments["network"]["id"]
    # bound to the all-in-one's chassis (lab boot sets binding:host_id): segment VLAN 200
    a = aio.boot("s200", net_id, TENANT)
    assert aio.leased(a).startswith("10.10.200."), aio.leased(a)
    # bound to the second chassis once the NB sync has recorded what it bridges
    with aio.client(TENANT) as member, aio.client() as admin:
        port = member.post("/ports", json={"port": {"network_id": net_id, "name": "s201",
                                                    "device_owner": "compute:lab"}}).json()["port"]
        assert port["fixed_ips"] == [] and port["ip_allocation"] == "deferred"

        def bind():
            resp = admin.put(f"/ports/{port['id']}", json={"port": {"binding:host_id": rack2["name"]}})
            return resp.json()["port"] if resp.status_code == 200 else None
        port = wait_until(bind, 15, "the second chassis' physnet to be known")
    assert [f["subnet_id"] for f in port["fixed_ips"]] == [two_segments["subnets"][201]["id"]]
    b = aio.prefix + "s201"
    ip_b = port["fixed_ips"][0]["ip_address"]
    booted = instances.boot_instance(aio.state_dir, b, port, rack2["netns"], rack2["ovs"])
    assert booted.lease.address.split("/")[0] == ip_b

    frames_a = capture(world.netns, vlans.trunk_ifname("default"),
                       lambda: pings(aio, a, "10.10.200.1", count=2))
    frames_b = capture(rack2["netns"], vlans.trunk_ifname("rack2"),
                       lambda: pings(aio, b, "10.10.201.1", count=2))
    for frames, ip, vlan in ((frames_a, aio.leased(a), 200), (frames_b, ip_b, 201)):
        echo = [f for f in frames if f["type"] == 0x0800 and ip in (f["src"], f["dst"])]
        assert len(echo) >= 4 and {f["vlan"] for f in echo} == {vlan}, frames
    assert pings(aio, a, "10.10.200.1") and pings(aio, b, "10.10.201.1")
    assert not pings(aio, a, "10.10.201.1")

    with aio.client() as admin:
        avail = admin.get(f"/network-ip-availabilities/{net_id}").json()["network_ip_availability"]
    used = {s["segment_id"]: s["used_ips"] for s in avail["subnet_ip_availability"]}
    # each segment subnet: its instance and the metadata port
    assert used == {two_segments["segments"][v]["id"]: 2 for v in (200, 201)}


# --- seed 004's own network: two VLAN segments on one physnet, one chassis -------------

@pytest.fixture(scope="module")
def seed_004(world: World, rack2: dict, two_segments: dict) -> dict:
    """pub2xx (its instances and ports first) gives VLANs 200 and 201 up for seed 004's
    literal network: both VLAN segments on physnet ``default``, which every chassis
    bridges, and an ordinary subnet on each (gateways 10.10.<vlan>.1 upstream)."""
    aio, net_id = world.aio, two_segments["network"]["id"]
    aio.lab("delete", aio.prefix + "s200", check=False)
    instances.delete_instance(aio.state_dir, aio.prefix + "s201", rack2["ovs"])
    with aio.client() as admin:
        for port in admin.get("/ports", params={"network_id": net_id}).json()["ports"]:
            if not port["device_owner"].startswith("network:"):
                assert admin.delete(f"/ports/{port['id']}").status_code == 204
        assert admin.delete(f"/networks/{net_id}").status_code == 204
        return segmented_network(admin, "seed004", [("default", 200), ("default", 201)])


def test_seed_004_two_vlans_on_one_physnet_each_carry_their_own_tag_from_one_chassis(
        world, seed_004):
    aio, net_id = world.aio, seed_004["network"]["id"]
    names = {}
    for vlan in (200, 201):  # both on the all-in-one's one chassis, which bridges default
        names[vlan] = aio.prefix + f"seed{vlan}"
        aio.lab("boot", names[vlan], "--network", net_id, "--subnet",
                seed_004["subnets"][vlan]["id"], "--project", TENANT)
        assert aio.leased(names[vlan]).startswith(f"10.10.{vlan}."), aio.leased(names[vlan])

    for vlan, name in names.items():
        ip = aio.leased(name)
        frames = capture(world.netns, vlans.trunk_ifname("default"),
                         lambda: pings(aio, name, f"10.10.{vlan}.1", count=2))
        echo = [f for f in frames if f["type"] == 0x0800 and ip in (f["src"], f["dst"])]
        assert len(echo) >= 4 and {f["vlan"] for f in echo} == {vlan}, frames
        # its own metadata, through its own segment's metadata port
        res = aio.exec(name, "curl", "-s", "-m", "10",
                       "http://169.254.169.254/latest/meta-data/local-ipv4")
        assert res.returncode == 0 and res.stdout.strip() == ip, res.stdout + res.stderr
    assert not pings(aio, names[200], "10.10.201.1")  # VLAN 200's gateway routes nothing

"""Routers, SNAT and floating IPs with real packets (issue: routers, external networks).

One ``neutrino up`` for the module with the lab's external world: the flat
external network ``public`` (172.24.4.0/24 on physnet1) and its upstream
namespace, which owns the gateway 172.24.4.1 and plays an outside host at
203.0.113.10 -- outside the external subnet, so reaching it takes the
router's default route. Two projects use the same 10.0.0.0/24 with an
instance at 10.0.0.5 each, behind their own routers.

The outside host runs a TCP server that answers every connection with the
source address it sees; instances run one that answers with their name.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from allinone import AllInOne, host_state, neutrino, running_allinone

from neutrino.lab.capture import Capture
from neutrino.lab.daemons import wait_until
from neutrino.lab.instances import netns_name

pytestmark = pytest.mark.ovn

OUTSIDE = "203.0.113.10"
PORT = 8080
# Answers each connection with the peer's address (the outside host) or a fixed word.
SERVER = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
while True:
    conn, peer = server.accept()
    conn.sendall((sys.argv[2] if len(sys.argv) > 2 else peer[0]).encode())
    conn.close()
"""
CLIENT = """
import socket, sys
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
print(conn.recv(100).decode())
"""


class World:
    """The all-in-one with its external network and background servers."""

    def __init__(self, aio: AllInOne) -> None:
        self.aio = aio
        self.servers: list[subprocess.Popen] = []
        saved = aio.state_dir / "lab" / "external" / "physnet1.json"
        self.upstream_ns = json.loads(saved.read_text())["netns"]
        with aio.client() as c:
            [self.public] = c.get("/networks", params={"name": "public"}).json()["networks"]

    def serve(self, netns: str, *args: str) -> None:
        self.servers.append(subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable, "-c", SERVER, str(PORT), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def connect(self, netns: str, address: str, timeout: float = 2) -> str | None:
        """What the server at ``address`` answers from inside ``netns``; None if unreachable."""
        res = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", CLIENT, address,
                              str(PORT), str(timeout)], capture_output=True, text=True,
                             timeout=timeout + 10, check=False)
        return res.stdout.strip() if res.returncode == 0 else None

    def project(self, project: str, name: str, *, router: bool = True, ip: str = "10.0.0.5",
                enable_snat: bool | None = None) -> dict:
        """A project network 10.0.0.0/24 whose pool is the address before ``ip`` (the
        metadata port's) and ``ip``, optionally behind a router with a gateway on
        ``public``, and an instance there at ``ip`` serving its name."""
        net = self.aio.network(project, "10.0.0.0/24",
                               pool=(str(ipaddress.ip_address(ip) - 1), ip))
        result = {"network": net, "router": None}
        if router:
            gateway = {"network_id": self.public["id"]}
            if enable_snat is not None:
                gateway["enable_snat"] = enable_snat
            with self.aio.client(None if enable_snat is not None else project) as c:
                body = {"name": f"r-{project}", "external_gateway_info": gateway,
                        "project_id": project}
                resp = c.post("/routers", json={"router": body})
                assert resp.status_code == 201, resp.text
                result["router"] = resp.json()["router"]
            with self.aio.client(project) as c:
                [subnet_id] = c.get(f"/networks/{net['id']}").json()["network"]["subnets"]
                resp = c.put(f"/routers/{result['router']['id']}/add_router_interface",
                             json={"subnet_id": subnet_id})
                assert resp.status_code == 200, resp.text
                # the interface revised the router: keep it as it is now
                result["router"] = c.get(f"/routers/{result['router']['id']}").json()["router"]
        with self.aio.client(project) as c:  # the default group admits members only
            [sg] = c.get("/security-groups", params={"name": "default"}).json()["security_groups"]
            resp = c.post("/security-group-rules", json={"security_group_rule": {
                "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
                "port_range_min": PORT, "port_range_max": PORT}})
            assert resp.status_code == 201, resp.text
        result["instance"] = self.aio.boot(name, net["id"], project)
        assert self.aio.leased(result["instance"]) == ip
        self.serve(netns_name(result["instance"]), result["instance"])
        result["port"] = self.aio.port_of(result["instance"])
        return result

    def gateway_ip(self, router: dict) -> str:
        return router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]


@pytest.fixture(scope="module")
def world(run_prefix, tmp_path_factory) -> Iterator[World]:
    with host_state(), running_allinone(tmp_path_factory.mktemp("l3"), run_prefix) as aio:
        aio.external("create")
        w = World(aio)
        try:
            w.serve(w.upstream_ns)
            yield w
        finally:
            for proc in w.servers:
                proc.kill()
                proc.wait()
            aio.external("delete", check=False)


@pytest.fixture(scope="module")
def two_projects(world: World) -> dict[str, dict]:
    """Projects l3a and l3b, each with 10.0.0.5 behind its own router."""
    return {p: world.project(p, p[-1]) for p in ("l3a", "l3b")}


def test_router_ports_turn_active_once_northd_wires_them(world, two_projects):
    """Router interface and gateway ports are ACTIVE, as ML2/OVN reports them (tempest's
    test_router_interface_status waits for it)."""
    router_id = two_projects["l3a"]["router"]["id"]

    def statuses():
        with world.aio.client() as c:
            got = c.get("/ports", params={"device_id": router_id}).json()["ports"]
        return {p["device_owner"]: p["status"] for p in got}

    wait_until(lambda: set(statuses().values()) == {"ACTIVE"}, 10,
               "router ports ACTIVE")
    assert set(statuses()) == {"network:router_interface", "network:router_gateway"}


def test_snat_each_router_shows_its_own_gateway_address(world, two_projects):
    seen = {}
    for project, setup in two_projects.items():
        answer = wait_until(lambda: world.connect(netns_name(setup["instance"]), OUTSIDE), 10,
                            f"{project}'s instance to reach the outside host")
        seen[project] = answer
        assert answer == world.gateway_ip(setup["router"])
    assert seen["l3a"] != seen["l3b"]


def test_floating_ips_reach_each_instance_and_end_on_disassociation(world, two_projects):
    fips = {}
    for project, setup in two_projects.items():
        with world.aio.client(project) as c:
            resp = c.post("/floatingips", json={"floatingip": {
                "floating_network_id": world.public["id"], "port_id": setup["port"]["id"]}})
            assert resp.status_code == 201, resp.text
            fips[project] = resp.json()["floatingip"]
            assert fips[project]["status"] == "ACTIVE"
    for project, setup in two_projects.items():
        address = fips[project]["floating_ip_address"]
        answer = wait_until(lambda: world.connect(world.upstream_ns, address), 10,
                            f"the outside host to reach {project} at {address}")
        assert answer == setup["instance"]  # this project's instance, not the other's
        # outbound traffic now leaves with the floating IP (dnat_and_snat)
        assert world.connect(netns_name(setup["instance"]), OUTSIDE) == address
    # the private address itself is not reachable from outside
    assert world.connect(world.upstream_ns, "10.0.0.5", timeout=1) is None
    # disassociation ends reachability within a second
    with world.aio.client("l3a") as c:
        resp = c.put(f"/floatingips/{fips['l3a']['id']}", json={"floatingip": {"port_id": None}})
        assert resp.status_code == 200 and resp.json()["floatingip"]["status"] == "DOWN"
    start = time.monotonic()
    wait_until(lambda: world.connect(world.upstream_ns, fips["l3a"]["floating_ip_address"],
                                     timeout=0.3) is None, 5, "the floating IP to stop answering")
    assert time.monotonic() - start < 1.0
    assert world.connect(world.upstream_ns, fips["l3b"]["floating_ip_address"]) == \
        two_projects["l3b"]["instance"]
    # back to SNAT through the router's own address
    assert world.connect(netns_name(two_projects["l3a"]["instance"]), OUTSIDE) == \
        world.gateway_ip(two_projects["l3a"]["router"])


def test_router_in_use_is_refused_and_changes_nothing(world, two_projects):
    setup = two_projects["l3b"]
    with world.aio.client("l3b") as c:
        resp = c.delete(f"/routers/{setup['router']['id']}")
        assert resp.status_code == 409
        assert resp.json()["NeutronError"]["type"] == "RouterInUse"
        assert c.get(f"/routers/{setup['router']['id']}").json()["router"] == setup["router"]
    assert world.connect(netns_name(setup["instance"]), OUTSIDE) is not None


def test_no_router_no_outside(world):
    alone = world.project("l3c", "c", router=False)
    assert world.connect(netns_name(alone["instance"]), OUTSIDE, timeout=1) is None


def test_without_snat_nothing_gets_out(world):
    plain = world.project("l3d", "d", enable_snat=False)
    assert plain["router"]["external_gateway_info"]["enable_snat"] is False
    assert world.connect(netns_name(plain["instance"]), OUTSIDE, timeout=1) is None
    # turning SNAT on opens the way
    with world.aio.client() as c:
        gateway = {"network_id": world.public["id"], "enable_snat": True}
        resp = c.put(f"/routers/{plain['router']['id']}",
                     json={"router": {"external_gateway_info": gateway}})
        assert resp.status_code == 200, resp.text
    answer = wait_until(lambda: world.connect(netns_name(plain["instance"]), OUTSIDE), 10,
                        "SNAT to take effect")
    assert answer == world.gateway_ip(plain["router"])


# --- explain (POST /v2.0/ports/{id}/explain, neutrino explain): real ovn-trace runs on
# this module's cloud, each verdict checked against a real connection where one can be made


@pytest.fixture(scope="module")
def ssh_only(world: World) -> dict:
    """Project l3e: network e1net 10.8.0.0/24 with instances e1 and e2 in group ``ssh``
    (ingress tcp/22 only; e2 listens on 22 and 80), network e2net 10.9.0.0/24 with an
    unbound port ``pc`` in the group, both behind router r-l3e (gateway on public)."""
    aio, project = world.aio, "l3e"
    nets = [aio.network(project, cidr) for cidr in ("10.8.0.0/24", "10.9.0.0/24")]
    with aio.client(project) as c:
        sg = c.post("/security-groups", json={"security_group": {"name": "ssh"}}).json()[
            "security_group"]
        resp = c.post("/security-group-rules", json={"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22}})
        assert resp.status_code == 201, resp.text
        rule = resp.json()["security_group_rule"]
        resp = c.post("/routers", json={"router": {
            "name": "r-l3e", "external_gateway_info": {"network_id": world.public["id"]}}})
        assert resp.status_code == 201, resp.text
        router = resp.json()["router"]
        for net in nets:
            [subnet_id] = c.get(f"/networks/{net['id']}").json()["network"]["subnets"]
            resp = c.put(f"/routers/{router['id']}/add_router_interface",
                         json={"subnet_id": subnet_id})
            assert resp.status_code == 200, resp.text
        router = c.get(f"/routers/{router['id']}").json()["router"]
        resp = c.post("/ports", json={"port": {"network_id": nets[1]["id"], "name": "pc",
                                               "security_groups": [sg["id"]]}})
        assert resp.status_code == 201, resp.text
        pc = resp.json()["port"]
    names = []
    for short in ("e1", "e2"):
        names.append(aio.prefix + short)
        aio.lab("boot", names[-1], "--network", nets[0]["id"], "--project", project,
                "--security-group", sg["id"])
    e2_ns = netns_name(names[1])
    for port in (22, 80):
        world.servers.append(subprocess.Popen(
            ["ip", "netns", "exec", e2_ns, sys.executable, "-c", SERVER, str(port), names[1]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    aio.wait_synced()
    return {"project": project, "sg": sg, "rule": rule, "router": router, "nets": nets,
            "pc": pc, "e1": names[0], "e2": names[1], "e1_port": aio.port_of(names[0]),
            "e2_port": aio.port_of(names[1])}


def explain(world: World, setup: dict, destination: str, protocol: str = "icmp",
            port: int | None = None, raw: bool = False) -> dict:
    with world.aio.client(setup["project"]) as c:
        resp = c.post(f"/ports/{setup['e1_port']['id']}/explain", json={"explain": {
            "destination": destination, "protocol": protocol, "port": port, "raw": raw}})
    assert resp.status_code == 200, resp.text
    return resp.json()["explain"]


def connect_to(world: World, netns: str, address: str, port: int, timeout: float = 2):
    res = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", CLIENT, address,
                          str(port), str(timeout)], capture_output=True, text=True,
                         timeout=timeout + 10, check=False)
    return res.stdout.strip() if res.returncode == 0 else None


def steps_of(result: dict, kind: str) -> list[dict]:
    return [s for s in result["steps"] if s["kind"] == kind]


def test_explain_tcp22_allowed_by_its_rule_and_tcp80_dropped_as_real_packets_are(world,
                                                                                 ssh_only):
    e2_ip = world.aio.leased(ssh_only["e2"])
    e1_ns = netns_name(ssh_only["e1"])
    allowed = explain(world, ssh_only, ssh_only["e2_port"]["id"], "tcp", 22)
    assert allowed["verdict"] == "allowed", allowed
    rules = {s["ids"].get("security_group_rule_id") for s in
             steps_of(allowed, "security_group_rule")}
    assert ssh_only["rule"]["id"] in rules and ssh_only["rule"]["id"] in allowed["reason"]
    assert wait_until(lambda: connect_to(world, e1_ns, e2_ip, 22), 10, "e1 to reach e2:22") \
        == ssh_only["e2"]

    dropped = explain(world, ssh_only, e2_ip, "tcp", 80, raw=True)
    assert dropped["verdict"] == "dropped", dropped
    [drop] = steps_of(dropped, "default_drop")
    assert drop["ids"]["port_id"] == ssh_only["e2_port"]["id"]
    assert ssh_only["rule"]["id"] not in {s["ids"].get("security_group_rule_id") for s in
                                          steps_of(dropped, "security_group_rule")}
    assert "ls_out_acl" in dropped["raw"] and "neutron_pg_drop" in dropped["raw"]
    assert connect_to(world, e1_ns, e2_ip, 80, timeout=1) is None
    # both ends are bound: the chassis steps name the lab's chassis
    hosts = {s["ids"].get("binding:host_id") for s in steps_of(allowed, "chassis")}
    assert hosts == {world.aio.runtime["chassis_name"]}


def test_explain_across_the_router_names_the_router_and_both_networks(world, ssh_only):
    result = explain(world, ssh_only, ssh_only["pc"]["id"], "tcp", 22)
    assert result["verdict"] == "allowed", result
    assert [s["ids"]["router_id"] for s in steps_of(result, "router")] == \
        [ssh_only["router"]["id"]]
    [route] = steps_of(result, "route")
    assert route["ids"]["subnet_id"] == ssh_only["pc"]["fixed_ips"][0]["subnet_id"]
    networks = {s["ids"].get("network_id") for s in steps_of(result, "switch")} - {None}
    assert networks == {n["id"] for n in ssh_only["nets"]}
    assert steps_of(result, "switch")[-1]["ids"]["port_id"] == ssh_only["pc"]["id"]


def test_explain_to_the_outside_shows_snat_to_the_address_the_outside_sees(world, ssh_only):
    e1_ns = netns_name(ssh_only["e1"])
    seen = wait_until(lambda: connect_to(world, e1_ns, OUTSIDE, PORT), 10,
                      "e1 to reach the outside host")
    result = explain(world, ssh_only, OUTSIDE, "tcp", PORT)
    assert result["verdict"] == "allowed", result
    [nat] = steps_of(result, "nat")
    assert nat["ids"]["router_id"] == ssh_only["router"]["id"]
    assert seen == world.gateway_ip(ssh_only["router"]) and seen in nat["summary"]
    gateway = [s for s in steps_of(result, "chassis") if "gateway" in s["summary"]]
    assert gateway[0]["ids"]["binding:host_id"] == world.aio.runtime["chassis_name"]
    with world.aio.client() as c:
        [gw_port] = c.get("/ports", params={"device_id": ssh_only["router"]["id"],
                                            "device_owner": "network:router_gateway"}).json()[
            "ports"]
    assert gateway[0]["ids"]["port_id"] == gw_port["id"]
    assert any("physical network physnet1" in s["summary"] for s in steps_of(result, "switch"))


def test_neutrino_explain_names_instances_and_exits_1_on_a_drop(world, ssh_only):
    out = neutrino("explain", "--state-dir", str(world.aio.state_dir), "--from", ssh_only["e1"],
                   "--to", ssh_only["e2"], "--protocol", "tcp", "--port", "80", "--raw",
                   check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stdout.startswith("DROPPED") and "default_drop" in out.stdout
    assert "ls_out_acl" in out.stdout  # --raw
    assert f'output to "{ssh_only["e2_port"]["id"]}"' not in out.stdout  # never delivered


def test_guest_ignoring_option_121_reads_its_metadata_through_its_router(world):
    """A guest that ignores DHCP option 121 (static addresses and a default route
    only, as old images and some Windows/BSD setups behave) sends 169.254.169.254 to its
    gateway: the router reroutes it to the network's metadata port, and nothing of it
    reaches the external network (captured on the upstream's bridge)."""
    aio, project = world.aio, "l3m"
    net = aio.network(project, "10.9.0.0/24")
    with aio.client(project) as c:
        router = c.post("/routers", json={"router": {
            "name": "r-l3m", "external_gateway_info": {"network_id": world.public["id"]}}})
        assert router.status_code == 201, router.text
        [subnet_id] = c.get(f"/networks/{net['id']}").json()["network"]["subnets"]
        resp = c.put(f"/routers/{router.json()['router']['id']}/add_router_interface",
                     json={"subnet_id": subnet_id})
        assert resp.status_code == 200, resp.text
    name = aio.prefix + "m121"
    aio.lab("boot", name, "--network", net["id"], "--project", project, "--no-dhcp")
    ip = aio.port_of(name)["fixed_ips"][0]["ip_address"]
    assert aio.exec(name, "ip", "route", "replace", "default", "via", "10.9.0.1").returncode == 0
    route = aio.exec(name, "ip", "-4", "route", "get", "169.254.169.254").stdout
    assert "via 10.9.0.1" in route, route  # no option-121 route: the gateway gets it

    with Capture(world.upstream_ns, "eth0") as cap:
        answer = wait_until(lambda: aio.exec(
            name, "curl", "-s", "-m", "5", "http://169.254.169.254/latest/meta-data/local-ipv4"
        ).stdout.strip() or None, 30, "metadata through the router")
        outside = aio.exec(name, "ping", "-c1", "-W2", OUTSIDE)  # the capture's positive control
    assert answer == ip
    assert outside.returncode == 0 and [f for f in cap.frames if f.dst == OUTSIDE]
    leaked = [f for f in cap.frames if "169.254.169.254" in (f.src, f.dst)]
    assert not leaked, leaked


UDP_SERVER = """
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = sock.recvfrom(100)
    sock.sendto(sys.argv[2].encode(), peer)
"""
UDP_CLIENT = """
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(float(sys.argv[3]))
sock.sendto(b"?", (sys.argv[1], int(sys.argv[2])))
print(sock.recvfrom(100)[0].decode())
"""


def udp_ask(netns: str, address: str, port: int, timeout: float = 1) -> str | None:
    res = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", UDP_CLIENT,
                          address, str(port), str(timeout)], capture_output=True, text=True,
                         timeout=timeout + 10, check=False)
    return res.stdout.strip() if res.returncode == 0 else None


def test_port_forwardings_reach_the_instance_and_end_on_deletion(world):
    """Floating IP port forwardings (ML2/OVN's router load balancers): on one floating IP
    the outside host reaches instance A's TCP 8080 at <floating IP>:10080 and instance
    B's (same network) at :10081, each answering its name, and nothing else (8080, 22,
    10082, TCP 2222); A's UDP listener at :2222 and A through a port range (N:1); a
    deleted forwarding stops answering while the others stay."""
    setup = world.project("l3p", "p", ip="10.0.0.7")
    instance, ns = setup["instance"], netns_name(setup["instance"])
    with world.aio.client("l3p") as c:  # room for B at 10.0.0.8 (A took the pool's last)
        [subnet_id] = c.get(f"/networks/{setup['network']['id']}").json()["network"]["subnets"]
        resp = c.put(f"/subnets/{subnet_id}", json={"subnet": {"allocation_pools": [
            {"start": "10.0.0.6", "end": "10.0.0.8"}]}})
        assert resp.status_code == 200, resp.text
    other = world.aio.boot("q", setup["network"]["id"], "l3p")
    assert world.aio.leased(other) == "10.0.0.8"
    world.serve(netns_name(other), other)  # TCP 8080 answering "<prefix>q"
    other_port = world.aio.port_of(other)
    world.servers.append(subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-c", UDP_SERVER, str(PORT), instance],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    world.servers.append(subprocess.Popen(  # the range's target: one internal port per range
        ["ip", "netns", "exec", ns, sys.executable, "-c", SERVER, str(PORT + 1), instance],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    with world.aio.client("l3p") as c:
        [sg] = c.get("/security-groups", params={"name": "default"}).json()["security_groups"]
        for protocol, port in (("udp", PORT), ("tcp", PORT + 1)):
            resp = c.post("/security-group-rules", json={"security_group_rule": {
                "security_group_id": sg["id"], "direction": "ingress", "protocol": protocol,
                "port_range_min": port, "port_range_max": port}})
            assert resp.status_code == 201, resp.text
        resp = c.post("/floatingips", json={"floatingip": {
            "floating_network_id": world.public["id"]}})
        assert resp.status_code == 201, resp.text
        fip = resp.json()["floatingip"]
        base = f"/floatingips/{fip['id']}/port_forwardings"
        pfs = {}
        for name, attrs in (("a", {"protocol": "tcp", "external_port": 10080,
                                   "internal_port": PORT}),
                            ("b", {"protocol": "tcp", "external_port": 10081,
                                   "internal_port": PORT, "internal_port_id": other_port["id"],
                                   "internal_ip_address": "10.0.0.8"}),
                            ("udp", {"protocol": "udp", "external_port": 2222,
                                     "internal_port": PORT}),
                            ("range", {"protocol": "tcp", "external_port_range": "3000:3001",
                                       "internal_port_range": str(PORT + 1)})):
            resp = c.post(base, json={"port_forwarding": {
                "internal_port_id": setup["port"]["id"], "internal_ip_address": "10.0.0.7",
                **attrs}})
            assert resp.status_code == 201, resp.text
            pfs[name] = resp.json()["port_forwarding"]
        shown = c.get(f"/floatingips/{fip['id']}").json()["floatingip"]
        assert shown["router_id"] == setup["router"]["id"]
        assert len(shown["port_forwardings"]) == 4
    address = fip["floating_ip_address"]
    upstream = world.upstream_ns
    # the check: A at 10080, B at 10081, each by its name, and nothing else
    assert wait_until(lambda: connect_to(world, upstream, address, 10080, timeout=1), 10,
                      "TCP to <fip>:10080") == instance
    assert wait_until(lambda: connect_to(world, upstream, address, 10081, timeout=1), 10,
                      "TCP to <fip>:10081") == other != instance
    for port in (PORT, 22, 10082, 2222):  # A and B listen on 8080; 2222 is UDP only
        assert connect_to(world, upstream, address, port, timeout=0.5) is None, port
    assert wait_until(lambda: udp_ask(upstream, address, 2222), 10,
                      "UDP to <fip>:2222") == instance
    assert connect_to(world, upstream, address, 3001) == instance  # N:1 range
    # from inside the network too (the balancer is on the interface's switch, as ML2/OVN)
    assert connect_to(world, ns, address, 10080) == instance
    assert connect_to(world, ns, address, 10081) == other
    with world.aio.client("l3p") as c:
        assert c.delete(f"{base}/{pfs['a']['id']}").status_code == 204
    wait_until(lambda: connect_to(world, upstream, address, 10080, timeout=0.3) is None, 5,
               "TCP <fip>:10080 to stop answering")
    assert connect_to(world, upstream, address, 10081) == other  # B's forwarding stays
    assert udp_ask(upstream, address, 2222) == instance  # and the other protocol
    with world.aio.client("l3p") as c:
        assert c.delete(f"{base}/{pfs['udp']['id']}").status_code == 204
    wait_until(lambda: udp_ask(upstream, address, 2222, timeout=0.3) is None, 5,
               "UDP <fip>:2222 to stop answering")

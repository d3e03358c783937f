"""Security groups with real packets (issue 6): per port, never per address.

One ``neutrino up`` for the module. Projects sga and sgb each have
10.0.0.0/24 with the same instances at the same addresses:

    sga: a5 10.0.0.5 in "web" | a6 10.0.0.6 in default | a7 10.0.0.7 in default
    sgb: b5 10.0.0.5 in "web" | b6 10.0.0.6 in default

Every instance runs a TCP server on port 8022 (our stand-in for ssh's 22)
that answers a connection with the instance's name. "web" starts with
Neutron's two egress rules only, so nothing reaches a5 or b5 until a rule
allows it. A blocked connection is shown twice: the client times out, and a
packet counter on the receiver's eth0 sees none of its packets (the drop
happens in OVN, before the receiver's port).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from allinone import AllInOne, host_state, running_allinone

from neutrino.lab.daemons import wait_until
from neutrino.lab.instances import netns_name

pytestmark = pytest.mark.ovn

PORT = 8022
SERVER = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
while True:
    conn, peer = server.accept()
    conn.sendall(sys.argv[2].encode())
    conn.close()
"""
# Connect (optionally from a given source address); print the answer.
CLIENT = """
import socket, sys
source = (sys.argv[4], 0) if len(sys.argv) > 4 else None
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]),
                                source_address=source)
print(conn.recv(100).decode())
"""
# Count IPv4 TCP frames to a port from an address (and MAC, if given) arriving on
# eth0 until stdin closes.
COUNTER = """
import select, socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
print("ready", flush=True)
port, source, count = int(sys.argv[1]), socket.inet_aton(sys.argv[2]), 0
mac = bytes.fromhex(sys.argv[3].replace(":", "")) if len(sys.argv) > 3 else None
while True:
    ready, _, _ = select.select([s, sys.stdin], [], [])
    if sys.stdin in ready:
        break
    frame = s.recv(4096)
    if frame[12:14] == b"\\x08\\x00" and frame[23] == 6 and frame[26:30] == source:
        ihl = (frame[14] & 15) * 4
        if struct.unpack("!H", frame[16 + ihl:18 + ihl])[0] == port:
            count += mac is None or frame[6:12] == mac
print(count)
"""


class Lab:
    """The all-in-one, its projects, groups and instances."""

    def __init__(self, aio: AllInOne) -> None:
        self.aio = aio
        self.servers: list[subprocess.Popen] = []
        self.groups: dict[tuple[str, str], dict] = {}
        self.names: dict[str, str] = {}  # short name -> instance name

    def group(self, project: str, name: str) -> dict:
        """The project's group ``name`` (made on first use)."""
        if (project, name) not in self.groups:
            with self.aio.client(project) as c:
                if name == "default":
                    [sg] = c.get("/security-groups", params={"name": "default"}).json()[
                        "security_groups"]
                else:
                    resp = c.post("/security-groups", json={"security_group": {"name": name}})
                    assert resp.status_code == 201, resp.text
                    sg = resp.json()["security_group"]
            self.groups[project, name] = sg
        return self.groups[project, name]

    def rule(self, project: str, group: str, **attrs) -> dict:
        body = {"security_group_id": self.group(project, group)["id"], "direction": "ingress",
                **attrs}
        with self.aio.client(project) as c:
            resp = c.post("/security-group-rules", json={"security_group_rule": body})
            assert resp.status_code == 201, resp.text
        return resp.json()["security_group_rule"]

    def delete_rule(self, project: str, rule: dict) -> None:
        with self.aio.client(project) as c:
            assert c.delete(f"/security-group-rules/{rule['id']}").status_code == 204

    def boot(self, short: str, network: dict, project: str, group: str) -> str:
        """Boot ``short`` at 10.0.0.<its digit> (the subnet's pool narrowed to it)."""
        name = self.aio.prefix + short
        self.group(project, group)
        ip = f"10.0.0.{short[1]}"
        with self.aio.client(project) as c:
            [subnet] = c.get("/subnets", params={"network_id": network["id"]}).json()["subnets"]
            resp = c.put(f"/subnets/{subnet['id']}", json={"subnet": {
                "allocation_pools": [{"start": ip, "end": ip}]}})
            assert resp.status_code == 200, resp.text
        self.aio.lab("boot", name, "--network", network["id"], "--project", project,
                     "--security-group", group)
        self.names[short] = name
        assert self.aio.leased(name) == ip
        self.servers.append(subprocess.Popen(
            ["ip", "netns", "exec", netns_name(name), sys.executable, "-c", SERVER, str(PORT),
             short], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return name

    def ns(self, short: str) -> str:
        return netns_name(self.names[short])

    def port(self, short: str) -> dict:
        return self.aio.port_of(self.names[short])

    def update_port(self, short: str, **attrs) -> dict:
        with self.aio.client() as c:
            resp = c.put(f"/ports/{self.port(short)['id']}", json={"port": attrs})
            assert resp.status_code == 200, resp.text
            return resp.json()["port"]

    def connect(self, src: str, address: str, timeout: float = 1,
                source: str | None = None) -> str | None:
        """What the server at ``address`` answers to ``src``; None if unreachable."""
        argv = ["ip", "netns", "exec", self.ns(src), sys.executable, "-c", CLIENT, address,
                str(PORT), str(timeout), *([source] if source else [])]
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10,
                             check=False)
        return res.stdout.strip() if res.returncode == 0 else None

    def ping(self, src: str, address: str) -> bool:
        return subprocess.run(["ip", "netns", "exec", self.ns(src), "ping", "-c1", "-W1",
                               address], capture_output=True, check=False).returncode == 0

    def sh(self, short: str, *argv: str) -> None:
        subprocess.run(["ip", "netns", "exec", self.ns(short), *argv], check=True,
                       capture_output=True)

    def packets_to(self, short: str, source: str, action: Callable[[], object],
                   mac: str | None = None) -> int:
        """TCP frames to PORT from ``source`` (and ``mac``) arriving in instance
        ``short`` while ``action`` runs."""
        counter = subprocess.Popen(["ip", "netns", "exec", self.ns(short), sys.executable,
                                    "-c", COUNTER, str(PORT), source, *([mac] if mac else [])],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert counter.stdout.readline().strip() == "ready"
            action()
            out, _ = counter.communicate("", timeout=10)
            return int(out.strip())
        finally:
            if counter.poll() is None:
                counter.kill()
                counter.wait()


@pytest.fixture(scope="module")
def lab(run_prefix, tmp_path_factory) -> Iterator[Lab]:
    with host_state(), running_allinone(tmp_path_factory.mktemp("sg"), run_prefix) as aio:
        lab = Lab(aio)
        try:
            for project, shorts in (("sga", {"a5": "web", "a6": "default", "a7": "default"}),
                                    ("sgb", {"b5": "web", "b6": "default"})):
                net = aio.network(project, "10.0.0.0/24")
                for short, group in shorts.items():
                    lab.boot(short, net, project, group)
            yield lab
        finally:
            for proc in lab.servers:
                proc.kill()
                proc.wait()


def until_within(predicate: Callable[[], object], what: str, limit: float = 1.0) -> float:
    """Seconds until ``predicate`` holds (polling); asserts it took under ``limit``."""
    start = time.monotonic()
    wait_until(predicate, 10, what, interval=0.01)
    took = time.monotonic() - start
    assert took < limit, f"{what} took {took:.2f}s"
    return took


def test_without_a_rule_web_instances_take_no_connections(lab):
    assert lab.connect("a6", "10.0.0.5") is None
    assert lab.packets_to("b5", "10.0.0.6", lambda: lab.connect("b6", "10.0.0.5")) == 0


def test_rule_opens_only_its_projects_instance_and_takes_effect_within_a_second(lab):
    rule = lab.rule("sga", "web", protocol="tcp", port_range_min=PORT, port_range_max=PORT,
                    remote_ip_prefix="10.0.0.0/24")
    try:
        took = until_within(lambda: lab.connect("a6", "10.0.0.5", timeout=0.2) == "a5",
                            "the rule to let a6 reach a5")
        print(f"rule -> first accepted connection: {took:.3f}s")
        assert lab.connect("a7", "10.0.0.5") == "a5"
        assert lab.packets_to("a5", "10.0.0.6", lambda: lab.connect("a6", "10.0.0.5")) > 0
        # the same address in project sgb is untouched: no packet of b6 reaches b5
        assert lab.packets_to("b5", "10.0.0.6", lambda: lab.connect("b6", "10.0.0.5")) == 0
    finally:
        lab.delete_rule("sga", rule)
    took = until_within(lambda: lab.connect("a6", "10.0.0.5", timeout=0.3) is None,
                        "the rule's removal to block a6 again")
    print(f"rule deleted -> first refused connection: {took:.3f}s")
    assert lab.packets_to("a5", "10.0.0.6", lambda: lab.connect("a6", "10.0.0.5")) == 0


def test_default_group_admits_members_only_and_replies_come_back(lab):
    # members of default reach each other, ping included
    assert lab.connect("a7", "10.0.0.6") == "a6"
    assert lab.ping("a7", "10.0.0.6") and lab.ping("a6", "10.0.0.7")
    # a5 (not a member) may send (egress is open) but a6's ingress drops it
    assert lab.packets_to("a6", "10.0.0.5", lambda: lab.connect("a5", "10.0.0.6")) == 0
    assert not lab.ping("a5", "10.0.0.6")
    # a6 may reach a5 once web allows it, and a5's replies come back to a6
    # although a6 admits no new connection from a5 (stateful: replies are related)
    rule = lab.rule("sga", "web", protocol="tcp", port_range_min=PORT, port_range_max=PORT)
    try:
        wait_until(lambda: lab.connect("a6", "10.0.0.5", timeout=0.3) == "a5", 10,
                   "a6 to reach a5")
        assert lab.connect("a5", "10.0.0.6") is None
    finally:
        lab.delete_rule("sga", rule)


def test_remote_group_rules_follow_membership(lab):
    clients = lab.group("sga", "clients")
    icmp = lab.rule("sga", "web", protocol="icmp", remote_group_id=clients["id"])
    default = lab.group("sga", "default")["id"]
    assert not lab.ping("a6", "10.0.0.5")

    lab.update_port("a6", security_groups=[default, clients["id"]])
    until_within(lambda: lab.ping("a6", "10.0.0.5"), "a6 joining clients to reach a5",
                 limit=2.5)  # a lost first ping costs its 1 s timeout
    assert not lab.ping("a7", "10.0.0.5")  # not a member

    lab.update_port("a6", security_groups=[default])
    wait_until(lambda: not lab.ping("a6", "10.0.0.5"), 5, "a6 leaving clients to be blocked")
    lab.delete_rule("sga", icmp)


@pytest.fixture
def open_web(lab):
    """web in sga admits tcp/PORT from 10.0.0.0/24 (spoofed sources included)."""
    rule = lab.rule("sga", "web", protocol="tcp", port_range_min=PORT, port_range_max=PORT,
                    remote_ip_prefix="10.0.0.0/24")
    wait_until(lambda: lab.connect("a6", "10.0.0.5", timeout=0.3) == "a5", 10, "web to open")
    yield
    lab.delete_rule("sga", rule)


@pytest.fixture
def a7_unprotected(lab):
    """a7 without port security (and so without groups) for the test; restored after."""
    default = lab.group("sga", "default")["id"]
    lab.update_port("a7", security_groups=[], port_security_enabled=False)
    yield
    lab.update_port("a7", port_security_enabled=True, security_groups=[default])


def test_spoofed_source_address_is_dropped_with_port_security_only(lab, open_web,
                                                                   a7_unprotected):
    lab.sh("a6", "ip", "addr", "add", "10.0.0.99/32", "dev", "eth0")
    lab.sh("a7", "ip", "addr", "add", "10.0.0.98/32", "dev", "eth0")
    try:
        assert lab.packets_to("a5", "10.0.0.99", lambda: lab.connect(
            "a6", "10.0.0.5", source="10.0.0.99")) == 0
        wait_until(lambda: lab.connect("a7", "10.0.0.5", timeout=0.5, source="10.0.0.98"),
                   10, "a7 (no port security) to reach a5 from a spoofed address")
    finally:
        lab.sh("a6", "ip", "addr", "del", "10.0.0.99/32", "dev", "eth0")
        lab.sh("a7", "ip", "addr", "del", "10.0.0.98/32", "dev", "eth0")


def test_spoofed_mac_is_dropped_with_port_security_only(lab, open_web, a7_unprotected):
    macs = {s: lab.port(s)["mac_address"] for s in ("a6", "a7")}
    lab.sh("a5", "ip", "neigh", "flush", "all")
    try:
        for short, mac in (("a6", "fa:16:3e:de:ad:06"), ("a7", "fa:16:3e:de:ad:07")):
            lab.sh(short, "ip", "link", "set", "eth0", "address", mac)
        assert lab.packets_to("a5", "10.0.0.6", lambda: lab.connect("a6", "10.0.0.5"),
                              mac="fa:16:3e:de:ad:06") == 0
        wait_until(lambda: lab.connect("a7", "10.0.0.5", timeout=0.5), 10,
                   "a7 (no port security) to reach a5 with another MAC")
    finally:
        for short, mac in macs.items():
            lab.sh(short, "ip", "link", "set", "eth0", "address", mac)
        lab.sh("a5", "ip", "neigh", "flush", "all")


def test_allowed_address_pair_lets_a_vip_through(lab, open_web):
    lab.sh("a6", "ip", "addr", "add", "10.0.0.100/32", "dev", "eth0")
    try:
        assert lab.connect("a6", "10.0.0.5", source="10.0.0.100") is None
        lab.update_port("a6", allowed_address_pairs=[{"ip_address": "10.0.0.100"}])
        wait_until(lambda: lab.connect("a6", "10.0.0.5", timeout=0.5, source="10.0.0.100"),
                   10, "the VIP 10.0.0.100 of a6 to reach a5")
        lab.update_port("a6", allowed_address_pairs=[])
        wait_until(lambda: lab.connect("a6", "10.0.0.5", timeout=0.3,
                                       source="10.0.0.100") is None, 10,
                   "the VIP to be dropped again")
    finally:
        lab.sh("a6", "ip", "addr", "del", "10.0.0.100/32", "dev", "eth0")


def test_dhcp_and_metadata_pass_a_group_without_rules(lab):
    """A port whose only group has no rule at all still leases its address and
    reaches the metadata service through the network's metadata port."""
    silent = lab.group("sgb", "silent")
    for rule in silent["security_group_rules"]:
        lab.delete_rule("sgb", rule)
    net = lab.port("b6")["network_id"]
    lab.boot("b7", {"id": net}, "sgb", "silent")  # leased 10.0.0.7 by DHCP
    assert not lab.ping("b7", "10.0.0.6")  # egress is closed...
    res = subprocess.run(["ip", "netns", "exec", lab.ns("b7"), "curl", "-s", "-m", "5", "-o",
                          "/dev/null", "-w", "%{http_code}", "http://169.254.169.254/openstack"],
                         capture_output=True, text=True, check=False)
    assert res.stdout == "200", res  # ...but not to the metadata service


def _logged(lab, *args: str) -> dict:
    from allinone import neutrino
    res = neutrino("logs", "security-groups", "--state-dir", str(lab.aio.state_dir), "--json",
                   *args)
    return json.loads(res.stdout)


def test_security_group_log_records_allowed_and_dropped_connections(lab, open_web):
    """A log on web (event ALL): a6's accepted connection to a5 and its dropped one
    (another port) appear in ovn-controller's acl_log lines and in ``neutrino logs
    security-groups`` with their verdicts; disabling the log stops new lines."""
    web = lab.group("sga", "web")
    a5 = lab.port("a5")["id"]
    with lab.aio.client() as c:  # admin: logs are admin/manager only
        resp = c.post("/log/logs", json={"log": {"resource_type": "security_group",
                                                 "resource_id": web["id"], "event": "ALL",
                                                 "project_id": "sga"}})
        assert resp.status_code == 201, resp.text
        log = resp.json()["log"]
    try:
        lab.aio.wait_synced()

        def seen() -> dict | None:
            lab.connect("a6", "10.0.0.5", timeout=0.3)
            subprocess.run(["ip", "netns", "exec", lab.ns("a6"), sys.executable, "-c", CLIENT,
                            "10.0.0.5", str(PORT + 1), "0.3"], capture_output=True, check=False)
            out = _logged(lab)
            verdicts = {(e["verdict"], e["port_id"], e["dport"]) for e in out["entries"]}
            wanted = {("allow", a5, PORT), ("drop", a5, PORT + 1)}
            return out if wanted <= verdicts else None

        out = wait_until(seen, 20, "the allowed and the dropped connection in the ACL log")
        allowed = [e for e in out["entries"] if e["verdict"] == "allow" and e["port_id"] == a5]
        assert {e["log_id"] for e in allowed} == {log["id"]}
        assert all(e["security_groups"] == [web["id"]] and e["rule"] for e in allowed)
        assert all(e["src"] == "10.0.0.6" and e["protocol"] == "tcp" for e in allowed)
        dropped = [e for e in out["entries"] if e["verdict"] == "drop" and e["port_id"] == a5]
        assert all(log["id"] in e["logs"] for e in dropped)
        assert {(c["verdict"], c["count"] > 0) for c in out["counts"]} >= {("allow", True),
                                                                           ("drop", True)}
        raw = (Path(lab.aio.runtime["chassis"][0]["dir"]) / "ovn-controller.log").read_text()
        assert f'name="neutron-{log["id"]}", verdict=allow' in raw

        with lab.aio.client() as c:
            assert c.put(f"/log/logs/{log['id']}", json={"log": {"enabled": False}}
                         ).status_code == 200
        lab.aio.wait_synced()
        time.sleep(0.5)  # ovn-controller installs the new flows
        before = len(_logged(lab)["entries"])
        assert lab.connect("a6", "10.0.0.5") == "a5"
        time.sleep(1)
        assert len(_logged(lab)["entries"]) == before
    finally:
        with lab.aio.client() as c:
            c.delete(f"/log/logs/{log['id']}")


VLAN_FRAMES = Path(__file__).with_name("vlan_frames.py")


def vlan_probe(lab: Lab, short: str, vlan: int | None, mac: str, ip: str, target: str,
               *options: str) -> dict:
    """``vlan_frames.py`` in instance ``short``: ARP (and ``--ping``) from mac/ip."""
    res = subprocess.run(["ip", "netns", "exec", lab.ns(short), sys.executable, str(VLAN_FRAMES),
                          "eth0", "none" if vlan is None else str(vlan), mac, ip, target,
                          *options], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(res.stdout)


def test_trunk_subport_carries_tagged_frames_of_its_network(lab):
    """A trunk on a6's port (sga's 10.0.0.0/24) with a subport 10.0.0.9 on sgb's
    10.0.0.0/24 as VLAN 101 (an OVN child port): frames a6 tags 101 are on sgb's
    network and its answers come back tagged 101, untagged frames stay on sga's. The
    networks' equal addresses tell them apart: 10.0.0.5 is a5 untagged, b5 tagged."""
    parent, b5, b6 = lab.port("a6"), lab.port("b5"), lab.port("b6")
    with lab.aio.client() as c:
        resp = c.post("/ports", json={"port": {
            "network_id": b6["network_id"], "project_id": "sgb", "name": "a6-vlan101",
            "fixed_ips": [{"ip_address": "10.0.0.9"}],
            "security_groups": b6["security_groups"]}})
        assert resp.status_code == 201, resp.text
        sub = resp.json()["port"]
        resp = c.post("/trunks", json={"trunk": {"port_id": parent["id"], "sub_ports": [
            {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 101}]}})
        assert resp.status_code == 201, resp.text
        trunk = resp.json()["trunk"]
        try:
            def ready() -> bool:
                port = c.get(f"/ports/{sub['id']}").json()["port"]
                status = c.get(f"/trunks/{trunk['id']}").json()["trunk"]["status"]
                return port["status"] == "ACTIVE" and status == "ACTIVE"
            wait_until(ready, 20, "the subport and the trunk to be ACTIVE")
            assert c.get(f"/ports/{sub['id']}").json()["port"]["binding:host_id"] == \
                parent["binding:host_id"]
            tagged = vlan_probe(lab, "a6", 101, sub["mac_address"], "10.0.0.9", "10.0.0.6",
                                "--ping")
            assert tagged == {"arp_mac": b6["mac_address"], "arp_vlan": 101,
                              "echo_mac": b6["mac_address"], "echo_vlan": 101}
            assert vlan_probe(lab, "a6", 101, sub["mac_address"], "10.0.0.9",
                              "10.0.0.5")["arp_mac"] == b5["mac_address"]
            untagged = vlan_probe(lab, "a6", None, parent["mac_address"], "10.0.0.6", "10.0.0.5")
            assert (untagged["arp_mac"], untagged["arp_vlan"]) == (lab.port("a5")["mac_address"],
                                                                   None)
            resp = c.put(f"/trunks/{trunk['id']}/remove_subports",
                         json={"sub_ports": [{"port_id": sub["id"]}]})
            assert resp.status_code == 200, resp.text
            lab.aio.wait_synced()
            assert vlan_probe(lab, "a6", 101, sub["mac_address"], "10.0.0.9", "10.0.0.6",
                              "--wait=1.5")["arp_mac"] is None
        finally:
            c.delete(f"/trunks/{trunk['id']}")
            c.delete(f"/ports/{sub['id']}")


# --- QoS (issue 18) on the same instances: a6 -> a7 share the default group ------------

BULK_PORT = 5201
# Receive one bulk TCP stream; print Mbit/s over what arrives after its first second.
RECEIVER = """
import socket, sys, time
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
conn, _ = server.accept()
first = t0 = last = None
counted = 0
while data := conn.recv(65536):
    last = time.monotonic()
    first = first or last
    if last - first >= 1.0:
        if t0 is None:
            t0 = last
        else:
            counted += len(data)
print(counted * 8 / (last - t0) / 1e6 if t0 and last > t0 else 0.0)
"""
# Send as fast as TCP lets for argv[3] seconds.
SENDER = """
import socket, sys, time
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
chunk, end = b"x" * 65536, time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    conn.sendall(chunk)
conn.close()
"""
# The DSCP values of IPv4 TCP frames from argv[2] to port argv[1] arriving on eth0.
DSCP_SEEN = """
import select, socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
print("ready", flush=True)
port, source, seen = int(sys.argv[1]), socket.inet_aton(sys.argv[2]), set()
while True:
    ready, _, _ = select.select([s, sys.stdin], [], [])
    if sys.stdin in ready:
        break
    frame = s.recv(4096)
    if frame[12:14] == b"\\x08\\x00" and frame[23] == 6 and frame[26:30] == source:
        ihl = (frame[14] & 15) * 4
        if struct.unpack("!H", frame[16 + ihl:18 + ihl])[0] == port:
            seen.add(frame[15] >> 2)
print(" ".join(map(str, sorted(seen))))
"""


def bulk_mbits(lab: Lab, src: str, dst: str, address: str, seconds: float = 3.0) -> float:
    """Mbit/s of one bulk TCP transfer from instance ``src`` to ``dst`` at ``address``."""
    receiver = subprocess.Popen(["ip", "netns", "exec", lab.ns(dst), sys.executable, "-c",
                                 RECEIVER, str(BULK_PORT)], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout.readline().strip() == "ready"
        subprocess.run(["ip", "netns", "exec", lab.ns(src), sys.executable, "-c", SENDER,
                        address, str(BULK_PORT), str(seconds)], check=True, timeout=seconds + 20,
                       capture_output=True)
        out, _ = receiver.communicate(timeout=20)
        return float(out.strip())
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()


@pytest.fixture
def qos_policy(lab):
    """A QoS policy of sga on a6's port (as admin: Neutron's QoS writers are admins and
    project managers); the port is freed and the policy deleted after the test."""
    with lab.aio.client() as c:
        resp = c.post("/qos/policies", json={"policy": {"name": "e2e", "project_id": "sga"}})
        assert resp.status_code == 201, resp.text
        policy = resp.json()["policy"]
    lab.update_port("a6", qos_policy_id=policy["id"])
    yield policy
    lab.update_port("a6", qos_policy_id=None)
    with lab.aio.client() as c:
        assert c.delete(f"/qos/policies/{policy['id']}").status_code == 204


def qos_rule(lab: Lab, policy: dict, rtype: str, **attrs) -> str:
    """Add a rule and wait for the NB sync; its alias path (to delete it)."""
    with lab.aio.client() as c:
        resp = c.post(f"/qos/policies/{policy['id']}/{rtype}_rules",
                      json={f"{rtype}_rule": attrs})
        assert resp.status_code == 201, resp.text
    lab.aio.wait_synced()
    return f"/qos/alias_{rtype}_rules/{resp.json()[f'{rtype}_rule']['id']}"


def test_qos_bandwidth_limit_caps_egress_and_lifts_when_removed(lab, qos_policy):
    rule = qos_rule(lab, qos_policy, "bandwidth_limit", max_kbps=10000, direction="egress")
    limited = bulk_mbits(lab, "a6", "a7", "10.0.0.7")
    with lab.aio.client() as c:
        assert c.delete(rule).status_code == 204
    lab.aio.wait_synced()
    free = bulk_mbits(lab, "a6", "a7", "10.0.0.7")
    print(f"a6 -> a7 bulk TCP: {limited:.1f} Mbit/s with a 10 Mbit/s egress limit, "
          f"{free:.1f} Mbit/s without")
    assert 0 < limited <= 11
    assert free >= 50


def test_qos_dscp_marking_shows_at_the_receiver(lab, qos_policy):
    qos_rule(lab, qos_policy, "dscp_marking", dscp_mark=26)
    capture = subprocess.Popen(["ip", "netns", "exec", lab.ns("a7"), sys.executable, "-c",
                                DSCP_SEEN, str(PORT), "10.0.0.6"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert capture.stdout.readline().strip() == "ready"
        assert lab.connect("a6", "10.0.0.7") == "a7"
        out, _ = capture.communicate("", timeout=10)
    finally:
        if capture.poll() is None:
            capture.kill()
            capture.wait()
    print(f"DSCP seen at a7 from a6: {out.strip()}")
    assert out.split() == ["26"]

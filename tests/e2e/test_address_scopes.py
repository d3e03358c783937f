"""Address scopes with real packets: a router routes, without SNAT, the subnets in the
address scope of its gateway's subnet, and SNATs the others (Neutron's L3 agent:
"Prevents snat within the same address scope").

One ``neutrino up`` with the lab's external world (the flat network ``public``,
172.24.4.0/24, and its upstream namespace owning the gateway 172.24.4.1 and the
outside host 203.0.113.10, whose TCP server answers every connection with the
source address it sees). An admin puts ``public``'s subnet into scope S (a pool in
S onboards it) and makes a shared pool of S for projects. Project asa has, behind
its router, one subnet from that pool and one plain 10.0.0.0/24; project asb has
another subnet from the pool behind its own router. The upstream namespace gets a
route back to each scoped subnet via its router's gateway address, as a real
upstream router has for a routed scope (it has none back to the plain subnet).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from allinone import AllInOne, host_state, running_allinone

from neutrino.lab.daemons import wait_until
from neutrino.lab.instances import netns_name

pytestmark = pytest.mark.ovn

OUTSIDE = "203.0.113.10"
PORT = 8080
SCOPED_PREFIX = "10.123.0.0/16"
# Answers each connection with the peer's address.
SERVER = """
import socket, sys
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
while True:
    conn, peer = server.accept()
    conn.sendall(peer[0].encode())
    conn.close()
"""
CLIENT = """
import socket, sys
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
print(conn.recv(100).decode())
"""


class Scoped:
    """The all-in-one, its external world, scope S and the projects behind routers."""

    def __init__(self, aio: AllInOne) -> None:
        self.aio = aio
        saved = aio.state_dir / "lab" / "external" / "physnet1.json"
        self.upstream_ns = json.loads(saved.read_text())["netns"]
        self.server = subprocess.Popen(
            ["ip", "netns", "exec", self.upstream_ns, sys.executable, "-c", SERVER, str(PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with aio.client() as c:
            [self.public] = c.get("/networks", params={"name": "public"}).json()["networks"]
            self.scope = self._post(c, "address-scopes", "address_scope", {
                "name": "S", "ip_version": 4, "shared": True})
            ext_pool = self._post(c, "subnetpools", "subnetpool", {
                "name": "public-pool", "prefixes": self._public_cidrs(c),
                "address_scope_id": self.scope["id"]})
            resp = c.put(f"/subnetpools/{ext_pool['id']}/onboard_network_subnets",
                         json={"network_id": self.public["id"]})
            assert resp.status_code == 200, resp.text
            self.pool = self._post(c, "subnetpools", "subnetpool", {
                "name": "scoped", "prefixes": [SCOPED_PREFIX], "default_prefixlen": 24,
                "shared": True, "address_scope_id": self.scope["id"]})
            public = c.get(f"/networks/{self.public['id']}").json()["network"]
            assert public["ipv4_address_scope"] == self.scope["id"]

    def _public_cidrs(self, c) -> list[str]:
        subnets = c.get("/subnets", params={"network_id": self.public["id"]}).json()["subnets"]
        return [s["cidr"] for s in subnets if s["ip_version"] == 4]

    @staticmethod
    def _post(c, path: str, key: str, body: dict) -> dict:
        resp = c.post(f"/{path}", json={key: body})
        assert resp.status_code == 201, resp.text
        return resp.json()[key]

    def router(self, project: str) -> dict:
        with self.aio.client(project) as c:
            return self._post(c, "routers", "router", {
                "name": f"r-{project}", "external_gateway_info": {"network_id": self.public["id"]}})

    def instance(self, project: str, name: str, router: dict, *, cidr: str | None = None) -> dict:
        """A network of ``project`` with a subnet from the scoped pool (or ``cidr``),
        attached to ``router``, and an instance on it; returns its address and names."""
        with self.aio.client(project) as c:
            net = self._post(c, "networks", "network", {"name": f"{self.aio.prefix}-{name}"})
            body = {"network_id": net["id"], "ip_version": 4}
            body.update({"cidr": cidr} if cidr else {"subnetpool_id": self.pool["id"]})
            subnet = self._post(c, "subnets", "subnet", body)
            resp = c.put(f"/routers/{router['id']}/add_router_interface",
                         json={"subnet_id": subnet["id"]})
            assert resp.status_code == 200, resp.text
        vm = self.aio.boot(name, net["id"], project)
        return {"name": vm, "subnet": subnet, "address": self.aio.leased(vm)}

    def route_back(self, subnet: dict, router: dict) -> None:
        """The upstream's route to a scoped subnet via its router's gateway address."""
        subprocess.run(["ip", "netns", "exec", self.upstream_ns, "ip", "route", "replace",
                        subnet["cidr"], "via", gateway_ip(router)], check=True)

    def seen_from_outside(self, instance: dict, timeout: float = 2) -> str | None:
        """The source address the outside host sees for a connection from the instance."""
        res = subprocess.run(["ip", "netns", "exec", netns_name(instance["name"]), sys.executable,
                              "-c", CLIENT, OUTSIDE, str(PORT), str(timeout)],
                             capture_output=True, text=True, timeout=timeout + 10, check=False)
        return res.stdout.strip() if res.returncode == 0 else None


def gateway_ip(router: dict) -> str:
    return router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]


@pytest.fixture(scope="module")
def world(run_prefix, tmp_path_factory) -> Iterator[Scoped]:
    with host_state(), running_allinone(tmp_path_factory.mktemp("scopes"), run_prefix) as aio:
        aio.external("create")
        w = None
        try:
            w = Scoped(aio)
            yield w
        finally:
            if w is not None:
                w.server.kill()
                w.server.wait()
            aio.external("delete", check=False)  # the upstream namespace, its routes with it


@pytest.fixture(scope="module")
def setup(world: Scoped) -> dict:
    ra, rb = world.router("asa"), world.router("asb")
    a = world.instance("asa", "sa", ra)
    plain = world.instance("asa", "pa", ra, cidr="10.0.0.0/24")
    b = world.instance("asb", "sb", rb)
    for inst, router in ((a, ra), (b, rb)):
        assert inst["subnet"]["subnetpool_id"] == world.pool["id"]
        world.route_back(inst["subnet"], router)
    return {"a": a, "b": b, "plain": plain, "ra": ra, "rb": rb}


def test_scoped_subnets_reach_the_outside_with_their_own_addresses(world, setup):
    for key in ("a", "b"):
        inst = setup[key]
        seen = wait_until(lambda: world.seen_from_outside(inst), 15,
                          f"{inst['name']} to reach the outside host")
        assert seen == inst["address"], f"{inst['name']} was NATed to {seen}"
    assert setup["a"]["subnet"]["cidr"] != setup["b"]["subnet"]["cidr"]


def test_a_subnet_outside_the_scope_is_snatted(world, setup):
    seen = wait_until(lambda: world.seen_from_outside(setup["plain"]), 15,
                      "the plain subnet's instance to reach the outside host")
    assert seen == gateway_ip(setup["ra"])


def test_a_pool_leaving_the_scope_is_snatted_again(world, setup):
    with world.aio.client() as c:
        resp = c.put(f"/subnetpools/{world.pool['id']}",
                     json={"subnetpool": {"address_scope_id": None}})
        assert resp.status_code == 200, resp.text
    try:
        wait_until(lambda: world.seen_from_outside(setup["b"]) == gateway_ip(setup["rb"]), 15,
                   "asb's router to SNAT its subnet once out of the scope")
    finally:
        with world.aio.client() as c:
            resp = c.put(f"/subnetpools/{world.pool['id']}",
                         json={"subnetpool": {"address_scope_id": world.scope["id"]}})
            assert resp.status_code == 200, resp.text
    assert wait_until(lambda: world.seen_from_outside(setup["b"]) == setup["b"]["address"], 15,
                      "asb's subnet to be routed again")

"""Internal DNS and extra DHCP options with real packets, inside lab instances.

One ``neutrino up`` for the module with ``dns_domain = example.org.`` (so ports keep
their ``dns_name``) and ``dns_servers = 192.0.2.53``: the resolver every lease names
when a subnet has no ``dns_nameservers`` (ML2/OVN's ``[ovn] dns_servers``). No host
answers at 192.0.2.53: the instance's query leaves through its default route (a
router interface on the subnet gives it a next hop) and OVN answers it on the
logical switch from the network's DNS records (ovn-northd(8), "DNS Lookup"). The
instances read ``/etc/netns/lab-<name>/resolv.conf``, which their DHCP client wrote
from the lease; the host's ``/etc/resolv.conf`` is never touched (``host_state``).

As Nova does when Neutron lists ``dns-integration``, each instance's port gets the
instance's name as ``dns_name`` once booted.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from allinone import AllInOne, host_state, running_allinone

from neutrino.lab import instances
from neutrino.lab.daemons import wait_until
from neutrino.lab.instances import netns_name

pytestmark = pytest.mark.ovn

RESOLVER = "192.0.2.53"
PROJECT = "dnsp"


@pytest.fixture(scope="module")
def aio(run_prefix, tmp_path_factory) -> Iterator[AllInOne]:
    settings = {"dns_domain": "example.org.", "dns_servers": RESOLVER}
    with host_state(), running_allinone(tmp_path_factory.mktemp("dns"), run_prefix,
                                        settings) as running:
        yield running


@pytest.fixture(scope="module")
def world(aio: AllInOne) -> dict:
    """A project network 10.0.0.0/24 behind a router (no gateway) with instances a and b,
    their ports named after them."""
    net = aio.network(PROJECT, "10.0.0.0/24")
    with aio.client(PROJECT) as c:
        [subnet_id] = c.get(f"/networks/{net['id']}").json()["network"]["subnets"]
        router = c.post("/routers", json={"router": {"name": f"{aio.prefix}-dns"}}).json()["router"]
        resp = c.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet_id})
        assert resp.status_code == 200, resp.text
    names = {key: aio.boot(f"dns-{key}", net["id"], PROJECT) for key in ("a", "b")}
    ports = {}
    for key, name in names.items():
        port = aio.port_of(name)
        with aio.client() as c:
            resp = c.put(f"/ports/{port['id']}", json={"port": {"dns_name": name.lower()}})
            assert resp.status_code == 200, resp.text
            ports[key] = resp.json()["port"]
    aio.wait_synced()
    return {"network": net, "names": names, "ports": ports}


def run(aio: AllInOne, name: str, *argv: str) -> subprocess.CompletedProcess:
    return aio.exec(name, *argv)


def lookup(aio: AllInOne, name: str, query: str) -> str | None:
    """The IPv4 address busybox nslookup finds for the absolute name ``query`` (it
    must end with a dot, so no search domain is tried) from inside ``name``.

    Only the A record is asked for: OVN's DNS leaves a query it has no record for
    (AAAA here, or a name with the search domain appended) to go on to the lease's
    resolver, which does not exist in the lab, so it would wait out busybox's timeout."""
    assert query.endswith("."), query
    res = run(aio, name, "busybox", "nslookup", "-type=a", query)
    if res.returncode != 0:
        return None
    answers = res.stdout.split("Name:", 1)[-1]
    found = [line.split()[-1] for line in answers.splitlines() if line.startswith("Address")]
    return found[0] if found else None


def getent(aio: AllInOne, name: str, database: str, key: str) -> str:
    """glibc's resolver inside ``name`` (the lease's resolv.conf, its search domain):
    ``getent <database> <key>``'s output, '' when nothing was found."""
    return run(aio, name, "getent", database, key).stdout


def test_the_lease_names_the_resolver_and_the_domain(aio, world):
    a = world["names"]["a"]
    inst = instances.get_instance(aio.state_dir, a)
    assert inst.lease.dns_servers == (RESOLVER,)
    resolv = (Path("/etc/netns") / netns_name(a) / "resolv.conf").read_text()
    assert f"nameserver {RESOLVER}" in resolv and "search example.org." in resolv


def test_an_instance_resolves_its_peer_by_name_and_fqdn(aio, world):
    a, b = world["names"]["a"], world["names"]["b"]
    b_ip = world["ports"]["b"]["fixed_ips"][0]["ip_address"]
    fqdn = f"{b.lower()}.example.org"
    assert world["ports"]["b"]["dns_assignment"][0]["fqdn"] == f"{fqdn}."
    got = wait_until(lambda: lookup(aio, a, f"{fqdn}."), 15, f"{a} to resolve {b}")
    assert got == b_ip
    # the bare name works for ordinary programs too: glibc's resolver with the lease's
    # search domain (A only: ahostsv4)
    assert getent(aio, a, "ahostsv4", b.lower()).split()[:1] == [b_ip]
    # and backwards (PTR)
    assert getent(aio, a, "hosts", b_ip).split()[1:2] == [fqdn]


def test_a_renamed_port_answers_to_its_new_name_only(aio, world):
    a, b = world["names"]["a"], world["names"]["b"]
    b_ip = world["ports"]["b"]["fixed_ips"][0]["ip_address"]
    with aio.client() as c:
        resp = c.put(f"/ports/{world['ports']['b']['id']}", json={"port": {"dns_name": "renamed"}})
        assert resp.status_code == 200, resp.text
    aio.wait_synced()
    assert wait_until(lambda: lookup(aio, a, "renamed.example.org."), 15,
                      "the new name to resolve") == b_ip
    assert lookup(aio, a, f"{b.lower()}.example.org.") is None


def test_an_extra_dhcp_option_reaches_the_lease(aio, world):
    a = world["names"]["a"]
    port = world["ports"]["a"]
    with aio.client() as c:
        resp = c.put(f"/ports/{port['id']}", json={"port": {"extra_dhcp_opts": [
            {"opt_name": "mtu", "opt_value": "1400"},
            {"opt_name": "domain-search", "opt_value": "lab.example"}]}})
        assert resp.status_code == 200, resp.text
    aio.wait_synced()
    inst = instances.renew_lease(aio.state_dir, a)
    assert inst.lease.mtu == 1400
    assert "mtu 1400" in run(aio, a, "ip", "link", "show", "eth0").stdout
    # the port's other options are still the subnet's: same address, router, resolver
    assert inst.lease.address.split("/")[0] == port["fixed_ips"][0]["ip_address"]
    assert inst.lease.dns_servers == (RESOLVER,)
    # removing the option brings the network's MTU back
    with aio.client() as c:
        resp = c.put(f"/ports/{port['id']}", json={"port": {"extra_dhcp_opts": [
            {"opt_name": "mtu", "opt_value": None}]}})
        assert resp.status_code == 200, resp.text
    aio.wait_synced()
    assert instances.renew_lease(aio.state_dir, a).lease.mtu == 1442

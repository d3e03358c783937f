"""The allocator on a real database: exhaustion, reuse, and bounded work in a
big, nearly full subnet."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import event, insert

from neutrino import errors
from neutrino.db.models import IPAllocation, IPAllocationBlock, Network, Port, Subnet
from neutrino.db.session import Database
from neutrino.ipam import allocator, ranges


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def make_subnet(db, cidr: str) -> allocator.SubnetSpace:
    net = ranges.parse_cidr(cidr)
    pools = ranges.default_pools(net, ranges.default_gateway(net))

    def run(s):
        s.add(Network(id="n1", project_id="p", name="", description="", created_at="x",
                      updated_at="x", revision_number=1, mtu=1500, admin_state_up=True,
                      status="ACTIVE", shared=False))
        s.add(Subnet(id="s1", project_id="p", name="", description="", created_at="x",
                     updated_at="x", revision_number=1, network_id="n1", ip_version=net.version,
                     cidr=str(net), gateway_ip=ranges.default_gateway(net), enable_dhcp=True,
                     allocation_pools=ranges.pools_to_api(pools, net.version),
                     dns_nameservers=[], host_routes=[]))
        s.add(Port(id="port", project_id="p", name="", description="", created_at="x",
                   updated_at="x", revision_number=1, network_id="n1", mac_address="fa:16:3e:00:00:01",
                   admin_state_up=True, status="DOWN", device_id="", device_owner=""))
    db.run(run)
    return allocator.SubnetSpace("s1", "n1", net, ranges.default_gateway(net), tuple(pools))


def fill(db, space: allocator.SubnetSpace, addresses: list[int]) -> None:
    """Insert allocations (and their block counts) in bulk."""
    version = space.version
    blocks: dict[str, int] = {}
    rows = []
    for value in addresses:
        rows.append({"subnet_id": space.id, "ip_key": ranges.ip_key(value, version),
                     "ip_address": ranges.int_to_ip(value, version), "port_id": "port",
                     "network_id": space.network_id})
        key = ranges.block_key(value >> 8, version)
        blocks[key] = blocks.get(key, 0) + 1

    def run(s):
        s.execute(insert(IPAllocation), rows)
        s.execute(insert(IPAllocationBlock),
                  [{"subnet_id": space.id, "block": k, "used": n} for k, n in blocks.items()])
    db.run(run)


def test_fills_small_subnet_then_reports_full_and_reuses(db):
    space = make_subnet(db, "10.0.0.0/29")
    got = [db.run(lambda s: allocator.allocate_any(s, space, "port")) for _ in range(5)]
    assert sorted(got) == [f"10.0.0.{i}" for i in range(2, 7)]
    assert db.run(lambda s: allocator.allocate_any(s, space, "port")) is None
    db.run(lambda s: allocator.release_addresses(s, "port", [("s1", "10.0.0.4")]))
    assert db.run(lambda s: allocator.allocate_any(s, space, "port")) == "10.0.0.4"
    assert db.run(lambda s: allocator.used_counts(s, ["s1"])) == {"s1": 5}


def test_lowest_takes_the_first_free_address(db):
    space = make_subnet(db, "10.0.0.0/24")
    fill(db, space, [int(ipaddress.ip_address("10.0.0.2"))])
    assert db.run(lambda s: allocator.allocate_any(s, space, "port", lowest=True)) == "10.0.0.3"


def test_nearly_full_slash16_allocates_with_bounded_work(db):
    """60,000 of 65,533 addresses in use, filled from the bottom: finding a
    free one reads block counters and one block, never every allocation."""
    space = make_subnet(db, "10.20.0.0/16")
    first = space.pools[0].first
    fill(db, space, list(range(first, first + 60000)))
    statements = []

    @event.listens_for(db.engine, "after_cursor_execute")
    def count(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    got = []
    for _ in range(20):
        got.append(db.run(lambda s: allocator.allocate_any(s, space, "port")))
    event.remove(db.engine, "after_cursor_execute", count)
    assert len(set(got)) == 20
    assert all(int(ipaddress.ip_address(ip)) >= first + 60000 for ip in got)
    assert len(statements) / 20 < 12, statements[:12]
    assert db.run(lambda s: allocator.used_counts(s, ["s1"])) == {"s1": 60020}


def test_ipv6_slash64_allocates_without_enumerating(db):
    space = make_subnet(db, "2001:db8::/64")
    got = {db.run(lambda s: allocator.allocate_any(s, space, "port")) for _ in range(10)}
    assert len(got) == 10
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("2001:db8::/64") for ip in got)


def test_taken_address_raises(db):
    space = make_subnet(db, "10.0.0.0/24")
    db.run(lambda s: allocator.allocate_address(s, space, "port", "10.0.0.9"))
    with pytest.raises(errors.IpAddressAlreadyAllocated):
        db.run(lambda s: allocator.allocate_address(s, space, "port", "10.0.0.9"))

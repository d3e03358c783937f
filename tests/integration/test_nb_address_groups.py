"""Address groups through the NB sync, against the real NB of the shared
``ovn_lab``: each group's two address sets (ML2/OVN's ``ag_<id>_ip4``/``_ip6``),
the ACL match of a rule naming the group, in-place updates that leave every ACL
row as it was, deletion, and the audit finding no drift (and repairing a set
changed by hand).
"""

from __future__ import annotations

import pytest
import wire
from test_nb_security_groups import P1, acls, drain, pg

from neutrino.lab.daemons import wait_until
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import address_groups, security_groups
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


def sets(nb, group_id: str) -> dict[str, tuple]:
    """``{name: (addresses, external_ids)}`` of the group's address sets in the NB."""
    found = {}
    with nb.ovsdb_connection.lock:
        for ip in ("ip4", "ip6"):
            name = f"ag_{group_id.replace('-', '_')}_{ip}"
            row = nb.lookup("Address_Set", name, default=None)
            if row is not None:
                found[name] = (sorted(row.addresses), dict(row.external_ids))
    return found


def test_group_rule_acl_and_in_place_updates(ovn_lab, env, nb, sync, only_our_rows):
    ag = wire.one(env, P1, "address_group", address_groups.create_address_groups(env, P1, [{
        "name": "office", "addresses": ["192.0.2.10/32", "2001:db8::5/64"]}]))
    web = wire.one(env, P1, "security_group",
                   security_groups.create_security_groups(env, P1, [{"name": "web"}]))
    rule = wire.one(env, P1, "security_group_rule", security_groups.create_security_group_rules(
        env, P1, [{"security_group_id": web["id"], "direction": "ingress", "protocol": "tcp",
                   "port_range_min": 22, "port_range_max": 22,
                   "remote_address_group_id": ag["id"]}]))
    drain(sync)
    v4, v6 = (f"ag_{ag['id'].replace('-', '_')}_{ip}" for ip in ("ip4", "ip6"))
    ext = {"neutron:address_group_id": ag["id"], "neutron:revision_number": "1"}
    assert sets(nb, ag["id"]) == {v4: (["192.0.2.10/32"], ext), v6: (["2001:db8::/64"], ext)}
    name = pg(web["id"])
    match = f"outport == @{name} && ip4 && ip4.src == ${v4} && tcp && tcp.dst == 22"
    assert acls(nb, name)[match][:4] == ("to-lport", 1002, "allow-related", rule["id"])
    before = {m: v[4] for m, v in acls(nb, name).items()}

    address_groups.add_addresses(env, P1, ag["id"], {"addresses": ["198.51.100.0/24"]})
    changes = drain(sync)
    assert {(c.action, c.table) for c in changes} == {("set", "Address_Set")}
    assert sets(nb, ag["id"])[v4][0] == ["192.0.2.10/32", "198.51.100.0/24"]
    assert {m: v[4] for m, v in acls(nb, name).items()} == before  # same ACL rows

    address_groups.remove_addresses(env, P1, ag["id"], {"addresses": ["192.0.2.10/32"]})
    drain(sync)
    assert sets(nb, ag["id"])[v4][0] == ["198.51.100.0/24"]
    assert {m: v[4] for m, v in acls(nb, name).items()} == before
    assert not sync.audit(repair=False).has_drift

    # a set changed by hand is drift, and the repair rewrites it in place
    uuid_before = nb.lookup("Address_Set", v4).uuid
    ovn_lab.deployment.central.nbctl("add", "Address_Set", v4, "addresses", '"203.0.113.1"')
    wait_until(lambda: "203.0.113.1" in sets(nb, ag["id"])[v4][0], 10, "the IDL to see it")
    report = sync.audit(repair=True)
    assert {(c.drift, c.table) for c in report.changes} == {("different", "Address_Set")}
    assert not sync.audit(repair=False).has_drift
    assert nb.lookup("Address_Set", v4).uuid == uuid_before

    security_groups.delete_security_group_rule(env, P1, rule["id"])
    address_groups.delete_address_group(env, P1, ag["id"])
    drain(sync)
    assert sets(nb, ag["id"]) == {}
    assert match not in acls(nb, name)

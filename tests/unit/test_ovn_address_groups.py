"""Address groups as OVN rows: the address sets of ``ovn.address_groups``, the ACL
match of a rule naming a group, the load from the database (API-made groups),
and the plan and commands of ``ovn.plan`` / ``ovn.apply``: a changed group is its
sets' ``addresses`` replaced in place, never an ACL. No daemons."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from unittest import mock

from neutrino.ovn import load
from neutrino.ovn.address_groups import (AddressSet, address_set_name, address_set_names,
                                         desired_address_sets, is_owned)
from neutrino.ovn.apply import nb_commands
from neutrino.ovn.commands import DbReplaceCommand
from neutrino.ovn.rows import Desired
from neutrino.ovn.load import Scope
from neutrino.ovn.observe import Found, Observed
from neutrino.ovn.plan import ADD, DEL, SET, plan
from neutrino.ovn.security_groups import acl_match, pg_name

AG = "a9000000-0000-4000-8000-000000000001"
SG = "3f2a0000-0000-4000-8000-000000000001"
V4, V6 = address_set_names(AG)
EXT = {"neutron:address_group_id": AG, "neutron:revision_number": "1"}


def rule(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": "r1", "security_group_id": SG, "direction": "ingress", "ethertype": "IPv4",
        "protocol": None, "port_range_min": None, "port_range_max": None,
        "remote_ip_prefix": None, "remote_group_id": None, "remote_address_group_id": AG, **kw})


def addr(address: str, group: str = AG) -> SimpleNamespace:
    return SimpleNamespace(address_group_id=group, address=address)


def test_names_are_ml2_ovns():
    assert V4 == "ag_a9000000_0000_4000_8000_000000000001_ip4"
    assert V6 == address_set_name(AG, "ip6") and V6.endswith("_ip6")
    assert is_owned(V4, EXT) and not is_owned(V4, {}) and not is_owned("pg_x_ip4", EXT)


def test_acl_match_names_the_groups_address_set_by_direction_and_version():
    pg = pg_name(SG)
    assert acl_match(rule(protocol="tcp", port_range_min=22, port_range_max=22), pg) == \
        f"outport == @{pg} && ip4 && ip4.src == ${V4} && tcp && tcp.dst == 22"
    assert acl_match(rule(direction="egress", ethertype="IPv6"), pg) == \
        f"inport == @{pg} && ip6 && ip6.dst == ${V6}"


def test_every_group_has_both_sets_with_its_addresses_by_version():
    group = SimpleNamespace(id=AG, revision_number=3)
    sets = desired_address_sets([group], [addr("10.0.0.0/24"), addr("2001:db8::/64"),
                                          addr("10.1.0.5/32"), addr("10.9.9.9/32", "other")])
    ext = {**EXT, "neutron:revision_number": "3"}
    assert sets == {V4: AddressSet(V4, ("10.0.0.0/24", "10.1.0.5/32"), ext),
                    V6: AddressSet(V6, ("2001:db8::/64",), ext)}
    empty = desired_address_sets([SimpleNamespace(id=AG, revision_number=1)], [])
    assert empty[V4].addresses == () and empty[V6].addresses == ()


def observed(v4=("10.0.0.0/24",), v6=()) -> Observed:
    return Observed(address_sets={
        V4: [Found(uuid.uuid4(), AddressSet(V4, tuple(v4), EXT))],
        V6: [Found(uuid.uuid4(), AddressSet(V6, tuple(v6), EXT))]})


def desired(v4=("10.0.0.0/24",), v6=()) -> Desired:
    return Desired(address_sets={V4: AddressSet(V4, tuple(v4), EXT),
                                 V6: AddressSet(V6, tuple(v6), EXT)})


SCOPE = Scope(address_sets=frozenset({V4, V6}))


def test_in_line_needs_no_change():
    assert plan(desired(), observed(), SCOPE) == []
    assert plan(desired(), observed()) == []


def test_an_added_address_replaces_the_sets_addresses_in_place():
    nb = observed()
    [change] = plan(desired(v4=("10.0.0.0/24", "10.2.0.0/16")), nb, SCOPE)
    [cmd] = nb_commands(mock.Mock(), [change], nb)
    assert (change.action, change.table, change.columns) == (SET, "Address_Set", ("addresses",))
    assert change.resource == f"address_group {AG}"
    assert isinstance(cmd, DbReplaceCommand) and cmd.record == nb.address_sets[V4][0].uuid
    assert cmd.columns == {"addresses": ["10.0.0.0/24", "10.2.0.0/16"]}


def test_new_group_adds_both_sets_before_anything_and_deleted_group_drops_them_last():
    api = mock.Mock()
    changes = plan(desired(), Observed(), SCOPE)
    assert {(c.action, c.key) for c in changes} == {(ADD, V4), (ADD, V6)}
    nb_commands(api, changes, Observed())
    api.address_set_add.assert_any_call(V4, addresses=["10.0.0.0/24"], may_exist=True,
                                        external_ids=EXT)
    nb = observed()
    changes = plan(Desired(), nb, SCOPE)
    assert {(c.action, c.key) for c in changes} == {(DEL, V4), (DEL, V6)}
    nb_commands(api, changes, nb)
    api.address_set_del.assert_any_call(nb.address_sets[V4][0].uuid, if_exists=True)


def test_audit_removes_owned_sets_nothing_wants_only():
    changes = plan(Desired(), observed())
    assert {(c.action, c.table) for c in changes} == {(DEL, "Address_Set")}


def test_load_from_the_api(api):
    ag = api.post("/v2.0/address-groups", {"address_group": {
        "addresses": ["10.0.0.5/24", "fd00::1/64"]}}, expect=201).json()["address_group"]
    other = api.post("/v2.0/address-groups", {"address_group": {}},
                     expect=201).json()["address_group"]
    settings = api.env.settings

    def run(fn):
        return api.env.db.run(fn, write=False)
    whole = run(lambda s: load.load_all(s, base_mac=settings.base_mac, lease_time=60))
    scope, one = run(lambda s: load.load_resources(
        s, [("address_group", ag["id"])], base_mac=settings.base_mac, lease_time=60))
    v4, v6 = address_set_names(ag["id"])
    assert scope.address_sets == {v4, v6} and set(one.address_sets) == {v4, v6}
    assert one.address_sets[v4].addresses == ("10.0.0.0/24",)
    assert one.address_sets[v6].addresses == ("fd00::/64",)
    assert set(whole.address_sets) == {v4, v6, *address_set_names(other["id"])}

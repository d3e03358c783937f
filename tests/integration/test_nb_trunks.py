"""Trunks through the NB sync, against the real NB of the shared ``ovn_lab``: a
subport's LSP is an OVN child port (``parent_name`` = the parent's LSP, ``tag_request``
= the segmentation id, which ovn-northd copies into ``tag``), removing it makes an
ordinary LSP again, and the audit finds no drift and repairs a child LSP changed by
hand.
"""

from __future__ import annotations

import pytest
import wire
from test_nb_security_groups import P1, drain, lsp

from neutrino.lab.daemons import wait_until
from neutrino.ovn.sync import NorthboundSync
from neutrino.services import subnets, trunks
from neutrino.services.env import Env

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]


@pytest.fixture
def sync(env: Env, nb) -> NorthboundSync:
    return NorthboundSync(env, nb, audit_interval=0)


def child(nb, port_id: str) -> tuple:
    """(parent_name, tag_request, tag, device owner in external_ids) of the port's LSP."""
    with nb.ovsdb_connection.lock:
        row = lsp(nb, port_id)
        return (row.parent_name[0] if row.parent_name else None,
                row.tag_request[0] if row.tag_request else None,
                row.tag[0] if row.tag else None, row.external_ids.get("neutron:device_owner"))


def test_subport_is_a_child_port_and_the_audit_repairs_it(ovn_lab, env, nb, sync,
                                                         only_our_rows):
    made = []
    for cidr in ("10.0.0.0/24", "10.1.0.0/24"):
        net = wire.create("network", env, P1, [{"name": "trunk"}])[0]
        subnets.create_subnets(env, P1, [{"network_id": net["id"], "cidr": cidr,
                                          "ip_version": 4}])
        made.append(wire.create("port", env, P1, [{"network_id": net["id"]}])[0])
    parent, sub = made
    trunk = trunks.create_trunks(env, P1, [{"port_id": parent["id"], "sub_ports": [
        {"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 42}]}]).objects[0]
    drain(sync)
    assert child(nb, parent["id"]) == (None, None, None, "")
    wait_until(lambda: child(nb, sub["id"])[2] == 42, 10, "ovn-northd to set the tag")
    assert child(nb, sub["id"]) == (parent["id"], 42, 42, "trunk:subport")
    assert not sync.audit(repair=False).has_drift

    # a child port changed by hand is drift; the repair puts parent and tag back
    ovn_lab.deployment.central.nbctl("clear", "Logical_Switch_Port", sub["id"], "parent_name",
                                     "--", "set", "Logical_Switch_Port", sub["id"],
                                     "tag_request=7")
    wait_until(lambda: child(nb, sub["id"])[0] is None, 10, "the IDL to see it")
    report = sync.audit(repair=True)
    assert {(c.drift, c.table, c.resource) for c in report.changes} == {
        ("different", "Logical_Switch_Port", f"port {sub['id']}")}
    assert child(nb, sub["id"])[:2] == (parent["id"], 42)
    assert not sync.audit(repair=False).has_drift

    trunks.remove_subports(env, P1, trunk.id, {"sub_ports": [{"port_id": sub["id"]}]})
    drain(sync)
    assert child(nb, sub["id"]) == (None, None, None, "")
    assert not sync.audit(repair=False).has_drift

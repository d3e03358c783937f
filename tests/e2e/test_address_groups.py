"""Address groups with real packets: a rule whose remote is an address group
admits the group's addresses and no other, and adding an address opens it
within a second, by rewriting the group's OVN address set in place (the ACL
rows keep their UUIDs).

One ``neutrino up`` for the module; project aga has 10.0.0.0/24 with a5 in
"web" (Neutron's egress rules only) and a6, a7 in default, each running the TCP
server of ``test_security_groups``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from allinone import host_state, running_allinone
from test_security_groups import PORT, Lab, until_within

from neutrino.lab.daemons import wait_until

pytestmark = pytest.mark.ovn


@pytest.fixture(scope="module")
def lab(run_prefix, tmp_path_factory) -> Iterator[Lab]:
    with host_state(), running_allinone(tmp_path_factory.mktemp("ag"), run_prefix) as aio:
        lab = Lab(aio)
        try:
            net = aio.network("aga", "10.0.0.0/24")
            for short, group in (("a5", "web"), ("a6", "default"), ("a7", "default")):
                lab.boot(short, net, "aga", group)
            yield lab
        finally:
            for proc in lab.servers:
                proc.kill()
                proc.wait()


def acl_rows(lab: Lab) -> dict[str, str]:
    """``{ACL uuid: match}`` of every ACL in the all-in-one's NB."""
    out = subprocess.run(["ovn-nbctl", f"--db={lab.aio.runtime['nb_connection']}", "--format=csv",
                          "--data=bare", "--no-headings", "--columns=_uuid,match", "list", "ACL"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split(",", 1) for line in out.splitlines() if line)


def put(lab: Lab, path: str, body: dict) -> dict:
    with lab.aio.client("aga") as c:
        resp = c.put(path, json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()


def test_address_group_admits_its_addresses_and_grows_in_place(lab):
    with lab.aio.client("aga") as c:
        resp = c.post("/address-groups", json={"address_group": {
            "name": "clients", "addresses": ["10.0.0.6/32"]}})
        assert resp.status_code == 201, resp.text
    ag = resp.json()["address_group"]
    rule = lab.rule("aga", "web", protocol="tcp", port_range_min=PORT, port_range_max=PORT,
                    remote_address_group_id=ag["id"])
    try:
        wait_until(lambda: lab.connect("a6", "10.0.0.5", timeout=0.3) == "a5", 10,
                   "the group's address to reach a5")
        assert lab.connect("a7", "10.0.0.5") is None
        assert lab.packets_to("a5", "10.0.0.7", lambda: lab.connect("a7", "10.0.0.5")) == 0
        lab.aio.wait_synced()
        set_name = f"ag_{ag['id'].replace('-', '_')}_ip4"
        before = acl_rows(lab)
        assert any(f"ip4.src == ${set_name}" in m for m in before.values())

        put(lab, f"/address-groups/{ag['id']}/add_addresses", {"addresses": ["10.0.0.7/32"]})
        took = until_within(lambda: lab.connect("a7", "10.0.0.5", timeout=0.2) == "a5",
                            "the added address to reach a5")
        print(f"address added -> first accepted connection: {took:.3f}s")
        lab.aio.wait_synced()
        assert acl_rows(lab) == before  # same rows, same uuids: only the address set changed

        put(lab, f"/address-groups/{ag['id']}/remove_addresses", {"addresses": ["10.0.0.6/32"]})
        wait_until(lambda: lab.connect("a6", "10.0.0.5", timeout=0.3) is None, 10,
                   "the removed address to be blocked")
        assert lab.connect("a7", "10.0.0.5") == "a5"
    finally:
        lab.delete_rule("aga", rule)
        with lab.aio.client("aga") as c:
            assert c.delete(f"/address-groups/{ag['id']}").status_code == 204

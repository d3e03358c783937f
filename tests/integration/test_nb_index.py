"""``ovn.nb_index`` on the real NB IDL: rows found by key after this client's own writes.

python-ovs updates an index on a local write and not when the transaction ends; an
index keyed on a column this client rewrites (``DHCP_Options.external_ids``) then held
an entry the server's next update could not find, and the IDL's update failed.
"""

from __future__ import annotations

import uuid

import pytest

from neutrino.ovn import nb_index

pytestmark = [pytest.mark.ovn, pytest.mark.usefixtures("nb_cleanup")]


def _owners(nb, key: str) -> list:
    with nb.ovsdb_connection.lock:
        return [r.uuid for r in nb_index.rows(nb.idl, nb_index.DHCP_OWNER, key)]


def test_dhcp_rows_are_found_by_owner_after_their_external_ids_are_rewritten(nb):
    subnet, other, port = (str(uuid.uuid4()) for _ in range(3))
    row = nb.dhcp_options_add("10.9.0.0/24", subnet_id=subnet).execute(check_error=True)
    own = nb.dhcp_options_add("10.9.0.0/24", subnet_id=subnet,
                              port_id=port).execute(check_error=True)
    assert _owners(nb, subnet) == [row.uuid]  # a port's own row is keyed by its port
    assert _owners(nb, port) == [own.uuid]

    nb.db_set("DHCP_Options", row.uuid,
              ("external_ids", {"subnet_id": other})).execute(check_error=True)
    nb.db_set("DHCP_Options", row.uuid, ("cidr", "10.9.1.0/24")).execute(check_error=True)

    assert _owners(nb, subnet) == []
    assert _owners(nb, other) == [row.uuid]
    nb.dhcp_options_del(own.uuid).execute(check_error=True)
    assert _owners(nb, port) == []

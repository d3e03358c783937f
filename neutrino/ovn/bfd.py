"""BFD on a router's default routes (extension ``enable-default-route-bfd``), as
ML2/OVN writes it (mech_driver/ovsdb/ovn_client.py ``_add_router_ext_gw``, commands.py
``AddStaticRouteCommand(maintain_bfd=True)`` and ``DeleteLRouterExtGwCommand``).

A router with ``enable_default_route_bfd`` gets, on each default route of its gateways
(several with ``external-gateway-multihoming`` and ECMP), ``output_port`` = that gateway's LRP and ``bfd`` = a ``BFD`` row with ``logical_port`` the
LRP and ``dst_ip`` the next hop (one row per (port, address), shared by the routes that
name it). OVN then runs BFD to the next hop and drops the route while the session is
down. Without the flag the route has neither.

The BFD table is a root table: its rows are not collected when no route refers to
them, so they are deleted explicitly -- with the route (:class:`DropRouteBfd`, before a
route is removed or rewritten) or with the router (:class:`DropRouterBfd`, before
``lr_del``) -- and only when no other route still refers to them. A desired route says
``bfd`` True/False; the row itself is found or made by :class:`AddRouteWithBfd` in the
same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from ovsdbapp.backend.ovs_idl import command as cmd

from neutrino.ovn.commands import ChildAddCommand

BFD = "BFD"
ROUTE = "Logical_Router_Static_Route"


def _referrers(api: Any, bfd_row: Any) -> list[Any]:
    return [r for r in api.tables[ROUTE].rows.values()
            if any(b.uuid == bfd_row.uuid for b in r.bfd)]


def _drop_bfd_of(api: Any, route: Any, others: set[uuid.UUID]) -> None:
    """Unlink ``route``'s BFD rows and delete those no route outside ``others`` (and
    the route itself) refers to."""
    rows = list(route.bfd)
    route.bfd = []
    for bfd in rows:
        if not [r for r in _referrers(api, bfd) if r.uuid != route.uuid and r.uuid not in others]:
            bfd.delete()


class AddRouteWithBfd(ChildAddCommand):
    """:class:`ChildAddCommand` of a route, whose ``bfd`` is the BFD row of
    (``output_port``, ``nexthop``), found or inserted in the same transaction."""

    def run_idl(self, txn: Any) -> None:
        port, hop = self.columns["output_port"][0], self.columns["nexthop"]
        bfd = next((b for b in self.api.tables[BFD].rows.values()
                    if b.logical_port == port and b.dst_ip == hop), None)
        if bfd is None:
            bfd = txn.insert(self.api.tables[BFD])
            bfd.logical_port, bfd.dst_ip = port, hop
        parent = self.api.lookup(self.parent_table, self.parent)
        row = txn.insert(self.api.tables[self.table])
        self.set_columns(row, **self.columns)
        row.bfd = [bfd.uuid]
        parent.addvalue(self.column, row)
        self.result = row.uuid


class DropRouteBfd(cmd.BaseCommand):
    """Before a route (NB UUID ``route``) is removed or rewritten: unlink its BFD rows
    and delete those no other route refers to. Nothing when the route is gone."""

    def __init__(self, api: Any, route: uuid.UUID) -> None:
        super().__init__(api)
        self.route = route

    def run_idl(self, txn: Any) -> None:
        row = self.api.tables[ROUTE].rows.get(self.route)
        if row is not None and row.bfd:
            _drop_bfd_of(self.api, row, set())


class DropRouterBfd(cmd.BaseCommand):
    """Before a router (NB UUID ``router``) is deleted: delete the BFD rows of its
    routes that no route of another router refers to."""

    def __init__(self, api: Any, router: uuid.UUID) -> None:
        super().__init__(api)
        self.router = router

    def run_idl(self, txn: Any) -> None:
        lr = self.api.tables["Logical_Router"].rows.get(self.router)
        if lr is None:
            return
        own = {r.uuid for r in lr.static_routes}
        for route in lr.static_routes:
            if route.bfd:
                _drop_bfd_of(self.api, route, own)

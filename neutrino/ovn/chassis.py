"""Which chassis can host a router gateway: the SB ``Chassis`` rows and the
physical networks each bridges (reference D.5 "Gateway chassis scheduling").

ovn-controller publishes its ``ovn-bridge-mappings`` (``physnet1:br-ex,...``)
in ``Chassis.other_config`` (OVN >= 20.06; older versions used
``external_ids``, still read as a fallback). :class:`ChassisChanged` only
raises a flag on the SB event thread; the NB sync reads the chassis again in
its own thread and re-realises the routers with a gateway when the map changed.
"""

from __future__ import annotations

import threading
from typing import Any

from ovsdbapp.backend.ovs_idl import event as row_event

from neutrino.ovn import idl as ovn_idl
from neutrino.ovn.desired import parse_bridge_mappings

BRIDGE_MAPPINGS = "ovn-bridge-mappings"


def chassis_physnets(sb_api: Any | None) -> dict[str, frozenset[str]] | None:
    """``{chassis name: physical networks it bridges}`` from the SB IDL, or
    None when unknown: no SB API, or an IDL without a complete copy (a
    partial copy must never unschedule gateways)."""
    if sb_api is None:
        return None
    with sb_api.ovsdb_connection.lock:
        if not ovn_idl.is_ready(sb_api):
            return None
        return {row.name: physnets(row) for row in sb_api.tables["Chassis"].rows.values()}


def host_physnets(sb_api: Any | None) -> dict[str, frozenset[str]] | None:
    """``{hostname: physical networks it bridges}`` from the SB IDL (a chassis
    without ``hostname`` is known by its name, as port bindings name it), or None
    when unknown (see :func:`chassis_physnets`)."""
    if sb_api is None:
        return None
    with sb_api.ovsdb_connection.lock:
        if not ovn_idl.is_ready(sb_api):
            return None
        result: dict[str, frozenset[str]] = {}
        for row in sb_api.tables["Chassis"].rows.values():
            host = row.hostname or row.name
            result[host] = result.get(host, frozenset()) | physnets(row)
        return result


def physnets(row: Any) -> frozenset[str]:
    """The physical networks of one SB Chassis row."""
    value = row.other_config.get(BRIDGE_MAPPINGS) or row.external_ids.get(BRIDGE_MAPPINGS, "")
    return parse_bridge_mappings(value)


class ChassisChanged(row_event.RowEvent):
    """Any SB Chassis row created, updated or deleted: sets ``flag``."""

    def __init__(self, flag: threading.Event) -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE), "Chassis", None)
        self.event_name = "NeutrinoChassisChanged"
        self.flag = flag

    def run(self, event, row, old) -> None:
        self.flag.set()

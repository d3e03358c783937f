"""Which chassis can host a router gateway: the SB ``Chassis`` rows, the
physical networks each bridges and whether it is gateway capable (reference
D.5 "Gateway chassis scheduling").

ovn-controller publishes its ``ovn-bridge-mappings`` (``physnet1:br-ex,...``)
and ``ovn-cms-options`` (``enable-chassis-as-gw,...``) in
``Chassis.other_config`` (OVN >= 20.06; older versions used ``external_ids``,
still read as a fallback). As in ML2/OVN (neutron/common/ovn/utils.py
``get_ovn_cms_options``/``is_gateway_chassis``; the candidates of
mech_driver/ovsdb/ovn_client.py ``get_candidates_for_scheduling`` since
2024.1, zed still fell back to any chassis bridging the physnet), only a
chassis whose comma-separated cms options include ``enable-chassis-as-gw``
hosts router gateways: :func:`chassis_physnets` lists those alone. Routed
networks look at every chassis (:func:`host_physnets`).

:class:`ChassisChanged` only raises a flag on the SB event thread; the NB sync
reads the chassis again in its own thread and re-realises the routers with a
gateway when the gateway chassis or their physical networks changed.
"""

from __future__ import annotations

import threading
from typing import Any

from ovsdbapp.backend.ovs_idl import event as row_event

from neutrino.ovn import idl as ovn_idl
from neutrino.ovn.desired_routers import parse_bridge_mappings
from neutrino.ovn.router_az import ChassisPhysnets

BRIDGE_MAPPINGS = "ovn-bridge-mappings"
CMS_OPTIONS = "ovn-cms-options"  # Neutron's OVN_CMS_OPTIONS
CHASSIS_AS_GW = "enable-chassis-as-gw"  # Neutron's CMS_OPT_CHASSIS_AS_GW
AZ_OPTION = "availability-zones="  # in ovn-cms-options, colon-separated (ML2/OVN)


def chassis_physnets(sb_api: Any | None) -> dict[str, frozenset[str]] | None:
    """``{chassis name: physical networks it bridges}`` of the gateway-capable
    SB chassis (:func:`is_gateway_chassis`): the candidates for router
    gateways; each value a ``router_az.ChassisPhysnets`` also holding the
    chassis' availability zones (router AZ hints). None when unknown: no SB API, or an IDL without a complete copy
    (a partial copy must never unschedule gateways)."""
    if sb_api is None:
        return None
    with sb_api.ovsdb_connection.lock:
        if not ovn_idl.is_ready(sb_api):
            return None
        return {row.name: ChassisPhysnets(physnets(row), availability_zones(row))
                for row in sb_api.tables["Chassis"].rows.values() if is_gateway_chassis(row)}


def host_physnets(sb_api: Any | None) -> dict[str, frozenset[str]] | None:
    """``{hostname: physical networks it bridges}`` of every SB chassis,
    gateway capable or not (a chassis without ``hostname`` is known by its
    name, as port bindings name it), or None when unknown (see
    :func:`chassis_physnets`)."""
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
    return parse_bridge_mappings(_chassis_option(row, BRIDGE_MAPPINGS))


def cms_options(row: Any) -> list[str]:
    """The ``ovn-cms-options`` of one SB Chassis row, split at commas and
    stripped (Neutron's ``get_ovn_cms_options``); [] when unset."""
    value = _chassis_option(row, CMS_OPTIONS)
    return [opt.strip() for opt in value.split(",") if opt.strip()]


def is_gateway_chassis(row: Any) -> bool:
    """Whether an SB Chassis row may host router gateways: its cms options
    hold ``enable-chassis-as-gw`` (Neutron's ``is_gateway_chassis``)."""
    return CHASSIS_AS_GW in cms_options(row)


def availability_zones(row: Any) -> list[str]:
    """The chassis' availability zones: ``availability-zones=az1:az2`` among its
    cms options (ML2/OVN's ``get_chassis_availability_zones``); [] when none."""
    for option in cms_options(row):
        if option.startswith(AZ_OPTION):
            return [az.strip() for az in option[len(AZ_OPTION):].split(":") if az.strip()]
    return []


def _chassis_option(row: Any, key: str) -> str:
    """``other_config:<key>``, else ``external_ids:<key>`` (OVN < 20.06), else ""."""
    return row.other_config.get(key) or row.external_ids.get(key, "")


class ChassisChanged(row_event.RowEvent):
    """Any SB Chassis row created, updated or deleted: sets every one of ``flags``
    (the NB sync's "chassis changed" flag and its wake-up event)."""

    def __init__(self, *flags: threading.Event) -> None:
        super().__init__((self.ROW_CREATE, self.ROW_UPDATE, self.ROW_DELETE), "Chassis", None)
        self.event_name = "NeutrinoChassisChanged"
        self.flags = flags

    def run(self, event, row, old) -> None:
        for flag in self.flags:
            flag.set()

"""``neutrino sync`` monitors only ``idl.SB_CHASSIS_TABLES`` of the SB (not one
Port_Binding row per port): what the NB sync reads there must stay within them."""

import threading
from types import SimpleNamespace
from unittest import mock

from neutrino.ovn import chassis, idl


def test_gateway_chassis_and_host_physnets_read_only_the_chassis_tables():
    row = SimpleNamespace(name="ch1", hostname="host1", external_ids={}, other_config={
        "ovn-bridge-mappings": "physnet1:br-ex",
        "ovn-cms-options": "enable-chassis-as-gw,availability-zones=az1"})
    tables = {t: SimpleNamespace(rows={}) for t in idl.SB_CHASSIS_TABLES}
    tables["Chassis"].rows = {1: row}
    sb = SimpleNamespace(tables=tables, ovsdb_connection=SimpleNamespace(lock=threading.Lock()))
    with mock.patch.object(idl, "is_ready", return_value=True):
        gateways = chassis.chassis_physnets(sb)  # a KeyError if it read another table
        hosts = chassis.host_physnets(sb)
    assert set(gateways) == {"ch1"} and set(gateways["ch1"]) == {"physnet1"}
    assert hosts == {"host1": frozenset({"physnet1"})}
    assert "Port_Binding" not in idl.SB_CHASSIS_TABLES

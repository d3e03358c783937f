"""Gateway chassis and floating IP NATs without daemons: which SB chassis host
router gateways (ovn.chassis, the NB sync's requeue on a Chassis change) and
the floating IP NATs the load stage builds from the database (ovn.load)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from ovs.db import idl as ovs_idl
from sqlalchemy import delete, select

from neutrino.db.models import OvnOutbox, Port
from neutrino.ovn import chassis, load
from neutrino.ovn.sync import NorthboundSync

EXTERNAL = {"router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "physnet1"}


def sb_chassis(name: str, mappings: str = "physnet1:br-ex", cms: str | None = None, *,
               old_ovn: bool = False, hostname: str = "") -> SimpleNamespace:
    """An SB Chassis row; ``old_ovn`` puts the options in external_ids."""
    options = {"ovn-bridge-mappings": mappings}
    if cms is not None:
        options["ovn-cms-options"] = cms
    return SimpleNamespace(name=name, hostname=hostname or name,
                           other_config={} if old_ovn else options,
                           external_ids=options if old_ovn else {})


class FakeSb:
    """Just what ovn.chassis and NorthboundSync read of an SB API."""

    def __init__(self, *rows: SimpleNamespace) -> None:
        self.rows = {row.name: row for row in rows}
        self.tables = {"Chassis": SimpleNamespace(rows=self.rows)}
        self.ovsdb_connection = SimpleNamespace(lock=threading.Lock())
        self.events: list = []
        handler = SimpleNamespace(watch_event=self.events.append,
                                  unwatch_event=self.events.remove)
        self.idl = SimpleNamespace(state=ovs_idl.Idl.IDL_S_MONITORING, notify_handler=handler)

    def change(self, row: SimpleNamespace) -> None:
        """Replace or add a row and fire the sync's event, as the IDL would."""
        self.rows[row.name] = row
        for event in self.events:
            event.run("update", row, None)


# --- ovn.chassis ----------------------------------------------------------------

@pytest.mark.parametrize("cms, gateway", [
    ("enable-chassis-as-gw", True),
    ("availability-zones=az1:az2, enable-chassis-as-gw ", True),
    ("enable-chassis-as-extport-host", False),
    ("enable-chassis-as-gw-not", False),
    ("", False),
    (None, False),
])
def test_a_chassis_is_gateway_capable_when_its_cms_options_say_so(cms, gateway):
    assert chassis.is_gateway_chassis(sb_chassis("ch", cms=cms)) is gateway
    assert chassis.is_gateway_chassis(sb_chassis("ch", cms=cms, old_ovn=True)) is gateway


def test_gateway_candidates_are_the_gateway_capable_chassis_only():
    sb = FakeSb(sb_chassis("gw1", cms="enable-chassis-as-gw"),
                sb_chassis("gw2", "physnet1:br-ex,other:br-x", cms="enable-chassis-as-gw"),
                sb_chassis("gw-old", "other:br-x", cms="enable-chassis-as-gw", old_ovn=True),
                sb_chassis("compute1"), sb_chassis("compute2", "", cms="something-else"))

    assert chassis.chassis_physnets(sb) == {
        "gw1": {"physnet1"}, "gw2": {"physnet1", "other"}, "gw-old": {"other"}}
    assert chassis.host_physnets(sb) == {
        "gw1": {"physnet1"}, "gw2": {"physnet1", "other"}, "gw-old": {"other"},
        "compute1": {"physnet1"}, "compute2": frozenset()}


def test_chassis_are_unknown_without_sb_or_with_an_incomplete_copy():
    sb = FakeSb(sb_chassis("gw1", cms="enable-chassis-as-gw"))
    sb.idl.state = ovs_idl.Idl.IDL_S_SERVER_SCHEMA_REQUESTED

    assert chassis.chassis_physnets(None) is None and chassis.host_physnets(None) is None
    assert chassis.chassis_physnets(sb) is None and chassis.host_physnets(sb) is None


# --- the NB sync's requeue --------------------------------------------------------

@pytest.fixture
def gateway_router(api) -> str:
    """A router with its gateway on the flat external network; the outbox emptied."""
    net = api.network(name="public", **EXTERNAL)
    api.subnet(net["id"], "172.24.4.0/24", gateway_ip="172.24.4.1", enable_dhcp=False)
    router = api.post("/v2.0/routers", {"router": {
        "name": "r", "external_gateway_info": {"network_id": net["id"]}}}, expect=201)
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    return router.json()["router"]["id"]


def requeued(api) -> list[str]:
    rows = api.env.db.run(lambda s: list(s.scalars(select(OvnOutbox.resource_id).where(
        OvnOutbox.resource_type == "router"))), write=False)
    api.env.db.run(lambda s: s.execute(delete(OvnOutbox)))
    return rows


def test_marking_a_chassis_as_gateway_places_router_gateways_again(api, gateway_router):
    sb = FakeSb(sb_chassis("gw1", cms="enable-chassis-as-gw"), sb_chassis("compute1"))
    sync = NorthboundSync(api.env, None, sb_api=sb, audit_interval=0)
    try:
        sync.requeue_gateways()  # the first round records the hosts only
        assert requeued(api) == [] and set(sync.chassis()) == {"gw1"}

        sb.change(sb_chassis("compute1", "physnet1:br-ex,other:br-x"))
        sync.requeue_gateways()
        assert requeued(api) == [], "not a gateway: its bridges do not matter"

        sb.change(sb_chassis("compute1", cms="enable-chassis-as-gw"))
        sync.requeue_gateways()  # (its count is -1 on PostgreSQL: rowcount of INSERT ... SELECT)
        assert requeued(api) == [gateway_router]
        assert set(sync.chassis()) == {"gw1", "compute1"}

        sb.change(sb_chassis("compute1", cms=""))
        sync.requeue_gateways()
        assert requeued(api) == [gateway_router]
        assert set(sync.chassis()) == {"gw1"}
    finally:
        sync.close()
    assert sb.events == []


# --- ovn.load: floating IP NATs ----------------------------------------------------

@pytest.fixture
def floating_ip(api, gateway_router) -> dict:
    """A floating IP on a VM port behind ``gateway_router``."""
    ext = api.get("/v2.0/networks?name=public", admin=True).json()["networks"][0]
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    api.put(f"/v2.0/routers/{gateway_router}/add_router_interface", {"subnet_id": sub["id"]},
            expect=200)
    vm = api.port(net["id"])
    fip = api.post("/v2.0/floatingips", {"floatingip": {
        "floating_network_id": ext["id"], "port_id": vm["id"]}}, expect=201).json()["floatingip"]
    fip_mac = api.env.db.run(lambda s: s.scalar(select(Port.mac_address).where(
        Port.device_owner == "network:floatingip")), write=False)
    return {**fip, "vm": vm, "mac": fip_mac, "router": gateway_router}


@pytest.mark.parametrize("distributed", [False, True])
def test_floating_ip_nat_is_loaded_with_the_mac_of_its_own_port(api, floating_ip, distributed):
    settings = api.env.settings
    key = (f"neutron-{floating_ip['router']} dnat_and_snat {floating_ip['floating_ip_address']} "
           f"{floating_ip['fixed_ip_address']}")

    whole = api.env.db.run(lambda s: load.load_all(
        s, base_mac=settings.base_mac, lease_time=60, distributed_floating_ips=distributed),
        write=False)
    _, one = api.env.db.run(lambda s: load.load_resources(
        s, [("router", floating_ip["router"])], base_mac=settings.base_mac, lease_time=60,
        distributed_floating_ips=distributed), write=False)

    assert whole.nats[key] == one.nats[key]
    nat = one.nats[key]
    assert nat.logical_port == floating_ip["vm"]["id"]
    assert nat.external_ids["neutron:fip_external_mac"] == floating_ip["mac"]
    assert nat.external_mac == (floating_ip["mac"] if distributed else "")

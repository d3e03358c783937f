"""QoS policies -> OVN ``QoS`` rows, as ML2/OVN's QoS extension writes them
(``mech_driver/ovsdb/extensions/qos.py`` ``_ovn_qos_rule``). Pure builders plus the
load helper reading a port's effective policy and rules.

Per port and direction one row on the port's logical switch (``Logical_Switch.qos_rules``):
egress (from the VM) is ``from-lport`` matching ``inport == "<port id>"``, ingress is
``to-lport`` matching ``outport == "<port id>"``; priority 2002; the bandwidth limit
becomes ``bandwidth`` ``{rate: max_kbps, burst: max_burst_kbps}`` (burst only when set),
the DSCP mark (egress only) ``action`` ``{dscp: mark}``; a direction with neither gets no
row (minimum bandwidth has no QoS row). ``external_ids`` ``neutron:port_id`` marks the
owner. Network device ports (``network:*`` owners) get none (``is_network_device_port``).
A row is known by (switch, direction, priority, match), as ovsdbapp's ``qos_add`` finds it.

Floating IPs and router gateways (extensions ``qos-fip``, ``qos-gateway-ip``) get rows on
the switch of the router's gateway port (the external network's), matching that port:
a router's at priority 2002 marked ``neutron:router_id``; a floating IP's at 2003 marked
``neutron:fip_id``, narrowed to its address (``ip4.src`` egress, ``ip4.dst`` ingress) and
to the chassis NATing it (``is_chassis_resident("cr-lrp-<gateway port>")``, or its fixed
port's chassis with distributed floating IPs), as ``_ovn_qos_rule_match``. A floating IP
without a policy of its own takes its external network's (``qos-fip-network-policy``).
A row belongs to the load holding the port its match names (``subject_port``).

Minimum bandwidth, as ML2/OVN (``_update_port_qos_rules``): on a switch with a localnet
port (a flat/VLAN network), a port whose policy has an egress ``minimum_bandwidth`` rule
gets LSP ``options`` ``qos_min_rate`` (and, from an egress bandwidth limit, ``qos_max_rate``
and ``qos_burst``; bit/s and bits, ovn-nb(5)) instead of an egress bandwidth QoS row
(:func:`lsp_qos_options`); on an overlay network ML2/OVN, and so neutrino, has no way to
guarantee a rate and leaves the rule unrealised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neutrino.constants import DEVICE_OWNER_NETWORK_PREFIX
from neutrino.ovn.rows import switch_name

DEFAULT_PRIORITY = 2002  # OVN_QOS_DEFAULT_RULE_PRIORITY
FIP_PRIORITY = 2003  # OVN_QOS_FIP_RULE_PRIORITY
EXT_PORT_ID = "neutron:port_id"  # ovn_const.OVN_PORT_EXT_ID_KEY
EXT_FIP_ID = "neutron:fip_id"
EXT_ROUTER_ID = "neutron:router_id"
OWNER_KEYS = (EXT_PORT_ID, EXT_FIP_ID, EXT_ROUTER_ID)


@dataclass(frozen=True)
class QoS:
    """A ``QoS`` row of logical switch ``switch``."""

    TABLE = "QoS"
    switch: str
    direction: str
    priority: int
    match: str
    action: Mapping[str, int] = field(default_factory=dict)
    bandwidth: Mapping[str, int] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.switch} {self.direction} {self.priority} {self.match}"


def is_owned(external_ids: Mapping[str, str]) -> bool:
    """A QoS row neutrino (or Neutron) wrote: marked with its owner."""
    return any(k in external_ids for k in OWNER_KEYS)


def subject_port(match: str) -> str:
    """The port a QoS row's match names first (``inport == "<id>" ...``)."""
    return match.split('"')[1] if match.count('"') >= 2 else ""


def owner(external_ids: Mapping[str, str]) -> str:
    """The resource a row comes from: ``port <id>``, ``floatingip <id>``, ``router <id>``."""
    for key, kind in ((EXT_PORT_ID, "port"), (EXT_FIP_ID, "floatingip"),
                      (EXT_ROUTER_ID, "router")):
        if key in external_ids:
            return f"{kind} {external_ids[key]}"
    return ""


def lsp_qos_options(rules: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The LSP ``options`` of a port on a physical network for its policy's ``rules``:
    ``qos_min_rate`` (bit/s) from an egress minimum bandwidth rule, with ``qos_max_rate``
    (bit/s) and ``qos_burst`` (bits) from an egress bandwidth limit; empty without an
    egress minimum (ML2/OVN's ``_ovn_lsp_rule``, kbit -> bit with SI_BASE 1000)."""
    egress = {r["type"]: r for r in rules if r.get("direction", "egress") == "egress"}
    if "minimum_bandwidth" not in egress:
        return {}
    options = {"qos_min_rate": str(egress["minimum_bandwidth"]["min_kbps"] * 1000)}
    limit = egress.get("bandwidth_limit")
    if limit:
        options["qos_max_rate"] = str(limit["max_kbps"] * 1000)
        if limit.get("max_burst_kbps"):
            options["qos_burst"] = str(limit["max_burst_kbps"] * 1000)
    return options


def desired_port_qos(switch: str, port_id: str, rules: Iterable[Mapping[str, Any]], *,
                     owner_key: str = EXT_PORT_ID, owner_id: str | None = None,
                     address: str | None = None, resident: str | None = None,
                     options_hold_egress: bool = False) -> list[QoS]:
    """The QoS rows of one port on ``switch`` for a policy's ``rules`` (rule dicts with
    ``type`` and parameters, ``services.qos_rules.rules_of``). ``owner_key``/``owner_id``
    mark the owner (default: the port); ``address`` and ``resident`` narrow the match
    to a floating IP (priority 2003). ``options_hold_egress``: the egress limit is in
    the LSP's options (:func:`lsp_qos_options`), only the DSCP mark makes a row."""
    rows = []
    rules = list(rules)
    for direction, ovn_direction, side, ip_side in (("egress", "from-lport", "inport", "src"),
                                                    ("ingress", "to-lport", "outport", "dst")):
        bandwidth: dict[str, int] = {}
        action: dict[str, int] = {}
        for r in rules:
            if (r["type"] == "bandwidth_limit" and r["direction"] == direction
                    and not (options_hold_egress and direction == "egress")):
                bandwidth["rate"] = r["max_kbps"]
                if r.get("max_burst_kbps"):
                    bandwidth["burst"] = r["max_burst_kbps"]
            elif r["type"] == "dscp_marking" and direction == "egress":
                action["dscp"] = r["dscp_mark"]
        if bandwidth or action:
            match = f'{side} == "{port_id}"'
            if address and resident:
                match += f' && ip4.{ip_side} == {address} && is_chassis_resident("{resident}")'
            rows.append(QoS(switch, ovn_direction, FIP_PRIORITY if address else DEFAULT_PRIORITY,
                            match, action, bandwidth, {owner_key: owner_id or port_id}))
    return rows


def desired_qos(ports: Iterable[Any], switches: Mapping[str, str],
                policies: Mapping[str, str], rules: Mapping[str, list[dict[str, Any]]],
                physical: Iterable[str] = ()) -> tuple[dict[str, QoS], dict[str, dict[str, str]]]:
    """(QoS rows by key, ``{port id: LSP QoS options}``) for port rows (``id``,
    ``device_owner``); ``switches`` maps a port id to its desired LSP's switch (ports
    without one get nothing), ``policies`` a port id to its effective policy, ``rules`` a
    policy id to its rule dicts, ``physical`` names the switches with a localnet port
    (where minimum bandwidth is realised: :func:`lsp_qos_options`)."""
    physical = set(physical)
    result, options = {}, {}
    for p in ports:
        policy = policies.get(p.id)
        if (not policy or p.id not in switches
                or (p.device_owner or "").startswith(DEVICE_OWNER_NETWORK_PREFIX)):
            continue
        lsp_options = lsp_qos_options(rules.get(policy, ())) \
            if switches[p.id] in physical else {}
        if lsp_options:
            options[p.id] = lsp_options
        for row in desired_port_qos(switches[p.id], p.id, rules.get(policy, ()),
                                    options_hold_egress=bool(lsp_options)):
            result[row.key] = row
    return result, options


def load_port_qos(session: Any, ports: Iterable[Any], desired_ports: Mapping[str, Any]
                  ) -> tuple[dict[str, QoS], dict[str, dict[str, str]]]:
    """Desired QoS rows of ``ports`` (rows) and their LSPs' QoS options, given the
    desired LSPs by name: their effective policies and those policies' rules, three to
    six queries (see :func:`desired_qos`)."""
    from neutrino.services import qos_bindings, qos_rules
    ports = list(ports)
    policies = qos_bindings.effective(session, ports) if ports else {}
    rules = qos_rules.rules_of(session, set(policies.values()))
    switches = {p.id: desired_ports[p.id].switch for p in ports if p.id in desired_ports}
    physical = {lsp.switch for lsp in desired_ports.values() if lsp.type == "localnet"}
    return desired_qos(ports, switches, policies, rules, physical)


def load_l3_qos(session: Any, routers: Iterable[Any], router_ports: Iterable[Any],
                floating_ips: Iterable[Any], desired_ports: Mapping[str, Any], *,
                distributed: bool = False) -> dict[str, QoS]:
    """Desired QoS rows of router gateways (their own policies) and floating IPs (their
    own policy, else their external network's: ML2/OVN's ``update_floatingip``,
    extension ``qos-fip-network-policy``); ``router_ports`` are the routers' port rows
    (gateways included), ``distributed`` the ``enable_distributed_floating_ip`` setting."""
    from neutrino.services import qos_bindings, qos_rules
    routers, fips = list(routers), list(floating_ips)
    gw_nets = {p.id: p.network_id for p in router_ports}
    gateways = {r.id: r.gw_port_id for r in routers if r.gw_port_id in gw_nets}
    if not gateways:
        return {}
    by_router = qos_bindings.policies_of(session, "router", list(gateways))
    by_fip = qos_bindings.effective_fips(session, [f for f in fips if f.router_id in gateways])
    rules = qos_rules.rules_of(session, set(by_router.values()) | set(by_fip.values()))

    def switch(gw: str) -> str:
        lsp = desired_ports.get(gw)
        return lsp.switch if lsp is not None else switch_name(gw_nets[gw])
    result = {}
    for router_id, policy in by_router.items():
        gw = gateways[router_id]
        for row in desired_port_qos(switch(gw), gw, rules.get(policy, ()),
                                    owner_key=EXT_ROUTER_ID, owner_id=router_id):
            result[row.key] = row
    for fip in fips:
        gw, policy = gateways.get(fip.router_id), by_fip.get(fip.id)
        if gw is None or policy is None or not fip.fixed_port_id:
            continue
        resident = fip.fixed_port_id if distributed else f"cr-lrp-{gw}"
        for row in desired_port_qos(switch(gw), gw, rules.get(policy, ()), owner_key=EXT_FIP_ID,
                                    owner_id=fip.id, address=fip.floating_ip_address,
                                    resident=resident):
            result[row.key] = row
    return result

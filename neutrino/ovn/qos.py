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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


def owner_port(external_ids: Mapping[str, str]) -> str | None:
    return external_ids.get(EXT_PORT_ID)


def desired_port_qos(switch: str, port_id: str, rules: Iterable[Mapping[str, Any]]) -> list[QoS]:
    """The QoS rows of one port on ``switch`` for its effective policy's ``rules``
    (rule dicts with ``type`` and parameters, ``services.qos_rules.rules_of``)."""
    rows = []
    rules = list(rules)
    for direction, ovn_direction, side in (("egress", "from-lport", "inport"),
                                           ("ingress", "to-lport", "outport")):
        bandwidth: dict[str, int] = {}
        action: dict[str, int] = {}
        for r in rules:
            if r["type"] == "bandwidth_limit" and r["direction"] == direction:
                bandwidth["rate"] = r["max_kbps"]
                if r.get("max_burst_kbps"):
                    bandwidth["burst"] = r["max_burst_kbps"]
            elif r["type"] == "dscp_marking" and direction == "egress":
                action["dscp"] = r["dscp_mark"]
        if bandwidth or action:
            rows.append(QoS(switch, ovn_direction, DEFAULT_PRIORITY, f'{side} == "{port_id}"',
                            action, bandwidth, {EXT_PORT_ID: port_id}))
    return rows


def desired_qos(ports: Iterable[Any], switches: Mapping[str, str],
                policies: Mapping[str, str], rules: Mapping[str, list[dict[str, Any]]]
                ) -> dict[str, QoS]:
    """QoS rows by key for port rows (``id``, ``device_owner``); ``switches`` maps a
    port id to its desired LSP's switch (ports without one get nothing), ``policies`` a
    port id to its effective policy, ``rules`` a policy id to its rule dicts."""
    result = {}
    for p in ports:
        policy = policies.get(p.id)
        if not policy or p.id not in switches or (p.device_owner or "").startswith("network:"):
            continue
        for row in desired_port_qos(switches[p.id], p.id, rules.get(policy, ())):
            result[row.key] = row
    return result


def load_port_qos(session: Any, ports: Iterable[Any], desired_ports: Mapping[str, Any]
                  ) -> dict[str, QoS]:
    """Desired QoS rows of ``ports`` (rows) given the desired LSPs by name: their
    effective policies and those policies' rules, three to six queries."""
    from neutrino.services import qos_bindings, qos_rules
    ports = list(ports)
    policies = qos_bindings.effective(session, ports) if ports else {}
    rules = qos_rules.rules_of(session, set(policies.values()))
    switches = {p.id: desired_ports[p.id].switch for p in ports if p.id in desired_ports}
    return desired_qos(ports, switches, policies, rules)

"""Which QoS policy a port, network, floating IP or router gateway has
(``qos_policy_id``; on ports also ``qos_network_policy_id``, read only, the policy of
the port's network, as Neutron's ``qos-port-network-policy`` shows it; on floating IPs
the policy of their external network, ``qos-fip-network-policy``).

A port without a policy of its own follows its network's (``effective``), and so does a
floating IP (its ``floating_network_id``'s, ``effective_fips``; ML2/OVN's
``update_floatingip``: ``qos_policy_id or qos_network_policy_id``). Setting a
policy checks the caller may use it (QosPolicyNotFound, 404) and that OVN supports its
rules (QosRuleNotSupported / QosRuleNotSupportedByNetwork, 409); a new network without
one gets its project's default policy (extension ``qos-default``). Every change
enqueues the resources whose OVN ``QoS`` rows follow (``ovn.qos``): ports, and routers
for floating IPs and gateways. Sources: ``neutron/core_extensions/qos.py``,
``neutron/objects/qos/binding.py``, ``neutron/services/qos/qos_plugin.py``.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import FloatingIP, Network, Port, Router
from neutrino.db.models import (QosFIPPolicyBinding, QosNetworkPolicyBinding,
                                    QosPortPolicyBinding, QosRouterGatewayIPPolicyBinding)
from neutrino.services import common
from neutrino.services.context import Context

# resource -> (binding model, its resource column)
BINDINGS = {"port": (QosPortPolicyBinding, "port_id"),
            "network": (QosNetworkPolicyBinding, "network_id"),
            "floatingip": (QosFIPPolicyBinding, "fip_id"),
            "router": (QosRouterGatewayIPPolicyBinding, "router_id")}


def policies_of(session: Session, kind: str, ids: Any) -> dict[str, str]:
    """``{resource id: policy id}`` for resources of ``kind`` (``BINDINGS``)."""
    model, column = BINDINGS[kind]
    col = getattr(model, column)
    return dict(session.execute(select(col, model.policy_id).where(col.in_(ids))).all())


def set_policy(session: Session, ctx: Context | None, kind: str, resource: Any,
               policy_id: str | None) -> bool:
    """Bind ``resource`` (a row with ``id``) to ``policy_id`` (None unbinds); True when
    that changed. Checks the policy as the module says (``ctx`` None: no visibility
    check, the caller acts for the system)."""
    from neutrino.services import qos, qos_rules
    model, column = BINDINGS[kind]
    current = session.get(model, resource.id)
    if policy_id is not None:
        if ctx is not None:
            qos.find_visible(session, ctx, policy_id)
        elif session.get(qos.QosPolicy, policy_id) is None:
            raise errors.QosPolicyNotFound(policy_id)
        bad = qos_rules.unsupported(session, policy_id)
        if bad and kind == "port":
            raise errors.QosRuleNotSupported(bad, resource.id)
        if bad and kind == "network":
            raise errors.QosRuleNotSupportedByNetwork(bad, resource.id)
    if (current.policy_id if current is not None else None) == policy_id:
        return False
    if current is not None:
        session.delete(current)
        session.flush()
    if policy_id is not None:
        session.add(model(**{column: resource.id, "policy_id": policy_id}))
    session.flush()
    _enqueue(session, kind, [resource.id])
    return True


def effective(session: Session, ports: Iterable[Any]) -> dict[str, str]:
    """``{port id: policy id}``: each port's own policy, else its network's."""
    return _own_else_network(session, "port", list(ports), lambda p: p.network_id)


def effective_fips(session: Session, fips: Iterable[Any]) -> dict[str, str]:
    """``{floating IP id: policy id}``: each floating IP's own policy, else its external
    network's (``floating_network_id``)."""
    return _own_else_network(session, "floatingip", list(fips),
                             lambda f: f.floating_network_id)


def _own_else_network(session: Session, kind: str, rows: list[Any],
                      network_of: Any) -> dict[str, str]:
    own = policies_of(session, kind, [r.id for r in rows])
    nets = policies_of(session, "network", list({network_of(r) for r in rows}))
    result = {}
    for r in rows:
        policy = own.get(r.id) or nets.get(network_of(r))
        if policy:
            result[r.id] = policy
    return result


def with_network(session: Session, kind: str, ids: Any,
                 network_ids: Any) -> tuple[dict[str, str], dict[str, str]]:
    """``({resource id: own policy id}, {network id: policy id})`` for ports or floating
    IPs of ``kind`` and their networks, in one query; ``ids`` and ``network_ids`` are
    collections or SELECTs of ids."""
    model, column = BINDINGS[kind]
    own_col = getattr(model, column)
    own = select(literal(kind), own_col, model.policy_id).where(own_col.in_(ids))
    of_nets = select(literal("network"), QosNetworkPolicyBinding.network_id,
                     QosNetworkPolicyBinding.policy_id).where(
        QosNetworkPolicyBinding.network_id.in_(network_ids))
    bound: dict[str, dict[str, str]] = {kind: {}, "network": {}}
    for bound_kind, resource_id, policy_id in session.execute(union_all(own, of_nets)):
        bound[bound_kind][resource_id] = policy_id
    return bound[kind], bound["network"]


def bound_projects(session: Session, policy_id: str) -> set[str]:
    """Projects owning a resource bound to the policy (RBAC in-use check)."""
    projects: set[str] = set()
    for kind, table in (("port", Port), ("network", Network), ("floatingip", FloatingIP),
                        ("router", Router)):
        model, column = BINDINGS[kind]
        projects |= set(session.scalars(select(table.project_id).join(
            model, getattr(model, column) == table.id).where(model.policy_id == policy_id)))
    return projects


def validate_users(session: Session, policy_id: str) -> None:
    """A policy in use keeps to what OVN supports: QosRuleNotSupported (409, a bound
    port, or a port following a bound network) / QosRuleNotSupportedByNetwork."""
    from neutrino.services import qos_rules
    bad = qos_rules.unsupported(session, policy_id)
    if bad is None:
        return
    port = session.scalar(select(QosPortPolicyBinding.port_id).where(
        QosPortPolicyBinding.policy_id == policy_id).limit(1))
    if port is not None:
        raise errors.QosRuleNotSupported(bad, port)
    network = session.scalar(select(QosNetworkPolicyBinding.network_id).where(
        QosNetworkPolicyBinding.policy_id == policy_id).limit(1))
    if network is not None:
        raise errors.QosRuleNotSupportedByNetwork(bad, network)


def enqueue_users(session: Session, policy_id: str) -> None:
    """Enqueue everything whose OVN QoS rows follow the policy (ML2/OVN ``update_policy``)."""
    for kind in BINDINGS:
        model, column = BINDINGS[kind]
        ids = list(session.scalars(select(getattr(model, column)).where(
            model.policy_id == policy_id)))
        _enqueue(session, kind, ids)


def _enqueue(session: Session, kind: str, ids: list[str]) -> None:
    """Outbox entries for the QoS rows of ``ids``: a port is itself; a network its
    ports and the routers of its floating IPs; a floating IP or router gateway its
    router."""
    if not ids:
        return
    if kind == "network":
        for rid in set(session.scalars(select(FloatingIP.router_id).where(
                FloatingIP.floating_network_id.in_(ids), FloatingIP.router_id.is_not(None)))):
            common.enqueue_ovn(session, "router", rid)
        ids = list(session.scalars(select(Port.id).where(Port.network_id.in_(ids))))
        kind = "port"
    elif kind == "floatingip":
        ids = [r for r in session.scalars(select(FloatingIP.router_id).where(
            FloatingIP.id.in_(ids))) if r]
        kind = "router"
    for rid in ids:
        common.enqueue_ovn(session, kind, rid)

"""Several external gateways per router (extension ``external-gateway-multihoming``):
``PUT /v2.0/routers/{id}/add_external_gateways``, ``update_external_gateways`` and
``remove_external_gateways``, each with ``{"router": {"external_gateways": [gateway]}}``,
a gateway ``{"network_id", "external_fixed_ips"?, "enable_snat"?, "qos_policy_id"?}``
(neutron-lib ``l3_ext_gw_multihoming``). One transaction per call: on any error nothing
changed. Each returns the router's API dict.

Behaviour as Neutron's ``ExtraGatewaysDbOnlyMixin`` (``neutron/db/l3_extra_gws_db.py``):

* add: on a router without a gateway the first entry becomes its first gateway, as
  ``external_gateway_info`` would (``enable_snat``, ``qos_policy_id`` apply); every
  other entry is an extra gateway port. Entries are validated as
  ``_validate_gw_info`` (unknown network 404, not external 400, an address equal to a
  subnet's gateway_ip 400) and may not overlap the router's other subnets, except
  gateways' on the same network (400).
* remove: entries match gateway ports by network and, given ``external_fixed_ips``,
  by a shared address (``_match_requested_gateway_ports``); none given and two ports
  on that network: ``UnableToMatchGateways``; an entry matching nothing:
  ``UnableToMatchGateways``; a router without gateways: ``UnableToRemoveGateways``.
  A removed port's network must not be needed by the router's floating IPs unless
  another gateway stays on it (409 ``RouterExternalGatewayInUseByFloatingIp``).
  Removing the first gateway promotes the next.
* update: ``[]`` removes every gateway; otherwise the first entry becomes the first
  gateway (an existing port it matches is promoted, then changed as
  ``external_gateway_info`` changes it), the other entries are matched to the other
  ports (given addresses replace a matched port's), unmatched ports are removed and
  unmatched entries added.

Neutron raises ``UnableToMatchGateways``/``UnableToRemoveGateways`` without an HTTP
mapping, so Neutron answers 500; neutrino answers 409 with Neutron's type and
message (the request does not fit the router's gateways), as ``SubnetAllocationError``.
``qos_policy_id`` only applies to the first gateway (Neutron binds the router's
gateway policy there; it ignores it on extra ones). Policy: the action rule (admin
or owner; another project's router is 404) and, for add and update, admins only
choose ``enable_snat`` or ``external_fixed_ips`` (Neutron's
``<action>:external_gateways:<key>`` rules).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import policy
from neutrino.db.models import IPAllocation, Network, Port, Router
from neutrino.errors import Conflict
from neutrino.services import (common, gateway_ports, listing, port_addresses, qos_bindings,
                               routers)
from neutrino.services.context import Context
from neutrino.services.env import Env


class UnableToRemoveGateways(Conflict):
    """neutron-lib ``exceptions/l3_ext_gw_multihoming.py`` (Neutron: 500)."""

    def __init__(self, router_id: str) -> None:
        super().__init__(f"Unable to remove extra gateways from a router {router_id}")


class UnableToMatchGateways(Conflict):
    """neutron-lib ``exceptions/l3_ext_gw_multihoming.py`` (Neutron: 500)."""

    def __init__(self, router_id: str) -> None:
        super().__init__("Unable to match a requested gateway port to existing gateway "
                         f"ports for router {router_id}")


def add_external_gateways(env: Env, ctx: Context, router_id: str,
                          gateways: list[dict[str, Any]] | None) -> listing.Written:
    """Add gateways (module docstring); ``gateways`` None (not in the body) or []:
    the router unchanged. Raises RouterNotFound, NetworkNotFound (404), BadRequest,
    PolicyNotAuthorized (403), the IPAM errors of a port create (409)."""
    _check_policy(ctx, "add_external_gateways", gateways)

    def run(session: Session) -> listing.Written:
        router = routers.find_visible(session, ctx, router_id)
        if gateways:
            rest = gateways
            if router.gw_port_id is None:
                _set_first(session, env, ctx, router, gateways[0])
                rest = gateways[1:]
            for info in rest:
                _add_extra(session, env, router, info)
            _changed(session, router)
        return _shown(session, ctx, router)
    return env.db.run(run)


def remove_external_gateways(env: Env, ctx: Context, router_id: str,
                             gateways: list[dict[str, Any]] | None) -> listing.Written:
    """Remove the gateways the entries match (module docstring); None or []: the
    router unchanged. Raises RouterNotFound, NetworkNotFound (404), BadRequest (400),
    UnableToRemoveGateways, UnableToMatchGateways, RouterExternalGatewayInUseByFloatingIp (409)."""
    _check_policy(ctx, "remove_external_gateways", None)

    def run(session: Session) -> listing.Written:
        router = routers.find_visible(session, ctx, router_id)
        if gateways:
            ports = gateway_ports.ports_of(session, router)
            if not ports:
                raise UnableToRemoveGateways(router.id)
            for info in gateways:
                gateway_ports.check_network(session, router, info)
            _, matched, missing = _match(session, router, ports, gateways, fatal=True)
            if missing:
                raise UnableToMatchGateways(router.id)
            _remove(session, router, [p for p in ports if p.id in matched])
            _changed(session, router)
        return _shown(session, ctx, router)
    return env.db.run(run)


def update_external_gateways(env: Env, ctx: Context, router_id: str,
                             gateways: list[dict[str, Any]] | None) -> listing.Written:
    """Make the router's gateways the entries (module docstring); [] removes them all,
    None leaves the router unchanged. Raises the errors of add and remove."""
    _check_policy(ctx, "update_external_gateways", gateways)

    def run(session: Session) -> listing.Written:
        router = routers.find_visible(session, ctx, router_id)
        if gateways is None:
            return _shown(session, ctx, router)
        if not gateways:
            _remove(session, router, gateway_ports.ports_of(session, router))
            _changed(session, router)
            return _shown(session, ctx, router)
        for info in gateways:
            gateway_ports.check_network(session, router, info)
        first, rest = gateways[0], gateways[1:]
        ports = gateway_ports.ports_of(session, router)
        _, partial, _ = _match(session, router, ports, [first], fatal=False)
        if partial:
            router.gw_port_id = next(iter(partial))
            session.flush()
        _set_first(session, env, ctx, router, first)
        ports = [p for p in gateway_ports.ports_of(session, router) if p.id != router.gw_port_id]
        _, partial, missing = _match(session, router, ports, rest, fatal=False)
        for port_id, info in partial.items():
            if info.get("external_fixed_ips"):
                port = session.get(Port, port_id)
                net = session.get(Network, port.network_id)
                if port_addresses.replace_fixed_ips(session, net, port, info["external_fixed_ips"]):
                    common.touch(port)
                    common.enqueue_ovn(session, "port", port.id)
        _remove(session, router, [p for p in ports if p.id not in partial])
        for info in missing:
            _add_extra(session, env, router, info)
        _changed(session, router)
        return _shown(session, ctx, router)
    return env.db.run(run)


# --- internals ---------------------------------------------------------------

def _check_policy(ctx: Context, action: str, gateways: list[dict[str, Any]] | None) -> None:
    """Admins only choose ``enable_snat``/``external_fixed_ips`` of a gateway (403)."""
    for info in gateways or ():
        for key in ("enable_snat", "external_fixed_ips"):
            if key in info:
                policy.require(ctx, f"{action}:external_gateways:{key}")


def _set_first(session: Session, env: Env, ctx: Context, router: Router,
               info: dict[str, Any]) -> None:
    """Make the first gateway match ``info`` as ``external_gateway_info`` does."""
    info = dict(info)
    has_qos, qos_policy = "qos_policy_id" in info, info.pop("qos_policy_id", None)
    routers._set_gateway(session, env, router, info)
    if has_qos:
        qos_bindings.set_policy(session, ctx, "router", router, qos_policy)


def _add_extra(session: Session, env: Env, router: Router, info: dict[str, Any]) -> None:
    net = gateway_ports.check_network(session, router, info)
    gateway_ports.check_overlap(session, router, net)
    gateway_ports.create(session, env, router, net, info.get("external_fixed_ips"))


def _remove(session: Session, router: Router, ports: list[Port]) -> None:
    """Delete gateway ports, the extra ones first (Neutron's order), each checked
    against the router's floating IPs."""
    for port in sorted(ports, key=lambda p: p.id == router.gw_port_id):
        gateway_ports.check_unused(session, router, port)
        gateway_ports.delete(session, router, port)
    if router.gw_port_id is None:  # no gateway left: no gateway policy (qos-gateway-ip)
        qos_bindings.set_policy(session, None, "router", router, None)


def _match(session: Session, router: Router, ports: list[Port], gateways: list[dict[str, Any]],
           *, fatal: bool) -> tuple[dict[str, dict], dict[str, dict], list[dict]]:
    """Neutron's ``_match_requested_gateway_ports``: (full matches, partial matches,
    unmatched entries). An entry without ``external_fixed_ips`` matches the one port on
    its network (two or more: UnableToMatchGateways); with them, the first port sharing
    an address (the same set: also a full match); none: UnableToMatchGateways when
    ``fatal``, else unmatched."""
    ips: dict[str, set] = {p.id: set() for p in ports}
    for port_id, ip in session.execute(select(IPAllocation.port_id, IPAllocation.ip_address)
                                       .where(IPAllocation.port_id.in_(list(ips)))):
        ips[port_id].add(ipaddress.ip_address(ip))
    full: dict[str, dict] = {}
    partial: dict[str, dict] = {}
    missing: list[dict] = []
    for info in gateways:
        on_net = [p for p in ports if p.network_id == info["network_id"]]
        if not on_net:
            missing.append(info)
            continue
        wanted = {ipaddress.ip_address(f["ip_address"])
                  for f in info.get("external_fixed_ips") or () if f.get("ip_address")}
        if not info.get("external_fixed_ips"):
            if len(on_net) > 1:
                raise UnableToMatchGateways(router.id)
            partial[on_net[0].id] = info
            continue
        port = next((p for p in on_net if ips[p.id] & wanted), None)
        if port is not None:
            partial[port.id] = info
            if ips[port.id] == wanted:
                full[port.id] = info
        elif fatal:
            raise UnableToMatchGateways(router.id)
        else:
            missing.append(info)
    return full, partial, missing


def _changed(session: Session, router: Router) -> None:
    common.touch(router)
    common.enqueue_ovn(session, "router", router.id)
    session.flush()


def _shown(session: Session, ctx: Context, router: Router) -> listing.Written:
    """The router an action changed, for the API to render (``api/wire/routers.py``)."""
    return listing.Written([router])

"""Floating IP port forwardings (extensions ``floating-ip-port-forwarding``,
``-description``, ``-port-ranges``, ``-detail``, ``expose-port-forwarding-in-fip``):
``/v2.0/floatingips/{floatingip_id}/port_forwardings``. One transaction per public call.

A forwarding sends ``protocol`` (tcp/udp) traffic to the floating IP's external
port (or range) to ``internal_ip_address`` at the internal port (or range) of
``internal_port_id``. A floating IP with forwardings is never associated with a
port (and the other way round); its ``router_id`` is the router joining the
internal address's subnet to the floating IP's network (set by its first
forwarding, cleared with its last), and every change enqueues that router: the
NB sync writes its ``Load_Balancer`` rows (``ovn.port_forwarding``). A change
bumps the floating IP's revision (Neutron's ``revises_on_change``).

Rules and errors are Neutron's ``services/portforwarding/pf_plugin.py``:
FloatingIPNotFound / PortForwardingNotFound / PortNotFound (404),
FloatingIPPortAlreadyAssociated and PortHasBindingFloatingIP (409), BadRequest
(400) for an address not on the port, a port without IPv4, an unreachable
external network, another router than the floating IP's, ranges that are
neither N:N nor N:1, and colliding external (per floating IP and protocol) or
internal (per port, address and protocol) ranges.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import FloatingIP, IPAllocation, PortForwarding
from neutrino.services import common, floatingips, listing, ports
from neutrino.services.context import Context
from neutrino.services.env import Env

SPEC = listing.ResourceSpec(
    id_column=PortForwarding.id,
    filters={
        "id": listing.eq(PortForwarding.id),
        "protocol": listing.eq(PortForwarding.protocol),
        "internal_port_id": listing.eq(PortForwarding.internal_neutron_port_id),
        "external_port": listing.eq(PortForwarding.external_port_start, listing.to_int),
        "description": listing.eq(PortForwarding.description),
    },
    sort_keys={"id": PortForwarding.id, "protocol": PortForwarding.protocol,
               "internal_port_id": PortForwarding.internal_neutron_port_id,
               "external_port": PortForwarding.external_port_start,
               "external_port_range": PortForwarding.external_port_start},
    not_found=lambda pf_id: PortForwardingNotFound(pf_id),
)


class PortForwardingNotFound(errors.NotFound):
    def __init__(self, pf_id: str) -> None:
        super().__init__(f"Port Forwarding {pf_id} could not be found.")


class PortHasBindingFloatingIP(errors.Conflict):
    def __init__(self, fip: Any, port_id: str, fixed_ip: str) -> None:
        super().__init__(f"Cannot create port forwarding to floating IP {fip.floating_ip_address} "
                         f"({fip.id}) with port {port_id} using fixed IP {fixed_ip}, as that "
                         "port already has a binding floating IP.")


class FipInUseByPortForwarding(errors.Conflict):
    def __init__(self, fip_id: str) -> None:
        super().__init__(f"Floating IP {fip_id} in use by Port Forwarding resources.")


def create_port_forwarding(env: Env, ctx: Context, fip_id: str, data: dict[str, Any]
                           ) -> listing.Written:
    """Create one forwarding on floating IP ``fip_id``: the forwarding it wrote. ``data``
    is a validated ``PortForwardingCreate`` dict (``external_port``/``internal_port`` or
    ``external_port_range``/``internal_port_range``). Errors: see the module."""
    def run(session: Session) -> listing.Written:
        fip = floatingips.find_visible(session, ctx, fip_id)
        ext, internal = _ranges(data, None)
        row = PortForwarding(id=common.new_id(), floatingip_id=fip.id,
                             protocol=data["protocol"], description=data.get("description", ""),
                             internal_neutron_port_id=data["internal_port_id"],
                             internal_ip_address=data.get("internal_ip_address") or "",
                             external_port_start=ext[0], external_port_end=ext[1],
                             internal_port_start=internal[0], internal_port_end=internal[1])
        if fip.fixed_port_id:
            raise errors.FloatingIPPortAlreadyAssociated(
                fip.floating_ip_address, fip.id, row.internal_neutron_port_id,
                row.internal_ip_address, fip.floating_network_id)
        _place(session, ctx, fip, row)
        _check_collisions(session, row)
        session.add(row)
        session.flush()
        _changed(session, fip)
        session.flush()
        return listing.Written([row])
    return env.db.run(run)


def update_port_forwarding(env: Env, ctx: Context, fip_id: str, pf_id: str,
                           data: dict[str, Any]) -> listing.Written:
    """Change any attribute but the floating IP: the forwarding it wrote. A new internal
    port or address is checked as on create, and so are new ranges."""
    def run(session: Session) -> listing.Written:
        fip = floatingips.find_visible(session, ctx, fip_id)
        row = find_visible(session, ctx, fip_id, pf_id)
        if data.get("internal_port_id") not in (None, row.internal_neutron_port_id):
            row.internal_neutron_port_id = data["internal_port_id"]
            if not data.get("internal_ip_address"):
                row.internal_ip_address = ""
        if data.get("internal_ip_address"):
            row.internal_ip_address = data["internal_ip_address"]
        if data.get("protocol"):
            row.protocol = data["protocol"]
        if "description" in data:
            row.description = data["description"]
        if any(data.get(k) is not None for k in ("external_port", "internal_port",
                                                 "external_port_range", "internal_port_range")):
            (row.external_port_start, row.external_port_end), \
                (row.internal_port_start, row.internal_port_end) = _ranges(data, row)
        with session.no_autoflush:
            _place(session, ctx, fip, row)
            _check_collisions(session, row)
        session.flush()
        _changed(session, fip)
        session.flush()
        return listing.Written([row])
    return env.db.run(run)


def delete_port_forwarding(env: Env, ctx: Context, fip_id: str, pf_id: str) -> None:
    """Delete one forwarding; the floating IP's last one frees its router."""
    def run(session: Session) -> None:
        fip = floatingips.find_visible(session, ctx, fip_id)
        session.delete(find_visible(session, ctx, fip_id, pf_id))
        session.flush()
        _changed(session, fip)
    env.db.run(run)


def remove_for_port(session: Session, port_id: str, keep_ips: Iterable[str] | None = None
                    ) -> None:
    """Delete the forwardings to ``port_id`` (those to addresses not in
    ``keep_ips`` when given: its fixed IPs changed), as Neutron's
    ``_process_port_request`` does when a port is deleted or loses an address."""
    keep = set(keep_ips or ())
    rows = session.scalars(select(PortForwarding).where(
        PortForwarding.internal_neutron_port_id == port_id)).all()
    for row in rows:
        if keep_ips is None or row.internal_ip_address not in keep:
            fip = session.get(FloatingIP, row.floatingip_id)
            session.delete(row)
            session.flush()
            _changed(session, fip)


def check_floatingip_free(session: Session, fip_id: str) -> None:
    """FipInUseByPortForwarding (409) when the floating IP has forwardings:
    it can then neither be associated with a port nor deleted (Neutron's
    ``_check_floatingip_request``)."""
    if session.scalar(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip_id)
                      .limit(1)) is not None:
        raise FipInUseByPortForwarding(fip_id)


def of_floatingips(session: Session, fip_ids: list[str]) -> dict[str, list[Any]]:
    """``{floating IP id: [forwarding row]}`` by id, one query (a floating IP's
    ``port_forwardings``: ``api/wire/port_forwardings.py`` renders them)."""
    result: dict[str, list[Any]] = {i: [] for i in fip_ids}
    if not fip_ids:
        return result
    for row in session.execute(select(PortForwarding.__table__).where(
            PortForwarding.floatingip_id.in_(fip_ids)).order_by(PortForwarding.id)):
        result[row.floatingip_id].append(row)
    return result


def find_visible(session: Session, ctx: Context, fip_id: str, pf_id: str) -> PortForwarding:
    """Forwarding ``pf_id`` of floating IP ``fip_id`` visible to the caller. Raises
    FloatingIPNotFound, PortForwardingNotFound (404)."""
    floatingips.find_visible(session, ctx, fip_id)
    row = session.get(PortForwarding, pf_id)
    if row is None or row.floatingip_id != fip_id:
        raise PortForwardingNotFound(pf_id)
    return row


# --- internals ---------------------------------------------------------------

def _bad(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"Bad port_forwarding request: {message}.")


def _parse_range(value: Any) -> tuple[int, int]:
    text = str(value)
    start, _, end = text.partition(":")
    try:
        low, high = int(start), int(end or start)
    except ValueError:
        raise _bad(f"Invalid port range {text}") from None
    if not (1 <= low <= high <= 65535):
        raise _bad("Invalid port value, the port value must be a value between 1 and 65535")
    return low, high


def _ranges(data: dict[str, Any], row: Any | None) -> tuple[tuple[int, int], tuple[int, int]]:
    """(external, internal) ranges from single ports or ranges (a row's when not given)."""
    for single, rng in (("external_port", "external_port_range"),
                        ("internal_port", "internal_port_range")):
        if data.get(single) is not None and data.get(rng) is not None:
            raise _bad(f"{single} and {rng} cannot be given together")
    ext = (_parse_range(data["external_port_range"]) if data.get("external_port_range") is not None
           else (data["external_port"],) * 2 if data.get("external_port") is not None
           else (row.external_port_start, row.external_port_end) if row is not None else None)
    internal = (_parse_range(data["internal_port_range"])
                if data.get("internal_port_range") is not None
                else (data["internal_port"],) * 2 if data.get("internal_port") is not None
                else (row.internal_port_start, row.internal_port_end) if row is not None
                else None)
    if ext is None or internal is None:
        raise _bad("an external port (or range) and an internal port (or range) are required")
    if internal[1] > internal[0] and internal[1] - internal[0] != ext[1] - ext[0]:
        raise _bad("Invalid ranges of internal and/or external ports. The relation between "
                   "internal and external ports must be N-N or 1-N")
    return ext, internal


def _place(session: Session, ctx: Context, fip: FloatingIP, row: PortForwarding) -> None:
    """Check the internal port and address and find the router (Neutron
    ``_find_a_router_for_fip_port_forwarding``, ``_check_router_match``)."""
    port = ports.find_visible(session, ctx, row.internal_neutron_port_id)
    bound = session.scalar(select(FloatingIP).where(FloatingIP.fixed_port_id == port.id).limit(1))
    v4 = [(s, ip) for s, ip in session.execute(
        select(IPAllocation.subnet_id, IPAllocation.ip_address)
        .where(IPAllocation.port_id == port.id).order_by(IPAllocation.ip_key)).all()
        if ipaddress.ip_address(ip).version == 4]
    if not v4:
        raise _bad(f"Requested internal port {port.id} must allocate an IPv4 address at least")
    if not row.internal_ip_address:
        row.internal_ip_address = v4[0][1]
    if bound is not None:
        raise PortHasBindingFloatingIP(bound, port.id, row.internal_ip_address)
    subnet_id = next((s for s, ip in v4 if ip == str(ipaddress.ip_address(
        row.internal_ip_address))), None)
    if subnet_id is None:
        raise _bad(f"Requested internal IP address {row.internal_ip_address} is not suitable "
                   f"for internal neutron port {port.id}, as its fixed_ips are "
                   f"{[ip for _, ip in v4]}")
    router_id = floatingips.router_for(session, fip.floating_network_id, subnet_id)
    if router_id is None:
        raise _bad(f"External network {fip.floating_network_id} is not reachable from subnet "
                   f"{subnet_id}. Cannot set Port forwarding for port {port.id} with Floating "
                   f"IP {fip.id}")
    others = session.scalar(select(PortForwarding.id).where(
        PortForwarding.floatingip_id == fip.id, PortForwarding.id != row.id).limit(1))
    if fip.router_id and fip.router_id != router_id and others is not None:
        raise _bad(f"The Floating IP {fip.id} had been set on router {fip.router_id}, the "
                   f"internal Neutron port {port.id} can not reach it")
    if fip.router_id and fip.router_id != router_id:
        common.enqueue_ovn(session, "router", fip.router_id)
    fip.router_id = router_id


def _check_collisions(session: Session, row: PortForwarding) -> None:
    """Overlapping external ranges on one floating IP and protocol, or internal
    ranges on one port, address and protocol (Neutron ``_check_port_collisions``)."""
    same_fip = select(PortForwarding).where(
        PortForwarding.floatingip_id == row.floatingip_id, PortForwarding.protocol == row.protocol,
        PortForwarding.id != row.id)
    same_port = select(PortForwarding).where(
        PortForwarding.internal_neutron_port_id == row.internal_neutron_port_id,
        PortForwarding.internal_ip_address == row.internal_ip_address,
        PortForwarding.protocol == row.protocol, PortForwarding.id != row.id)
    checks = (("external_port_range", same_fip, "external_port_start", "external_port_end"),
              ("internal_port_range", same_port, "internal_port_start", "internal_port_end"))
    for key, stmt, lo, hi in checks:
        mine = (getattr(row, lo), getattr(row, hi))
        for other in session.scalars(stmt):
            theirs = (getattr(other, lo), getattr(other, hi))
            if max(mine[0], theirs[0]) <= min(mine[1], theirs[1]):
                raise _bad(f"There is a port collision with the {key}. The following ranges "
                           f"collide: {theirs[0]}:{theirs[1]} and {mine[0]}:{mine[1]}")


def _changed(session: Session, fip: FloatingIP) -> None:
    """Bump the floating IP, enqueue its router for the NB sync; ``status``
    ACTIVE while it forwards, DOWN and no router after its last forwarding."""
    if fip.router_id:
        common.enqueue_ovn(session, "router", fip.router_id)
    if fip.fixed_port_id is None:  # ACTIVE while forwarding, as ML2/OVN's driver sets it
        forwarding = session.scalar(select(PortForwarding.id).where(
            PortForwarding.floatingip_id == fip.id).limit(1)) is not None
        fip.status = "ACTIVE" if forwarding else "DOWN"
        if not forwarding:
            fip.router_id = None
    common.touch(fip)


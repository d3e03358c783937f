"""Port security: a port's ``port_security_enabled``, ``allowed_address_pairs`` and
``security_groups`` (reference B.3, B.6). Neutron's behaviour: the ``port-security``
extension (``neutron/plugins/ml2/extensions/port_security.py``), the
``allowed-address-pairs`` extension (``neutron/db/allowedaddresspairs_db.py``) and the
port side of security groups (``neutron/db/securitygroups_db.py``).

With port security (anti-spoofing) a port may send only from its MAC and fixed IPs
and its allowed address pairs, and its security groups apply (OVN: its
``port_security`` and port groups, ``ovn.desired``). A new port takes
``port_security_enabled`` from the request, else from its network (off for a
``network:*`` owner); asking for no groups, a port with port security joins its
project's ``default`` group (``security_groups.ensure_default``), unless its owner
is ``network:*``. A port without port security has no security groups and no
allowed address pairs; a port without addresses may have both, as in Neutron
(ML2 refuses groups only for a port without port security). Groups and their
rules themselves are ``services.security_groups``'.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import String, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors
from neutrino.db import pg_pipeline
from neutrino.db.models import (DefaultSecurityGroup, Log, Network, SecurityGroup,
                                SecurityGroupPortBinding)
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services import common, security_group_access
from neutrino.services.security_groups import ensure_default

_INSERT_BINDING = insert(SecurityGroupPortBinding)
# A new port's binding to a default group already known: nothing to read back, so it
# waits in a PostgreSQL write's pipeline (db.pg_pipeline).
_INSERT_DEFAULT_BINDING = insert(SecurityGroupPortBinding.__table__).execution_options(
    **{pg_pipeline.DEFERRED: True})
# The port into its project's default group, when that group exists, in one round trip.
_BIND_DEFAULT = insert(SecurityGroupPortBinding.__table__).from_select(
    ["port_id", "security_group_id"],
    select(bindparam("port_id", type_=String), DefaultSecurityGroup.security_group_id)
    .where(DefaultSecurityGroup.project_id == bindparam("project_id"))
).returning(SecurityGroupPortBinding.__table__.c.security_group_id)


def groups_of_ports(session: Session, ids: Any) -> dict[str, list[str]]:
    """``{port_id: [security group ids]}`` for many ports in one query; ``ids``
    is a list of port ids or a SELECT of them."""
    result: dict[str, list[str]] = defaultdict(list)
    if isinstance(ids, list) and not ids:
        return result
    for port_id, sg_id in session.execute(
            select(SecurityGroupPortBinding.port_id, SecurityGroupPortBinding.security_group_id)
            .where(SecurityGroupPortBinding.port_id.in_(ids))
            .order_by(SecurityGroupPortBinding.security_group_id)):
        result[port_id].append(sg_id)
    return result


def new_port_columns(env: Env, net: Network, mac: str, data: dict[str, Any]) -> dict[str, Any]:
    """``port_security_enabled`` and ``allowed_address_pairs`` of a new port:
    port security from the request, else the network's, off for ``network:*``
    owners (Neutron's port_security extension driver). Raises
    AddressPairAndPortSecurityRequired (409) and the address pair errors (400)."""
    enabled = data.get("port_security_enabled")
    if enabled is None:
        enabled = (not data.get("device_owner", "").startswith(c.DEVICE_OWNER_NETWORK_PREFIX)
                   and net.port_security_enabled)
    pairs = _address_pairs(env, data.get("allowed_address_pairs") or [], mac)
    if pairs and not enabled:
        raise errors.AddressPairAndPortSecurityRequired()
    return {"port_security_enabled": enabled, "allowed_address_pairs": pairs}


def bind_new_port(session: Session, ctx: Context | None, port: Any,
                  requested: list[str] | None, *, default_group: str | None = None) -> list[str]:
    """Put a new port (a row with the port columns) in its security groups and
    return their ids: ``requested``, or without a request the port's
    project's ``default`` group (made if missing), or none for a port without
    port security or with a ``network:*`` owner.

    ``ctx`` None is a system caller (no ownership check). ``default_group``: the
    project's default group when the caller has read it already (``services.ports``
    reads it with the network); None: look it up. Raises
    PortSecurityAndIPRequiredForSecurityGroups (400), SecurityGroupNotFound
    (404) for a group that is missing or another project's, SecurityGroupConflict
    (409) when stateful and stateless groups are mixed.
    """
    if requested is None:
        if (not port.port_security_enabled
                or port.device_owner.startswith(c.DEVICE_OWNER_NETWORK_PREFIX)):
            return []
        if default_group is not None:
            session.execute(_INSERT_DEFAULT_BINDING, {"port_id": port.id,
                                                      "security_group_id": default_group})
            return [default_group]
        bound = session.scalars(_BIND_DEFAULT, {"port_id": port.id,
                                                "project_id": port.project_id}).all()
        if bound:
            return list(bound)
        ids = [ensure_default(session, port.project_id)]
    else:
        ids = list(dict.fromkeys(requested))
        if ids and not port.port_security_enabled:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        _check_groups(session, ctx, port.project_id, ids)
    if ids:
        session.execute(_INSERT_BINDING, [{"port_id": port.id, "security_group_id": g}
                                          for g in ids])
    return sorted(ids)


def update_port_security(session: Session, env: Env, ctx: Context, port: Any,
                         data: dict[str, Any]) -> bool:
    """Check and apply a port update's ``security_groups`` (popped from ``data``),
    ``port_security_enabled`` and ``allowed_address_pairs`` (normalised in
    ``data`` for the caller to set). True if the port's groups changed.

    Raises PortSecurityAndIPRequiredForSecurityGroups (400),
    PortSecurityPortHasSecurityGroup, AddressPairAndPortSecurityRequired (409),
    and the errors of :func:`bind_new_port`.
    """
    requested = data.pop("security_groups", None)
    enabled = data.get("port_security_enabled", port.port_security_enabled)
    current = groups_of_ports(session, [port.id]).get(port.id, [])
    groups = list(dict.fromkeys(requested)) if requested is not None else current
    if "allowed_address_pairs" in data:
        data["allowed_address_pairs"] = _address_pairs(
            env, data["allowed_address_pairs"], data.get("mac_address") or port.mac_address)
    pairs = data.get("allowed_address_pairs", port.allowed_address_pairs)
    if not enabled:
        if requested:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        if groups:
            raise errors.PortSecurityPortHasSecurityGroup()
        if pairs:
            raise errors.AddressPairAndPortSecurityRequired()
    if requested is None or set(groups) == set(current):
        return False
    _check_groups(session, ctx, port.project_id, groups)
    if session.scalar(select(Log.id).where(Log.target_id == port.id).limit(1)):
        # a log on this port covers its groups: the ones it leaves stop logging
        # (the ones it joins are in the port's own sync)
        for gid in sorted(set(current) | set(groups)):
            common.enqueue_ovn(session, "security_group", gid)
    session.execute(delete(SecurityGroupPortBinding).where(
        SecurityGroupPortBinding.port_id == port.id))
    if groups:
        session.execute(_INSERT_BINDING, [{"port_id": port.id, "security_group_id": g}
                                          for g in groups])
    return True


def _check_groups(session: Session, ctx: Context | None, project_id: str, ids: list[str]) -> None:
    """Every group exists and belongs to the port's project or is shared with it
    (admins may use any; ``_get_security_groups_on_port``); all stateful or all
    stateless."""
    rows = session.execute(select(SecurityGroup.id, SecurityGroup.project_id,
                                  SecurityGroup.stateful).where(SecurityGroup.id.in_(ids))).all()
    shared = security_group_access.usable_by(session, ids, project_id) if not (
        ctx is None or ctx.is_admin) else set()
    usable = {r.id: r for r in rows if ctx is None or ctx.is_admin or r.id in shared}
    missing = [g for g in ids if g not in usable]
    if missing:
        raise errors.SecurityGroupNotFound(", ".join(missing))
    if len({r.stateful for r in usable.values()}) > 1:
        raise errors.SecurityGroupConflict(
            "Cannot apply both stateful and stateless security groups on the same port at the "
            "same time")


def _address_pairs(env: Env, pairs: list[dict[str, Any]], mac: str) -> list[dict[str, str]]:
    """Allowed address pairs with the port's MAC filled in; no duplicates, at
    most ``max_allowed_address_pair`` (AllowedAddressPairExhausted,
    DuplicateAddressPairInRequest: 400)."""
    limit = env.settings.max_allowed_address_pair
    if len(pairs) > limit:
        raise errors.AllowedAddressPairExhausted(limit)
    result: list[dict[str, str]] = []
    for pair in pairs:
        entry = {"ip_address": pair["ip_address"], "mac_address": pair.get("mac_address") or mac}
        if entry in result:
            raise errors.DuplicateAddressPairInRequest(entry["mac_address"], entry["ip_address"])
        result.append(entry)
    return result

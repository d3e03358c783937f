"""A port's bindings (extension ``binding-extended``): what Nova's live migration
uses, as Neutron's ML2 plugin (``neutron/plugins/ml2/plugin.py``:
``create_port_binding``, ``get_port_bindings``, ``get_port_binding``,
``update_port_binding``, ``activate``, ``delete_port_binding``) with ML2/OVN.

A binding is ``{"host", "vif_type", "vif_details", "vnic_type", "profile",
"status"}``. The ACTIVE one is the port's own ``binding:*`` attributes (``ports``
columns; host "" and vif_type ``unbound`` while unbound, as Neutron's row for an
unbound port); INACTIVE ones are ``port_bindings`` rows: Nova creates one on a
migration's destination host (vif_type ``ovs``: ML2/OVN binds any host), activates it
when the instance runs there -- the port's host, vnic_type and profile become the
binding's, its status DOWN until the new chassis claims it, and the former ACTIVE
binding is kept INACTIVE and unbound, as Neutron's ``_commit_port_binding`` -- then
deletes the source's.

OVN: while a bound INACTIVE binding exists, the port's LSP asks for both chassis,
``requested-chassis`` "<active>,<destination>" with ``activation-strategy`` "rarp"
(``ovn.desired.chassis_options``, ML2/OVN's multi-chassis live migration); after
activation only the new host.

Only ports of instances and shared file systems have bindings (device_owner
``compute:*`` or ``manila:*``), else BadRequest (400). Policy (route level,
``neutron/conf/policies/port_bindings.py``): reading needs admin or the service role,
writing the service role. Errors: PortNotFound, PortBindingNotFound (404),
PortBindingAlreadyExists, PortBindingAlreadyActive (409), and the routed-network host
errors of ``services.routed_ports`` on activation (409).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.constants import DEVICE_OWNER_COMPUTE_PREFIX
from neutrino.db.models import Network, Port, PortBinding
from neutrino.notifiers import nova
from neutrino.services import common, ports, routed_ports, trunk_ports
from neutrino.services.context import Context
from neutrino.services.env import Env

ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
MULTI_BINDING_OWNERS = (DEVICE_OWNER_COMPUTE_PREFIX, "manila:")
FILTERS = ("host", "vif_type", "vnic_type", "status")  # is_filter in neutron-lib


def list_bindings(env: Env, ctx: Context, port_id: str,
                  filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """``GET /v2.0/ports/{id}/bindings``: the ACTIVE binding, then the INACTIVE ones
    by host. ``filters`` (host, vif_type, vnic_type, status) keep bindings whose
    attribute is one of the values. Raises PortNotFound, BadRequest (400)."""
    def run(session: Session) -> list[dict[str, Any]]:
        port = _find_port(session, ctx, port_id)
        items = [_active(port), *(_inactive(row, port) for row in _rows(session, port_id))]
        return [b for b in items
                if all(str(b[k]) in v for k, v in (filters or {}).items() if k in FILTERS)]
    return env.db.run(run, write=False)


def get_binding(env: Env, ctx: Context, port_id: str, host: str) -> dict[str, Any]:
    """``GET /v2.0/ports/{id}/bindings/{host}``. Raises PortNotFound,
    PortBindingNotFound (404), BadRequest (400)."""
    def run(session: Session) -> dict[str, Any]:
        port = _find_port(session, ctx, port_id)
        if host == port.binding_host_id:
            return _active(port)
        row = session.get(PortBinding, (port_id, host))
        if row is None:
            raise errors.PortBindingNotFound(port_id, host)
        return _inactive(row, port)
    return env.db.run(run, write=False)


def create_binding(env: Env, ctx: Context, port_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """``POST /v2.0/ports/{id}/bindings`` with ``{"host", "vnic_type"?, "profile"?}``:
    an INACTIVE binding on ``host`` (Neutron: every port already has an ACTIVE one,
    bound or not). Raises PortBindingAlreadyExists (409) when the port has a binding
    for ``host``, PortNotFound, BadRequest (400)."""
    def run(session: Session) -> dict[str, Any]:
        port = _find_port(session, ctx, port_id)
        host = data["host"]
        if host == port.binding_host_id or session.get(PortBinding, (port_id, host)):
            raise errors.PortBindingAlreadyExists(port_id, host)
        row = PortBinding(port_id=port_id, host=host, vif_type="ovs",
                          vnic_type=data.get("vnic_type") or "normal",
                          profile=data.get("profile") or {}, status=INACTIVE)
        session.add(row)
        common.enqueue_ovn(session, "port", port_id)  # requested-chassis gains the host
        session.flush()
        return _inactive(row, port)
    return env.db.run(run)


def update_binding(env: Env, ctx: Context, port_id: str, host: str,
                   data: dict[str, Any]) -> dict[str, Any]:
    """``PUT /v2.0/ports/{id}/bindings/{host}`` with ``{"vnic_type"?, "profile"?}``:
    the ACTIVE binding's are the port's ``binding:vnic_type``/``binding:profile``.
    Raises PortBindingNotFound, PortNotFound (404), BadRequest (400)."""
    def run(session: Session) -> dict[str, Any]:
        port = _find_port(session, ctx, port_id)
        if host == port.binding_host_id:
            changes = {"binding_vnic_type": data.get("vnic_type", port.binding_vnic_type),
                       "binding_profile": data.get("profile", port.binding_profile) or {}}
            if common.apply_changes(port, changes):
                common.touch(port)
                common.enqueue_ovn(session, "port", port_id)
            return _active(port)
        row = session.get(PortBinding, (port_id, host))
        if row is None:
            raise errors.PortBindingNotFound(port_id, host)
        common.apply_changes(row, {"vnic_type": data.get("vnic_type", row.vnic_type),
                                   "profile": data.get("profile", row.profile) or {}})
        common.enqueue_ovn(session, "port", port_id)
        return _inactive(row, port)
    return env.db.run(run)


def activate_binding(env: Env, ctx: Context, port_id: str, host: str) -> dict[str, Any]:
    """``PUT /v2.0/ports/{id}/bindings/{host}/activate``: the INACTIVE binding on
    ``host`` becomes ACTIVE (the port's ``binding:host_id``, ``binding:vnic_type`` and
    ``binding:profile``; status DOWN until the chassis there claims it) and the ACTIVE
    one INACTIVE and unbound. Returns the now ACTIVE binding. Raises
    PortBindingAlreadyActive (409) when ``host`` holds the ACTIVE binding,
    PortBindingNotFound (404) when it holds none, PortNotFound, BadRequest (400), and on
    a routed network ``routed_ports.bind_to_host``'s errors (409)."""
    def run(session: Session) -> dict[str, Any]:
        port = _find_port(session, ctx, port_id)
        if host == port.binding_host_id:
            raise errors.PortBindingAlreadyActive(port_id, host)
        row = session.get(PortBinding, (port_id, host))
        if row is None:
            raise errors.PortBindingNotFound(port_id, host)
        routed_ports.bind_to_host(session, session.get(Network, port.network_id), port, host,
                                  settings=env.settings)
        old = (port.binding_host_id, port.binding_vnic_type, port.binding_profile)
        session.delete(row)
        session.flush()
        if old[0]:
            session.add(PortBinding(port_id=port_id, host=old[0], vif_type="unbound",
                                    vnic_type=old[1], profile=old[2] or {}, status=INACTIVE))
        previous = port.status
        port.binding_host_id, port.binding_vnic_type = host, row.vnic_type
        port.binding_profile, port.status = row.profile or {}, "DOWN"
        nova.port_status_changed(session, env.settings, port, previous)
        common.touch(port)
        common.enqueue_ovn(session, "port", port_id)
        trunk_ports.parent_changed(session, [port])  # a trunk's subports move along
        session.flush()
        return _active(port)
    return env.db.run(run)


def delete_binding(env: Env, ctx: Context, port_id: str, host: str) -> None:
    """``DELETE /v2.0/ports/{id}/bindings/{host}``: remove an INACTIVE binding (Nova:
    the source's after a migration, or the destination's on rollback). Deleting a
    binding that does not exist does nothing, as Neutron's ``delete_port_binding``.
    Neutron would also delete the ACTIVE binding and leave the port without one;
    neutrino refuses that with PortBindingAlreadyActive (409): unbind the port with
    ``binding:host_id`` "" instead. Raises PortNotFound, BadRequest (400)."""
    def run(session: Session) -> None:
        port = _find_port(session, ctx, port_id)
        if host and host == port.binding_host_id:
            raise errors.PortBindingAlreadyActive(port_id, host)
        row = session.get(PortBinding, (port_id, host))
        if row is not None:
            session.delete(row)
            common.enqueue_ovn(session, "port", port_id)  # requested-chassis loses it
    env.db.run(run)


# --- internals ---------------------------------------------------------------

def _find_port(session: Session, ctx: Context, port_id: str) -> Port:
    """The port, if visible and of an owner with bindings (Neutron's
    ``_validate_port_supports_multiple_bindings``)."""
    port = ports.find_visible(session, ctx, port_id)
    if not (port.device_owner or "").startswith(MULTI_BINDING_OWNERS):
        raise errors.BadRequest(f"Invalid port {port_id}. Operation only valid on compute "
                                "and shared filesystem ports")
    return port


def _rows(session: Session, port_id: str) -> list[PortBinding]:
    return list(session.scalars(select(PortBinding).where(PortBinding.port_id == port_id)
                                .order_by(PortBinding.host)))


def _binding(host: str, vif_type: str, vnic_type: str, profile: dict | None, status: str,
             trusted: bool | None) -> dict[str, Any]:
    """One binding dict, as Neutron's ``_make_port_binding_dict``: a bound binding's
    profile carries the port's ``trusted`` when set."""
    profile = dict(profile or {})
    if vif_type != "unbound" and trusted is not None:
        profile["trusted"] = trusted
    return {"host": host, "vif_type": vif_type,
            "vif_details": dict(ports.VIF_DETAILS) if vif_type != "unbound" else {},
            "vnic_type": vnic_type, "profile": profile, "status": status}


def _active(port: Port) -> dict[str, Any]:
    host = port.binding_host_id or ""
    return _binding(host, "ovs" if host else "unbound", port.binding_vnic_type,
                    port.binding_profile, ACTIVE, port.trusted)


def _inactive(row: PortBinding, port: Port) -> dict[str, Any]:
    return _binding(row.host, row.vif_type, row.vnic_type, row.profile, row.status,
                    port.trusted)

"""Trunks (extension ``trunk``): ``/v2.0/trunks`` and the member actions
``add_subports``, ``remove_subports``, ``get_subports``.

A trunk belongs to a project and has one parent port (``port_id``, at most one trunk
per port) and subports (port, ``segmentation_type`` "vlan", ``segmentation_id``
1-4094, unique per trunk). Validation is the trunk plugin's (``neutron/services/trunk/
plugin.py``, ``rules.py``) with ML2/OVN's driver: only ``vlan`` (``inherit`` takes the
subport network's VLAN), bound parents may be trunked and untrunked
(``can_trunk_bound_port``). Errors: TrunkNotFound (404), PortNotFound (404, parent or
subport not visible), ParentPortInUse (409: the parent is already a trunk's parent, or
a subport is the parent), TrunkPortInUse (409: the port is another trunk's subport),
PortInUse (409: a subport with a ``device_id``), DuplicateSubPort (409),
SubPortMtuGreaterThanTrunkPortMtu (409), TrunkDisabled (409: subports of a trunk with
``admin_state_up`` false, or deleting it), SubPortNotFound (404), InvalidInput (400:
malformed ``sub_ports``). A subport may have a different MAC from its parent.
What a trunk does to its ports (``trunk:subport``, ``binding:profile``, status) is
``services.trunk_ports``. Every change enqueues the ports it changes for the NB sync.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Network, Port, SubPort, Trunk
from neutrino.services import common, listing, ports, segments, trunk_ports
from neutrino.services.context import Context
from neutrino.services.env import Env

VLAN = "vlan"
INHERIT = "inherit"
MIN_VLAN, MAX_VLAN = 1, 4094
_COLUMNS = ("id", "name", "description", "project_id", "admin_state_up", "status", "port_id",
            "created_at", "updated_at", "revision_number")

SPEC = listing.ResourceSpec(
    id_column=Trunk.id,
    filters={**listing.standard_filters(Trunk),
             "admin_state_up": listing.eq(Trunk.admin_state_up, listing.to_bool),
             "status": listing.eq(Trunk.status), "port_id": listing.eq(Trunk.port_id)},
    sort_keys={k: getattr(Trunk, k) for k in _COLUMNS} | {"tenant_id": Trunk.project_id},
    not_found=errors.TrunkNotFound,
)


# --- validation -----------------------------------------------------------------------

def subports_problem(data: Any) -> str | None:
    """neutron-lib's ``validate_subports``: None for a list of dicts with unique UUID
    ``port_id``s, both segmentation attributes or none, no (type, id) twice; else
    Neutron's reason."""
    if not isinstance(data, list):
        return f"Invalid data format for subports: '{data}' is not a list"
    seen_ids: set[str] = set()
    seen_seg: set[tuple[Any, Any]] = set()
    for sub in data:
        if not isinstance(sub, dict):
            return f"Invalid data format for subport: '{sub}' is not a dict"
        if "port_id" not in sub:
            return "A valid port UUID must be specified"
        if not common.is_uuid(sub["port_id"]):
            return f"Invalid UUID for subport: '{sub['port_id']}'"
        if sub["port_id"] in seen_ids:
            return f"Non unique UUID for subport: '{sub['port_id']}'"
        seen_ids.add(sub["port_id"])
        seg = (sub.get("segmentation_type"), sub.get("segmentation_id"))
        if any(isinstance(v, (list, dict)) for v in seg):  # unhashable below: was a 500
            return (f"Invalid subport details '{sub}': segmentation_type and "
                    "segmentation_id must be a string and an integer")
        if seg[0] == INHERIT:
            return None
        if (not seg[0] or seg[1] is None) and len(sub) > 1:
            return (f"Invalid subport details '{sub}': missing segmentation information. "
                    "Must specify both segmentation_id and segmentation_type")
        if seg[1] is not None and seg in seen_seg:
            return f"Segmentation ID '{seg[1]}' for '{sub['port_id']}' is not unique"
        seen_seg.add(seg)
    return None


def basic_subports(data: Any) -> list[dict[str, Any]]:
    """``data`` if :func:`subports_problem` finds nothing, else InvalidInput (400)
    "Invalid input for operation: <reason>." (the plugin's basic validation)."""
    problem = subports_problem(data)
    if problem:
        raise errors.InvalidInput(f"Invalid input for operation: {problem}.")
    return data


def _inherited(session: Session, port: Port, sub: dict[str, Any]) -> dict[str, Any]:
    """``inherit``: the segmentation of the subport's network (``_prepare_subports``:
    its ``provider:network_type`` and ``provider:segmentation_id``), so a VLAN network's
    port carries its own VLAN id; a geneve network's is then an unknown type."""
    if sub.get("segmentation_type") != INHERIT:
        return sub
    attrs = segments.provider_attributes(session, [port.network_id]).get(
        port.network_id, segments.OVERLAY)
    return {**sub, "segmentation_type": attrs.get("provider:network_type"),
            "segmentation_id": attrs.get("provider:segmentation_id")}


def _segmentation(sub: dict[str, Any]) -> tuple[str, int]:
    """``SubPortsValidator``'s segmentation checks: (type, id) or InvalidInput."""
    seg_type = sub.get("segmentation_type")
    if seg_type is None or "segmentation_id" not in sub:
        raise errors.InvalidInput(
            f"Invalid input for operation: Invalid subport details '{sub}': missing "
            "segmentation information. Must specify both segmentation_id and "
            "segmentation_type.")
    raw = sub["segmentation_id"]
    try:
        if isinstance(raw, bool):
            raise ValueError
        seg_id = int(raw)
    except (TypeError, ValueError):
        raise errors.InvalidInput(f"Invalid input for operation: Invalid subport details: "
                                  f"segmentation_id '{raw}' is not an integer.") from None
    if seg_type != VLAN:
        raise errors.InvalidInput(f"Invalid input for operation: Unknown segmentation_type "
                                  f"'{seg_type}'.")
    if not MIN_VLAN <= seg_id <= MAX_VLAN:
        raise errors.InvalidInput(f"Invalid input for operation: Segmentation ID '{seg_id}' "
                                  "is not in range.")
    return seg_type, seg_id


def _check_parent(session: Session, ctx: Context, port_id: str) -> Port:
    """``TrunkPortValidator.validate(parent_port=True)``; bound parents are fine (OVN)."""
    port = ports.find_visible(session, ctx, port_id)
    if session.scalar(select(SubPort.port_id).where(SubPort.port_id == port_id)) is not None:
        raise errors.TrunkPortInUse(port_id)
    if session.scalar(select(Trunk.id).where(Trunk.port_id == port_id)) is not None:
        raise errors.ParentPortInUse(port_id)
    return port


def _new_subports(session: Session, ctx: Context, trunk_id: str, parent: Port,
                  subs: list[dict[str, Any]]) -> list[tuple[Port, str, int]]:
    """``SubPortsValidator.validate`` per subport, in Neutron's order: the parent itself,
    MTU, segmentation, other trunks, ``device_id``; then the trunk's own VLANs."""
    parent_mtu = session.get(Network, parent.network_id).mtu
    taken = {(s.segmentation_type, s.segmentation_id) for s in
             trunk_ports.subports_of(session, trunk_id)} if trunk_id else set()
    result = []
    for sub in subs:
        if sub["port_id"] == parent.id:
            raise errors.ParentPortInUse(parent.id)
        port = ports.find_visible(session, ctx, sub["port_id"])
        mtu = session.get(Network, port.network_id).mtu
        if parent_mtu and mtu and mtu > parent_mtu:
            raise errors.SubPortMtuGreaterThanTrunkPortMtu(port.id, mtu, parent.id, parent_mtu)
        seg = _segmentation(_inherited(session, port, sub))
        owner = session.scalar(select(SubPort.trunk_id).where(SubPort.port_id == port.id))
        if owner is not None:
            raise errors.TrunkPortInUse(port.id)
        if session.scalar(select(Trunk.id).where(Trunk.port_id == port.id)) is not None:
            raise errors.ParentPortInUse(port.id)
        if port.device_id:
            raise errors.PortInUse(port.network_id, port.id, port.device_id)
        if seg in taken:
            raise errors.DuplicateSubPort(seg[0], seg[1], trunk_id)
        taken.add(seg)
        result.append((port, *seg))
    return result


# --- access and shapes ------------------------------------------------------------------

def visible(ctx: Context):
    """SQL condition: trunks the caller sees (its project's; admins all)."""
    return common.own(ctx, Trunk)


def find_visible(session: Session, ctx: Context, trunk_id: str, *,
                 for_update: bool = False) -> Trunk:
    """The trunk, or TrunkNotFound (404) when absent or another project's."""
    return common.get_own(session, ctx, Trunk, trunk_id, errors.TrunkNotFound,
                          for_update=for_update)


def sub_port_dicts(session: Session, trunk_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """``{trunk id: [sub_port dict]}`` (every id a key), by segmentation id."""
    result: dict[str, list[dict[str, Any]]] = {t: [] for t in trunk_ids}
    if trunk_ids:
        for s in session.scalars(select(SubPort).where(SubPort.trunk_id.in_(trunk_ids))
                                 .order_by(SubPort.segmentation_id)):
            result[s.trunk_id].append({"segmentation_id": s.segmentation_id,
                                       "segmentation_type": s.segmentation_type,
                                       "port_id": s.port_id})
    return result


# --- the API ----------------------------------------------------------------------------

def create_trunks(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create trunks all-or-nothing from validated ``TrunkCreate`` dicts (``port_id``,
    ``name``, ``description``, ``admin_state_up``, ``sub_ports``, ``project_id``);
    returns the new rows (the API renders them: ``api/wire/trunks.py``)."""
    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            subs = basic_subports(data.get("sub_ports") or [])
            parent = _check_parent(session, ctx, data["port_id"])
            stamp = common.now()
            trunk = Trunk(id=common.new_id(), project_id=common.owner_project(ctx, data),
                          name=data.get("name", ""), description=data.get("description", ""),
                          admin_state_up=data.get("admin_state_up", True), status="DOWN",
                          port_id=parent.id, created_at=stamp, updated_at=stamp,
                          revision_number=1)
            new = _new_subports(session, ctx, trunk.id, parent, subs)
            session.add(trunk)
            session.flush()
            _add(session, trunk, parent, new)
            trunk_ports.refresh_status(session, trunk, parent)
            rows.append(trunk)
        session.flush()
        return listing.Written(rows)
    return env.db.run(run)


def _add(session: Session, trunk: Trunk, parent: Port,
         new: list[tuple[Port, str, int]]) -> None:
    for port, seg_type, seg_id in new:
        session.add(SubPort(port_id=port.id, trunk_id=trunk.id, segmentation_type=seg_type,
                            segmentation_id=seg_id))
        trunk_ports.attach(session, parent, port, seg_id)
    session.flush()


def update_trunk(env: Env, ctx: Context, trunk_id: str, data: dict[str, Any],
                 if_match: int | None = None) -> listing.Written:
    """Update ``name``, ``description``, ``admin_state_up`` (database only, as Neutron);
    returns the row. TrunkNotFound (404), PreconditionFailed (412)."""
    def run(session: Session) -> listing.Written:
        trunk = find_visible(session, ctx, trunk_id, for_update=True)
        common.update_row(trunk, data, if_match)
        session.flush()
        return listing.Written([trunk])
    return env.db.run(run)


def delete_trunk(env: Env, ctx: Context, trunk_id: str, if_match: int | None = None) -> None:
    """Delete a trunk (a bound one too: ML2/OVN trunks bound ports); its subports become
    ordinary ports. TrunkNotFound (404), TrunkDisabled (409), PreconditionFailed (412)."""
    def run(session: Session) -> None:
        trunk = find_visible(session, ctx, trunk_id, for_update=True)
        common.check_if_match(trunk, if_match)
        if not trunk.admin_state_up:
            raise errors.TrunkDisabled(trunk_id)
        for sub in trunk_ports.subports_of(session, trunk_id):
            port = session.get(Port, sub.port_id)
            if port is not None:
                trunk_ports.detach(session, port)
        session.execute(delete(SubPort).where(SubPort.trunk_id == trunk_id))
        common.delete_tags(session, [trunk_id])
        session.delete(trunk)
    env.db.run(run)


def _body_subports(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or "sub_ports" not in data:
        raise errors.HTTPBadRequest("Request body must be {\"sub_ports\": [...]}.")
    return basic_subports(data["sub_ports"])


def _managed(session: Session, ctx: Context, trunk_id: str) -> Trunk:
    trunk = find_visible(session, ctx, trunk_id, for_update=True)
    if not trunk.admin_state_up:
        raise errors.TrunkDisabled(trunk_id)
    return trunk


def add_subports(env: Env, ctx: Context, trunk_id: str, data: Any) -> listing.Written:
    """``PUT .../add_subports`` with ``{"sub_ports": [{port_id, segmentation_type,
    segmentation_id}]}``: the trunk (the API answers it unwrapped, as Neutron answers
    member actions). Raises as the module docstring says, TrunkInErrorState (409)."""
    subs = _body_subports(data)

    def run(session: Session) -> listing.Written:
        trunk = _managed(session, ctx, trunk_id)
        if trunk.status == "ERROR":
            raise errors.TrunkInErrorState(trunk_id)
        parent = session.get(Port, trunk.port_id)
        _add(session, trunk, parent, _new_subports(session, ctx, trunk_id, parent, subs))
        return _changed(session, trunk, parent)
    return env.db.run(run)


def remove_subports(env: Env, ctx: Context, trunk_id: str, data: Any) -> listing.Written:
    """``PUT .../remove_subports`` with ``{"sub_ports": [{"port_id"}]}``: the trunk.
    SubPortNotFound (404) for a port that is not this trunk's subport (nothing removed)."""
    subs = _body_subports(data)

    def run(session: Session) -> listing.Written:
        trunk = _managed(session, ctx, trunk_id)
        current = {s.port_id: s for s in trunk_ports.subports_of(session, trunk_id)}
        for sub in subs:
            if sub["port_id"] not in current:
                raise errors.SubPortNotFound(trunk_id, sub["port_id"])
        for sub in subs:
            session.delete(current[sub["port_id"]])
            port = session.get(Port, sub["port_id"])
            if port is not None:
                trunk_ports.detach(session, port)
        session.flush()
        return _changed(session, trunk, session.get(Port, trunk.port_id))
    return env.db.run(run)


def _changed(session: Session, trunk: Trunk, parent: Port) -> listing.Written:
    """A new revision, the status from the parent (trunk plugin: DOWN, then the driver)."""
    if not trunk_ports.refresh_status(session, trunk, parent):
        common.touch(trunk)
    session.flush()
    return listing.Written([trunk])


def get_subports(env: Env, ctx: Context, trunk_id: str) -> dict[str, Any]:
    """``GET .../get_subports``: ``{"sub_ports": [...]}``; TrunkNotFound (404)."""
    def run(session: Session) -> dict[str, Any]:
        find_visible(session, ctx, trunk_id)
        return {"sub_ports": sub_port_dicts(session, [trunk_id])[trunk_id]}
    return env.db.run(run, write=False)

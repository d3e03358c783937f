"""What a trunk means for its ports (extensions ``trunk``, ``trunk-details``), for
``services.ports`` and ``services.trunks`` alike (this module imports neither).

A subport is realised as ML2/OVN's trunk driver does (``drivers/ovn/trunk_driver.py``
``_set_binding_profile``): its ``device_owner`` becomes ``trunk:subport`` and its
``binding:profile`` gets ``parent_name`` (the parent port's id, its LSP's name) and
``tag`` (the segmentation id); ``ovn.desired`` turns those two into the LSP's
``parent_name`` and ``tag_request`` (ovn-nb(5), "Containers"), so ovn-controller binds
the subport with its parent and tags its frames on the parent's interface. It also
takes the parent's ``binding:host_id`` (ML2/OVN leaves it empty; neutrino's status
watcher would set it on the child's claim anyway) and follows it when the parent moves;
its LSP has no ``requested-chassis`` all the same (``ovn.desired``): a child is bound
wherever its parent is, both ends of a live migration included. It takes the parent's
status when it joins. Removal undoes all of it (``device_owner``
"", profile keys popped, unbound, DOWN: ``_unset_binding_profile``).

A trunk's ``status`` follows its parent: ACTIVE while the parent is bound (ML2/OVN's
``port_updated`` on the parent going ACTIVE), DOWN when it is unbound (the trunk
plugin's ``_trigger_trunk_status_change``). ML2/OVN also sets ACTIVE right at creation
when the parent's LSP exists; neutrino waits for the binding.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors
from neutrino.db.models import Port, SubPort, Trunk
from neutrino.services import common

ACTIVE, DOWN = "ACTIVE", "DOWN"
PROFILE_KEYS = ("parent_name", "tag")


def details_of(session: Session, port_ids: Any) -> dict[str, dict[str, Any]]:
    """``trunk_details`` of the trunk parents among ``port_ids`` (a list or a SELECT of
    ids): ``{parent id: {"trunk_id", "sub_ports": [{"segmentation_id",
    "segmentation_type", "port_id", "mac_address"}]}}`` (the trunk plugin's
    ``_extend_port_trunk_details``), one query. Ports that are no parent are absent."""
    if isinstance(port_ids, list) and not port_ids:
        return {}
    result: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(Trunk.port_id, Trunk.id, SubPort.port_id, SubPort.segmentation_type,
               SubPort.segmentation_id, Port.mac_address)
        .outerjoin(SubPort, SubPort.trunk_id == Trunk.id)
        .outerjoin(Port, Port.id == SubPort.port_id)
        .where(Trunk.port_id.in_(port_ids)).order_by(SubPort.segmentation_id))
    for parent, trunk_id, sub_id, seg_type, seg_id, mac in rows:
        entry = result.setdefault(parent, {"trunk_id": trunk_id, "sub_ports": []})
        if sub_id is not None:
            entry["sub_ports"].append({"segmentation_id": seg_id, "segmentation_type": seg_type,
                                       "port_id": sub_id, "mac_address": mac})
    return result


def check_deletable(session: Session, port_id: str) -> None:
    """Neutron's ``enforce_port_deletion_rules``: PortInUseAsSubPort (409) for a
    subport, PortInUseAsTrunkParent (409) for a trunk's parent."""
    trunk_id = session.scalar(select(SubPort.trunk_id).where(SubPort.port_id == port_id))
    if trunk_id is not None:
        raise errors.PortInUseAsSubPort(port_id, trunk_id)
    trunk_id = session.scalar(select(Trunk.id).where(Trunk.port_id == port_id))
    if trunk_id is not None:
        raise errors.PortInUseAsTrunkParent(port_id, trunk_id)


def attach(session: Session, parent: Port, port: Port, segmentation_id: int) -> None:
    """Make ``port`` a subport of ``parent``'s trunk with VLAN ``segmentation_id``
    (see the module docstring); enqueues the port for the NB sync."""
    port.device_owner = c.DEVICE_OWNER_TRUNK_SUBPORT
    port.binding_profile = {**(port.binding_profile or {}), "parent_name": parent.id,
                            "tag": segmentation_id}
    _follow(port, parent)
    common.touch(port)
    common.enqueue_ovn(session, "port", port.id)


def detach(session: Session, port: Port) -> None:
    """Undo :func:`attach`: an ordinary unbound DOWN port again."""
    port.device_owner = ""
    port.binding_profile = {k: v for k, v in (port.binding_profile or {}).items()
                            if k not in PROFILE_KEYS}
    port.binding_host_id = ""
    port.status = DOWN
    common.touch(port)
    common.enqueue_ovn(session, "port", port.id)


def _follow(port: Port, parent: Port) -> None:
    port.binding_host_id = parent.binding_host_id or ""
    port.status = parent.status


def subports_of(session: Session, trunk_id: str) -> list[SubPort]:
    """The trunk's subports by segmentation id."""
    return list(session.scalars(select(SubPort).where(SubPort.trunk_id == trunk_id)
                                .order_by(SubPort.segmentation_id)))


def refresh_status(session: Session, trunk: Trunk, parent: Port) -> bool:
    """Set the trunk's status from its parent's binding (module docstring); True if it
    changed (the trunk is then touched)."""
    status = ACTIVE if parent.binding_host_id else DOWN
    if trunk.status == status:
        return False
    trunk.status = status
    common.touch(trunk)
    return True


def parent_changed(session: Session, ports: Iterable[Port]) -> None:
    """After a port's binding or status changed (user update, SB watcher): if it is a
    trunk's parent, the trunk's status follows and its subports take the parent's host
    (enqueued when it changes; their own status is the SB watcher's, from the child
    ``Port_Binding`` ovn-controller claims with the parent)."""
    by_id = {p.id: p for p in ports}
    if not by_id:
        return
    for trunk in session.scalars(select(Trunk).where(Trunk.port_id.in_(list(by_id)))):
        parent = by_id[trunk.port_id]
        refresh_status(session, trunk, parent)
        for sub in subports_of(session, trunk.id):
            port = session.get(Port, sub.port_id)
            if port is not None and port.binding_host_id != (parent.binding_host_id or ""):
                port.binding_host_id = parent.binding_host_id or ""
                common.touch(port)
                common.enqueue_ovn(session, "port", port.id)


"""Network segments and the provider attributes (reference B.1 ``provider:*``, B.7).

A network without segment rows is an overlay project network (geneve, its
tunnel key chosen by OVN). A provider network has one segment naming how its
frames reach the physical side: ``flat`` on a physical network, ``vlan`` on a
physical network with a tag, or ``geneve`` with a fixed VNI. Two segments can
never take the same wire: ``NetworkSegment.wire`` is unique.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import NetworkSegment
from neutrino.services import common
from neutrino.services.env import Env

FLAT, VLAN, GENEVE = "flat", "vlan", "geneve"
NETWORK_TYPES = (FLAT, VLAN, GENEVE)
PROVIDER_KEYS = ("provider_network_type", "provider_physical_network",
                 "provider_segmentation_id")
MAX_VLAN = 4094
MAX_VNI = 2 ** 24 - 1
OVERLAY = {"provider:network_type": GENEVE, "provider:physical_network": None,
           "provider:segmentation_id": None}


def requested(data: dict[str, Any]) -> bool:
    """Whether a network body sets any ``provider:*`` attribute."""
    return any(data.get(k) is not None for k in PROVIDER_KEYS)


def add_provider_segment(session: Session, env: Env, network_id: str,
                         data: dict[str, Any]) -> None:
    """Validate the ``provider:*`` attributes of a new network and record its segment.

    Neutron's ML2 type drivers' rules (``validate_provider_segment``): flat needs a
    physical network listed in ``flat_networks`` and no segmentation id; vlan
    needs a physical network and an id 1-4094; geneve takes an optional VNI
    and no physical network. Raises InvalidInput (400) for a bad combination,
    FlatNetworkInUse / VlanIdInUse / TunnelIdInUse (409) for a taken wire.
    """
    net_type = data.get("provider_network_type")
    physnet = data.get("provider_physical_network")
    seg_id = data.get("provider_segmentation_id")
    if net_type is None:
        raise errors.InvalidInput("Invalid input for operation: network_type required.")
    if net_type == FLAT:
        if not physnet:
            raise errors.InvalidInput("Invalid input for operation: physical_network required "
                                      "for flat provider network.")
        allowed = env.settings.flat_physnets()
        if allowed is not None and physnet not in allowed:
            raise errors.InvalidInput(f"Invalid input for operation: physical_network '{physnet}' "
                                      "unknown for flat provider network.")
        if seg_id is not None:
            raise errors.InvalidInput("Invalid input for operation: segmentation_id specified "
                                      "for flat provider network.")
        wire = f"flat:{physnet}"
    elif net_type == VLAN:
        if not physnet:
            raise errors.InvalidInput("Invalid input for operation: physical_network required "
                                      "for VLAN provider network.")
        if seg_id is None or not 1 <= seg_id <= MAX_VLAN:
            raise errors.InvalidInput(f"Invalid input for operation: segmentation_id out of "
                                      f"range (1 through {MAX_VLAN}).")
        wire = f"vlan:{physnet}:{seg_id}"
    else:
        if physnet:
            raise errors.InvalidInput(f"Invalid input for operation: provider:physical_network "
                                      f"specified for {net_type} network.")
        if seg_id is None:
            return  # an ordinary overlay network: OVN picks the tunnel key
        if not 1 <= seg_id <= MAX_VNI:
            raise errors.InvalidInput(f"Invalid input for operation: segmentation_id out of "
                                      f"range (1 through {MAX_VNI}).")
        wire = f"geneve:{seg_id}"
    if session.scalar(select(NetworkSegment.id).where(NetworkSegment.wire == wire)) is not None:
        if net_type == FLAT:
            raise errors.FlatNetworkInUse(physnet)
        if net_type == VLAN:
            raise errors.VlanIdInUse(seg_id, physnet)
        raise errors.TunnelIdInUse(seg_id)
    stamp = common.now()
    session.add(NetworkSegment(
        id=common.new_id(), network_id=network_id, network_type=net_type,
        physical_network=physnet or None, segmentation_id=seg_id, segment_index=0, wire=wire,
        created_at=stamp, updated_at=stamp, revision_number=1))


def provider_attributes(session: Session, network_ids: Iterable[str] | Any) -> dict[str, dict[str, Any]]:
    """``{network_id: {"provider:network_type", "provider:physical_network",
    "provider:segmentation_id"}}`` from each network's first segment; networks
    without one are absent (they are overlay networks, see ``OVERLAY``).
    ``network_ids`` is a list of ids or a SELECT of them."""
    if isinstance(network_ids, list) and not network_ids:
        return {}
    result: dict[str, dict[str, Any]] = {}
    for seg in session.execute(
            select(NetworkSegment.network_id, NetworkSegment.network_type,
                   NetworkSegment.physical_network, NetworkSegment.segmentation_id)
            .where(NetworkSegment.network_id.in_(network_ids))
            .order_by(NetworkSegment.network_id, NetworkSegment.segment_index)):
        result.setdefault(seg.network_id, {
            "provider:network_type": seg.network_type,
            "provider:physical_network": seg.physical_network,
            "provider:segmentation_id": seg.segmentation_id})
    return result


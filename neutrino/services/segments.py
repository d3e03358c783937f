"""Network segments: provider attributes, multi-provider networks, the ``segments``
resource and routed networks (reference B.1 ``provider:*``/``segments``, B.7).

A segment says how a network's frames travel: ``flat`` on a physical network,
``vlan`` on a physical network with a tag, or ``geneve`` with a VNI. Every network
made with provider attributes gets the segments asked for; every other network
(a project network) gets one geneve segment whose VNI comes from ``vni_ranges``
and is also its OVN datapath tunnel key. A VLAN network without a segmentation id
gets the lowest free VLAN of its physical network's ``network_vlan_ranges``.
No two segments take the same flat physnet, VLAN or VNI: ``NetworkSegment.segmentation_key``
is unique, so two concurrent requests for the same VLAN or VNI end in one winner and one retry
(``db.session.RETRYABLE_CONSTRAINTS``), and deleting the network (which cascades
to its segments) frees them. Rules are ML2's type drivers' (``validate_provider_segment``,
``allocate_partially_specified_segment``).

Routed networks: a network whose subnets carry ``segment_id``. A host reaches the
segments of the physical networks its chassis bridges (``HostPhysicalNetwork``,
kept from the SB ``Chassis`` rows by the NB sync); a port gets addresses only from
subnets of the one segment its ``binding:host_id`` reaches (``services.routed_ports``).
Every flat/vlan segment is a localnet port of the network's one logical switch,
with its tag (reference D.1, B.7); a chassis uses one of them per switch (OVN's
rule, see ovn-nb(5) "localnet"), so each host must reach one segment of a network.

Errors are Neutron's (``neutron/services/segments/exceptions.py``, neutron-lib), in
``neutrino/errors/segments.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session, aliased

from neutrino import errors, policy
from neutrino.config import MAX_VLAN, MAX_VNI
from neutrino.constants import PHYSNET_TYPES, TYPE_FLAT, TYPE_GENEVE, TYPE_VLAN
from neutrino.db.models import HostPhysicalNetwork, Network, NetworkSegment, Subnet
from neutrino.services import common, listing, segment_ranges
from neutrino.services.context import Context
from neutrino.services.env import Env

FLAT, VLAN, GENEVE = TYPE_FLAT, TYPE_VLAN, TYPE_GENEVE
NETWORK_TYPES = (FLAT, VLAN, GENEVE)
PROVIDER_KEYS = ("provider_network_type", "provider_physical_network",
                 "provider_segmentation_id")
OVERLAY = {"provider:network_type": GENEVE, "provider:physical_network": None,
           "provider:segmentation_id": None}
SEGMENTS = "segments"  # multi-provider: the network attribute listing several segments


# --- segments of a new network ------------------------------------------------------

@dataclass(frozen=True)
class SegmentSpec:
    """One requested segment: ``provider:network_type``, ``provider:physical_network``,
    ``provider:segmentation_id`` (None: allocate)."""

    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None


def requested(data: dict[str, Any]) -> bool:
    """Whether a network body sets any ``provider:*`` attribute or ``segments``."""
    return any(data.get(k) is not None for k in PROVIDER_KEYS) or bool(data.get(SEGMENTS))


def specs_of(data: dict[str, Any]) -> list[SegmentSpec]:
    """The segments a network body asks for (``NetworkCreate`` field names):
    ``segments`` (multi-provider) or the ``provider:*`` attributes; [] for a project
    network. Raises SegmentsSetInConjunctionWithProviders, SegmentsContainDuplicateEntry
    (400) and InvalidInput when a segment lacks its network type."""
    multi = data.get(SEGMENTS) or []
    if multi and any(data.get(k) is not None for k in PROVIDER_KEYS):
        raise errors.SegmentsSetInConjunctionWithProviders()
    raw = multi or ([{k: data.get(k) for k in PROVIDER_KEYS}]
                    if any(data.get(k) is not None for k in PROVIDER_KEYS) else [])
    specs = []
    for item in raw:
        if item.get("provider_network_type") is None:
            raise errors.InvalidInput("Invalid input for operation: network_type required.")
        specs.append(SegmentSpec(item["provider_network_type"],
                                 item.get("provider_physical_network") or None,
                                 item.get("provider_segmentation_id")))
    if len(set(specs)) != len(specs):
        raise errors.SegmentsContainDuplicateEntry()
    return specs


def add_network_segments(session: Session, env: Env, network_id: str,
                         data: dict[str, Any]) -> list[NetworkSegment]:
    """Record the segments of a new network (see :func:`specs_of`); a project network
    gets a geneve segment with a VNI from ``vni_ranges`` (none when that is empty).
    Raises as :func:`add_segment`."""
    specs = specs_of(data) or [SegmentSpec(GENEVE)]
    added = [add_segment(session, env, network_id, spec, index=i) for i, spec in enumerate(specs)]
    return [s for s in added if s is not None]


def on_physical_networks(data: dict[str, Any]) -> bool:
    """Whether every segment a network body asks for is flat or VLAN (its frames go
    out whole: the physical network's MTU, not the overlay's)."""
    specs = specs_of(data)
    return bool(specs) and all(s.network_type in PHYSNET_TYPES for s in specs)


def add_segment(session: Session, env: Env, network_id: str, spec: SegmentSpec, *,
                index: int, name: str | None = None,
                description: str = "") -> NetworkSegment | None:
    """Validate one segment, allocate its VLAN or VNI when not given, and insert it.

    flat: a physical network listed in ``flat_networks``, no segmentation id. vlan: a
    physical network listed in ``network_vlan_ranges`` (an explicit id 1-4094 may lie
    outside its ranges; without one the lowest free VLAN is taken, or of the first
    physical network with one free when none is named). geneve: no physical network; a
    VNI 1-2^24-1, or the next free one. Ids without an explicit value come from the
    network project's segment ranges first, then from the shared ones (``vni_ranges`` /
    ``network_vlan_ranges`` included; ``services.segment_ranges``). Returns None for a
    geneve segment without VNI when there is no geneve range at all (OVN picks the key).
    Raises InvalidInput (400), FlatNetworkInUse / VlanIdInUse / TunnelIdInUse (409),
    NoNetworkAvailable (409) when the ranges are exhausted.
    """
    net_type, physnet, seg_id = spec.network_type, spec.physical_network, spec.segmentation_id
    chosen_here = seg_id is None
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
    elif net_type == VLAN:
        physnet, seg_id = _vlan(session, env, network_id, physnet, seg_id)
    elif net_type == GENEVE:
        if physnet:
            raise errors.InvalidInput(f"Invalid input for operation: provider:physical_network "
                                      f"specified for {net_type} network.")
        if seg_id is None:
            seg_id = _pick_vni(session, env, _project_of(session, network_id))
            if seg_id is None:
                return None
        elif not 1 <= seg_id <= MAX_VNI:
            raise errors.InvalidInput(f"Invalid input for operation: segmentation_id out of "
                                      f"range (1 through {MAX_VNI}).")
    else:
        raise errors.InvalidInput(f"Invalid input for operation: network_type value "
                                  f"'{net_type}' not supported.")
    key = _segmentation_key(net_type, physnet, seg_id)
    # An id we picked that is taken now lost a race with a concurrent commit: the unique
    # key makes the flush below fail and the transaction retry with the next free id.
    if not (chosen_here and net_type != FLAT) and session.scalar(
            select(NetworkSegment.id).where(NetworkSegment.segmentation_key == key)) is not None:
        if net_type == FLAT:
            raise errors.FlatNetworkInUse(physnet)
        if net_type == VLAN:
            raise errors.VlanIdInUse(seg_id, physnet)
        raise errors.TunnelIdInUse(seg_id)
    stamp = common.now()
    seg = NetworkSegment(
        id=common.new_id(), network_id=network_id, network_type=net_type,
        physical_network=physnet, segmentation_id=seg_id, segmentation_key=key,
        segment_index=index, name=name, description=description, created_at=stamp,
        updated_at=stamp, revision_number=1)
    session.add(seg)
    session.flush()  # the next allocation in this transaction must see it
    return seg


def _segmentation_key(net_type: str, physnet: str | None, seg_id: int | None) -> str:
    """What a segment occupies: ``flat:<physnet>``, ``vlan:<physnet>:<id>``, ``geneve:<vni>``."""
    if net_type == FLAT:
        return f"flat:{physnet}"
    if net_type == VLAN:
        return f"vlan:{physnet}:{seg_id}"
    return f"geneve:{seg_id}"


def _project_of(session: Session, network_id: str) -> str | None:
    return session.scalar(select(Network.project_id).where(Network.id == network_id))


def _vlan(session: Session, env: Env, network_id: str, physnet: str | None,
          seg_id: int | None) -> tuple[str, int]:
    """(physical network, VLAN id) of a vlan segment, allocating what is missing: the
    project's ranges first, then the shared ones (``segment_ranges``)."""
    ranges = env.settings.vlan_ranges()
    if physnet and physnet not in ranges:
        raise errors.InvalidInput(f"Invalid input for operation: physical_network "
                                  f"'{physnet}' unknown for VLAN provider network.")
    if seg_id is not None:
        if not physnet:
            raise errors.InvalidInput("Invalid input for operation: segmentation_id requires "
                                      "physical_network for VLAN provider network.")
        if not 1 <= seg_id <= MAX_VLAN:
            raise errors.InvalidInput(f"Invalid input for operation: segmentation_id out "
                                      f"of range (1 through {MAX_VLAN}).")
        return physnet, seg_id
    project = _project_of(session, network_id)
    own = segment_ranges.project_spans(session, VLAN, project, physnet)
    shared = segment_ranges.shared_spans(session, env.settings, VLAN, project, physnet)
    candidates = [(net, [span]) for net, span in own] + list(shared.items())
    if physnet and not any(spans for _, spans in candidates):
        raise errors.InvalidInput(f"Invalid input for operation: Physical network {physnet} "
                                  "requires segmentation_id to be specified when creating "
                                  "a provider network.")
    for name, spans in candidates:
        found = _free_vlan(session, name, spans) if spans else None
        if found is not None:
            return name, found
    where = ", ".join(f"{n} {_show(s)}" for n, s in candidates if s)
    raise errors.NoNetworkAvailable(f"no free VLAN in the segment ranges of project {project} "
                                    f"or the shared ones ({where or 'no ranges'})")


def _show(spans: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{lo}-{hi}" for lo, hi in spans)


def _free_vlan(session: Session, physnet: str, spans: list[tuple[int, int]]) -> int | None:
    """The lowest VLAN of ``spans`` no segment of ``physnet`` takes (at most 4094 ids
    are read per range)."""
    for lo, hi in spans:
        used = set(session.scalars(select(NetworkSegment.segmentation_id).where(
            NetworkSegment.network_type == VLAN, NetworkSegment.physical_network == physnet,
            NetworkSegment.segmentation_id.between(lo, hi))))
        for vlan in range(lo, hi + 1):
            if vlan not in used:
                return vlan
    return None


def _pick_vni(session: Session, env: Env, project: str | None) -> int | None:
    """A free VNI of the project's geneve ranges, else of the shared ones; None when
    there is no geneve range at all. Raises NoNetworkAvailable when all are taken."""
    own = [span for _, span in segment_ranges.project_spans(session, GENEVE, project)]
    shared = segment_ranges.shared_spans(session, env.settings, GENEVE, project).get("", [])
    for spans in (own, shared):
        found = _free_vni(session, spans) if spans else None
        if found is not None:
            return found
    if not own and not shared:
        return None
    raise errors.NoNetworkAvailable(f"every VNI of the segment ranges {_show(own + shared)} of "
                                    f"project {project} and the shared ones is in use")


def _free_vni(session: Session, spans: list[tuple[int, int]]) -> int | None:
    """A free VNI of ``spans``: one above the highest taken in the first range with room
    (an index lookup, and a freed VNI is not handed out again at once), else the
    lowest gap; None when all are taken."""
    geneve = (NetworkSegment.network_type == GENEVE, NetworkSegment.physical_network.is_(None))
    for lo, hi in spans:
        top = session.scalar(select(func.max(NetworkSegment.segmentation_id)).where(
            *geneve, NetworkSegment.segmentation_id.between(lo, hi)))
        if top is None:
            return lo
        if top < hi:
            return top + 1
        taken = session.scalar(select(NetworkSegment.id).where(
            *geneve, NetworkSegment.segmentation_id == lo))
        if taken is None:
            return lo
        nxt = aliased(NetworkSegment)
        gap = session.scalar(
            select(NetworkSegment.segmentation_id + 1).where(
                *geneve, NetworkSegment.segmentation_id.between(lo, hi - 1),
                ~exists().where(nxt.network_type == GENEVE, nxt.physical_network.is_(None),
                                nxt.segmentation_id == NetworkSegment.segmentation_id + 1))
            .order_by(NetworkSegment.segmentation_id).limit(1))
        if gap is not None:
            return gap
    return None


# --- how networks show their segments ----------------------------------------------

def provider_attributes(session: Session, network_ids: Iterable[str] | Any) -> dict[str, dict[str, Any]]:
    """Each network's segments as the API shows them (reference B.1, multi-provider's
    output rule): one segment -> ``provider:network_type``, ``provider:physical_network``,
    ``provider:segmentation_id``; several -> ``segments``, a list of such dicts in
    segment order (and no ``provider:*``). Networks without segments are absent (they
    are overlay networks, see ``OVERLAY``). ``network_ids`` is a list or a SELECT."""
    if isinstance(network_ids, list) and not network_ids:
        return {}
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for seg in session.execute(
            select(NetworkSegment.network_id, NetworkSegment.network_type,
                   NetworkSegment.physical_network, NetworkSegment.segmentation_id)
            .where(NetworkSegment.network_id.in_(network_ids))
            .order_by(NetworkSegment.network_id, NetworkSegment.segment_index,
                      NetworkSegment.created_at)):
        found[seg.network_id].append({
            "provider:network_type": seg.network_type,
            "provider:physical_network": seg.physical_network,
            "provider:segmentation_id": seg.segmentation_id})
    return {net: segs[0] if len(segs) == 1 else {SEGMENTS: segs} for net, segs in found.items()}


# --- the segments resource (extension "segment", admin only) -----------------------

SPEC = listing.ResourceSpec(
    id_column=NetworkSegment.id,
    filters={
        "id": listing.eq(NetworkSegment.id),
        "network_id": listing.eq(NetworkSegment.network_id),
        "name": listing.eq(NetworkSegment.name),
        "description": listing.eq(NetworkSegment.description),
        "network_type": listing.eq(NetworkSegment.network_type),
        "physical_network": listing.eq(NetworkSegment.physical_network),
        "segmentation_id": listing.eq(NetworkSegment.segmentation_id, listing.to_int),
        "revision_number": listing.eq(NetworkSegment.revision_number, listing.to_int),
        "created_at": listing.eq(NetworkSegment.created_at),
        "updated_at": listing.eq(NetworkSegment.updated_at),
        "changed_since": lambda values: NetworkSegment.updated_at >= max(values),
    },
    sort_keys={k: getattr(NetworkSegment, k) for k in (
        "id", "network_id", "name", "network_type", "physical_network", "segmentation_id",
        "created_at", "updated_at", "revision_number")},
    not_found=errors.SegmentNotFound,
)


def create_segments(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Add segments to existing networks (``SegmentCreate`` dicts), all or nothing, and
    return the new rows (the API renders them: ``api/wire/segments.py``).

    Admin only (403). Each is validated and allocated as :func:`add_segment` says and
    becomes the network's last segment (and a localnet port on its switch). Raises
    NetworkNotFound and the errors of :func:`add_segment`.
    """
    policy.require(ctx, "create_segment")

    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            net = session.get(Network, data["network_id"])
            if net is None:
                raise errors.NetworkNotFound(data["network_id"])
            index = session.scalar(select(func.coalesce(func.max(NetworkSegment.segment_index), -1))
                                   .where(NetworkSegment.network_id == net.id)) + 1
            spec = SegmentSpec(data["network_type"], data.get("physical_network") or None,
                               data.get("segmentation_id"))
            seg = add_segment(session, env, net.id, spec, index=index, name=data.get("name"),
                              description=data.get("description", ""))
            if seg is None:  # geneve without VNI while vni_ranges is empty
                raise errors.NoNetworkAvailable(
                    "vni_ranges is empty: give provider:segmentation_id")
            common.touch(net)
            common.enqueue_ovn(session, "network", net.id)
            rows.append(seg)
        return listing.Written(rows)
    return env.db.run(run)


def update_segment(env: Env, ctx: Context, segment_id: str, data: dict[str, Any],
                   if_match: int | None = None) -> listing.Written:
    """Update ``name`` and ``description`` (the only updatable attributes); returns the
    row."""
    def run(session: Session) -> listing.Written:
        seg = _find(session, ctx, segment_id)
        common.update_row(seg, data, if_match)
        session.flush()
        return listing.Written([seg])
    return env.db.run(run)


def delete_segment(env: Env, ctx: Context, segment_id: str, if_match: int | None = None) -> None:
    """Delete a segment and its localnet port. Raises SegmentInUse (409) while
    subnets are associated with it."""
    def run(session: Session) -> None:
        seg = _find(session, ctx, segment_id)
        common.check_if_match(seg, if_match)
        used = list(session.scalars(select(Subnet.id).where(Subnet.segment_id == seg.id)))
        if used:
            raise errors.SegmentInUse(seg.id, "The segment is still associated with subnet(s) "
                               + ", ".join(sorted(used)))
        net = session.get(Network, seg.network_id)
        session.delete(seg)
        common.touch(net)
        common.enqueue_ovn(session, "segment", seg.id)  # its own switch, if it had one
        common.enqueue_ovn(session, "network", net.id)
    env.db.run(run)


def _find(session: Session, ctx: Context, segment_id: str) -> NetworkSegment:
    """The segment; SegmentNotFound when absent or the caller is not admin."""
    seg = session.get(NetworkSegment, segment_id)
    if seg is None or not ctx.is_admin:
        raise errors.SegmentNotFound(segment_id)
    return seg


# --- subnets on segments, and which host reaches which segment ---------------------

def check_subnet_segment(session: Session, network_id: str, segment_id: str | None) -> None:
    """A new subnet of ``network_id`` with ``segment_id`` (or None): the segment must
    exist (SegmentNotFound, 404) and be the network's (NetworkIdsDontMatch, 400), and
    the network's subnets must all have a segment or none (400,
    SubnetsNotAllAssociatedWithSegments; ``_validate_segment``)."""
    if segment_id is not None:
        owner = session.scalar(select(NetworkSegment.network_id)
                               .where(NetworkSegment.id == segment_id))
        if owner is None:
            raise errors.SegmentNotFound(segment_id)
        if owner != network_id:
            raise errors.NetworkIdsDontMatch(network_id, segment_id)
    existing = {s for s in session.scalars(select(Subnet.segment_id)
                                           .where(Subnet.network_id == network_id))}
    if existing and (None in existing) != (segment_id is None):
        raise errors.SubnetsNotAllAssociatedWithSegments(network_id)


def reachable_segments(session: Session, network_id: str, host: str) -> set[str]:
    """Ids of the segments of ``network_id`` that ``host`` reaches: those on a physical
    network its chassis bridges (``HostPhysicalNetwork``)."""
    physnets = select(HostPhysicalNetwork.physical_network).where(HostPhysicalNetwork.host == host)
    return set(session.scalars(select(NetworkSegment.id).where(
        NetworkSegment.network_id == network_id,
        NetworkSegment.physical_network.in_(physnets))))


def record_host_physnets(env: Env, hosts: Mapping[str, Iterable[str]]) -> bool:
    """Make ``HostPhysicalNetwork`` hold exactly ``hosts`` (``{hostname: physical
    networks}``, from the SB Chassis rows); True if anything changed."""
    wanted = {(h, p) for h, nets in hosts.items() for p in nets}

    def run(session: Session) -> bool:
        have = {(r.host, r.physical_network) for r in session.execute(
            select(HostPhysicalNetwork.host, HostPhysicalNetwork.physical_network))}
        for host, physnet in have - wanted:
            session.execute(delete(HostPhysicalNetwork).where(
                HostPhysicalNetwork.host == host, HostPhysicalNetwork.physical_network == physnet))
        if wanted - have:
            session.execute(insert(HostPhysicalNetwork), [
                {"host": h, "physical_network": p} for h, p in sorted(wanted - have)])
        return have != wanted
    return env.db.run(run)

"""Network segment ranges (extension ``network-segment-range``, admin only): which VLAN
ids and geneve VNIs project networks take their segmentation ids from.

A range is ``vlan`` (on one physical network of ``network_vlan_ranges``) or ``geneve``
(``physical_network`` ``''``, as Neutron stores tunnel ranges), ``minimum``..``maximum``
inclusive, and either shared (``project_id`` null) or one project's. Allocation
(``services/segments.py``) takes a free id from the network's project's ranges first,
then from the shared ones (the defaults included) minus what other projects' ranges
hold, as Neutron's ``NetworkSegmentRange.get_segments_for_project`` and
``get_segments_shared``. An explicit segmentation id is never limited by ranges.
Taking an id stays lock-free: the unique ``segmentation_key`` and the retry decide.

Default ranges: the configured ``network_vlan_ranges`` and ``vni_ranges`` as
``default: true, shared: true`` rows. Neutron writes them at plugin start-up from its
config and deletes the previous ones; neutrino does the same when the API app starts
(:func:`sync_default_ranges`, from ``api/app.py``), so they list, filter, sort, page and
carry tags like any range. Their ids are uuid5 of (type, physnet, min, max): stable
across restarts and API workers, so tags stay and concurrent start-ups write the same
rows (the loser's insert retries and finds them). Allocation reads the defaults from
the settings themselves, so it is right even before the rows exist.

``used`` is Neutron's ``{"<segmentation id>": project_id}`` of the segments in the
range; ``available`` the free ids, at most :data:`AVAILABLE_LIMIT` of them (the lowest):
every id of any VLAN range, but not all 65535 of the default geneve range (Neutron lists
them all). Errors are neutron-lib's ``exceptions/network_segment_range.py``; an invalid
minimum/maximum is neutron-lib's NetworkVlanRangeError / NetworkTunnelRangeError, 400
here (Neutron's API answers them 500). Sources: ``neutron/services/
network_segment_range/plugin.py``, ``neutron/objects/network_segment_range.py``,
``neutron/db/models/network_segment_range.py``, neutron-lib's definition.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any, Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.config import MAX_VLAN, MAX_VNI, Settings
from neutrino.db.models import Network, NetworkSegment, NetworkSegmentRange, Tag
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env

VLAN, GENEVE = "vlan", "geneve"
SUPPORTED = (VLAN, GENEVE)
AVAILABLE_LIMIT = 4096
_ID_NAMESPACE = uuid.UUID("6b1f0d5e-7c4a-4d2e-9a57-2f4c61a0b3d8")
_COLUMNS = ("id", "name", "description", "default", "shared", "project_id", "network_type",
            "physical_network", "minimum", "maximum", "created_at", "updated_at",
            "revision_number")
Span = tuple[int, int]


# --- errors (neutron-lib's names, messages and statuses) ------------------------

class NetworkSegmentRangeNotFound(errors.NotFound):
    def __init__(self, range_id: str) -> None:
        super().__init__(f"Network Segment Range {range_id} could not be found.")


class NetworkSegmentRangeNetTypeNotSupported(errors.BadRequest):
    def __init__(self, net_type: Any) -> None:
        super().__init__(f"Network type {net_type} does not support network segment ranges.")


class NetworkSegmentRangeReferencedByProject(errors.Conflict):
    def __init__(self, range_id: str) -> None:
        super().__init__(f"Network Segment Range {range_id} is referenced by one or more "
                         "project networks.")


class NetworkSegmentRangeDefaultReadOnly(errors.BadRequest):
    def __init__(self, range_id: str) -> None:
        super().__init__(f"Network Segment Range {range_id} is a default segment range which "
                         "could not be updated or deleted.")


class NetworkSegmentRangeOverlaps(errors.Conflict):
    def __init__(self, range_ids: Iterable[str]) -> None:
        super().__init__("Network segment range overlaps with range(s) with id "
                         + ", ".join(range_ids))


class NetworkVlanRangeError(errors.BadRequest):
    def __init__(self, span: Span, error: str) -> None:
        super().__init__(f"Invalid network VLAN range: '{span[0]}:{span[1]}' - '{error}'.")


class NetworkTunnelRangeError(errors.BadRequest):
    def __init__(self, span: Span, error: str) -> None:
        super().__init__(f"Invalid network tunnel range: '{span[0]}:{span[1]}' - {error}.")


# --- default ranges -----------------------------------------------------------------

def default_spans(settings: Settings) -> list[tuple[str, str, int, int]]:
    """The configured ranges as ``(network_type, physical_network, min, max)``:
    ``network_vlan_ranges`` (a physical network without ranges has none) then
    ``vni_ranges``."""
    vlans = [(VLAN, net, lo, hi) for net, spans in settings.vlan_ranges().items()
             for lo, hi in spans]
    return vlans + [(GENEVE, "", lo, hi) for lo, hi in settings.vni_range_list()]


def default_range_id(net_type: str, physnet: str, lo: int, hi: int) -> str:
    """The stable id of a default range (uuid5 of its four values)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{net_type}:{physnet}:{lo}:{hi}"))


def sync_default_ranges(env: Env) -> bool:
    """Make the ``default`` rows exactly :func:`default_spans` (Neutron's
    ``initialize_network_segment_range_support``): insert the missing, delete the others
    with their tags. Idempotent; True if anything changed."""
    wanted = {default_range_id(*s): s for s in default_spans(env.settings)}

    def run(session: Session) -> bool:
        have = set(session.scalars(select(NetworkSegmentRange.id)
                                   .where(NetworkSegmentRange.default.is_(True))))
        stale = have - set(wanted)
        if stale:
            session.execute(delete(NetworkSegmentRange).where(NetworkSegmentRange.id.in_(stale)))
            session.execute(delete(Tag).where(Tag.resource_id.in_(stale)))
        stamp = common.now()
        for rid in sorted(set(wanted) - have):
            net_type, physnet, lo, hi = wanted[rid]
            session.add(NetworkSegmentRange(
                id=rid, project_id=None, name="", description="", default=True, shared=True,
                network_type=net_type, physical_network=physnet, minimum=lo, maximum=hi,
                created_at=stamp, updated_at=stamp, revision_number=1))
        return bool(stale) or bool(set(wanted) - have)
    return env.db.run(run)


# --- allocation: which ids a project's network may take -------------------------------

def project_spans(session: Session, net_type: str, project_id: str | None,
                  physnet: str | None = None) -> list[tuple[str, Span]]:
    """``[(physical_network, (min, max))]`` of ``project_id``'s own ranges of
    ``net_type`` (of ``physnet`` when given), lowest first."""
    if not project_id:
        return []
    stmt = select(NetworkSegmentRange.physical_network, NetworkSegmentRange.minimum,
                  NetworkSegmentRange.maximum).where(
        NetworkSegmentRange.network_type == net_type,
        NetworkSegmentRange.project_id == project_id, NetworkSegmentRange.shared.is_(False))
    if physnet is not None:
        stmt = stmt.where(NetworkSegmentRange.physical_network == physnet)
    rows = session.execute(stmt.order_by(NetworkSegmentRange.physical_network,
                                         NetworkSegmentRange.minimum))
    return [(r.physical_network, (r.minimum, r.maximum)) for r in rows]


def shared_spans(session: Session, settings: Settings, net_type: str, project_id: str | None,
                 physnet: str | None = None) -> dict[str, list[Span]]:
    """``{physical_network: [(min, max)]}`` a network of ``project_id`` may take from the
    shared ranges: the configured defaults (in configuration order) and the shared
    rows that are not defaults, minus every other project's ranges. Geneve's key is ``''``."""
    found: dict[str, list[Span]] = defaultdict(list)
    for t, net, lo, hi in default_spans(settings):
        if t == net_type and physnet in (None, net):
            found[net].append((lo, hi))
    shared = select(NetworkSegmentRange.physical_network, NetworkSegmentRange.minimum,
                    NetworkSegmentRange.maximum).where(
        NetworkSegmentRange.network_type == net_type, NetworkSegmentRange.shared.is_(True),
        NetworkSegmentRange.default.is_(False))
    others = select(NetworkSegmentRange.physical_network, NetworkSegmentRange.minimum,
                    NetworkSegmentRange.maximum).where(
        NetworkSegmentRange.network_type == net_type,
        NetworkSegmentRange.project_id.is_not(None))
    if project_id:
        others = others.where(NetworkSegmentRange.project_id != project_id)
    if physnet is not None:
        shared = shared.where(NetworkSegmentRange.physical_network == physnet)
        others = others.where(NetworkSegmentRange.physical_network == physnet)
    for r in session.execute(shared.order_by(NetworkSegmentRange.minimum)):
        found[r.physical_network].append((r.minimum, r.maximum))
    holes: dict[str, list[Span]] = defaultdict(list)
    for r in session.execute(others):
        holes[r.physical_network].append((r.minimum, r.maximum))
    return {net: subtract(spans, holes.get(net, [])) for net, spans in found.items()}


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """``spans`` without any id of ``holes``, order kept: ``[(1, 10)] - [(3, 4)]`` ->
    ``[(1, 2), (5, 10)]``."""
    for h_lo, h_hi in holes:
        cut: list[Span] = []
        for lo, hi in spans:
            if h_hi < lo or h_lo > hi:
                cut.append((lo, hi))
                continue
            if lo < h_lo:
                cut.append((lo, h_lo - 1))
            if h_hi < hi:
                cut.append((h_hi + 1, hi))
        spans = cut
    return spans


# --- the resource ---------------------------------------------------------------------

SPEC = listing.ResourceSpec(
    id_column=NetworkSegmentRange.id,
    filters={
        "id": listing.eq(NetworkSegmentRange.id),
        "name": listing.eq(NetworkSegmentRange.name),
        "description": listing.eq(NetworkSegmentRange.description),
        "project_id": listing.eq(NetworkSegmentRange.project_id),
        "tenant_id": listing.eq(NetworkSegmentRange.project_id),
        "network_type": listing.eq(NetworkSegmentRange.network_type),
        "physical_network": listing.eq(NetworkSegmentRange.physical_network),
        "default": listing.eq(NetworkSegmentRange.default, listing.to_bool),
        "shared": listing.eq(NetworkSegmentRange.shared, listing.to_bool),
        "minimum": listing.eq(NetworkSegmentRange.minimum, listing.to_int),
        "maximum": listing.eq(NetworkSegmentRange.maximum, listing.to_int),
        "revision_number": listing.eq(NetworkSegmentRange.revision_number, listing.to_int),
        "created_at": listing.eq(NetworkSegmentRange.created_at),
        "updated_at": listing.eq(NetworkSegmentRange.updated_at),
    },
    sort_keys={k: getattr(NetworkSegmentRange, k) for k in _COLUMNS}
    | {"tenant_id": NetworkSegmentRange.project_id},
    not_found=NetworkSegmentRangeNotFound,
)
# neither filters nor sorts (computed): used, available, tags (tag filters apply)
COMPUTED = ("used", "available", "tags")


def create_network_segment_ranges(env: Env, ctx: Context,
                                  items: list[dict[str, Any]]) -> listing.Written:
    """Create ranges (``NetworkSegmentRangeCreate`` dicts), all or nothing, and return
    the new rows (the API renders them: ``api/wire/segment_ranges.py``). Admin only
    (403). A range that is not shared belongs to ``project_id`` (default: the caller's,
    as Neutron fills it in). Raises NetworkSegmentRangeNetTypeNotSupported (vxlan, gre),
    InvalidInput (vlan without a known physical network), NetworkVlanRangeError /
    NetworkTunnelRangeError (400), NetworkSegmentRangeOverlaps (409: another non-default
    range of the same type and physical network shares an id)."""
    policy.require(ctx, "create_network_segment_range")
    for data in items:
        if data["network_type"] not in SUPPORTED:
            raise NetworkSegmentRangeNetTypeNotSupported(data["network_type"])
        if data["network_type"] == VLAN:
            physnet = data.get("physical_network")
            if not physnet:
                raise errors.BadRequest("Network type vlan requires 'physical_network' to be "
                                        "specified while creating new range")
            if physnet not in env.settings.vlan_ranges():
                raise errors.InvalidInput(f"Invalid input for operation: physical_network "
                                          f"'{physnet}' unknown for VLAN provider network.")
        _check_span(data["network_type"], (data["minimum"], data["maximum"]))

    def run(session: Session) -> listing.Written:
        rows = []
        for data in items:
            shared = data.get("shared", True)
            project = None if shared else common.owner_project(ctx, data)
            if not shared and not project:
                raise errors.InvalidInput("Invalid input for operation: a network segment "
                                          "range that is not shared requires project_id.")
            physnet = data["physical_network"] if data["network_type"] == VLAN else ""
            stamp = common.now()
            row = NetworkSegmentRange(
                id=common.new_id(), project_id=project, name=data.get("name") or "",
                description=data.get("description") or "", default=False, shared=shared,
                network_type=data["network_type"], physical_network=physnet,
                minimum=data["minimum"], maximum=data["maximum"], created_at=stamp,
                updated_at=stamp, revision_number=1)
            _check_overlap(session, row)
            session.add(row)
            session.flush()
            rows.append(row)
        return listing.Written(rows)
    return env.db.run(run)


def update_network_segment_range(env: Env, ctx: Context, range_id: str, data: dict[str, Any],
                                 if_match: int | None = None) -> listing.Written:
    """Change ``name``, ``description``, ``minimum``, ``maximum``; returns the row.
    Admin only (403).
    Raises NetworkSegmentRangeNotFound, NetworkSegmentRangeDefaultReadOnly (400),
    NetworkSegmentRangeReferencedByProject (409: a segment inside the range would fall
    outside it), range errors (400) and NetworkSegmentRangeOverlaps (409)."""
    policy.require(ctx, "update_network_segment_range")

    def run(session: Session) -> listing.Written:
        row = find_visible(session, ctx, range_id)
        common.check_if_match(row, if_match)
        if row.default:
            raise NetworkSegmentRangeDefaultReadOnly(row.id)
        lo = row.minimum if data.get("minimum") is None else data["minimum"]
        hi = row.maximum if data.get("maximum") is None else data["maximum"]
        _check_span(row.network_type, (lo, hi))
        used = session.execute(select(func.min(NetworkSegment.segmentation_id),
                                      func.max(NetworkSegment.segmentation_id))
                               .where(*_segments_in(row))).one()
        if used[0] is not None and (lo > used[0] or hi < used[1]):
            raise NetworkSegmentRangeReferencedByProject(row.id)
        changes = {k: v for k, v in data.items() if k in ("name", "description")}
        changes.update(minimum=lo, maximum=hi)
        if common.apply_changes(row, changes):
            _check_overlap(session, row)
            common.touch(row)
        session.flush()
        return listing.Written([row])
    return env.db.run(run)


def delete_network_segment_range(env: Env, ctx: Context, range_id: str,
                                 if_match: int | None = None) -> None:
    """Delete a range and its tags. Admin only (403). Raises NetworkSegmentRangeNotFound,
    NetworkSegmentRangeDefaultReadOnly (400), NetworkSegmentRangeReferencedByProject
    (409) while a segment takes an id inside it."""
    policy.require(ctx, "delete_network_segment_range")

    def run(session: Session) -> None:
        row = find_visible(session, ctx, range_id)
        common.check_if_match(row, if_match)
        if row.default:
            raise NetworkSegmentRangeDefaultReadOnly(row.id)
        if session.scalar(select(NetworkSegment.id).where(*_segments_in(row)).limit(1)):
            raise NetworkSegmentRangeReferencedByProject(row.id)
        common.delete_tags(session, [row.id])
        session.delete(row)
    env.db.run(run)


def find_visible(session: Session, ctx: Context, range_id: str) -> NetworkSegmentRange:
    """The range; NetworkSegmentRangeNotFound when absent or the caller is not admin
    (also the finder of the tags sub-resource)."""
    row = session.get(NetworkSegmentRange, range_id)
    if row is None or not ctx.is_admin:
        raise NetworkSegmentRangeNotFound(range_id)
    return row


def used_ids(session: Session, row: Any) -> dict[str, str]:
    """``{"<segmentation id>": project_id}`` of the segments in the range (``row``: a
    range or a row with its ``network_type``, ``physical_network``, ``minimum`` and
    ``maximum``), in id order; one query."""
    return {str(seg): project for seg, project in session.execute(
        select(NetworkSegment.segmentation_id, Network.project_id)
        .join(Network, Network.id == NetworkSegment.network_id)
        .where(*_segments_in(row)).order_by(NetworkSegment.segmentation_id))}


def available_ids(session: Session, row: Any) -> list[int]:
    """The lowest free ids of the range (``row`` as for :func:`used_ids`), at most
    AVAILABLE_LIMIT, read window by window (each window of AVAILABLE_LIMIT ids costs one
    query of at most that many rows)."""
    free: list[int] = []
    lo = row.minimum
    while lo <= row.maximum and len(free) < AVAILABLE_LIMIT:
        hi = min(row.maximum, lo + AVAILABLE_LIMIT - 1)
        taken = set(session.scalars(select(NetworkSegment.segmentation_id).where(
            *_segments_in(row, lo, hi))))
        free.extend(i for i in range(lo, hi + 1) if i not in taken)
        lo = hi + 1
    return free[:AVAILABLE_LIMIT]


def _segments_in(row: Any, lo: int | None = None, hi: int | None = None):
    """WHERE clauses: segments of the range's type and physical network with an id in
    ``lo``..``hi`` (default: the range's own bounds)."""
    physnet = (NetworkSegment.physical_network == row.physical_network if row.network_type == VLAN
               else NetworkSegment.physical_network.is_(None))
    return (NetworkSegment.network_type == row.network_type, physnet,
            NetworkSegment.segmentation_id.between(row.minimum if lo is None else lo,
                                                   row.maximum if hi is None else hi))


def _check_span(net_type: str, span: Span) -> None:
    """neutron-lib's ``verify_vlan_range`` / ``verify_tunnel_range``."""
    top = MAX_VLAN if net_type == VLAN else MAX_VNI
    for ident in span:
        if not isinstance(ident, int) or not 1 <= ident <= top:
            if net_type == VLAN:
                raise NetworkVlanRangeError(span, f"{ident} is not a valid VLAN tag")
            raise NetworkTunnelRangeError(span, f"{ident} is not a valid {net_type} identifier")
    if span[1] < span[0]:
        if net_type == VLAN:
            raise NetworkVlanRangeError(span, "End of VLAN range is less than start of VLAN range")
        raise NetworkTunnelRangeError(span, "End of tunnel range is less than start of tunnel "
                                            "range")


def _check_overlap(session: Session, row: NetworkSegmentRange) -> None:
    """NetworkSegmentRangeOverlaps unless no other non-default range of the same type and
    physical network shares an id with ``row`` (defaults may be overlapped, as in Neutron)."""
    clash = list(session.scalars(select(NetworkSegmentRange.id).where(
        NetworkSegmentRange.default.is_(False), NetworkSegmentRange.id != row.id,
        NetworkSegmentRange.network_type == row.network_type,
        NetworkSegmentRange.physical_network == row.physical_network,
        NetworkSegmentRange.minimum <= row.maximum, NetworkSegmentRange.maximum >= row.minimum)
        .order_by(NetworkSegmentRange.id)))
    if clash:
        raise NetworkSegmentRangeOverlaps(clash)

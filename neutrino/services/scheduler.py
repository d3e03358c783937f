"""The network scheduler: choose the network for new ports (seed 004; reference B.8, B.10).

A boot that names no network gets one with enough free addresses among the
project's own and shared networks, never ``router:external`` ones. Free
addresses are counted exactly as ``network-ip-availability`` counts them
(``ip_availability.subnet_usage``: pool addresses not allocated), over the
network's DHCP-enabled subnets an instance's port may use (no service types, or a
``compute:`` one). A port takes one address of each kind the network offers (IPv4,
stateful IPv6, SLAAC), so a network's free count is the smallest of its kinds'. Candidates are ranked by the configured
policy (``Settings.scheduler_policy``):

* ``pack``: name order, first that fits (what seed 004's operators did);
* ``spread``: most free addresses first;
* ``balanced``: lowest utilisation (used / total) first.

Ties go by name, then id. On the chosen network (and on any network Nova
attaches a boot to), the same policy picks the subnet: ``services.subnet_scheduler``
(``pack`` there is the fullest subnet with room first). ``schedule_ports`` creates ports on the first candidate
and, when a racer took its last addresses (IpAddressGenerationFailure), on the
next: every attempt is its own transaction (``ports.create_ports``), so a
failed one leaves nothing behind, and no caller gets a 409 while another
candidate has room. When nothing fits, AutoAllocationFailure (409) says why.

When nothing fits and the operator enabled ``auto_allocate_create``, a
topology is built for the project (``services.auto_allocate``); the new network is an
ordinary candidate from then on.

Not supported yet: placement by host or segment (routed networks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors, policy
from neutrino.db.models import Network, Subnet
from neutrino.services import (auto_allocate, common, ip_availability, networks, ports, rbac,
                               subnet_scheduler)
from neutrino.services.quotas import check_quota
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.ip_availability import SubnetUsage
from neutrino.services.listing import Written

LOG = logging.getLogger(__name__)

POLICIES = ("pack", "spread", "balanced")
DRY_RUN = "dry-run"
# Rounds of (rank, try every candidate) before giving up: a round fails only when
# racers took every candidate's last addresses between ranking and creating.
ROUNDS = 3
_MESSAGE_NETWORKS = 10  # networks named in an error message at most


@dataclass(frozen=True)
class Constraints:
    """What the caller asks of the network.

    ``count``: ports to place (all on one network); ``tags``: tags the network must
    all carry (e.g. ``purpose=dev``), besides the configured ``scheduler_required_tag``;
    ``ip_version``: 4 or 6, count only subnets of that version (as the
    ``ip_version`` filter of network-ip-availability), which the network must have.
    """

    count: int = 1
    tags: tuple[str, ...] = ()
    ip_version: int | None = None


@dataclass
class Candidate:
    """One network as the scheduler sees it. ``rank`` (1 = chosen) is None when the
    network is excluded; ``reasons`` then says why. ``free_ips``/``used_ips``/
    ``total_ips`` are those of the network's scarcest kind of address."""

    network_id: str
    network_name: str
    project_id: str
    shared: bool
    router_external: bool
    tags: list[str]
    free_ips: int = 0
    used_ips: int = 0
    total_ips: int = 0
    reasons: list[str] = field(default_factory=list)
    rank: int | None = None
    # [{"subnet_id": ...}] when the port must be kept off DHCP-disabled subnets
    fixed_ips: list[dict[str, str]] | None = None

    @property
    def utilization(self) -> float:
        """Share of the pools' addresses taken (allocations outside the pools aside)."""
        return (self.total_ips - self.free_ips) / self.total_ips if self.total_ips else 1.0


def list_candidates(env: Env, ctx: Context, constraints: Constraints,
                    project_id: str | None = None) -> list[Candidate]:
    """Every network ``project_id`` (default: the caller's; another needs admin) may
    put ports on or sees, ranked: eligible ones by rank, then excluded ones by name.

    Raises PolicyNotAuthorized (403) for another project without admin.
    """
    project = _project(ctx, project_id, "get_network_candidates")

    def run(session: Session) -> list[Candidate]:
        return rank_networks(session, env, project, constraints)
    return env.db.run(run, write=False)


def schedule_ports(env: Env, ctx: Context, items: list[dict[str, Any]],
                   constraints: Constraints = Constraints()) -> Written:
    """Create ports ``items`` (validated PortCreate dicts without ``network_id`` or
    ``fixed_ips``) all on one network chosen by the scheduler; return what
    ``ports.create_ports`` wrote.

    ``constraints.count`` is taken from ``len(items)``. Each candidate is tried in
    its own transaction, in rank order, until one has room. Raises
    AutoAllocationFailure (409) when none has, BadRequest when the items name
    different projects, and the errors of ``ports.create_ports`` (OverQuota, ...).
    """
    projects = {common.owner_project(ctx, data) for data in items}
    if len(projects) != 1:
        raise errors.BadRequest("Ports scheduled together must belong to one project")
    project = projects.pop()
    constraints = Constraints(len(items), constraints.tags, constraints.ip_version)
    _check_port_quota(env, project, len(items))
    built = False
    for _ in range(ROUNDS):
        candidates = env.db.run(lambda s: rank_networks(s, env, project, constraints), write=False)
        chosen = [c for c in candidates if c.rank is not None]
        if not chosen:
            if built or not _may_build(env, constraints):
                break
            auto_allocate.build_topology(env, project)
            built = True
            continue
        for cand in chosen:
            pin = {"fixed_ips": cand.fixed_ips} if cand.fixed_ips else {}
            try:
                return ports.create_ports(
                    env, ctx, [{**data, **pin, "network_id": cand.network_id} for data in items])
            except errors.IpAddressGenerationFailure:
                LOG.debug("network %s filled up while scheduling; trying the next", cand.network_id)
    raise errors.AutoAllocationFailure(why_nothing_fits(candidates, project, constraints.count))


def auto_allocated_topology(env: Env, ctx: Context, project_id: str,
                            fields: list[str] | None = None) -> tuple[str | None, str]:
    """``GET /v2.0/auto-allocated-topology/{project_id}`` (reference B.10): ``(network
    id, project id)``, the network a port of the project would be scheduled on.

    ``project_id`` ``"None"`` means the caller's. ``fields=["dry-run"]`` only checks
    that one can be had (the network id is then ``"dry-run=pass"``); other fields are a
    BadRequest, as Neutron. Raises NotAuthorized (403) for another project
    without admin, AutoAllocationFailure (409) when no network fits.
    """
    project_id = _topology_project(ctx, project_id)
    fields = fields or []
    if fields and DRY_RUN not in fields:
        raise errors.BadRequest("Bad auto_allocate request: Unrecognized field.")

    def run(session: Session) -> list[Candidate]:
        return rank_networks(session, env, project_id, Constraints())
    _check_port_quota(env, project_id, 1)
    candidates = env.db.run(run, write=False)
    chosen = next((c for c in candidates if c.rank == 1), None)
    if chosen is not None:
        network_id = chosen.network_id
    elif _may_build(env, Constraints()):
        network_id = None if DRY_RUN in fields else auto_allocate.build_topology(env, project_id)
    else:
        raise errors.AutoAllocationFailure(why_nothing_fits(candidates, project_id, 1))
    network_id = "dry-run=pass" if DRY_RUN in fields else network_id
    return network_id, project_id


def _check_port_quota(env: Env, project: str, count: int) -> None:
    """OverQuota (409) when ``project`` cannot have ``count`` more ports: checked
    before anything is chosen or built, so a boot over quota fails at once rather than
    after its network was placed (seed 004's scheduler counted the quota too)."""
    env.db.run(lambda session: check_quota(session, env, project, "port", count), write=False)


def _may_build(env: Env, constraints: Constraints) -> bool:
    """Whether a built network would serve: enabled, and nothing asked of it that
    a fresh IPv4 /24 without tags cannot give."""
    return (env.settings.auto_allocate_create and not constraints.tags
            and not env.settings.scheduler_required_tag and constraints.ip_version in (None, 4)
            and constraints.count <= 250)


def delete_auto_allocated_topology(env: Env, ctx: Context, project_id: str) -> None:
    """``DELETE /v2.0/auto-allocated-topology/{project_id}``: built networks are
    ordinary networks the project deletes like any other, so this removes
    nothing (Neutron answers 204 when there is nothing either).
    Raises NotAuthorized (403) for another project without admin."""
    _topology_project(ctx, project_id)


def rank_networks(session: Session, env: Env, project: str,
                  constraints: Constraints) -> list[Candidate]:
    """Rank the networks ``project`` sees (own, shared, external) for ``constraints``
    by ``env.settings.scheduler_policy``; eligible first by rank, then excluded by name.
    Three queries: networks, their tags, their subnets' usage (and the subnets' tags
    with ``scheduler_required_tag``)."""
    caller = Context(project)
    stmt = (select(Network.id, Network.name, Network.project_id,
                   rbac.shared_for(caller).label("shared"),
                   rbac.external_for(caller).label("router_external"), Network.admin_state_up)
            .where(networks.visible(caller))
            .order_by(Network.name, Network.id))
    nets = session.execute(stmt).all()
    ids = stmt.with_only_columns(Network.id).order_by(None)
    tags = common.tags_of(session, ids) if nets else {}
    usage = ip_availability.subnet_usage(session, ids) if nets else {}
    settings = env.settings
    required = [t for t in (settings.scheduler_required_tag, *constraints.tags) if t]
    subnet_tags = (common.tags_of(session, select(Subnet.id).where(Subnet.network_id.in_(ids)))
                   if nets and settings.scheduler_required_tag else {})
    candidates = []
    for net in nets:
        cand = Candidate(net.id, net.name, net.project_id, net.shared, net.router_external,
                         tags.get(net.id, []))
        _judge(cand, net.admin_state_up, usage.get(net.id, []), required, constraints,
               _SubnetChoice(subnet_tags, settings.scheduler_required_tag,
                             settings.scheduler_policy))
        candidates.append(cand)
    eligible = sorted((c for c in candidates if not c.reasons),
                      key=_POLICY_KEYS[settings.scheduler_policy])
    for rank, cand in enumerate(eligible, 1):
        cand.rank = rank
    return eligible + [c for c in candidates if c.reasons]


def network_capacity(session: Session) -> list[Candidate]:
    """Every network the scheduler may place a port on, of every project, with its
    ``free_ips``/``used_ips``/``total_ips`` as the scheduler counts them (the scarcest
    kind of address over the DHCP-enabled subnets an instance's port may use), by id.
    Networks it never considers are left out: ``router:external`` ones and those
    without such a subnet. Tags and ``admin_state_up`` are not judged. Two queries; what
    the ``neutrino_network_free_ips`` gauge reports (``metrics.database``)."""
    nets = session.execute(select(Network.id, Network.name, Network.project_id)
                           .where(Network.router_external.is_(False))
                           .order_by(Network.id)).all()
    if not nets:
        return []
    usage = ip_availability.subnet_usage(
        session, select(Network.id).where(Network.router_external.is_(False)))
    result = []
    for net in nets:
        counts = _scarcest(_kinds(_usable(usage.get(net.id, []))), None)
        if counts is not None:
            cand = Candidate(net.id, net.name, net.project_id, False, False, [])
            cand.free_ips, cand.used_ips, cand.total_ips = counts
            result.append(cand)
    return result


def why_nothing_fits(candidates: list[Candidate], project: str, count: int) -> str:
    """The reason for AutoAllocationFailure: no candidate network at all, or all full."""
    wanted = f"{count} free address{'es' if count != 1 else ''}"
    if not candidates:
        return f"No network for project {project}: it has no network and none is shared"
    if any(c.rank is not None for c in candidates):  # fitted, then racers filled them
        return f"The candidate networks of project {project} filled up while scheduling {wanted}"
    full = [c for c in candidates if c.reasons and all(r.startswith("full") for r in c.reasons)]
    if full:
        listed = [f"{c.network_name or c.network_id} has {c.free_ips} of {c.total_ips}" for c in full]
        return (f"All candidate networks of project {project} are full ({wanted} needed): "
                + _some(listed))
    listed = [f"{c.network_name or c.network_id}: {'; '.join(c.reasons)}" for c in candidates]
    return f"No candidate network for project {project}: " + _some(listed)


# --- internals ---------------------------------------------------------------

def _project(ctx: Context, project_id: str | None, action: str) -> str:
    if project_id is None or project_id == ctx.project_id:
        return ctx.project_id
    policy.require(ctx, action)
    return project_id


def _topology_project(ctx: Context, project_id: str) -> str:
    """Neutron's ``_validate``: ``"None"`` is the caller's project; another needs admin."""
    if project_id == "None":
        project_id = ctx.project_id
    if not ctx.is_admin and project_id != ctx.project_id:
        raise errors.NotAuthorized("Not authorized.")
    return project_id


@dataclass(frozen=True)
class _SubnetChoice:
    """How ``services.subnet_scheduler`` will pick a port's subnet on a network:
    ``{subnet_id: tags}``, ``scheduler_required_tag``, ``scheduler_policy``."""

    tags: dict[str, list[str]] = field(default_factory=dict)
    required_tag: str = ""
    policy: str = "pack"


def _judge(cand: Candidate, admin_state_up: bool, subnets: list[SubnetUsage],
           required_tags: list[str], constraints: Constraints,
           choice: _SubnetChoice = _SubnetChoice()) -> None:
    """Fill ``cand``'s counts and the reasons it is excluded (none: eligible). Free
    addresses are counted over the subnets a port would use (a kind's subnets tagged
    ``scheduler_required_tag`` when it has any, ``subnet_scheduler.keep_tagged``)."""
    if cand.router_external:
        cand.reasons.append("router:external network (for router gateways and floating IPs)")
        return
    if not admin_state_up:
        cand.reasons.append("admin_state_up is false")
    missing = [t for t in required_tags if t not in cand.tags]
    if missing:
        cand.reasons.append(f"missing tag{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    version = constraints.ip_version
    subnets = _usable(subnets)
    if choice.required_tag:
        kept = {s.id for k in ("4", "6") for s in subnet_scheduler.keep_tagged(
            [s for s in subnets if _kind(s) == k], choice.tags, choice.required_tag)}
        subnets = [s for s in subnets if s.id in kept or _kind(s) == "6-auto"]
    kinds = _kinds(subnets)
    counts = _scarcest(kinds, version)
    if counts is None:
        cand.reasons.append(f"no DHCP-enabled {f'IPv{version} ' if version else ''}subnet")
        return
    cand.free_ips, cand.used_ips, cand.total_ips = counts
    if cand.free_ips < constraints.count:
        cand.reasons.append(f"full: {cand.free_ips} free address{'es' if cand.free_ips != 1 else ''}"
                            f", {constraints.count} needed")
    cand.fixed_ips = _pinned_fixed_ips(subnets, kinds, choice.policy, constraints.count)


def _usable(subnets: list[SubnetUsage]) -> list[SubnetUsage]:
    """The subnets an instance's port can use: no service types, or one open to compute:*."""
    return [s for s in subnets if not s.service_types
            or any(t.startswith(c.DEVICE_OWNER_COMPUTE_PREFIX) for t in s.service_types)]


def _kinds(subnets: list[SubnetUsage]) -> dict[str, list[SubnetUsage]]:
    """DHCP-enabled ``subnets`` by the kind of address a port takes from them."""
    kinds: dict[str, list[SubnetUsage]] = {}
    for s in subnets:
        if s.enable_dhcp:
            kinds.setdefault(_kind(s), []).append(s)
    return kinds


def _scarcest(kinds: dict[str, list[SubnetUsage]],
              version: int | None) -> tuple[int, int, int] | None:
    """(free, used, total) of the scarcest kind of address (of IP ``version`` if given):
    what bounds how many ports fit; None when the network offers no such kind."""
    counted = [group for kind, group in kinds.items() if version in (None, int(kind[0]))]
    if not counted:
        return None
    return min((sum(s.free_ips for s in group), sum(s.used_ips for s in group),
                sum(s.total_ips for s in group)) for group in counted)


def _kind(s: SubnetUsage) -> str:
    """Which address of a port comes from this subnet: ``4``, ``6`` (stateful, one per
    port) or ``6-auto`` (SLAAC/DHCPv6-stateless: the EUI-64 address on each)."""
    if s.ip_version == 4:
        return "4"
    auto = s.ipv6_address_mode in c.AUTO_ADDRESS_MODES or (
        s.ipv6_address_mode is None and s.ipv6_ra_mode in c.AUTO_ADDRESS_MODES)
    return "6-auto" if auto else "6"


def _pinned_fixed_ips(subnets: list[SubnetUsage], kinds: dict[str, list[SubnetUsage]],
                      policy: str = "spread", count: int = 1) -> list[dict[str, str]] | None:
    """None when the default allocation (C.2) can only draw from DHCP-enabled
    subnets; else the subnets to ask for: per one-address kind, the DHCP-enabled
    subnet with room for ``count`` ports the policy puts first
    (``subnet_scheduler.policy_key``), plus every SLAAC subnet (as the default)."""
    if all(s.enable_dhcp for s in subnets if _kind(s) != "6-auto"):
        return None
    key = subnet_scheduler.policy_key(policy)
    pinned = [min([s for s in kinds[k] if s.free_ips >= count] or kinds[k], key=key).id
              for k in ("4", "6") if k in kinds]
    pinned += [s.id for s in subnets if _kind(s) == "6-auto"]
    return [{"subnet_id": sid} for sid in pinned]


def _some(items: list[str]) -> str:
    more = len(items) - _MESSAGE_NETWORKS
    return ", ".join(items[:_MESSAGE_NETWORKS]) + (f" and {more} more" if more > 0 else "")


_POLICY_KEYS = {
    "pack": lambda c: (c.network_name, c.network_id),
    "spread": lambda c: (-c.free_ips, c.network_name, c.network_id),
    "balanced": lambda c: (c.utilization, c.network_name, c.network_id),
}

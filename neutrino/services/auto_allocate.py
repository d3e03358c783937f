"""The auto-allocated topology: a network built for a project when the scheduler finds
none that fits (Neutron's ``auto_allocate`` service, reference B.10).

When nothing fits and the operator enabled ``auto_allocate_create``, a topology is built
for the project (:func:`build_topology`): the network ``auto_allocated_network`` with a
/24 carved from ``auto_allocate_cidrs`` that overlaps none of the project's subnets,
behind the project's ``auto_allocated_router`` (made on first need, its gateway on the
configured external network). Neutron builds the same names from default subnet pools
onto its ``is_default`` external network; neutrino has no subnet pools, so the range is
configured. The new network is an ordinary candidate of ``services.scheduler`` from then
on: nothing else records it. Errors: AutoAllocationFailure (409).
"""

from __future__ import annotations

import ipaddress
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.config import AUTO_ALLOCATE_PREFIXLEN
from neutrino.db.models import Network, Router, Subnet
from neutrino.services import networks, routers, subnets
from neutrino.services.context import Context
from neutrino.services.env import Env

LOG = logging.getLogger(__name__)

AUTO_NETWORK, AUTO_ROUTER = "auto_allocated_network", "auto_allocated_router"


def build_topology(env: Env, project: str) -> str:
    """Build a network for ``project`` when nothing fits (``auto_allocate_create``):
    ``auto_allocated_network`` with a /24 of ``auto_allocate_cidrs`` overlapping none
    of the project's subnets, attached to the project's ``auto_allocated_router``
    (created with its gateway on the external network when there is one). Returns
    the network id. Each step is its own transaction; a failure removes what the
    call made. Raises AutoAllocationFailure when the ranges are used up or the
    configured external network does not exist, and the services' errors.
    """
    ctx = Context.admin(project)
    made: list[tuple[str, str]] = []  # (kind, id), undone in reverse on failure
    try:
        cidr, external_id, router_id = env.db.run(lambda s: plan(s, env, project),
                                                  write=False)
        net_id = networks.create_networks(
            env, ctx, [{"name": AUTO_NETWORK, "project_id": project}]).objects[0].id
        made.append(("network", net_id))
        subnet_id = subnets.create_subnets(env, ctx, [{
            "network_id": net_id, "name": AUTO_NETWORK, "cidr": cidr, "ip_version": 4,
            "project_id": project}]).objects[0].id
        if external_id is not None:
            if router_id is None:
                router_id = routers.create_routers(env, ctx, [{
                    "name": AUTO_ROUTER, "project_id": project,
                    "external_gateway_info": {"network_id": external_id}}]).objects[0].id
                made.append(("router", router_id))
            routers.add_router_interface(env, ctx, router_id, {"subnet_id": subnet_id})
            made.append(("interface", router_id + " " + subnet_id))
        LOG.info("built %s %s (%s) for project %s", AUTO_NETWORK, net_id, cidr, project)
        return net_id
    except Exception:
        for kind, rid in reversed(made):
            try:
                if kind == "interface":
                    router, sub = rid.split()
                    routers.remove_router_interface(env, ctx, router, {"subnet_id": sub})
                elif kind == "router":
                    routers.delete_router(env, ctx, rid)
                else:
                    networks.delete_network(env, ctx, rid)
            except errors.NeutronError:
                LOG.exception("could not undo %s %s of a failed auto-allocation", kind, rid)
        raise


def plan(session: Session, env: Env, project: str) -> tuple[str, str | None, str | None]:
    """What :func:`build_topology` makes, read in one transaction: (the /24 to use, the
    external network id or None, the project's existing auto_allocated_router id or
    None). Raises AutoAllocationFailure when no /24 is free or
    ``auto_allocate_external_network`` names not exactly one external network."""
    taken = [ipaddress.ip_network(c) for c in session.scalars(
        select(Subnet.cidr).where(Subnet.project_id == project, Subnet.ip_version == 4))]
    cidr = None
    for block in env.settings.auto_allocate_cidrs.split(","):
        if not block.strip():
            continue
        for candidate in ipaddress.ip_network(block.strip()).subnets(new_prefix=AUTO_ALLOCATE_PREFIXLEN):
            if not any(candidate.overlaps(t) for t in taken):
                cidr = str(candidate)
                break
        if cidr:
            break
    if cidr is None:
        raise errors.AutoAllocationFailure(
            f"No free /{AUTO_ALLOCATE_PREFIXLEN} left in auto_allocate_cidrs "
            f"{env.settings.auto_allocate_cidrs} for project {project}")
    wanted = env.settings.auto_allocate_external_network
    externals = session.execute(select(Network.id, Network.name, Network.is_default)
                                .where(Network.router_external.is_(True))).all()
    if wanted:
        match = [n.id for n in externals if wanted in (n.id, n.name)]
        if len(match) != 1:
            raise errors.AutoAllocationFailure(f"auto_allocate_external_network {wanted} names "
                                               f"{len(match)} external networks, not one")
        external_id = match[0]
    else:  # the admin's default external network (is_default), as Neutron's, else the only one
        default = [n.id for n in externals if n.is_default]
        external_id = default[0] if default else (externals[0].id if len(externals) == 1
                                                   else None)
    router_id = session.scalar(select(Router.id).where(
        Router.project_id == project, Router.name == AUTO_ROUTER).order_by(Router.created_at)
        .limit(1))
    return cidr, external_id, router_id

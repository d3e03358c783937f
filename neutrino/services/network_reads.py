"""Networks as the API reads them: the domain rows of list and show with only the
columns and related data a request's ``fields=`` needs (``api/wire/networks.py``
renders them). Visibility and filters are ``services.networks``'. Errors: those of
``listing.apply_list_query``; NetworkNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import Network
from neutrino.services import address_scopes, common, listing, qos_bindings, rbac, segments
from neutrino.services.context import Context
from neutrino.services.networks import _caller_spec, find_visible, subnets_of, visible

# Related data a network's wire format may need, one query each (``rbac`` two): tags,
# subnets (also ``routed``: the networks with a subnet on a segment), provider (the
# segments, ``segments.provider_attributes``), scopes (address scope per IP version),
# rbac (``{"named", "external"}``, the caller's grants: ``rbac.caller_grants``), qos.
LOADS = ("tags", "subnets", "provider", "scopes", "rbac", "qos")


def _related(session: Session, ctx: Context, rows: list[Any], ids: Any,
             loads: set[str]) -> dict[str, Any]:
    related: dict[str, Any] = {}
    if "tags" in loads:
        related["tags"] = common.tags_of(session, ids)
    if "subnets" in loads:
        related["subnets"], related["routed"] = subnets_of(session, ids)
    if "provider" in loads:
        related["provider"] = segments.provider_attributes(session, ids)
    if "scopes" in loads:
        related["scopes"] = address_scopes.network_scopes(session, ids)
    if "rbac" in loads:
        named, external = rbac.caller_grants(session, ctx)
        related["rbac"] = {"named": named, "external": external}
    if "qos" in loads:
        related["qos"] = qos_bindings.policies_of(session, "network", ids)
    return related


# list and show; raise what ``listing.apply_list_query`` raises, NetworkNotFound (404)
READER = listing.Reader(Network, lambda ctx, env: _caller_spec(ctx), find_visible, visible,
                        _related)

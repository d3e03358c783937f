"""Service flavors and service profiles (extension ``flavors``; neutron/db/flavors_db.py).

Bookkeeping, as Neutron's ``FlavorsDbMixin``, and a router's ``flavor_id`` (extension
``l3-flavors``): :func:`check_router_flavor` finds the flavor's provider as Neutron's
``get_flavor_next_provider``; the only provider is ML2/OVN's ``ovn``, so a router with a
flavor is realised on OVN as any other. A flavor a router names cannot be deleted
(FlavorInUse, 409).

* flavor ``{id, name, description, service_type, enabled, service_profiles}``:
  ``service_type`` (create only) must be a service plugin type neutrino has,
  :data:`SERVICE_TYPES` (neutron-lib ``type:service_plugin_type``: InvalidInput, 400).
* service profile ``{id, description, driver, enabled, metainfo, flavors}``: a non-empty
  ``driver`` must be a loaded provider's, :data:`DRIVERS` (ServiceProfileDriverNotFound,
  404); without a driver it needs ``metainfo`` (ServiceProfileEmpty, 400). A profile
  bound to a flavor cannot change or go (ServiceProfileInUse, 409).
* ``POST /flavors/{id}/service_profiles`` ``{"service_profile": {"id"}}`` binds
  (FlavorServiceProfileBindingExists, 409), ``DELETE .../{profile id}`` unbinds
  (FlavorServiceProfileBindingNotFound, 404).

No project: flavors are global (Neutron's tables have no project_id).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import Flavor, FlavorServiceProfileBinding as Binding, Router, ServiceProfile
from neutrino.services import common, listing
from neutrino.services.context import Context
from neutrino.services.env import Env

# The service plugin types ML2/OVN's gate has that neutrino implements.
SERVICE_TYPES = frozenset({"L3_ROUTER_NAT", "FLAVORS"})
# Provider drivers (Neutron's service providers): ML2/OVN's L3 provider.
DRIVERS = frozenset({"neutron.services.ovn_l3.service_providers.ovn.OvnDriver"})

FLAVOR_SPEC = listing.ResourceSpec(
    id_column=Flavor.id,
    filters={"id": listing.eq(Flavor.id), "name": listing.eq(Flavor.name),
             "description": listing.eq(Flavor.description),
             "service_type": listing.eq(Flavor.service_type),
             "enabled": listing.eq(Flavor.enabled, listing.to_bool)},
    sort_keys={k: getattr(Flavor, k) for k in ("id", "name", "description", "service_type",
                                                "enabled")},
    not_found=errors.FlavorNotFound)
PROFILE_SPEC = listing.ResourceSpec(
    id_column=ServiceProfile.id,
    filters={"id": listing.eq(ServiceProfile.id),
             "description": listing.eq(ServiceProfile.description),
             "driver": listing.eq(ServiceProfile.driver),
             "enabled": listing.eq(ServiceProfile.enabled, listing.to_bool)},
    sort_keys={k: getattr(ServiceProfile, k) for k in ("id", "description", "driver",
                                                       "enabled", "metainfo")},
    not_found=errors.ServiceProfileNotFound)


# --- flavors ------------------------------------------------------------------------------

def create_flavors(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create flavors all-or-nothing from validated ``FlavorCreate`` dicts; returns the
    new rows, bound to no profile (the API renders them: ``api/wire/flavors.py``).
    InvalidInput (400) for an unknown ``service_type``."""
    for data in items:
        if data["service_type"] not in SERVICE_TYPES:
            raise errors.InvalidInput(f"Invalid input for service_type. Reason: Service "
                                      f"plugin type {data['service_type']} not found.")

    def run(session: Session) -> listing.Written:
        rows = [Flavor(id=common.new_id(), name=d.get("name", ""),
                       description=d.get("description") or "",
                       service_type=d["service_type"], enabled=d.get("enabled", True))
                for d in items]
        session.add_all(rows)
        session.flush()
        return listing.Written(rows, {"service_profiles": {}})
    return env.db.run(run)


def update_flavor(env: Env, ctx: Context, flavor_id: str, data: dict[str, Any],
                  if_match: int | None = None) -> listing.Written:
    """Change name, description, enabled; returns the row. FlavorNotFound (404)."""
    def run(session: Session) -> listing.Written:
        flavor = find_flavor(session, flavor_id)
        data.pop("service_profiles", None)  # allow_put, but Neutron's update ignores it
        if "description" in data and data["description"] is None:
            data["description"] = ""
        common.apply_changes(flavor, data)
        session.flush()
        return listing.Written([flavor])
    return env.db.run(run)


def delete_flavor(env: Env, ctx: Context, flavor_id: str, if_match: int | None = None) -> None:
    """Delete a flavor and its bindings; FlavorNotFound (404), FlavorInUse (409) while a
    router names it."""
    def run(session: Session) -> None:
        find_flavor(session, flavor_id)
        if session.scalar(select(Router.id).where(Router.flavor_id == flavor_id).limit(1)):
            raise errors.FlavorInUse(flavor_id)
        session.execute(delete(Binding).where(Binding.flavor_id == flavor_id))
        session.delete(find_flavor(session, flavor_id))
    env.db.run(run)


# --- service profiles ------------------------------------------------------------------------

def create_service_profiles(env: Env, ctx: Context,
                            items: list[dict[str, Any]]) -> listing.Written:
    """Create profiles from validated ``ServiceProfileCreate`` dicts; returns the new
    rows, bound to no flavor (the API renders them: ``api/wire/flavors.py``). Raises
    ServiceProfileDriverNotFound (404), ServiceProfileEmpty (400)."""
    for data in items:
        if data.get("driver"):
            _check_driver(data["driver"])
        elif not data.get("metainfo"):
            raise errors.ServiceProfileEmpty()

    def run(session: Session) -> listing.Written:
        rows = [ServiceProfile(id=common.new_id(), description=d.get("description") or "",
                               driver=d.get("driver", ""), enabled=d.get("enabled", True),
                               metainfo=d.get("metainfo", "")) for d in items]
        session.add_all(rows)
        session.flush()
        return listing.Written(rows, {"flavors": {}})
    return env.db.run(run)


def update_service_profile(env: Env, ctx: Context, sp_id: str, data: dict[str, Any],
                           if_match: int | None = None) -> listing.Written:
    """Change an unbound profile; returns the row (bound to no flavor). Raises
    ServiceProfileNotFound (404), ServiceProfileDriverNotFound (404),
    ServiceProfileInUse (409)."""
    if data.get("driver"):
        _check_driver(data["driver"])

    def run(session: Session) -> listing.Written:
        _check_unbound(session, sp_id)
        profile = find_profile(session, sp_id)
        if "description" in data and data["description"] is None:
            data["description"] = ""
        common.apply_changes(profile, data)
        session.flush()
        return listing.Written([profile], {"flavors": {}})
    return env.db.run(run)


def delete_service_profile(env: Env, ctx: Context, sp_id: str,
                           if_match: int | None = None) -> None:
    """Delete an unbound profile; ServiceProfileNotFound (404), ServiceProfileInUse (409)."""
    def run(session: Session) -> None:
        _check_unbound(session, sp_id)
        session.delete(find_profile(session, sp_id))
    env.db.run(run)


# --- bindings --------------------------------------------------------------------------------

def bind(env: Env, ctx: Context, flavor_id: str, sp_id: str) -> dict[str, Any]:
    """Bind profile ``sp_id`` to the flavor; ``{"id": sp_id}``. Raises FlavorNotFound,
    ServiceProfileNotFound (404), FlavorServiceProfileBindingExists (409)."""
    def run(session: Session) -> dict[str, Any]:
        find_flavor(session, flavor_id)
        find_profile(session, sp_id)
        if session.get(Binding, (flavor_id, sp_id)) is not None:
            raise errors.FlavorServiceProfileBindingExists(sp_id, flavor_id)
        session.add(Binding(flavor_id=flavor_id, service_profile_id=sp_id))
        return {"id": sp_id}
    return env.db.run(run)


def get_binding(env: Env, ctx: Context, flavor_id: str, sp_id: str) -> dict[str, Any]:
    """``{service_profile_id, flavor_id}``; FlavorServiceProfileBindingNotFound (404)."""
    def run(session: Session) -> dict[str, Any]:
        if session.get(Binding, (flavor_id, sp_id)) is None:
            raise errors.FlavorServiceProfileBindingNotFound(sp_id, flavor_id)
        return {"service_profile_id": sp_id, "flavor_id": flavor_id}
    return env.db.run(run, write=False)


def unbind(env: Env, ctx: Context, flavor_id: str, sp_id: str) -> None:
    """Unbind; FlavorServiceProfileBindingNotFound (404) when not bound."""
    def run(session: Session) -> None:
        binding = session.get(Binding, (flavor_id, sp_id))
        if binding is None:
            raise errors.FlavorServiceProfileBindingNotFound(sp_id, flavor_id)
        session.delete(binding)
    env.db.run(run)


def check_router_flavor(session: Session, flavor_id: str) -> str:
    """``flavor_id`` of a router being created, once its provider is found as
    Neutron's ``get_flavor_next_provider``: FlavorNotFound (404), no bound profile
    FlavorServiceProfileBindingNotFound (404), the first profile disabled
    ServiceProfileDisabled (503), its driver no provider's ServiceProfileDriverNotFound
    (404)."""
    find_flavor(session, flavor_id)
    first = session.scalar(select(Binding.service_profile_id).where(
        Binding.flavor_id == flavor_id).order_by(Binding.service_profile_id).limit(1))
    if first is None:
        raise errors.FlavorServiceProfileBindingNotFound("", flavor_id)
    profile = find_profile(session, first)
    if not profile.enabled:
        raise errors.ServiceProfileDisabled()
    _check_driver(profile.driver)
    return flavor_id


# --- internals -------------------------------------------------------------------------------

def find_flavor(session: Session, flavor_id: str) -> Flavor:
    """The flavor; FlavorNotFound (404)."""
    row = session.get(Flavor, flavor_id)
    if row is None:
        raise errors.FlavorNotFound(flavor_id)
    return row


def find_profile(session: Session, sp_id: str) -> ServiceProfile:
    """The service profile; ServiceProfileNotFound (404)."""
    row = session.get(ServiceProfile, sp_id)
    if row is None:
        raise errors.ServiceProfileNotFound(sp_id)
    return row


def _check_driver(driver: str) -> None:
    if driver not in DRIVERS:
        raise errors.ServiceProfileDriverNotFound(driver)


def _check_unbound(session: Session, sp_id: str) -> None:
    if session.scalar(select(Binding.flavor_id).where(
            Binding.service_profile_id == sp_id).limit(1)) is not None:
        raise errors.ServiceProfileInUse(sp_id)


def bound_ids(session: Session, column: Any, ids: list[str]) -> dict[str, list[str]]:
    """``{id: [the other side's bound ids, in order]}`` for ``ids`` of the side
    ``column`` (``Binding.flavor_id`` or ``Binding.service_profile_id``) names."""
    other = Binding.service_profile_id if column is Binding.flavor_id else Binding.flavor_id
    result: dict[str, list[str]] = {i: [] for i in ids}
    for key, value in session.execute(select(column, other).where(column.in_(ids))
                                      .order_by(other)):
        result[key].append(value)
    return result

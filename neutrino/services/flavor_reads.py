"""Flavors and service profiles as the API reads them: the domain rows of list and show
with only the columns and bindings a request's ``fields=`` needs
(``api/wire/flavors.py`` renders them). Filters are ``services.flavors``'; every
caller reads every row (flavors are global). Errors: those of
``listing.apply_list_query``; FlavorNotFound, ServiceProfileNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import Flavor, FlavorServiceProfileBinding as Binding, ServiceProfile
from neutrino.services import flavors, listing
from neutrino.services.context import Context

# service_profiles: {flavor id: [bound profile id]}
LOADS = ("service_profiles",)
# flavors: {profile id: [bound flavor id]}
PROFILE_LOADS = ("flavors",)


def _bindings(load: str, column: Any):
    """The related loads of one side: ``load`` maps each row to the other side's ids."""
    def related(session: Session, ctx: Context, rows: list[Any], ids: Any,
                loads: set[str]) -> dict[str, Any]:
        if load not in loads:
            return {}
        return {load: flavors.bound_ids(session, column, [r.id for r in rows])}
    return related


# list and show of flavors and of profiles; raise what ``listing.apply_list_query``
# raises, FlavorNotFound or ServiceProfileNotFound (404)
READER = listing.Reader(Flavor, flavors.FLAVOR_SPEC,
                        lambda session, ctx, flavor_id: flavors.find_flavor(session, flavor_id),
                        related=_bindings("service_profiles", Binding.flavor_id))
PROFILE_READER = listing.Reader(ServiceProfile, flavors.PROFILE_SPEC,
                                lambda session, ctx, sp_id: flavors.find_profile(session, sp_id),
                                related=_bindings("flavors", Binding.service_profile_id))

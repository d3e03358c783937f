"""Port forwardings as the API reads them: a floating IP's forwardings as domain rows with
only the columns a request's ``fields=`` needs (``api/wire/port_forwardings.py`` renders
them). A sub-resource's reader (``listing.Reader.parent``): the floating IP must be
visible to the caller (FloatingIPNotFound, 404, ``floatingips.find_visible``), then its
forwardings are, with ``port_forwardings.SPEC``'s filters, sort keys and paging; one not
of that floating IP is PortForwardingNotFound (404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.db.models import PortForwarding
from neutrino.services import floatingips, listing, port_forwardings
from neutrino.services.context import Context


def _find(session: Session, ctx: Context, pf_id: str, fip_id: str) -> Any:
    return port_forwardings.find_visible(session, ctx, fip_id, pf_id)


def _of_floatingip(session: Session, ctx: Context, fip_id: str) -> Any:
    floatingips.find_visible(session, ctx, fip_id)
    return PortForwarding.floatingip_id == fip_id


# list and show (of a floating IP); raise what ``listing.apply_list_query`` raises,
# FloatingIPNotFound, PortForwardingNotFound (404)
READER = listing.Reader(PortForwarding, port_forwardings.SPEC, _find,
                        parent=_of_floatingip)

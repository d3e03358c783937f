"""``trunk`` as the API shows it (neutron-lib ``trunk``, ``trunk_details`` definitions).

Columns are ``db.models.Trunk``'s; loads are ``services.trunk_reads.LOADS``: ``tags``
and ``sub_ports`` (each trunk's subports as ``segmentation_type``, ``segmentation_id``
and ``port_id``, by segmentation id). Every column filters and sorts (the description
sorts only). Who reads which trunks (its project's, admins' all) is the service's row
rule (``services.trunks.visible``).
"""

from __future__ import annotations

from neutrino.api.wire.declare import Attribute, Resource, standard

TRUNK = Resource("trunk", "trunks", standard() + (
    Attribute("admin_state_up", "boolean", "admin_state_up", default=True),
    Attribute("status", "string", "status"),
    Attribute("port_id", "uuid", "port_id"),
    Attribute("sub_ports", "list", value=lambda row, rel: rel["sub_ports"].get(row["id"], []),
              load="sub_ports", default=[]),
))

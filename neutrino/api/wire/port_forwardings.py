"""``port_forwarding`` (``/v2.0/floatingips/{floatingip_id}/port_forwardings``) as the API
shows it (neutron-lib ``floating_ip_port_forwarding``, ``fip_pf_description``,
``fip_pf_port_range`` definitions), and a floating IP's ``port_forwardings``
(``expose_port_forwarding_in_fip``, ``fip_pf_detail``).

Columns are ``db.models.PortForwarding``'s (``internal_port_id`` is
``internal_neutron_port_id``); a forwarding stores ranges (``<side>_port_start``/
``_end``): ``external_port``/``internal_port`` are the one port of a range of one, else
None; ``external_port_range``/``internal_port_range`` always ``"start:end"`` (Neutron's
``PortForwarding.modify_fields_from_db``). The description is computed only to follow
the ranges, where every answer has had it. Filters and sort keys are
``services.port_forwardings.SPEC``'s; who reads a floating IP's forwardings is who sees
the floating IP (``services.port_forwarding_reads``). No loads.
"""

from __future__ import annotations

from typing import Any, Callable

from neutrino.api.wire.declare import Attribute, Related, Resource


def _side(side: str) -> tuple[str, str]:
    return f"{side}_port_start", f"{side}_port_end"


def _single(side: str) -> Callable[[Any, Related], Any]:
    start, end = _side(side)
    return lambda row, rel: row[start] if row[start] == row[end] else None


def _range(side: str) -> Callable[[Any, Related], Any]:
    start, end = _side(side)
    return lambda row, rel: f"{row[start]}:{row[end]}"


PORT_FORWARDING = Resource("port_forwarding", "port_forwardings", (
    Attribute("id", "uuid", "id"),
    Attribute("protocol", "string", "protocol"),
    Attribute("internal_port_id", "uuid", "internal_neutron_port_id"),
    Attribute("internal_ip_address", "ip_address", "internal_ip_address"),
    Attribute("external_port", "integer", value=_single("external"), needs=_side("external")),
    Attribute("internal_port", "integer", value=_single("internal"), needs=_side("internal")),
    Attribute("external_port_range", "string", value=_range("external"),
              needs=_side("external")),
    Attribute("internal_port_range", "string", value=_range("internal"),
              needs=_side("internal")),
    Attribute("description", "string", value=lambda row, rel: row["description"],
              needs=("description",), default=""),
    Attribute("project_id", "string", shown=False),
    Attribute("tenant_id", "string", shown=False),
))
# a floating IP's own listing of its forwardings, in this order, without None values
FIP_FIELDS = ("id", "internal_ip_address", "protocol", "internal_port", "external_port",
              "internal_port_id")


def floatingip_forwardings(rows: list[Any]) -> list[dict[str, Any]]:
    """A floating IP's ``port_forwardings``: its forwarding rows
    (``services.port_forwardings.of_floatingips``) as the declaration shows their
    ``FIP_FIELDS`` (a range of several ports has no ``internal_port``/``external_port``)."""
    if not rows:
        return []
    shown = PORT_FORWARDING.render_objects(rows, fields=FIP_FIELDS)
    return [{k: d[k] for k in FIP_FIELDS if d.get(k) is not None} for d in shown]

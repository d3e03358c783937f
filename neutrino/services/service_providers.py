"""Service providers (extension ``service-type``, ``GET /v2.0/service-providers``).

What ML2/OVN lists with no extra service plugins: its L3 provider, ``ovn``, the
default for ``L3_ROUTER_NAT`` (neutron/services/ovn_l3/service_providers/
driver_controller.py adds it). Every neutrino router is realised by it. Filters on
``service_type``, ``name``, ``default``; read by any role with ``reader``.
"""

from __future__ import annotations

from typing import Any

from neutrino.services import listing

PROVIDERS = ({"service_type": "L3_ROUTER_NAT", "name": "ovn", "default": True},)


def list_service_providers(query: listing.ListQuery) -> list[dict[str, Any]]:
    """``[{service_type, name, default}]`` matching ``query.filters``."""
    return [dict(p) for p in PROVIDERS
            if all(str(p[key]).lower() in {v.lower() for v in values}
                   for key, values in query.filters.items() if key in p)]

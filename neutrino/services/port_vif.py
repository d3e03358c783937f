"""Port attributes Nova (and Cyborg) set for the hypervisor, stored on the port and
returned by GET and list, as ML2/OVN's extension drivers do; none is filterable
(neutron-lib gives them no ``is_filter``) and none changes the OVN rows:

* ``trusted`` (``port-trusted-vif``, ``neutron/db/port_trusted_db.py``): None until
  set; once set it also shows as ``binding:profile`` ``trusted`` (what Nova reads for
  SR-IOV VFs). ML2/OVN maps nothing from it for OVS ports (``is_lsp_trusted`` is about
  ``network:*`` owners). Admin only to set and read (``create/update/get_port:trusted``).
* ``device_profile`` (``port-device-profile``): a Cyborg device profile name, set on
  create only (string up to 255 or null).
* ``numa_affinity_policy`` (``port-numa-affinity-policy`` and ``-socket``): null or one
  of :data:`NUMA_POLICIES`; a bound port's cannot change (PortBoundNUMAAffinityPolicy,
  409, ``neutron/db/port_numa_affinity_policy_db.py``).
* ``propagate_uplink_status`` (``uplink-status-propagation`` and ``-updatable``):
  default true; stored only -- honoured by the SR-IOV agent's VFs, which OVN does not
  have; ML2/OVN advertises and stores it the same way.

Validation of types and values is in ``api/schemas/ports.py``.
"""

from __future__ import annotations

from typing import Any

from neutrino import errors, policy
from neutrino.services.context import Context

NUMA_POLICIES = ("required", "preferred", "legacy", "socket")  # neutron_lib.constants


def new_port_columns(data: dict[str, Any]) -> dict[str, Any]:
    """The four columns of a new port from its ``PortCreate`` dict."""
    return {"trusted": data.get("trusted"), "device_profile": data.get("device_profile"),
            "numa_affinity_policy": data.get("numa_affinity_policy") or None,
            "propagate_uplink_status": data.get("propagate_uplink_status", True)}


def check_policy(ctx: Context, data: dict[str, Any], op: str) -> None:
    """``<op>_port:trusted`` (admin only, ``neutron/conf/policies/port.py``).
    Raises PolicyNotAuthorized (403)."""
    if "trusted" in data:
        policy.require(ctx, f"{op}_port:trusted")


def prepare_update(port: Any, data: dict[str, Any]) -> None:
    """Check a ``PortUpdate`` dict's attributes of this module against ``port`` and
    normalise them in place. Raises PortBoundNUMAAffinityPolicy (409) when
    ``numa_affinity_policy`` is given for a bound port (its ``binding:vif_type`` is not
    ``unbound``: it has a host)."""
    if "numa_affinity_policy" in data:
        if port.binding_host_id:
            raise errors.PortBoundNUMAAffinityPolicy(port.id, port.binding_host_id,
                                                     data["numa_affinity_policy"])
        data["numa_affinity_policy"] = data["numa_affinity_policy"] or None

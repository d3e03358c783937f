"""What the lab keeps across ``neutrino down``/``up``: lab instances, the external
world's upstream namespaces and the VLAN gateways. Their JSON stays under the state
directory; their kernel devices die with the chassis namespaces, so ``up`` plumbs them
again (:func:`restore_instances`, :func:`restore_upstreams`, :func:`restore_vlans`) and
``down`` takes the namespaces away while keeping the JSON (:func:`remove_upstreams`,
:func:`remove_vlans`). Failures are logged, never raised: the service comes up (or goes
down) regardless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from neutrino.lab import external, fleet, instances, vlans

LOG = logging.getLogger(__name__)
RESTORE_RETRY_DHCP_TIMEOUT = 30  # seconds, for an instance whose first restore got no lease


def restore_instances(state_dir: Path, lab: list[fleet.LabChassis],
                      progress: Callable[[str], None]) -> None:
    """Lab instances outlive ``neutrino up``; plug each into its chassis again (the
    first one when its chassis is not in this lab any more)."""
    saved = instances.list_instances(state_dir)
    if saved:
        progress(f"re-plugging {len(saved)} lab instance(s)")
    by_netns = {c.netns: c for c in lab}

    def home(inst) -> fleet.LabChassis:
        return by_netns.get(inst.chassis_netns, lab[0])

    late = []
    for inst in saved:
        try:
            instances.restore_instance(state_dir, inst.name, home(inst).netns,
                                       home(inst).ovs_connection)
        except instances.InstanceError:
            late.append(inst)
    # The first leases wait for a just-started ovn-controller to claim the ports and
    # install flows, which can outlast a DHCP timeout on a loaded host: try once more.
    for inst in late:
        try:
            instances.restore_instance(state_dir, inst.name, home(inst).netns,
                                       home(inst).ovs_connection,
                                       dhcp_timeout=RESTORE_RETRY_DHCP_TIMEOUT)
        except instances.InstanceError as exc:
            LOG.warning("lab instance %s could not be restored: %s", inst.name, exc)


def restore_upstreams(state_dir: Path, lab: list[fleet.LabChassis],
                      bridges: dict[str, str], progress: Callable[[str], None]) -> None:
    """Upstream namespaces go with ``neutrino down``; plumb the saved ones again, into
    every chassis."""
    for up in external.list_upstreams(state_dir):
        if up.physnet not in bridges:
            LOG.warning("lab upstream %s not restored: physical network not in "
                        "bridge_mappings %s", up.physnet, bridges)
            continue
        progress(f"re-creating the upstream of {up.physnet} ({up.gateway})")
        try:
            external.restore_upstream(state_dir, up.physnet, lab[0].netns,
                                      lab[0].ovs_connection, bridges[up.physnet],
                                      [(c.netns, c.ovs_connection) for c in lab[1:]])
        except Exception as exc:  # noqa: BLE001 - the service comes up regardless
            LOG.warning("lab upstream %s could not be restored: %s", up.physnet, exc)


def remove_upstreams(state_dir: Path, ovs_conn: str) -> None:
    """Remove the upstream namespaces, keeping their JSON for the next ``up``."""
    for up in external.list_upstreams(state_dir):
        try:
            external.remove_upstream(state_dir, up.physnet, ovs_conn, forget=False)
        except Exception as exc:  # noqa: BLE001 - stopping must go on
            LOG.warning("lab upstream %s could not be removed: %s", up.physnet, exc)


def restore_vlans(state_dir: Path, netns: str, ovs_conn: str, bridges: dict[str, str],
                  progress: Callable[[str], None]) -> None:
    """VLAN gateways and their upstream switch go with ``neutrino down``; plumb the
    saved ones again."""
    for gw in vlans.list_vlans(state_dir):
        if gw.physnet not in bridges:
            LOG.warning("lab VLAN %s/%d not restored: physical network not in "
                        "bridge_mappings %s", gw.physnet, gw.vlan, bridges)
            continue
        progress(f"re-creating VLAN {gw.vlan} of {gw.physnet} ({gw.gateway})")
        try:
            vlans.restore_vlan(state_dir, gw.physnet, gw.vlan, netns, ovs_conn,
                               bridges[gw.physnet])
        except Exception as exc:  # noqa: BLE001 - the service comes up regardless
            LOG.warning("lab VLAN %s/%d could not be restored: %s", gw.physnet, gw.vlan, exc)


def remove_vlans(state_dir: Path, ovs_conn: str) -> None:
    """Remove the VLAN gateways and upstream switches, keeping their JSON."""
    try:
        vlans.remove_all(state_dir, ovs_conn)
    except Exception as exc:  # noqa: BLE001 - stopping must go on
        LOG.warning("lab VLANs could not be removed: %s", exc)

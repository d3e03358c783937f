"""Errors of port bindings and Nova's port attributes (neutron-lib ``exceptions``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, NotFound


class PortBound(Conflict):
    """A bound port's MAC cannot change (Neutron's ``_check_mac_update_allowed``)."""

    template = ("Unable to complete operation on port {port_id}, port is already bound, port "
                "type: {vif_type}, old_mac {old_mac}, new_mac {new_mac}.")


class PortBoundNUMAAffinityPolicy(Conflict):
    template = ("Unable to complete operation on port {port_id}, port is already bound to host "
                "{host_id}, numa_affinity_policy value given {policy}.")


class PortBindingNotFound(NotFound):
    template = "Binding for port {port_id} for host {host} could not be found."


class PortBindingAlreadyActive(Conflict):
    template = "Binding for port {port_id} on host {host} is already active."


class PortBindingAlreadyExists(Conflict):
    template = "Binding for port {port_id} on host {host} already exists."

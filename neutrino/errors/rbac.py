"""Errors of RBAC policies (``neutron/extensions/rbac.py``, ``neutron/db/rbac_db_models.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InvalidInput, NotFound


class RbacPolicyNotFound(NotFound):
    template = "RBAC policy of type {object_type} with ID {policy_id} not found"
    params = ("policy_id", "object_type")
    defaults = {"object_type": "unknown"}


class RbacPolicyInUse(Conflict):
    template = ("RBAC policy on object {object_id} cannot be removed because other objects "
                "depend on it.\nDetails: {details}")


class DuplicateRbacPolicy(Conflict):
    template = "An RBAC policy already exists with those values."


class InvalidActionForType(InvalidInput):
    template = ("Invalid action '{action}' for object type '{object_type}'. Valid actions: "
                "{valid_actions}")

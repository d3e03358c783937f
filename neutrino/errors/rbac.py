"""Errors of RBAC policies (``neutron/extensions/rbac.py``, ``neutron/db/rbac_db_models.py``)."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InvalidInput, NotFound


class RbacPolicyNotFound(NotFound):
    def __init__(self, policy_id: str, object_type: str = "unknown") -> None:
        super().__init__(f"RBAC policy of type {object_type} with ID {policy_id} not found")


class RbacPolicyInUse(Conflict):
    def __init__(self, object_id: str, details: str) -> None:
        super().__init__(f"RBAC policy on object {object_id} cannot be removed because other "
                         f"objects depend on it.\nDetails: {details}")


class DuplicateRbacPolicy(Conflict):
    def __init__(self) -> None:
        super().__init__("An RBAC policy already exists with those values.")


class InvalidActionForType(InvalidInput):
    def __init__(self, action: str, object_type: str, valid_actions: tuple[str, ...]) -> None:
        super().__init__(f"Invalid action '{action}' for object type '{object_type}'. "
                         f"Valid actions: {valid_actions}")

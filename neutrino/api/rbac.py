"""``/v2.0/rbac-policies`` (extension ``rbac-policies``, reference A.5): the
standard five routes, from the same builder as the core collections."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api.resources import Collection, add_collection
from neutrino.api.schemas.rbac import RbacPolicyCreate, RbacPolicyUpdate
from neutrino.api.wire.rbac_policies import RBAC_POLICY
from neutrino.services import rbac, rbac_policy_reads

router = APIRouter()
add_collection(router, Collection(
    "rbac_policies", "rbac_policy", RbacPolicyCreate, RbacPolicyUpdate,
    rbac.create_rbac_policies, rbac.update_rbac_policy, rbac.delete_rbac_policy,
    path="rbac-policies", wire=RBAC_POLICY,
    reads=rbac_policy_reads.READER))

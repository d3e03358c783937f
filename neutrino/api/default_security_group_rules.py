"""``/v2.0/default-security-group-rules`` (extension
``security-groups-default-rules``): the standard routes from the Collection
builder over ``services.default_security_group_rules``."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api.resources import Collection, add_collection
from neutrino.api.schemas.security_groups import (DefaultSecurityGroupRuleCreate,
                                                  DefaultSecurityGroupRuleUpdate)
from neutrino.services import default_security_group_rules as templates

router = APIRouter()

add_collection(router, Collection(
    "default_security_group_rules", "default_security_group_rule",
    DefaultSecurityGroupRuleCreate, DefaultSecurityGroupRuleUpdate,
    templates.create_default_security_group_rules, templates.get_default_security_group_rule,
    templates.list_default_security_group_rules, templates.update_default_security_group_rule,
    templates.delete_default_security_group_rule, path="default-security-group-rules"))

"""The defaults of new security groups: ``/v2.0/default-security-group-rules``
(extension ``security-groups-default-rules``, ``services.default_security_group_rules``)
and ``/v2.0/security-groups-default-statefulness`` (``security-groups-default-statefulness``,
``services.sg_default_statefulness``), both standard routes from the Collection builder."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api.resources import Collection, add_collection
from neutrino.api.schemas.security_groups import (DefaultSecurityGroupRuleCreate,
                                                  DefaultSecurityGroupRuleUpdate)
from neutrino.api.schemas.sg_default_statefulness import SettingCreate, SettingUpdate
from neutrino.api.wire.default_security_group_rules import DEFAULT_SECURITY_GROUP_RULE
from neutrino.api.wire.sg_default_statefulness import SG_DEFAULT_STATEFULNESS
from neutrino.services import default_security_group_rule_reads, sg_default_statefulness_reads
from neutrino.services import default_security_group_rules as templates
from neutrino.services import sg_default_statefulness as statefulness

router = APIRouter()

add_collection(router, Collection(
    "default_security_group_rules", "default_security_group_rule",
    DefaultSecurityGroupRuleCreate, DefaultSecurityGroupRuleUpdate,
    templates.create_default_security_group_rules, templates.update_default_security_group_rule,
    templates.delete_default_security_group_rule, path="default-security-group-rules",
    wire=DEFAULT_SECURITY_GROUP_RULE, reads=default_security_group_rule_reads.READER))
add_collection(router, Collection(
    "security_groups_default_statefulness", "security_groups_default_statefulness",
    SettingCreate, SettingUpdate, statefulness.create_settings, statefulness.update_setting,
    statefulness.delete_setting,
    path="security-groups-default-statefulness", wire=SG_DEFAULT_STATEFULNESS,
    reads=sg_default_statefulness_reads.READER))

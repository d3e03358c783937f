"""Request bodies for ``/v2.0/qos/...`` (neutron-lib ``api/definitions/qos.py``,
``qos_default.py``, ``qos_bw_limit_direction.py``, ``qos_bw_minimum_ingress.py``,
``qos_pps_rule.py``). Shape only: rule conflicts and OVN support are the services'."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from neutrino.api.schemas.common import NamedBody, NeutronBody, ProjectId
from neutrino.api.wire.qos_policies import QOS_POLICY
from neutrino.api.wire.qos_rules import RULES
from neutrino.services.qos_rules import DB_INTEGER_MAX_VALUE, VALID_DSCP_MARKS

# the wire declarations' (api/wire/qos_policies.py; a rule's: api/wire/qos_rules.py)
POLICY_ATTRIBUTES = QOS_POLICY.names
Description = Annotated[str, Field(max_length=255)]
Kbps = Annotated[int, Field(ge=0, le=DB_INTEGER_MAX_VALUE)]
Direction = Literal["egress", "ingress"]


def _dscp(value: int) -> int:
    if value not in VALID_DSCP_MARKS:
        raise ValueError(f"'{value}' is not in valid_values")
    return value


class QosPolicyUpdate(NamedBody):
    ATTRIBUTES = POLICY_ATTRIBUTES
    shared: bool = False
    is_default: bool = False


# The updatable attributes and those set only at creation.
class QosPolicyCreate(QosPolicyUpdate):
    tags: list[str] = []
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None




class BandwidthLimitRule(NeutronBody):
    ATTRIBUTES = RULES["bandwidth_limit"].names
    max_kbps: Kbps
    max_burst_kbps: Kbps = 0
    direction: Direction = "egress"


class BandwidthLimitRuleUpdate(BandwidthLimitRule):
    max_kbps: Kbps = 0


class DscpMarkingRule(NeutronBody):
    ATTRIBUTES = RULES["dscp_marking"].names
    dscp_mark: Annotated[int, AfterValidator(_dscp)]


class MinimumBandwidthRule(NeutronBody):
    ATTRIBUTES = RULES["minimum_bandwidth"].names
    min_kbps: Kbps
    direction: Direction = "egress"


class MinimumBandwidthRuleUpdate(MinimumBandwidthRule):
    min_kbps: Kbps = 0


class PacketRateLimitRule(NeutronBody):
    ATTRIBUTES = RULES["packet_rate_limit"].names
    max_kpps: Kbps
    max_burst_kpps: Kbps = 0
    direction: Direction = "egress"


class PacketRateLimitRuleUpdate(PacketRateLimitRule):
    max_kpps: Kbps = 0


# rule type -> (create schema, update schema)
RULE_SCHEMAS = {
    "bandwidth_limit": (BandwidthLimitRule, BandwidthLimitRuleUpdate),
    "dscp_marking": (DscpMarkingRule, DscpMarkingRule),
    "minimum_bandwidth": (MinimumBandwidthRule, MinimumBandwidthRuleUpdate),
    "packet_rate_limit": (PacketRateLimitRule, PacketRateLimitRuleUpdate),
}

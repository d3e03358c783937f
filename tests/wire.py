"""Service results as the API answers them, for tests that drive the services directly
(``tests/integration/test_nb_*.py``, bench scripts): what a create or update wrote
(``services.listing.Written``) rendered from its resource's declaration
(``api/wire``), and resources as a show or a list answers them."""

from __future__ import annotations

from typing import Any

from neutrino.api.wire import views
from neutrino.api.wire.address_groups import ADDRESS_GROUP
from neutrino.api.wire.floatingips import FLOATINGIP
from neutrino.api.wire.networks import NETWORK
from neutrino.api.wire.port_forwardings import PORT_FORWARDING
from neutrino.api.wire.ports import PORT
from neutrino.api.wire.qos_policies import QOS_POLICY
from neutrino.api.wire.routers import ROUTER
from neutrino.api.wire.security_groups import SECURITY_GROUP, SECURITY_GROUP_RULE
from neutrino.api.wire.subnets import SUBNET
from neutrino.services import (address_group_reads, address_groups, floatingip_reads,
                               floatingips, network_reads, networks, port_forwarding_reads,
                               port_reads, ports, qos,
                               qos_policy_reads, router_reads, routers, security_group_reads,
                               security_groups, subnet_reads, subnets)
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.listing import ListQuery, Written

# kind -> (declaration, the service's reader)
RESOURCES = {"address_group": (ADDRESS_GROUP, address_group_reads.READER),
             "floatingip": (FLOATINGIP, floatingip_reads.READER),
             "network": (NETWORK, network_reads.READER),
             "port": (PORT, port_reads.READER),
             "port_forwarding": (PORT_FORWARDING, port_forwarding_reads.READER),
             "qos_policy": (QOS_POLICY, qos_policy_reads.READER),
             "router": (ROUTER, router_reads.READER),
             "security_group": (SECURITY_GROUP, security_group_reads.READER),
             "security_group_rule": (SECURITY_GROUP_RULE, security_group_reads.RULE_READER),
             "subnet": (SUBNET, subnet_reads.READER)}
# kind -> (the service's create, its update)
WRITES = {"address_group": (address_groups.create_address_groups,
                            address_groups.update_address_group),
          "floatingip": (floatingips.create_floatingips, floatingips.update_floatingip),
          "network": (networks.create_networks, networks.update_network),
          "port": (ports.create_ports, ports.update_port),
          "qos_policy": (qos.create_policies, qos.update_policy),
          "router": (routers.create_routers, routers.update_router),
          "security_group": (security_groups.create_security_groups,
                             security_groups.update_security_group),
          "security_group_rule": (security_groups.create_security_group_rules,
                                  security_groups.update_security_group_rule),
          "subnet": (subnets.create_subnets, subnets.update_subnet)}


def answer(env: Env, ctx: Context, kind: str, written: Written) -> list[dict[str, Any]]:
    """The API dicts of what a service's create or update of ``kind`` wrote, for ``ctx``."""
    resource, reads = RESOURCES[kind]
    return views.written_items(env, ctx, resource, reads, written)


def one(env: Env, ctx: Context, kind: str, written: Written) -> dict[str, Any]:
    """The API dict of the one resource a service's create or update wrote."""
    return answer(env, ctx, kind, written)[0]


def create(kind: str, env: Env, ctx: Context, items: list[dict[str, Any]]
           ) -> list[dict[str, Any]]:
    """``POST /v2.0/<kind>s`` through the service: the created resources' API dicts."""
    return answer(env, ctx, kind, WRITES[kind][0](env, ctx, items))


def update(kind: str, env: Env, ctx: Context, item_id: str, data: dict[str, Any],
           if_match: int | None = None) -> dict[str, Any]:
    """``PUT /v2.0/<kind>s/<item_id>`` through the service: the resource's API dict."""
    return one(env, ctx, kind, WRITES[kind][1](env, ctx, item_id, data, if_match))


def show(env: Env, ctx: Context, kind: str, item_id: str) -> dict[str, Any]:
    """``GET /v2.0/<kind>s/<item_id>``'s dict for ``ctx``."""
    resource, reads = RESOURCES[kind]
    return views.show_item(env, ctx, resource, reads, item_id, None)


def listed(env: Env, ctx: Context, kind: str, query: ListQuery | None = None
           ) -> list[dict[str, Any]]:
    """``GET /v2.0/<kind>s``' dicts for ``ctx`` (``query``: its filters, sorting, paging;
    none by default)."""
    resource, reads = RESOURCES[kind]
    return views.list_items(env, ctx, resource, reads, query or ListQuery())[0]

"""Authorization with oslo.policy and Neutron's rule names and default rules.

Defaults are Neutron's new (secure RBAC) defaults (``neutron/conf/policies/*.py``,
reference A.5): ``admin`` may do everything, a project ``member`` creates, updates
and deletes its project's resources, a project ``reader`` only reads them, and the
``service`` role (Nova) reads and sets port binding attributes. Operators override
any rule with a policy file (``policy_file`` setting; YAML or JSON mapping rule name
to check string, as Neutron's ``policy.yaml``). The file is read at start-up.

One check per request (not per item or attribute, operator-pains (b)):
:func:`action_for` names the rule of a route from (HTTP method, collection, member
action), e.g. ``POST /v2.0/networks`` -> ``create_network``, ``PUT
/v2.0/routers/{id}/add_router_interface`` -> ``add_router_interface``, and
:func:`enforce` evaluates it with the caller's own project as the target
(``project_id``/``tenant_id`` = the caller's). The services then restrict what the
caller sees and touches to its project (other projects' resources: 404). Rules that
name attributes of a resource (``%(network:tenant_id)s``) therefore never match;
the defaults use ``project_id``. A new collection is covered by registering its
``create_/get_/update_/delete_<singular>`` rules in :data:`RULES`.

:func:`require` checks a named rule against an empty target: only clauses
about the caller's roles can pass (``role:admin`` by default). It guards
admin-only operations and attributes (``create_network:shared``...).

Decisions are memoised per (rule, roles, project, user): oslo.policy's generic
checks cost ~50 us each, a cache hit ~1 us.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from neutrino import errors

if TYPE_CHECKING:
    from neutrino.services.context import Context

LOG = logging.getLogger(__name__)

# --- Neutron's check strings (neutron/conf/policies/base.py) --------------------------------

ADMIN = "role:admin"
SERVICE = "role:service"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
ADMIN_OR_SERVICE = f"({ADMIN}) or ({SERVICE})"
ADMIN_OR_PROJECT_MEMBER = f"({ADMIN}) or ({PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"({ADMIN}) or ({PROJECT_READER})"
PROJECT_MANAGER = "role:manager and project_id:%(project_id)s"
ADMIN_OR_PROJECT_MANAGER = f"({ADMIN}) or ({PROJECT_MANAGER})"
ADMIN_OR_SERVICE_OR_MEMBER = f"({ADMIN}) or ({SERVICE}) or ({PROJECT_MEMBER})"
ADMIN_OR_SERVICE_OR_READER = f"({ADMIN}) or ({SERVICE}) or ({PROJECT_READER})"


def _rule(name: str, check: str, description: str = "") -> oslo_policy.RuleDefault:
    return oslo_policy.RuleDefault(name, check, description=description or name)


def _crud(singular: str, create: str = ADMIN_OR_PROJECT_MEMBER,
          get: str = ADMIN_OR_PROJECT_READER, update: str = ADMIN_OR_PROJECT_MEMBER,
          delete: str = ADMIN_OR_PROJECT_MEMBER) -> list[oslo_policy.RuleDefault]:
    return [_rule(f"create_{singular}", create), _rule(f"get_{singular}", get),
            _rule(f"update_{singular}", update), _rule(f"delete_{singular}", delete)]


def _attrs(singular: str, ops: str, names: list[str], check: str) -> list[oslo_policy.RuleDefault]:
    """``<op>_<singular>:<attr>`` rules for each op letter in ``ops`` (c, g, u)."""
    prefix = {"c": "create", "g": "get", "u": "update"}
    return [_rule(f"{prefix[o]}_{singular}:{name}", check) for o in ops for name in names]


QOS_RULE_TYPES = ("bandwidth_limit", "dscp_marking", "minimum_bandwidth", "packet_rate_limit")
_PROVIDER = ["provider:network_type", "provider:physical_network", "provider:segmentation_id"]
_BINDING = ["binding:host_id", "binding:profile"]

RULES: list[oslo_policy.RuleDefault] = [
    # base.py
    _rule("context_is_admin", ADMIN, "Rule for cloud admin access"),
    _rule("owner", "tenant_id:%(tenant_id)s", "Rule for resource owner access"),
    _rule("admin_or_owner", "rule:context_is_admin or rule:owner"),
    _rule("context_is_advsvc", "role:advsvc"),
    _rule("admin_or_network_owner", "rule:context_is_admin or tenant_id:%(network:tenant_id)s"),
    _rule("network_owner", "tenant_id:%(network:tenant_id)s"),
    _rule("admin_only", "rule:context_is_admin"),
    _rule("regular_user", ""),
    _rule("service_api", SERVICE),
    _rule("shared", "field:networks:shared=True"),
    _rule("external", "field:networks:router:external=True"),
    _rule("default", "rule:admin_or_owner"),
    # network.py
    *_crud("network", get=f"{ADMIN_OR_PROJECT_READER} or rule:shared or rule:external "
                          "or rule:context_is_advsvc"),
    *_attrs("network", "cu", ["shared", "router:external", "is_default", "segments", *_PROVIDER],
            ADMIN),
    *_attrs("network", "cu", ["port_security_enabled"], ADMIN_OR_PROJECT_MEMBER),
    *_attrs("network", "g", ["segments", *_PROVIDER], ADMIN),
    # subnet.py
    *_crud("subnet", get=f"{ADMIN_OR_PROJECT_READER} or rule:shared"),
    # not service_types: neutron-lib's definition lacks enforce_policy, so Neutron
    # never checks its create_subnet:service_types rule (members set them)
    *_attrs("subnet", "cu", ["segment_id"], ADMIN),
    *_attrs("subnet", "g", ["segment_id"], ADMIN),
    # subnetpool.py
    _rule("shared_subnetpools", "field:subnetpools:shared=True"),
    *_crud("subnetpool", get=f"{ADMIN_OR_PROJECT_READER} or rule:shared_subnetpools"),
    *_attrs("subnetpool", "c", ["shared"], ADMIN),
    *_attrs("subnetpool", "cu", ["is_default"], ADMIN),
    _rule("onboard_network_subnets", ADMIN_OR_PROJECT_MEMBER),
    _rule("add_prefixes", ADMIN_OR_PROJECT_MEMBER),
    _rule("remove_prefixes", ADMIN_OR_PROJECT_MEMBER),
    # address_scope.py
    _rule("shared_address_scopes", "field:address_scopes:shared=True"),
    *_crud("address_scope", get=f"({ADMIN}) or ({PROJECT_READER}) or rule:shared_address_scopes"),
    *_attrs("address_scope", "cu", ["shared"], ADMIN),
    # address_group.py
    _rule("shared_address_groups", "field:address_groups:shared=True"),
    *_crud("address_group", get=f"({ADMIN_OR_PROJECT_READER}) or rule:shared_address_groups"),
    _rule("add_addresses", ADMIN_OR_PROJECT_MEMBER),
    _rule("remove_addresses", ADMIN_OR_PROJECT_MEMBER),
    # trunk.py
    *_crud("trunk"),
    _rule("add_subports", ADMIN_OR_PROJECT_MEMBER),
    _rule("remove_subports", ADMIN_OR_PROJECT_MEMBER),
    # port.py
    *_crud("port", create=ADMIN_OR_SERVICE_OR_MEMBER, get=ADMIN_OR_SERVICE_OR_READER,
           update=ADMIN_OR_SERVICE_OR_MEMBER, delete=ADMIN_OR_SERVICE_OR_MEMBER),
    _rule("network_device", "field:port:device_owner=~^network:"),
    *_attrs("port", "cu", ["device_owner", "mac_address", "fixed_ips:ip_address",
                           "allowed_address_pairs"], ADMIN_OR_SERVICE_OR_MEMBER),
    *_attrs("port", "cu", ["fixed_ips:subnet_id", "port_security_enabled"],
            ADMIN_OR_SERVICE_OR_MEMBER),
    *_attrs("port", "cu", _BINDING, ADMIN_OR_SERVICE),
    *_attrs("port", "g", ["binding:vif_type", "binding:vif_details", *_BINDING], ADMIN_OR_SERVICE),
    *_attrs("port", "cgu", ["trusted"], ADMIN),
    # port_bindings.py (extension binding-extended): Nova's service user writes
    _rule("get_port_binding", ADMIN_OR_SERVICE),
    _rule("create_port_binding", SERVICE),
    _rule("delete_port_binding", SERVICE),
    _rule("activate", SERVICE),
    # router.py
    *_crud("router"),
    *_attrs("router", "cu", ["distributed", "ha", "external_gateway_info:enable_snat",
                             "external_gateway_info:external_fixed_ips"], ADMIN),
    *_attrs("router", "cu", ["external_gateway_info", "external_gateway_info:network_id"],
            ADMIN_OR_PROJECT_MEMBER),
    *_attrs("router", "g", ["distributed", "ha"], ADMIN),
    *_attrs("router", "cu", ["enable_default_route_bfd", "enable_default_route_ecmp"], ADMIN),
    _rule("add_router_interface", ADMIN_OR_PROJECT_MEMBER),
    _rule("remove_router_interface", ADMIN_OR_PROJECT_MEMBER),
    _rule("add_extraroutes", ADMIN_OR_PROJECT_MEMBER),
    _rule("remove_extraroutes", ADMIN_OR_PROJECT_MEMBER),
    # external-gateway-multihoming (services/router_gateways.py)
    *[_rule(action, ADMIN_OR_PROJECT_MEMBER) for action in (
        "add_external_gateways", "update_external_gateways", "remove_external_gateways")],
    *[_rule(f"{action}:external_gateways:{key}", ADMIN)
      for action in ("add_external_gateways", "update_external_gateways")
      for key in ("enable_snat", "external_fixed_ips")],
    # floatingip.py
    *_crud("floatingip"),
    *_attrs("floatingip", "c", ["floating_ip_address"], ADMIN),
    # port_forwarding.py (a floating IP's sub-resource)
    *_crud("floatingip_port_forwarding"),
    # security_group.py
    *_crud("security_group"),
    *_crud("security_group_rule"),
    # default_security_group_rules.py: admins write; any reader reads (role only)
    _rule("create_default_security_group_rule", ADMIN),
    _rule("get_default_security_group_rule", "role:reader"),
    _rule("delete_default_security_group_rule", ADMIN),
    _rule("update_default_security_group_rule", ADMIN),
    # segment.py: admin only. Neutron hides segments from others (empty list, 404)
    # rather than answering 403; services/segments.py does that, so reading passes here.
    *_crud("segment", create=ADMIN, get=ADMIN_OR_PROJECT_READER, update=ADMIN, delete=ADMIN),
    # network_segment_range.py: admin only; hidden from others (empty list, 404) by
    # services/segment_ranges.py, so reading passes here as for segments
    *_crud("network_segment_range", create=ADMIN, get=ADMIN_OR_PROJECT_READER, update=ADMIN,
           delete=ADMIN),
    # agent.py: admin only; Neutron hides agents from others (an empty list, 404), which
    # services/agents.py does, so reading passes here as for segments
    _rule("get_agent", ADMIN_OR_PROJECT_READER),
    _rule("update_agent", ADMIN),
    _rule("delete_agent", ADMIN),
    # security_groups_default_statefulness.py (services/sg_default_statefulness.py also
    # keeps non-admins to their own project's setting)
    *_crud("security_groups_default_statefulness", create=ADMIN_OR_PROJECT_MANAGER,
           get=ADMIN_OR_PROJECT_READER, update=ADMIN_OR_PROJECT_MANAGER,
           delete=ADMIN_OR_PROJECT_MANAGER),
    # availability_zone.py
    _rule("get_availability_zone", ADMIN_OR_PROJECT_READER),
    # floatingip_pools.py
    _rule("get_floatingip_pool", ADMIN_OR_PROJECT_READER),
    _rule("get_service_provider", "role:reader"),
    # flavor.py (extension flavors)
    *_crud("flavor", create=ADMIN, get="role:reader", update=ADMIN, delete=ADMIN),
    *_crud("service_profile", create=ADMIN, get=ADMIN, update=ADMIN, delete=ADMIN),
    _rule("get_flavor_service_profile", ADMIN_OR_PROJECT_READER),
    _rule("create_flavor_service_profile", ADMIN),
    _rule("delete_flavor_service_profile", ADMIN),
    # quotas.py
    _rule("get_quota", ADMIN_OR_PROJECT_READER),
    _rule("update_quota", ADMIN),
    _rule("delete_quota", ADMIN),
    # network_ip_availability.py is admin/service only; neutrino also lets a project read
    # its own networks' (services/ip_availability.py)
    _rule("get_network_ip_availability", ADMIN_OR_SERVICE_OR_READER),
    # rbac.py; the target_tenant rule is checked for target '*' only (policy.require)
    *_crud("rbac_policy"),
    _rule("create_rbac_policy:target_tenant", ADMIN),
    _rule("update_rbac_policy:target_tenant", ADMIN),
    # qos.py: policies and rules belong to the policy's project (services check the
    # parent owner); rule types are read by any reader
    _rule("shared_qos_policy", "field:policies:shared=True"),
    *_crud("policy", create=ADMIN_OR_PROJECT_MANAGER,
           get=f"({ADMIN_OR_PROJECT_READER}) or rule:shared_qos_policy",
           update=ADMIN_OR_PROJECT_MANAGER, delete=ADMIN_OR_PROJECT_MANAGER),
    _rule("get_rule_type", "role:reader"),
    *[r for t in QOS_RULE_TYPES for r in _crud(
        f"policy_{t}_rule", create=ADMIN_OR_PROJECT_MANAGER, get=ADMIN_OR_PROJECT_READER,
        update=ADMIN_OR_PROJECT_MANAGER, delete=ADMIN_OR_PROJECT_MANAGER)],
    *[r for t in QOS_RULE_TYPES for r in _crud(
        f"alias_{t}_rule", create=ADMIN_OR_PROJECT_MANAGER, get=ADMIN_OR_PROJECT_READER,
        update=ADMIN_OR_PROJECT_MANAGER, delete=ADMIN_OR_PROJECT_MANAGER)],
    # auto_allocated_topology.py
    _rule("get_auto_allocated_topology", ADMIN_OR_PROJECT_READER),
    _rule("delete_auto_allocated_topology", ADMIN_OR_PROJECT_MEMBER),
    # neutrino's own (extensions network-scheduler, instance-metadata)
    _rule("get_network_candidate", ADMIN_OR_PROJECT_READER),
    _rule("create_scheduled_port", ADMIN_OR_SERVICE_OR_MEMBER),
    *_crud("instance", create=ADMIN, get=ADMIN, update=ADMIN, delete=ADMIN),
    # extension explain: POST /v2.0/ports/{id}/explain; services also keep members to
    # their own project's ports (ovn/explain_facts.py)
    _rule("explain_port", ADMIN_OR_PROJECT_MEMBER),
    # logging.py (network logs; Neutron's new defaults)
    _rule("get_loggable_resource", ADMIN_OR_PROJECT_MANAGER),
    *_crud("log", create=ADMIN_OR_PROJECT_MANAGER, get=ADMIN_OR_PROJECT_MANAGER,
           update=ADMIN_OR_PROJECT_MANAGER, delete=ADMIN_OR_PROJECT_MANAGER),
]

# Collections whose URL segment does not end in a plain "s" plural.
_SINGULAR = {"auto_allocated_topology": "auto_allocated_topology", "quotas": "quota",
             "security_groups_default_statefulness": "security_groups_default_statefulness"}


class Enforcer:
    """The loaded rules: Neutron's defaults, overridden by ``policy_file``.

    Raises ``ValueError`` for a ``policy_file`` that does not exist or does not parse.
    """

    def __init__(self, policy_file: str = "") -> None:
        conf = cfg.ConfigOpts()
        conf([], project="neutrino", default_config_files=[], default_config_dirs=[])
        if policy_file and not os.path.isfile(policy_file):
            raise ValueError(f"policy_file {policy_file}: no such file")
        self._oslo = oslo_policy.Enforcer(conf, policy_file=os.path.abspath(policy_file)
                                          if policy_file else "policy.yaml", use_conf=True)
        conf.set_override("policy_dirs", [], "oslo_policy")
        self._oslo.register_defaults(RULES)
        try:
            self._oslo.load_rules()
        except Exception as exc:  # oslo raises several kinds for a bad file
            raise ValueError(f"policy_file {policy_file}: {exc}") from exc
        self._oslo.use_conf = False  # read once: no stat() per check
        self.check = functools.lru_cache(maxsize=8192)(self._check)

    def registered(self, action: str) -> bool:
        return action in self._oslo.registered_rules

    def _check(self, action: str, roles: frozenset[str], project_id: str,
               user_id: str | None, own: bool) -> bool:
        """Whether rule ``action`` passes for these credentials against the caller's own
        project (``own``) or an empty target; unknown rules fall back to ``default``."""
        rules = self._oslo.rules
        rule = rules.get(action) or rules.get("default")
        if rule is None:
            return False
        creds = {"roles": sorted(roles), "project_id": project_id, "tenant_id": project_id,
                 "user_id": user_id}
        target = {"project_id": project_id, "tenant_id": project_id} if own else {}
        try:
            return bool(rule(target, creds, self._oslo))
        except Exception:  # a broken operator rule denies rather than crashes
            LOG.exception("policy rule %s failed", action)
            return False


_enforcer: Enforcer | None = None


def init(policy_file: str = "") -> Enforcer:
    """(Re)load the rules for this process. Raises ValueError for a bad ``policy_file``."""
    global _enforcer
    _enforcer = Enforcer(policy_file)
    return _enforcer


def get_enforcer() -> Enforcer:
    """The process' enforcer; Neutron's defaults until :func:`init` is called."""
    if _enforcer is None:
        return init()
    return _enforcer


def is_admin(ctx: Context) -> bool:
    """The ``context_is_admin`` rule for ``ctx`` (Neutron's ``Context.is_admin``)."""
    return get_enforcer().check("context_is_admin", ctx.roles, ctx.project_id, ctx.user_id,
                                False)


def is_service(ctx: Context) -> bool:
    """The ``service_api`` rule for ``ctx`` (``role:service``: Nova's service user)."""
    return get_enforcer().check("service_api", ctx.roles, ctx.project_id, ctx.user_id, False)


def enforce(ctx: Context, action: str) -> None:
    """Check rule ``action`` with the caller's own project as target.

    Raises ``errors.PolicyNotAuthorized`` (403) when it does not pass."""
    if not get_enforcer().check(action, ctx.roles, ctx.project_id, ctx.user_id, True):
        raise errors.PolicyNotAuthorized(action)


def require(ctx: Context, action: str) -> None:
    """Check rule ``action`` against an empty target (only role clauses can pass).

    Raises ``errors.PolicyNotAuthorized`` (403) when it does not pass."""
    if not get_enforcer().check(action, ctx.roles, ctx.project_id, ctx.user_id, False):
        raise errors.PolicyNotAuthorized(action)


def _singular(collection: str) -> str:
    if collection in _SINGULAR:
        return _SINGULAR[collection]
    if collection.endswith("ies"):
        return collection[:-3] + "y"
    return collection.removesuffix("s")


@functools.lru_cache(maxsize=1024)
def action_for(method: str, path: str, collection_param: str | None = None) -> str | None:
    """The rule name for a route: ``method`` and its path template (``path_format``).

    ``/v2.0/<collection>``: GET -> ``get_<singular>``, POST -> ``create_<singular>``;
    ``/v2.0/<collection>/{id}``: GET/PUT/DELETE -> ``get_``/``update_``/``delete_``;
    ``/v2.0/<collection>/{id}/<action>``: PUT -> ``<action>`` (router member actions),
    GET -> ``get_<singular>`` (``quotas/{id}/default``); port bindings
    (``/v2.0/ports/{port_id}/bindings[/{host}[/activate]]``): ``get_port_binding``,
    ``create_port_binding`` (POST, and PUT of a binding: Neutron has no update rule),
    ``delete_port_binding``, ``activate``; tags
    (``/v2.0/{collection}/{id}/tags[/{tag}]``, collection from ``collection_param``):
    GET -> ``get_<singular>``, else ``update_<singular>``; ``POST
    /v2.0/ports/{port_id}/explain`` -> ``explain_port``; ``/v2.0/log/<collection>...``
    as ``/v2.0/<collection>...`` (``get_log``, ``get_loggable_resource``);
    ``/v2.0/floatingips/{id}/port_forwardings[/{id}]`` -> ``<verb>_floatingip_port_forwarding``.
    ``None`` for routes without a
    rule: ``/``, ``/v2.0/``, ``/v2.0/extensions...``. URL hyphens become underscores.
    """
    if not path.startswith("/v2.0/"):
        return None
    parts = [p for p in path[len("/v2.0/"):].removesuffix(".json").split("/") if p]
    if not parts or parts[0] == "extensions":
        return None
    if parts[0] == "log" and len(parts) > 1:  # the logging extension's API_PREFIX
        parts = parts[1:]
    if parts[0] == "{collection}":
        if not collection_param:
            return None
        singular = _singular(collection_param.replace("-", "_"))
        return f"get_{singular}" if method == "GET" else f"update_{singular}"
    if parts[0] == "qos":
        return _qos_action(method, parts[1:])
    singular = _singular(parts[0].replace("-", "_"))
    if len(parts) >= 3 and parts[:3] == ["ports", "{port_id}", "bindings"]:
        if len(parts) == 5:  # .../bindings/{host}/activate
            return parts[4]
        return {"GET": "get_port_binding", "DELETE": "delete_port_binding"}.get(
            method, "create_port_binding")
    if parts[:3] == ["ports", "{port_id}", "explain"]:
        return "explain_port"
    if len(parts) >= 3 and parts[0] == "flavors" and parts[2] == "service_profiles":
        verb = {"GET": "get", "DELETE": "delete"}.get(method, "create")
        return f"{verb}_flavor_service_profile"
    if parts[0] == "floatingips" and parts[2:3] == ["port_forwardings"]:
        verb = {"GET": "get", "DELETE": "delete", "PUT": "update"}.get(method, "create")
        return f"{verb}_floatingip_port_forwarding"
    if len(parts) >= 3 and not parts[2].startswith("{") and method != "GET":
        return parts[2]
    verb = {"GET": "get", "DELETE": "delete", "PUT": "update"}.get(method, "create")
    if method == "POST" and len(parts) > 1:
        verb = "update"
    return f"{verb}_{singular}"



def _qos_action(method: str, parts: list[str]) -> str | None:
    """Neutron's QoS rule names (``conf/policies/qos.py``) checked at the route: the
    ``get_`` ones (``get_policy``, ``get_policy_<type>_rule``, ``get_alias_<type>_rule``,
    ``get_rule_type``) for every method; the services check the write rules
    (``create_policy`` ...) once the body is valid and the policy found, so a foreign
    policy is 404 and a bad body 400 before a 403, as in Neutron. Tags: ``get_policy``
    / ``update_policy``."""
    if not parts:
        return None
    if parts[0] == "rule-types":
        return "get_rule_type"
    if parts[0] == "policies" and len(parts) >= 3 and parts[2] == "tags":
        return "get_policy" if method == "GET" else "update_policy"
    if parts[0] == "policies" and len(parts) >= 3:
        return f"get_policy_{parts[2].removesuffix('s')}"
    if parts[0] == "policies":
        return "get_policy"
    if parts[0].startswith("alias_"):
        return f"get_{parts[0].removesuffix('s')}"
    return None

"""Network RBAC policies (extension ``rbac-policies``, reference A.5, B.9).

An entry grants ``target_tenant`` (a project id, or ``*`` for every project)
``access_as_shared`` (see the network, its subnets, create ports on it) or
``access_as_external`` (see it, put router gateways and floating IPs on it) to
one network. ``networks.shared`` / ``networks.router_external`` mirror the
``*`` entries and change in the same transaction as them, either side first.

Besides the CRUD calls this module holds what the other services ask about
access: SQL conditions for listing (``granted``, ``shared_for``,
``external_for``) and per-network checks (``can_see``, ``shared_to``,
``external_to``). Sources: ``neutron/db/rbac_db_mixin.py``,
``neutron/db/db_base_plugin_v2.py`` (``_validate_network_rbac_policy_change``,
``ensure_no_tenant_ports_on_network``), ``neutron/db/external_net_db.py``,
``neutron/extensions/rbac.py``, ``neutron/conf/policies/rbac.py``.

Address scopes (extension ``rbac-address-scope``) have policies of their own
(table ``addressscoperbacs``, object type ``address_scope``, action
``access_as_shared`` only): the same calls create, list (both tables as one
collection), retarget and delete them; ``address_scopes.shared`` mirrors the
``*`` entry, and a policy whose removal would strand another project's subnet
pools in the scope is in use (``neutron/objects/address_scope.py``
``get_bound_project_ids``, ``neutron/objects/rbac_db.py``). Address groups
(extension ``rbac-address-group``, table ``addressgrouprbacs``, object type
``address_group``) are shared the same way; their users are the projects with
security group rules naming the group (``services.address_groups``). Security groups (extension
``rbac-security-groups``, table ``securitygrouprbacs``, object type
``security_group``) likewise; their users are the projects with ports in the
group (``services.security_group_access``), and a policy in use says
``project_id=<target>`` as Neutron's ``rbac_db`` does.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, delete, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neutrino import constants as c
from neutrino import errors, policy
from neutrino.db.models import (AddressGroup, AddressGroupRBAC, AddressScope, AddressScopeRBAC,
                                FloatingIP, Network, NetworkRBAC, Port, Router, SecurityGroup,
                                SecurityGroupRBAC)
from neutrino.db.models import QosPolicy, QosPolicyRBAC
from neutrino.services import address_groups, address_scopes, common, listing
from neutrino.services import qos, security_group_access
from neutrino.services.context import Context
from neutrino.services.env import Env
from neutrino.services.quotas import check_quotas

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"
WILDCARD = "*"
ACTIONS = (EXTERNAL, SHARED)  # Neutron's NetworkRBAC.get_valid_actions() order
OBJECT_TYPES = ("network", "address_scope", "address_group", "security_group", "qos_policy")
VALID_ACTIONS = {"network": ACTIONS, "address_scope": (SHARED,), "address_group": (SHARED,),
                 "security_group": (SHARED,), "qos_policy": (SHARED,)}
_COLUMN = {SHARED: "shared", EXTERNAL: "router_external"}
_MODELS = {"network": NetworkRBAC, "address_scope": AddressScopeRBAC,
           "address_group": AddressGroupRBAC, "security_group": SecurityGroupRBAC,
           "qos_policy": QosPolicyRBAC}
_OBJECTS = {NetworkRBAC: Network, AddressScopeRBAC: AddressScope, AddressGroupRBAC: AddressGroup,
            SecurityGroupRBAC: SecurityGroup, QosPolicyRBAC: QosPolicy}
_TYPE_OF = {model: otype for otype, model in _MODELS.items()}
# Objects shared by ``access_as_shared`` only: how to find one the caller sees.
_FIND_SHARED = {"address_scope": address_scopes.find_visible,
                "address_group": address_groups.find_visible,
                "security_group": security_group_access.find_visible,
                "qos_policy": qos.find_visible}


def _policies_of(object_type: str):
    model = _MODELS[object_type]
    return select(model.id, model.project_id, model.object_id, model.action, model.target_tenant,
                  literal(object_type).label("object_type"))


# Every policy, of networks and of address scopes: the rbac-policies collection.
_POLICIES = union_all(*(_policies_of(t) for t in OBJECT_TYPES)).subquery("rbac_policies")
_P = _POLICIES.c

SPEC = listing.ResourceSpec(
    id_column=_P.id,
    filters={
        "id": listing.eq(_P.id),
        "project_id": listing.eq(_P.project_id),
        "tenant_id": listing.eq(_P.project_id),
        "object_id": listing.eq(_P.object_id),
        "action": listing.eq(_P.action),
        "target_tenant": listing.eq(_P.target_tenant),
        "target_project": listing.eq(_P.target_tenant),
        "object_type": lambda values: _P.object_type.in_([v.strip().lower() for v in values]),
    },
    sort_keys={"id": _P.id, "project_id": _P.project_id, "tenant_id": _P.project_id,
               "object_id": _P.object_id, "action": _P.action,
               "target_tenant": _P.target_tenant, "object_type": _P.object_type},
    not_found=lambda policy_id: errors.RbacPolicyNotFound(policy_id),
)


# --- access, for the other services ------------------------------------------

def granted(project_id: str, action: str | None = None):
    """SELECT of the ids of networks an entry grants to ``project_id`` by name
    (``action``: only that action). ``*`` entries are the networks' columns."""
    stmt = select(NetworkRBAC.object_id).where(NetworkRBAC.target_tenant == project_id)
    return stmt if action is None else stmt.where(NetworkRBAC.action == action)


def visible(ctx: Context):
    """SQL condition on ``networks``: the caller may see the network (A.5): its
    own, shared or external to everyone, or named by an entry (admins: all)."""
    if ctx.is_admin:
        return Network.id.is_not(None)
    return or_(Network.project_id == ctx.project_id, Network.shared.is_(True),
               Network.router_external.is_(True), Network.id.in_(granted(ctx.project_id)))


def shared_for(ctx: Context):
    """SQL condition: ``shared`` as the caller sees it -- an ``access_as_shared``
    entry targets ``*`` or the caller's project (``_is_network_shared``)."""
    return or_(Network.shared.is_(True), Network.id.in_(granted(ctx.project_id, SHARED)))


def external_for(ctx: Context):
    """SQL condition: ``router:external`` as the caller sees it -- an
    ``access_as_external`` entry targets ``*`` or the caller's project; the
    network's owner and admins see it external while any such entry exists
    (Neutron's ``router:external`` is per network: ``external_net_db``)."""
    any_entry = select(NetworkRBAC.object_id).where(NetworkRBAC.action == EXTERNAL)
    if ctx.is_admin:
        return Network.id.in_(any_entry)
    return or_(Network.router_external.is_(True),
               Network.id.in_(granted(ctx.project_id, EXTERNAL)),
               and_(Network.project_id == ctx.project_id, Network.id.in_(any_entry)))


def _named(session: Session, network_id: str, project_id: str, action: str | None = None) -> bool:
    stmt = select(NetworkRBAC.id).where(NetworkRBAC.object_id == network_id,
                                        NetworkRBAC.target_tenant == project_id)
    if action is not None:
        stmt = stmt.where(NetworkRBAC.action == action)
    return session.scalar(stmt.limit(1)) is not None


def can_see(session: Session, ctx: Context, net: Network) -> bool:
    """The row form of ``visible``."""
    return ctx.is_admin or visible_to(session, net, ctx.project_id)


def visible_to(session: Session, net: Network, project_id: str) -> bool:
    """A member of ``project_id`` may see ``net`` (``can_see`` without admin)."""
    return (net.project_id == project_id or net.shared or net.router_external
            or _named(session, net.id, project_id))


def shared_to(session: Session, net: Network, project_id: str) -> bool:
    """``project_id`` may use ``net`` as a shared network (ports, router interfaces)."""
    return net.shared or _named(session, net.id, project_id, SHARED)


def external_to(session: Session, net: Network, project_id: str) -> bool:
    """``net`` is external for ``project_id``: router gateways and floating IPs
    of that project may use it (the row form of ``external_for``)."""
    if net.router_external:
        return True
    stmt = select(NetworkRBAC.id).where(NetworkRBAC.object_id == net.id,
                                        NetworkRBAC.action == EXTERNAL)
    if net.project_id != project_id:
        stmt = stmt.where(NetworkRBAC.target_tenant == project_id)
    return session.scalar(stmt.limit(1)) is not None


def is_external(session: Session, net: Network) -> bool:
    """``net`` is external to someone: ``router:external`` or any ``access_as_external``
    entry (Neutron's ``externalnetworks`` row)."""
    return net.router_external or session.scalar(select(NetworkRBAC.id).where(
        NetworkRBAC.object_id == net.id, NetworkRBAC.action == EXTERNAL).limit(1)) is not None


def caller_grants(session: Session, ctx: Context) -> tuple[set[tuple[str, str]], set[str]]:
    """What makes networks shared or external for the caller beyond their ``*``
    columns: ``{(network id, action)}`` of the entries naming the caller's project, and
    the networks with an external entry the caller owns (admins: any); two small
    queries."""
    named = {tuple(r) for r in session.execute(select(NetworkRBAC.object_id, NetworkRBAC.action)
                                               .where(NetworkRBAC.target_tenant == ctx.project_id))}
    owned_external = select(NetworkRBAC.object_id).where(NetworkRBAC.action == EXTERNAL)
    if not ctx.is_admin:
        owned_external = owned_external.join(Network, Network.id == NetworkRBAC.object_id).where(
            Network.project_id == ctx.project_id)
    return named, set(session.scalars(owned_external))  # type: ignore[return-value]


def mirror_wildcard(session: Session, net: Network, action: str, on: bool) -> None:
    """Make the ``*`` entry of ``action`` follow ``net.shared`` / ``net.router_external``
    being set to ``on`` (network create/update; ``external_net_db._process_l3_update``
    drops every ``access_as_external`` entry when the network stops being external)."""
    if on:
        exists = session.scalar(select(NetworkRBAC.id).where(
            NetworkRBAC.object_id == net.id, NetworkRBAC.action == action,
            NetworkRBAC.target_tenant == WILDCARD))
        if exists is None:
            session.add(NetworkRBAC(id=common.new_id(), project_id=net.project_id,
                                    object_id=net.id, action=action, target_tenant=WILDCARD))
        return
    stmt = delete(NetworkRBAC).where(NetworkRBAC.object_id == net.id, NetworkRBAC.action == action)
    if action == SHARED:
        stmt = stmt.where(NetworkRBAC.target_tenant == WILDCARD)
    session.execute(stmt)


def shared_targets(session: Session, network_id: str) -> set[str]:
    """Projects an ``access_as_shared`` entry names (``*`` excluded): they keep
    access when the network stops being shared to everyone."""
    return set(session.scalars(select(NetworkRBAC.target_tenant).where(
        NetworkRBAC.object_id == network_id, NetworkRBAC.action == SHARED,
        NetworkRBAC.target_tenant != WILDCARD)))


# --- the API -------------------------------------------------------------------

def _visible_policies(ctx: Context):
    """A policy is seen by its project and admins (``get_rbac_policy``: admin_or_owner)."""
    if ctx.is_admin:
        return _P.id.is_not(None)
    return _P.project_id == ctx.project_id


def _find(session: Session, ctx: Context, policy_id: str, *,
          for_update: bool = True) -> NetworkRBAC | AddressScopeRBAC:
    """The policy of either object type; RbacPolicyNotFound unless the caller's
    project made it or admin."""
    for model in _MODELS.values():
        row = session.get(model, policy_id, with_for_update=for_update)
        if row is not None:
            break
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise errors.RbacPolicyNotFound(policy_id)
    return row


def _object_of(session: Session, row: Any) -> Network | AddressScope | AddressGroup:
    """The network, address scope or group a policy row is about, locked for the change."""
    return session.get(_OBJECTS[type(row)], row.object_id, with_for_update=True)


def _written(rows: list[Any]) -> listing.Written:
    """Policy rows (``NetworkRBAC``, ``AddressScopeRBAC``, ...) as rows of the
    ``rbac_policies`` union the API reads (``api/wire/rbac_policies.py``): with the
    ``object_type`` their table stands for."""
    return listing.Written([SimpleNamespace(
        id=r.id, project_id=r.project_id, object_type=_TYPE_OF[type(r)], object_id=r.object_id,
        action=r.action, target_tenant=r.target_tenant) for r in rows])


def _validate(ctx: Context, data: dict[str, Any]) -> None:
    """Neutron's ``convert_valid_object_type``, ``InvalidActionForType`` and the
    ``create_rbac_policy:target_tenant`` rule (``*`` is admin only)."""
    otype = data["object_type"]
    if otype.strip().lower() not in OBJECT_TYPES:
        raise errors.InvalidInput(f"Invalid input for operation: '{otype}' is not a valid RBAC "
                                  "object type.")
    data["object_type"] = otype.strip().lower()
    valid = VALID_ACTIONS[data["object_type"]]
    if data["action"] not in valid:
        raise errors.InvalidActionForType(data["action"], data["object_type"], valid)
    if data["target_tenant"] == WILDCARD:
        policy.require(ctx, "create_rbac_policy:target_tenant")


def create_rbac_policies(env: Env, ctx: Context, items: list[dict[str, Any]]) -> listing.Written:
    """Create policies all-or-nothing. ``items`` are validated ``RbacPolicyCreate`` dicts;
    returns the new policies (``_written``).

    Raises InvalidInput (400: object type other than ``network``,
    ``address_scope`` or ``address_group``, or an object the caller sees but does
    not own), InvalidActionForType (400), PolicyNotAuthorized (403: ``*`` target
    without admin), NetworkNotFound / AddressScopeNotFound / AddressGroupNotFound /
    SecurityGroupNotFound
    (404), DuplicateRbacPolicy
    (409), OverQuota (409, ``rbac_policy``: network policies). A ``*`` entry also
    sets the network's ``shared`` / ``router:external`` or the scope's ``shared``.
    """
    for data in items:
        _validate(ctx, data)

    def run(session: Session) -> listing.Written:
        projects = [common.owner_project(ctx, data) for data in items]
        check_quotas(session, env, "rbac_policy", projects)
        rows = []
        for data, project in zip(items, projects):
            if data["object_type"] in _FIND_SHARED:
                rows.append(_create_shared_policy(session, ctx, data, project))
                continue
            net = session.get(Network, data["object_id"], with_for_update=True)
            if net is None or not can_see(session, ctx, net):
                raise errors.NetworkNotFound(data["object_id"])
            if not ctx.is_admin and net.project_id != ctx.project_id:
                raise errors.InvalidInput("Invalid input for operation: Only admins can "
                                          "manipulate policies on networks they do not own.")
            row = NetworkRBAC(id=common.new_id(), project_id=project, object_id=net.id,
                              action=data["action"], target_tenant=data["target_tenant"])
            _insert(session, row)
            if row.target_tenant == WILDCARD:
                _set_column(net, row.action, True)
            rows.append(row)
        return _written(rows)
    return env.db.run(run)


def _create_shared_policy(session: Session, ctx: Context, data: dict[str, Any],
                          project: str) -> AddressScopeRBAC | AddressGroupRBAC:
    """A policy on an address scope or group (``access_as_shared`` only)."""
    otype = data["object_type"]
    scope = _FIND_SHARED[otype](session, ctx, data["object_id"], for_update=True)
    if not ctx.is_admin and scope.project_id != ctx.project_id:
        raise errors.InvalidInput("Invalid input for operation: Only admins can manipulate "
                                  "policies on objects they do not own.")
    row = _MODELS[otype](id=common.new_id(), project_id=project, object_id=scope.id,
                         action=data["action"], target_tenant=data["target_tenant"])
    _insert(session, row)
    if row.target_tenant == WILDCARD:
        _set_column(scope, row.action, True)
    return row


def _insert(session: Session, row: Any) -> None:
    """Insert in a savepoint: the unique (action, object_id, target_tenant) turns a
    duplicate, also one a concurrent request just committed, into 409."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise errors.DuplicateRbacPolicy() from None


def _set_column(obj: Any, action: str, value: bool) -> None:
    """Mirror a ``*`` entry on the network's column (a change is a new revision)
    or the address scope's or group's ``shared`` (not shown: no new revision)."""
    column = _COLUMN[action]
    if getattr(obj, column) != value:
        setattr(obj, column, value)
        if isinstance(obj, Network):
            common.touch(obj)


def update_rbac_policy(env: Env, ctx: Context, policy_id: str, data: dict[str, Any],
                       if_match: int | None = None) -> listing.Written:
    """Retarget a policy (only ``target_tenant`` may change; ``*`` needs admin); returns
    it (``_written``).

    Raises RbacPolicyNotFound (404), PolicyNotAuthorized (403),
    RbacPolicyInUse (409) when the project losing access still uses the
    network, DuplicateRbacPolicy (409). ``If-Match`` is not supported by
    policies (they have no revision) and is ignored.
    """
    target = data.get("target_tenant")
    if target == WILDCARD:
        policy.require(ctx, "update_rbac_policy:target_tenant")

    def run(session: Session) -> listing.Written:
        row = _find(session, ctx, policy_id)
        if target is None or target == row.target_tenant:
            return _written([row])
        net = _object_of(session, row)
        _check_unused(session, net, row, new_target=target)
        old = row.target_tenant
        try:
            with session.begin_nested():
                row.target_tenant = target
                session.flush()
        except IntegrityError:
            raise errors.DuplicateRbacPolicy() from None
        if old == WILDCARD:
            _set_column(net, row.action, False)
        if target == WILDCARD:
            _set_column(net, row.action, True)
        return _written([row])
    return env.db.run(run)


def delete_rbac_policy(env: Env, ctx: Context, policy_id: str, if_match: int | None = None) -> None:
    """Delete a policy. Raises RbacPolicyNotFound (404) and RbacPolicyInUse (409)
    when the project losing access still has ports (shared) or router gateways
    and floating IPs (external) on the network. Deleting a ``*`` entry clears
    the network's ``shared`` / ``router:external``."""
    def run(session: Session) -> None:
        row = _find(session, ctx, policy_id)
        net = _object_of(session, row)
        _check_unused(session, net, row, new_target=None)
        session.delete(row)
        if row.target_tenant == WILDCARD:
            _set_column(net, row.action, False)
    env.db.run(run)


# --- in use ------------------------------------------------------------------------

def _check_unused(session: Session, net: Any, row: Any, new_target: str | None) -> None:
    """RbacPolicyInUse unless the projects losing access by removing (or
    retargeting to ``new_target``) ``row`` have nothing depending on it (for an
    address scope: subnet pools in it; for an address group: rules naming it)."""
    target = row.target_tenant
    if (target == WILDCARD and row.action == EXTERNAL and isinstance(net, Network)
            and net.is_default):
        raise errors.RbacPolicyInUse(net.id, "Default external networks must be shared to "
                                             "everyone.")
    if target == net.project_id:
        return  # self-sharing: the owner keeps access anyway
    if isinstance(net, QosPolicy):
        return qos.check_rbac_removal(session, net, row)
    model = type(row)
    others = set(session.scalars(select(model.target_tenant).where(
        model.object_id == net.id, model.action == row.action, model.id != row.id)))
    if new_target is not None:
        others.add(new_target)
    if WILDCARD in others:
        return  # everyone keeps access
    if isinstance(net, AddressScope):
        users = address_scopes.users(session, net.id)
    elif isinstance(net, AddressGroup):
        users = address_groups.users(session, net.id)
    elif isinstance(net, SecurityGroup):
        users = security_group_access.users(session, net.id)
    else:
        users = _users(session, net, row.action)
    if target != WILDCARD:
        losing = users & {target}
    else:
        # the owner keeps a shared network; an external one only while entries remain
        keeps = others | {net.project_id} if row.action == SHARED or others else others
        losing = users - keeps
    if losing and isinstance(net, SecurityGroup):
        raise errors.RbacPolicyInUse(net.id, f"project_id={target}")
    if losing:
        details = ("There are subnet pools in this address scope that depend on this policy "
                   "for access." if isinstance(net, AddressScope) else
                   "There are security group rules using this address group that depend on "
                   "this policy for access." if isinstance(net, AddressGroup) else
                   "There are ports on this network that depend on this policy for access."
                   if row.action == SHARED else
                   "There are routers or floating IPs attached to this network that depend on "
                   "this policy for access.")
        raise errors.RbacPolicyInUse(net.id, details)


def _users(session: Session, net: Network, action: str) -> set[str]:
    """Projects using ``net`` through ``action``: port owners for a shared
    network (ports without a project -- gateways, floating IP ports -- aside),
    router and floating IP owners for an external one."""
    if action == SHARED:
        return set(session.scalars(select(Port.project_id).distinct().where(
            Port.network_id == net.id, Port.project_id != "")))
    routers = select(Router.project_id).join(Port, Port.device_id == Router.id).where(
        Port.network_id == net.id, Port.device_owner == c.DEVICE_OWNER_ROUTER_GW)
    fips = select(FloatingIP.project_id).where(FloatingIP.floating_network_id == net.id)
    return set(session.scalars(routers.union(fips)))

"""The reads of a one-port create in one statement (issue 22: the write path's round
trips). ``services.ports.create_ports`` calls :func:`load` for a request of one port;
bulk requests read these apart."""

from __future__ import annotations

from collections import namedtuple
from types import SimpleNamespace

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.models import DefaultSecurityGroup, Network, Subnet
from neutrino.db.models import QosNetworkPolicyBinding
from neutrino.services import quotas, rbac
from neutrino.services.context import Context
from neutrino.services.env import Env

_SUBNET_COLUMNS = tuple(Subnet.__table__.c)
# port_addresses.network_subnets' rows, as read with the network by _CREATE_READS
# (what port_addresses, routed_ports and the allocator read of a subnet: its columns)
_SubnetRow = namedtuple("_SubnetRow", [col.name for col in _SUBNET_COLUMNS])
_SUBNET_ID = _SubnetRow._fields.index("id")
_CREATE_READS = select(
    Network, *quotas.limit_and_usage("port"),
    select(DefaultSecurityGroup.security_group_id).where(
        DefaultSecurityGroup.project_id == bindparam("project_id")).scalar_subquery(),
    select(QosNetworkPolicyBinding.policy_id).where(
        QosNetworkPolicyBinding.network_id == Network.id).scalar_subquery(),
    *(col.label(f"subnet_{col.name}") for col in _SUBNET_COLUMNS),
).outerjoin(Subnet, Subnet.network_id == Network.id).where(
    Network.id == bindparam("network_id")).order_by(Subnet.created_at, Subnet.id)


def load(session: Session, env: Env, ctx: Context, network_id: str,
         project: str) -> SimpleNamespace | None:
    """What creating one port of ``project`` on ``network_id`` reads, in one statement
    (one row per subnet): the network (``net``, checked visible: NetworkNotFound), the
    project's port quota (checked: OverQuota), its default security group id
    (``default_group``, None when it has none yet), the network's QoS policy id
    (``network_qos``) and its subnets (``subnets``, as
    ``port_addresses.network_subnets``). None when the network does not exist: the
    caller's usual path then reports the quota first, as it does for several ports."""
    rows = session.execute(_CREATE_READS, {"network_id": network_id,
                                           "project_id": project}).all()
    if not rows:
        return None
    net, override, used, default_group, network_qos = rows[0][:5]
    quotas.check_limit(env, "port", override, used, 1)
    if not rbac.can_see(session, ctx, net):
        raise errors.NetworkNotFound(network_id)
    subnets = [_SubnetRow(*row[5:]) for row in rows if row[5 + _SUBNET_ID] is not None]
    return SimpleNamespace(net=net, default_group=default_group, network_qos=network_qos,
                           subnets=subnets)

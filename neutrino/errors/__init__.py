"""Errors named and numbered as Neutron's (neutron-lib ``exceptions``, ``api/faults.py``).

Every layer raises these; ``api/errors.py`` renders them as
``{"NeutronError": {"type": <class name>, "message": ..., "detail": ""}}``
with ``status``. Kept at the package root so ``ipam`` and ``services`` share them.

One module a family, as neutron-lib's ``exceptions/`` package: ``base`` (the types by
status), ``core`` (networks, subnets, ports, addresses, quotas, provider networks),
``segments``, ``l3`` (routers, floating IPs), ``security_groups`` (with port security and
allowed address pairs), ``rbac``, ``address_scopes`` (with subnet pools), ``agents``
(with availability zones), ``auto_allocate``, ``address_groups``, ``port_bindings``,
``network_logs``, ``flavors``, ``trunks``, ``qos``. Every name is re-exported here, so callers write
``from neutrino import errors; errors.NetworkNotFound(...)`` and never name the family
module; a new error goes into its family's module and is re-exported by the star import.
"""

from __future__ import annotations

from neutrino.errors.base import *  # noqa: F401,F403
from neutrino.errors.core import *  # noqa: F401,F403
from neutrino.errors.segments import *  # noqa: F401,F403
from neutrino.errors.l3 import *  # noqa: F401,F403
from neutrino.errors.security_groups import *  # noqa: F401,F403
from neutrino.errors.rbac import *  # noqa: F401,F403
from neutrino.errors.address_scopes import *  # noqa: F401,F403
from neutrino.errors.agents import *  # noqa: F401,F403
from neutrino.errors.auto_allocate import *  # noqa: F401,F403
from neutrino.errors.address_groups import *  # noqa: F401,F403
from neutrino.errors.port_bindings import *  # noqa: F401,F403
from neutrino.errors.network_logs import *  # noqa: F401,F403
from neutrino.errors.flavors import *  # noqa: F401,F403
from neutrino.errors.trunks import *  # noqa: F401,F403
from neutrino.errors.qos import *  # noqa: F401,F403

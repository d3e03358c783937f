"""SQLAlchemy models: the source of truth for every resource.

Timestamps are stored as ``YYYY-MM-DDTHH:MM:SSZ`` strings, the exact form the
API returns; they sort and compare correctly as text.

One module a family, as Neutron's ``neutron/db/models/``: ``common`` (the standard
attributes and RBAC columns every table shares), ``core`` (networks, subnets, ports,
port bindings, address allocations), ``segments`` (with hosts' physical networks and
segment ranges), ``security_groups``, ``l3`` (routers, floating IPs, port forwardings),
``address_scopes`` (with subnet pools), ``address_groups``, ``qos``, ``extensions``
(tags, quotas, network logs, flavors, trunks) and ``control`` (neutrino's own: the NB
outbox, Nova's events, controllers, agents, metadata instances). Importing this package
registers every table on ``db.base.Base.metadata`` (what alembic and the tests see), and
every name is re-exported here: callers write ``from neutrino.db.models import Port``
and never name the family module; a new table goes into its family's module.
"""

from __future__ import annotations

from neutrino.db.models.common import *  # noqa: F401,F403
from neutrino.db.models.core import *  # noqa: F401,F403
from neutrino.db.models.segments import *  # noqa: F401,F403
from neutrino.db.models.security_groups import *  # noqa: F401,F403
from neutrino.db.models.l3 import *  # noqa: F401,F403
from neutrino.db.models.address_scopes import *  # noqa: F401,F403
from neutrino.db.models.address_groups import *  # noqa: F401,F403
from neutrino.db.models.qos import *  # noqa: F401,F403
from neutrino.db.models.extensions import *  # noqa: F401,F403
from neutrino.db.models.control import *  # noqa: F401,F403

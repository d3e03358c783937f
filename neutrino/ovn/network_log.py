"""Network logs -> ACL logging columns and NB ``Meter`` rows. Pure: no I/O.

As ML2/OVN's log driver (``neutron/services/logapi/drivers/ovn/driver.py``):
an ACL a log covers gets ``log=true``, ``name="neutron-<log id>"``,
``severity="info"`` and ``meter`` naming a fair ``Meter`` (unit ``pktps``, one
``drop`` band with ``rate``/``burst_size`` from the ``network_log_rate_limit``/
``network_log_burst_limit`` settings, Neutron's ``[network_log]``
``rate_limit``/``burst_limit``), so ovn-controller writes at most that many
``acl_log`` lines per second. ``acl_log_meter`` serves stateful groups and
``neutron_pg_drop``; ``acl_log_meter_stateless`` (half the rate and burst)
serves stateless ones. Both meters exist while any log exists
(``external_ids:neutron:device_owner=logging-plugin``).

Which ACLs a log covers: ``ACCEPT`` the allow ACLs of the rules of its groups
(``services.network_logs.covered_groups``), ``DROP`` the two drop ACLs of
``neutron_pg_drop``, ``ALL`` both; only while ``enabled``. An ACL two logs
cover keeps the older log's name (ML2/OVN never renames a named ACL). A
disabled or deleted log leaves its ACLs with ``log=false`` and no name,
severity or meter.

Deviations from ML2/OVN: a log on one security group with ``DROP`` marks
``neutron_pg_drop``'s drop ACLs (Neutron >= 2025.1 adds per-group drop ACLs
at priority 1001 above a 1000 drop; neutrino's drop is at 1001, under its
1002 allows, and has no room between); ``neutrino logs`` attributes a drop
to the port and the ``DROP``/``ALL`` logs covering its groups (``ovn.acl_log``). No ``label`` /
``options:log-related`` (replies of allowed connections are not logged).
A log without ``resource_id`` covers its own project's groups only (ML2/OVN:
every port group).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neutrino.ovn.security_groups import PG_DROP, Acl, sg_id_of

METER = "acl_log_meter"  # ML2/OVN's default (``local_output_log_base`` unset)
METER_STATELESS = METER + "_stateless"
EXT_DEVICE_OWNER = "neutron:device_owner"
LOGGING_PLUGIN = "logging-plugin"
LOG_NAME_PREFIX = "neutron-"
SEVERITY = "info"
_ALLOW = ("allow", "allow-related", "allow-stateless")
_DROP = ("drop", "reject")
_EVENTS_FOR = {"ACCEPT": _ALLOW, "DROP": _DROP, "ALL": _ALLOW + _DROP}


@dataclass(frozen=True)
class Meter:
    """A ``Meter`` with its one ``Meter_Band`` (``rate`` packets per second,
    ``burst_size`` packets), known by name."""

    TABLE = "Meter"
    name: str
    rate: int
    burst_size: int
    unit: str = "pktps"
    fair: bool = True
    external_ids: Mapping[str, str] = field(default_factory=dict)


def log_name(log_id: str) -> str:
    """An ACL's ``name`` for a log: ``neutron-<log id>`` (ML2/OVN ``ovn_name``)."""
    return LOG_NAME_PREFIX + log_id


def log_id_of(acl_name: str) -> str | None:
    """The log id in an ACL name, None for other names."""
    return acl_name[len(LOG_NAME_PREFIX):] if acl_name.startswith(LOG_NAME_PREFIX) else None


def is_owned_meter(name: str, external_ids: Mapping[str, str]) -> bool:
    """A meter the logging realisation made (and the audit owns)."""
    return name in (METER, METER_STATELESS) and \
        external_ids.get(EXT_DEVICE_OWNER) == LOGGING_PLUGIN


def desired_meters(any_log: bool, rate: int, burst: int) -> dict[str, Meter]:
    """Both meters by name while ``any_log``, else none. Stateless: half of
    ``rate``/``burst`` (ML2/OVN ``_create_ovn_fair_meter``)."""
    if not any_log:
        return {}
    ids = {EXT_DEVICE_OWNER: LOGGING_PLUGIN}
    return {METER: Meter(METER, rate, burst, external_ids=ids),
            METER_STATELESS: Meter(METER_STATELESS, rate // 2, burst // 2, external_ids=ids)}


def logged_acls(acls: Mapping[str, Acl], logs: Iterable[tuple[Any, Iterable[str]]],
                stateless_groups: Iterable[str] = ()) -> dict[str, Acl]:
    """``acls`` (by key) with the logging columns of the logs covering them.

    ``logs``: ``(log, group ids it covers)`` oldest first; a log has ``id``,
    ``event`` and ``enabled``. ``stateless_groups``: ids of groups whose ACLs
    name ``acl_log_meter_stateless``. ACLs no enabled log covers come back
    unchanged (``log`` false, no name)."""
    enabled = [(log, frozenset(groups)) for log, groups in logs if log.enabled]
    stateless = set(stateless_groups)
    result = dict(acls)
    for key, acl in acls.items():
        group = sg_id_of(acl.port_group)
        for log, groups in enabled:
            if acl.action not in _EVENTS_FOR.get(log.event, ()):
                continue
            if acl.port_group == PG_DROP:
                if acl.action not in _DROP:
                    continue
            elif group not in groups:
                continue
            meter = METER_STATELESS if group in stateless else METER
            result[key] = dataclasses.replace(acl, log=True, name=log_name(log.id),
                                              severity=SEVERITY, meter=meter)
            break
    return result

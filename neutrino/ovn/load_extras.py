"""Load stage of the NB sync, DNS and extra DHCP options: what ``ovn.load`` reads for
``ovn.dns`` and ``ovn.port_dhcp``.

* :func:`extra_dhcp_ports` -- the ports with ``extra_dhcp_opts`` on networks in a
  load's scope. Their own ``DHCP_Options`` rows copy their subnet's options, so a
  network or subnet change brings them along: ``ovn.load`` adds them to the ports it
  recomputes (usually a handful per network: PXE-booted machines).
* :func:`dns_inputs` / :func:`dns_inputs_of` -- ``ovn.dns.DnsInputs`` for the
  networks in scope (a bounded number of queries) or for rows already read (an
  audit): the ports publishing names with their addresses, the ``dns_domain``
  setting and the default resolvers.
* :func:`with_logs` -- a ``Desired`` with the network logs applied
  (``ovn.network_log``): its ACLs' logging columns and the logging meters.

Reads the database only, in the caller's snapshot; ``default_dns_servers`` reads
this host's ``/etc/resolv.conf`` when the ``dns_servers`` setting is empty.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, bindparam, cast, select
from sqlalchemy.orm import Session

from neutrino.db.models import IPAllocation, Port, SecurityGroup
from neutrino.ovn import network_log
from neutrino.ovn.dns import DnsInputs
from neutrino.services.network_logs import logs_for_sync
from neutrino.services.port_extras import publishes_dns

_CHUNK = 500  # ids per IN list: far below every database's bound-parameter limit
IDS = bindparam("ids", expanding=True)  # the id list of a statement run by rows_in
# A port with extra DHCP options: its JSON list is not the empty one (stored as '[]').
_HAS_EXTRA_OPTS = cast(Port.extra_dhcp_opts, String) != "[]"
_PUBLISHES = (Port.dns_name != "") & (Port.device_id != "")
_DNS_PORTS = select(Port.id, Port.network_id, Port.dns_name, Port.device_id).where(_PUBLISHES)
_DNS_ADDRESSES = (select(IPAllocation.port_id, IPAllocation.ip_address)
                  .join(Port, Port.id == IPAllocation.port_id).where(_PUBLISHES))
_NETWORK_DNS_PORTS = _DNS_PORTS.where(Port.network_id.in_(IDS))
_NETWORK_DNS_ADDRESSES = _DNS_ADDRESSES.where(Port.network_id.in_(IDS))
_EXTRA_DHCP_PORTS = select(Port.__table__).where(Port.network_id.in_(IDS), _HAS_EXTRA_OPTS)


def rows_in(session: Session, stmt: Any, ids: Iterable[str]) -> list[Any]:
    """Rows of ``stmt`` (a Core SELECT with the expanding parameter :data:`IDS`) for
    ``ids``, in chunks of ``_CHUNK`` (no query for none), on the session's connection:
    Core statements need no ORM execution layer. A statement of one column gives its
    values, others their rows."""
    ids = sorted(set(ids))
    rows: list[Any] = []
    connection = session.connection() if ids else None
    for i in range(0, len(ids), _CHUNK):
        result = connection.execute(stmt, {"ids": ids[i:i + _CHUNK]})
        rows += result.scalars().all() if len(result.keys()) == 1 else result.all()
    return rows


def extra_dhcp_ports(session: Session, network_ids: Iterable[str]) -> list[Any]:
    """Port rows (all columns) with extra DHCP options on ``network_ids``."""
    return rows_in(session, _EXTRA_DHCP_PORTS, network_ids)


def dns_inputs(session: Session, network_ids: Iterable[str], *, dns_domain: str,
               servers: tuple[str, ...] | None) -> DnsInputs:
    """``DnsInputs`` of ``network_ids``: two queries per 500 networks."""
    ids = list(network_ids)
    ports = rows_in(session, _NETWORK_DNS_PORTS, ids)
    rows = rows_in(session, _NETWORK_DNS_ADDRESSES, ids)
    return DnsInputs(dns_domain=dns_domain, servers=servers, ports=tuple(ports),
                     addresses=_addresses(rows))


def dns_inputs_of(ports: Iterable[Any], allocations: Iterable[Any], *, dns_domain: str,
                  servers: tuple[str, ...] | None) -> DnsInputs:
    """``DnsInputs`` from port rows and allocation rows (``port_id``, ``ip_address``)
    already read."""
    publishing = tuple(p for p in ports if publishes_dns(p))
    ids = {p.id for p in publishing}
    return DnsInputs(dns_domain=dns_domain, servers=servers, ports=publishing,
                     addresses=_addresses(a for a in allocations if a.port_id in ids))


def _addresses(rows: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """``{port id: addresses}``, IPv4 first, each in address order."""
    found: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        found[r.port_id].append(r.ip_address)
    return {pid: tuple(sorted(ips, key=lambda ip: (ipaddress.ip_address(ip).version,
                                                   int(ipaddress.ip_address(ip)))))
            for pid, ips in found.items()}


def with_logs(session: Session, desired: Any, limits: tuple[int, int] = (100, 25)) -> Any:
    """``desired`` (an ``ovn.rows.Desired``) with every log applied to its ACLs and
    the logging ``Meter`` rows for ``limits`` (rate pkt/s, burst pkts; the
    ``network_log_rate_limit``/``_burst_limit`` settings). Reads every log (a small
    table) and the ids of the stateless security groups."""
    logs = logs_for_sync(session)
    if not logs:
        return dataclasses.replace(desired, meters={})
    stateless = session.scalars(select(SecurityGroup.id).where(SecurityGroup.stateful.is_(False)))
    return dataclasses.replace(
        desired, acls=network_log.logged_acls(desired.acls, logs, stateless),
        meters=network_log.desired_meters(True, *limits))

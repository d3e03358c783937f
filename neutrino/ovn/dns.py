"""Internal DNS on OVN: each switch's ``DNS`` row, and the DHCP ``dns_server`` fallback.

**Records** (pure, :func:`desired_dns`). As ML2/OVN (mech_driver/ovsdb/ovn_client.py
``get_port_dns_records`` / ``add_txns_to_sync_port_dns_records``): a network whose
ports publish names gets ONE ``DNS`` row, ``external_ids:ls_name`` =
``neutron-<network id>``, referenced from its ``Logical_Switch.dns_records``. A port
publishes when it has a ``dns_name`` and a ``device_id`` (``is_dns_required_for_port``);
from each entry of its ``dns_assignment`` (``services.dns``) come the records
``<hostname>`` and ``<fqdn>`` (no trailing dot) -> its addresses, space-separated,
``<hostname>.<network dns_domain>`` when the network has a domain that differs, and
the reverse ``<ip>.in-addr.arpa`` / ``ip6.arpa`` -> ``<fqdn>``. Where two ports
claim one name (ML2/OVN's known limitation: the last writer wins) the row holds the
addresses of both, in port id order, so the result does not depend on write order.
ovn-northd(8), "DNS Lookup": a switch with DNS records answers every UDP/53 query
from its ports for those names itself, whatever address it was sent to; other
queries go on to their destination.

**Resolver in the lease** (:func:`default_dns_servers`). ML2/OVN's
``get_dhcp_dns_servers``: a subnet's ``dns_nameservers``, else ``[ovn] dns_servers``
(neutrino's ``dns_servers`` setting), else the nameservers of this host's
``/etc/resolv.conf``; a lone ``0.0.0.0`` / ``::`` means none. That file is read
by the sync's load stage; the builders here stay pure.

Ownership: a ``DNS`` row whose ``external_ids:ls_name`` names a ``neutron-`` switch is
neutrino's (Neutron marks it so), whatever switches refer to it.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from neutrino.services import dns as dns_names
from neutrino.services.port_extras import publishes_dns

EXT_LS_NAME = "ls_name"
RESOLV_CONF = Path("/etc/resolv.conf")


@dataclass(frozen=True)
class Dns:
    """A ``DNS`` row (ovn-nb(5)) of switch ``ls_name``: ``records`` maps a query name
    to its answer (addresses space-separated, or the FQDN of a reverse record)."""

    TABLE = "DNS"
    ls_name: str
    records: Mapping[str, str] = field(default_factory=dict)
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DnsInputs:
    """What the DNS rows and DHCP resolvers depend on besides networks and subnets,
    as the sync's load stage read it: the ``dns_domain`` setting, the default
    resolvers (:func:`default_dns_servers`), the ports that publish names (rows with
    ``id``, ``network_id``, ``dns_name``, ``device_id``) and each one's addresses in
    order (IPv4 first). ``servers`` None: the host's resolvers were not read (pure
    callers), so subnets without ``dns_nameservers`` get no ``dns_server``."""

    dns_domain: str = dns_names.DNS_DOMAIN_DEFAULT
    servers: tuple[str, ...] | None = None
    ports: tuple[Any, ...] = ()
    addresses: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def domain_name(self) -> str | None:
        """The DHCP ``domain_name`` option (a quoted string) of IPv4 subnets: the
        ``dns_domain`` setting unless it is empty or the default (ML2/OVN)."""
        settings = SimpleNamespace(dns_domain=self.dns_domain)
        return f'"{self.dns_domain}"' if dns_names.names_enabled(settings) else None


def port_records(port: Any, addresses: Sequence[str], network_domain: str,
                 dns_domain_setting: str) -> dict[str, list[str]]:
    """``{name: [answers]}`` of one port (``get_port_dns_records``); {} when the port
    publishes nothing. ``addresses`` in the port's order (IPv4 first)."""
    if not publishes_dns(port) or not addresses:
        return {}
    settings = SimpleNamespace(dns_domain=dns_domain_setting)
    net_domain = (network_domain or "").rstrip(".")
    records: dict[str, list[str]] = defaultdict(list)
    for entry in dns_names.dns_assignment(port.dns_name, addresses, settings):
        hostname, ip = entry["hostname"], entry["ip_address"]
        fqdn = entry["fqdn"].rstrip(".")
        names = [hostname]
        if net_domain and f"{hostname}.{net_domain}" != fqdn:
            names.append(f"{hostname}.{net_domain}")
        names.append(fqdn)
        for name in dict.fromkeys(names):
            if ip not in records[name]:
                records[name].append(ip)
        for address in records[fqdn]:
            records[reverse_name(address)] = [fqdn]
    return dict(records)


def desired_dns(networks: Iterable[Any], dns_ports: Iterable[Any],
                addresses: Mapping[str, Sequence[str]], *, switch_name: Any,
                dns_domain_setting: str) -> dict[str, Dns]:
    """``{switch name: Dns}`` for the ``networks`` whose ``dns_ports`` publish names;
    ``addresses`` maps a port id to its addresses in order, ``switch_name`` is
    ``desired.switch_name``. Networks without records get no row."""
    nets = {n.id: n for n in networks}
    merged: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for port in sorted(dns_ports, key=lambda p: p.id):
        net = nets.get(port.network_id)
        if net is None:
            continue
        records = merged[net.id]
        for name, answers in port_records(port, addresses.get(port.id, ()),
                                          getattr(net, "dns_domain", ""),
                                          dns_domain_setting).items():
            have = records.setdefault(name, [])
            have += [a for a in answers if a not in have]
    rows = {}
    for net_id, records in merged.items():
        if records:
            ls = switch_name(net_id)
            rows[ls] = Dns(ls, {k: " ".join(v) for k, v in records.items()},
                           {EXT_LS_NAME: ls})
    return rows


def reverse_name(ip: str) -> str:
    """``10.0.0.5`` -> ``5.0.0.10.in-addr.arpa`` (IPv6: the nibbles of ``ip6.arpa``)."""
    return ipaddress.ip_address(ip).reverse_pointer


def dhcp_dns_servers(subnet: Any, defaults: Sequence[str]) -> list[str]:
    """The DHCP ``dns_server`` addresses of a subnet (``get_dhcp_dns_servers``): its
    ``dns_nameservers``, else ``defaults`` of its IP version; [] for a lone any-address."""
    servers = list(subnet.dns_nameservers or ()) or [
        s for s in defaults if ipaddress.ip_address(s).version == subnet.ip_version]
    if len(servers) == 1 and ipaddress.ip_address(servers[0]).is_unspecified:
        return []
    return servers


def default_dns_servers(settings: Any, resolv_conf: Path = RESOLV_CONF) -> tuple[str, ...]:
    """The ``dns_servers`` setting, else this host's resolvers (``nameserver`` lines of
    ``resolv_conf``, IPv6 scope ids dropped); () when neither has any. Reads a file."""
    configured = [s.strip() for s in (settings.dns_servers or "").split(",") if s.strip()]
    if configured:
        return tuple(configured)
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return ()
    servers = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            address = parts[1].split("%", 1)[0]
            try:
                servers.append(str(ipaddress.ip_address(address)))
            except ValueError:
                continue
    return tuple(servers)

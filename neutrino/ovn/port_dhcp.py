"""A port's extra DHCP options as OVN rows: its own ``DHCP_Options`` row. Pure: no I/O.

As ML2/OVN's ``_get_port_dhcp_options`` (mech_driver/ovsdb/ovn_client.py) with
``get_lsp_dhcp_opts`` (neutron/common/ovn/utils.py): for each IP version in which
a port has ``extra_dhcp_opts`` and is served by a subnet's ``DHCP_Options`` row,
the port gets a row of its own: the subnet row's ``cidr``, its options overridden
by the port's (named or numbered options mapped by
``services.extra_dhcp_opts.OVN_OPTIONS``; string options quoted, the
classless static routes merged with the subnet's), its ``external_ids`` plus
``port_id``. The port's LSP then points at that row instead of the subnet's.
``dhcp_disabled`` = ``true`` leaves the LSP without DHCP in that IP version;
``network:*`` ports get neither (they have no DHCP anyway).

A blank value (allowed for ``router`` and ``classless-static-route``) removes the
option from the port's row: a client then gets no router (or no static routes),
which is what the blank option means to Neutron's DHCP agent; ML2/OVN would write
an empty value that OVN cannot parse.

The row is known by the key ``<subnet id>/<port id>`` (:func:`port_key`) in
``desired.Desired.dhcp_options``; ``ovn.observe`` keys NB rows carrying both
``external_ids:subnet_id`` and ``port_id`` the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping
from typing import Any

from neutrino import constants as c
from neutrino.services import extra_dhcp_opts as edo

EXT_PORT_ID = "port_id"  # ML2/OVN's mark of a port's own DHCP_Options row


def port_key(subnet_id: str, port_id: str) -> str:
    """The key of a port's own DHCP_Options row."""
    return f"{subnet_id}/{port_id}"


def port_of_key(key: str) -> str | None:
    """The port id in a DHCP row key, None for a subnet's row."""
    return key.partition("/")[2] or None


def port_options(port: Any, version: int) -> tuple[bool, dict[str, str]]:
    """(DHCP disabled?, OVN options) from the port's ``extra_dhcp_opts`` of that IP
    version (``get_lsp_dhcp_opts``); blank values map to "" (removed later)."""
    if (port.device_owner or "").startswith(c.DEVICE_OWNER_NETWORK_PREFIX):
        return True, {}
    table = edo.mapping(getattr(port, "binding_vnic_type", None))[version]
    options: dict[str, str] = {}
    for opt in getattr(port, "extra_dhcp_opts", None) or ():
        if opt.get("ip_version", 4) != version:
            continue
        if edo.is_dhcp_disabled(opt):
            return True, {}
        name = table.get(opt["opt_name"])
        if name is None:
            continue  # refused by the API; only an older row could hold it
        value = opt["opt_value"] or ""
        if value and name in edo.OVN_STRING_OPTIONS and not _quoted(value):
            value = f'"{value}"'
        elif value and name in edo.OVN_MAP_OPTIONS and not _braced(value):
            value = "{" + value + "}"
        options[name] = value
    return False, options


def port_row(port: Any, subnet_row: Any, options: Mapping[str, str]) -> Any:
    """The port's own row: ``subnet_row`` (a ``desired.DhcpOptions``) with ``options``
    over its own."""
    merged = dict(subnet_row.options)
    for name, value in options.items():
        if not value:
            merged.pop(name, None)
        elif name in edo.OVN_MAP_OPTIONS and merged.get(name):
            merged[name] = "{" + merged[name][1:-1] + ", " + value[1:-1] + "}"
        else:
            merged[name] = value
    return dataclasses.replace(subnet_row, options=merged,
                               external_ids={**subnet_row.external_ids, EXT_PORT_ID: port.id})


def apply_port_options(port: Any, lsp: Any, dhcp: MutableMapping[str, Any]) -> Any:
    """``lsp`` (a ``desired.LogicalSwitchPort`` from ``desired.desired_lsp``, pointing
    at subnet rows of ``dhcp``: ``desired.DhcpOptions`` by key) with
    the port's extra DHCP options applied: per IP version, its own row is added to
    ``dhcp`` and referenced, or DHCP is left off (``dhcp_disabled``)."""
    refs = {}
    for version, column in ((4, "dhcpv4_options"), (6, "dhcpv6_options")):
        subnet_key = getattr(lsp, column)
        if subnet_key is None:
            continue
        disabled, options = port_options(port, version)
        if disabled:
            refs[column] = None
        elif options:
            row = port_row(port, dhcp[subnet_key], options)
            key = port_key(subnet_key, port.id)
            dhcp[key] = row
            refs[column] = key
    return dataclasses.replace(lsp, **refs) if refs else lsp


def _quoted(value: str) -> bool:
    return value.startswith('"') and value.endswith('"')


def _braced(value: str) -> bool:
    return value.startswith("{") and value.endswith("}")

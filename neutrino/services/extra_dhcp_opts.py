"""Extra DHCP options of ports (extension ``extra_dhcp_opt``).

A port's ``extra_dhcp_opts`` is a list of ``{"opt_name", "opt_value",
"ip_version"}`` kept in ``ports.extra_dhcp_opts`` in the order set. Semantics are
Neutron's (``neutron/db/extradhcpopt_db.py``, key specs of
``neutron_lib/api/definitions/extra_dhcp_opt.py``):

* each entry has ``opt_name`` and ``opt_value``; ``ip_version`` is 4 (default) or 6.
  ``router`` and ``classless-static-route`` may have a blank value; every other
  name needs a non-blank one-line value (at most 255 characters; names 64);
* on create, entries whose value is None (or blank where not allowed) are not kept;
* on update, an entry replaces the one of the same (name, ip_version), a None value
  removes it, new ones are appended; an empty list changes nothing.

OVN realises them (``ovn.port_dhcp``) by name or option number through
:data:`OVN_OPTIONS`, ML2/OVN's ``SUPPORTED_DHCP_OPTS_MAPPING`` (and, for
``binding:vnic_type`` ``baremetal``, the iPXE tags of
``SUPPORTED_BM_DHCP_OPTS_MAPPING``; neutron/common/ovn/constants.py).
``dhcp_disabled`` = ``true`` turns OVN's DHCP off for the port in that IP version.
ML2/OVN only logs names outside the mapping and drops them; neutrino refuses them
(InvalidInput, 400) so a client learns at once that the option will never be sent.
Errors: InvalidInput (400), worded as neutron-lib's validators.
"""

from __future__ import annotations

from typing import Any

from neutrino import errors

NAME_MAX_LEN = 64
VALUE_MAX_LEN = 255
BLANK_ALLOWED = ("router", "classless-static-route")
DHCP_DISABLED = "dhcp_disabled"
_KEYS = ("opt_name", "opt_value", "ip_version")

# OVN option -> (Neutron name, option number or None), per IP version.
_V4 = {
    "netmask": ("netmask", 1), "router": ("router", 3), "dns_server": ("dns-server", 6),
    "log_server": ("log-server", 7), "lpr_server": ("lpr-server", 9),
    "domain_name": ("domain-name", 15), "swap_server": ("swap-server", 16),
    "ip_forward_enable": ("ip-forward-enable", 19), "policy_filter": ("policy-filter", 21),
    "default_ttl": ("default-ttl", 23), "mtu": ("mtu", 26),
    "router_discovery": ("router-discovery", 31),
    "router_solicitation": ("router-solicitation", 32),
    "arp_cache_timeout": ("arp-timeout", 35), "ethernet_encap": ("ethernet-encap", 36),
    "tcp_ttl": ("tcp-ttl", 37), "tcp_keepalive_interval": ("tcp-keepalive", 38),
    "nis_server": ("nis-server", 41), "ntp_server": ("ntp-server", 42),
    "lease_time": ("lease-time", 51), "server_id": ("server-id", 54), "T1": ("T1", 58),
    "T2": ("T2", 59), "tftp_server": ("tftp-server", 66), "bootfile_name": ("bootfile-name", 67),
    "domain_search_list": ("domain-search", 119),
    "classless_static_route": ("classless-static-route", 121),
    "tftp_server_address": ("tftp-server-address", 150), "path_prefix": ("path-prefix", 210),
    "ms_classless_static_route": ("ms-classless-static-route", 249), "wpad": ("wpad", 252),
    "next_server": ("server-ip-address", 255), "bootfile_name_alt": ("bootfile-name-alt", None),
}
_V6 = {"server_id": ("server-id", 2), "ia_addr": ("ia-addr", 5), "dns_server": ("dns-server", 23),
       "domain_search": ("domain-search", 24), "bootfile_name": ("bootfile-name", 59)}


def _by_name(table: dict[str, tuple[str, int | None]]) -> dict[str, str]:
    names = {}
    for ovn, (name, number) in table.items():
        names[name] = ovn
        if number is not None:
            names[str(number)] = ovn
    return names


#: Neutron option name or number -> OVN ``DHCP_Options.options`` key, per IP version.
OVN_OPTIONS: dict[int, dict[str, str]] = {4: _by_name(_V4), 6: _by_name(_V6)}
#: Baremetal ports also take the iPXE-tagged boot file names.
OVN_OPTIONS_BAREMETAL: dict[int, dict[str, str]] = {
    4: {**OVN_OPTIONS[4],
        **{f"tag:{tag},{key}": ovn for tag, ovn in (("ipxe", "bootfile_name"),
                                                    ("!ipxe", "bootfile_name_alt"))
           for key in ("bootfile-name", "67")}},
    6: {**OVN_OPTIONS[6],
        **{f"tag:{tag},{key}": ovn for tag, ovn in (("ipxe6", "bootfile_name"),
                                                    ("!ipxe6", "bootfile_name_alt"))
           for key in ("bootfile-name", "59")}},
}
#: OVN options whose values are strings (quoted) or maps (braced) in ``DHCP_Options``.
OVN_STRING_OPTIONS = ("domain_name", "domain_search_list", "bootfile_name", "bootfile_name_alt",
                      "path_prefix", "wpad", "tftp_server")
OVN_MAP_OPTIONS = ("classless_static_route",)


def mapping(vnic_type: str | None) -> dict[int, dict[str, str]]:
    """The name -> OVN option tables for a port of this ``binding:vnic_type``."""
    return OVN_OPTIONS_BAREMETAL if vnic_type == "baremetal" else OVN_OPTIONS


def is_dhcp_disabled(opt: dict[str, Any]) -> bool:
    """``dhcp_disabled`` with value ``true`` (any case): no OVN DHCP for the port."""
    return opt["opt_name"] == DHCP_DISABLED and str(opt.get("opt_value") or "").lower() == "true"


def validate_entries(value: Any) -> list[dict[str, Any]]:
    """Check the shape of a request's ``extra_dhcp_opts`` (neutron-lib's
    ``list_of_any_key_specs_or_none``) and normalise it: ``ip_version`` an int,
    4 when absent. None is []. Raises InvalidInput."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"'{value}' is not a list")
    seen, result = [], []
    for item in value:
        if item in seen:
            raise _invalid(f"Duplicate items in the list: '{item}'")
        seen.append(item)
        entry = _entry(item)
        if entry is None:
            raise _invalid(f"No valid key specs matched for: {item}")
        result.append(entry)
    return result


def _entry(item: Any) -> dict[str, Any] | None:
    """One entry normalised, or None when it matches neither key spec."""
    if (not isinstance(item, dict) or set(item) - set(_KEYS)
            or not {"opt_name", "opt_value"} <= set(item)):
        return None
    name, value, version = item["opt_name"], item["opt_value"], item.get("ip_version", 4)
    try:
        version = int(version)
    except (TypeError, ValueError):
        return None
    if version not in (4, 6):
        return None
    if name in BLANK_ALLOWED:
        ok = value is None or (isinstance(value, str) and len(value) <= VALUE_MAX_LEN)
    else:
        ok = _one_line(name, NAME_MAX_LEN) and (value is None or _one_line(value, VALUE_MAX_LEN))
    return {"opt_name": name, "opt_value": value, "ip_version": version} if ok else None


def _one_line(value: Any, max_len: int) -> bool:
    return (isinstance(value, str) and len(value) <= max_len and bool(value.strip())
            and len(value.splitlines()) <= 1)


def _keep(entry: dict[str, Any]) -> bool:
    """Neutron's ``_is_valid_opt_value``: a value to store."""
    if entry["opt_name"] in BLANK_ALLOWED:
        return entry["opt_value"] is not None
    return bool(entry["opt_value"])


def on_create(entries: list[dict[str, Any]], vnic_type: str | None) -> list[dict[str, Any]]:
    """The options a new port keeps from validated ``entries`` (a later entry of the
    same name and IP version replaces an earlier one); checked by :func:`check_supported`."""
    return on_update([], entries, vnic_type)


def on_update(current: list[dict[str, Any]], entries: list[dict[str, Any]],
              vnic_type: str | None) -> list[dict[str, Any]]:
    """``current`` options changed by validated update ``entries`` as Neutron's
    ``_update_extra_dhcp_opts_on_port``; checked by :func:`check_supported`."""
    result = [dict(o) for o in current]
    for entry in entries:
        at = next((i for i, o in enumerate(result) if o["opt_name"] == entry["opt_name"]
                   and o["ip_version"] == entry["ip_version"]), None)
        if at is not None:
            if entry["opt_value"] is None:
                del result[at]
            elif _keep(entry):
                result[at]["opt_value"] = entry["opt_value"]
        elif _keep(entry):
            result.append(dict(entry))
    check_supported(result, vnic_type)
    return result


def check_supported(options: list[dict[str, Any]], vnic_type: str | None) -> None:
    """Every option must be one OVN can send (ML2/OVN's ``validate_port_extra_dhcp_opts``,
    whose rule that ``dhcp_disabled`` = ``true`` makes any list valid is kept). Raises
    InvalidInput naming the unsupported options per IP version."""
    if any(is_dhcp_disabled(o) for o in options):
        return
    table = mapping(vnic_type)
    bad = {v: [o["opt_name"] for o in options
               if o["ip_version"] == v and o["opt_name"] not in table[v]] for v in (4, 6)}
    if bad[4] or bad[6]:
        raise errors.InvalidInput(
            "Invalid input for extra_dhcp_opts. Reason: these DHCP options are not supported "
            f"by OVN: IPv4: \"{', '.join(bad[4])}\" and IPv6: \"{', '.join(bad[6])}\".")


def _invalid(reason: str) -> errors.InvalidInput:
    return errors.InvalidInput(f"Invalid input for operation: {reason}.")

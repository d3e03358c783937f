"""DNS names of ports and domains of networks (extensions ``dns-integration``,
``dns-domain-ports``, ``dns-integration-domain-keywords``).

What Neutron's ML2 DNS extension driver does without an external DNS service
(``neutron/plugins/ml2/extensions/dns_integration.py``), its validators
(``neutron_lib/api/validators/dns.py``) and the default ``dns_domain``
(``openstacklocal``, neutron/conf/common.py):

* ``dns_name`` of a port (lower-cased) is a PQDN or an FQDN; an FQDN must end in the
  ``dns_domain`` setting. It is kept only while that setting is not the default:
  with ``openstacklocal.`` Neutron lets nobody name ports, so the port's
  ``dns_name`` stays ``""`` whatever was sent (its ``dns_domain`` too).
* ``dns_domain`` of a network or port is ``""`` or an FQDN with its trailing dot;
  labels may be the keywords ``<project_id>``, ``<project_name>``, ``<user_id>``,
  ``<user_name>`` (``dns-integration-domain-keywords``: only an external DNS
  service would substitute them, and neutrino has none).
* ``dns_assignment`` of a port: per fixed IP ``{hostname, ip_address, fqdn}``;
  hostname is the ``dns_name``, else ``host-<ip with . and : as ->``, and the FQDN
  appends the ``dns_domain`` setting (a ``dns_name`` that is an FQDN is its own).

Invalid values raise ``errors.InvalidInput`` worded as Neutron's attribute
validation ("Invalid input for dns_name. Reason: ..."). Pure functions: no I/O.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from neutrino import errors

FQDN_MAX_LEN = 255  # neutron_lib.db.constants.FQDN_FIELD_SIZE
DNS_DOMAIN_DEFAULT = "openstacklocal."
DNS_LABEL_KEYWORDS = ("project_id", "project_name", "user_name", "user_id")
_LABEL = re.compile(r"^([a-z0-9-]{1,63}|" + "|".join(f"<{k}>" for k in DNS_LABEL_KEYWORDS) + ")$")


def configured_domain(settings: Any) -> str:
    """The ``dns_domain`` setting with its trailing dot ("" when unset)."""
    domain = (settings.dns_domain or "").strip().lower()
    if not domain:
        return ""
    return domain if domain.endswith(".") else domain + "."


def names_enabled(settings: Any) -> bool:
    """True when ports may have a ``dns_name``: the setting is neither empty nor
    the default ``openstacklocal.`` (Neutron's ``_get_request_dns_name``)."""
    domain = configured_domain(settings)
    return bool(domain) and domain != DNS_DOMAIN_DEFAULT


def _format_error(data: str, max_len: int = FQDN_MAX_LEN) -> str | None:
    """Why ``data`` is no valid PQDN/FQDN (RFC 1123, RFC 952), None when it is."""
    if not data:
        return None
    trimmed = data[:-1] if data.endswith(".") else data
    reason = None
    if len(trimmed) > max_len:
        reason = f"'{trimmed}' exceeds the {max_len} character FQDN limit"
    else:
        labels = trimmed.split(".")
        for label in labels:
            if not label:
                reason = "Encountered an empty component"
            elif label.startswith("-") or label.endswith("-"):
                reason = f"Name '{label}' must not start or end with a hyphen"
            elif not _LABEL.match(label):
                reason = (f"Name '{label}' must be 1-63 characters long, each of which can "
                          "only be alphanumeric or a hyphen")
            if reason:
                break
        else:
            if len(labels) > 1 and labels[-1].isdigit():
                reason = f"TLD '{labels[-1]}' must not be all numeric"
    return f"'{data}' not a valid PQDN or FQDN. Reason: {reason}" if reason else None


def _invalid(attribute: str, reason: str) -> errors.InvalidInput:
    return errors.InvalidInput(f"Invalid input for {attribute}. Reason: {reason}.")


def _lower(value: Any) -> str:
    """Neutron's ``convert_string_to_case_insensitive``."""
    if not isinstance(value, str):
        raise errors.InvalidInput(f"Input value {value} must be string type")
    return value.lower()


def validate_dns_name(value: Any, settings: Any, attribute: str = "dns_name") -> str:
    """A port's ``dns_name``, lower-cased (``validate_dns_name``): a valid PQDN or
    FQDN; with a non-default ``dns_domain`` setting, a PQDN plus that domain must fit
    in 255 characters and an FQDN must end in it. Raises InvalidInput (400)."""
    name = _lower(value)
    reason = _format_error(name)
    if reason is None and name and names_enabled(settings):
        domain = configured_domain(settings)
        higher = f".{domain}"
        if not name.endswith("."):
            if len(name) + len(higher) > FQDN_MAX_LEN:
                reason = (f"The dns_name passed is a PQDN and its size is '{len(name)}'. The "
                          f"dns_domain option in neutron.conf is set to {settings.dns_domain}, "
                          f"with a length of '{len(higher)}'. When the two are concatenated "
                          "to form a FQDN (with a '.' at the end), the resulting length "
                          f"exceeds the maximum size of '{FQDN_MAX_LEN}'")
        elif len(name) <= len(higher) or not name.endswith(higher):
            reason = ("The dns_name passed is a FQDN. Its higher level labels must be equal "
                      "to the dns_domain option in neutron.conf, that has been set to "
                      f"'{settings.dns_domain}'. It must also include one or more valid DNS "
                      f"labels to the left of '{settings.dns_domain}'")
    if reason:
        raise _invalid(attribute, reason)
    return name


def validate_dns_domain(value: Any, attribute: str = "dns_domain") -> str:
    """A network's or port's ``dns_domain``, lower-cased (``validate_dns_domain``):
    "" or an FQDN ending in "." with room for one more label. Raises InvalidInput."""
    domain = _lower(value)
    if not domain:
        return domain
    reason = None
    if not domain.endswith("."):
        reason = f"'{domain}' is not a FQDN"
    else:
        reason = _format_error(domain)
        if reason is None and len(domain) > FQDN_MAX_LEN - 2:
            reason = (f"'{domain}' contains {len(domain)} characters. Adding a sub-domain "
                      f"will cause it to exceed the maximum length of a FQDN of "
                      f"'{FQDN_MAX_LEN}'")
    if reason:
        raise _invalid(attribute, reason)
    return domain


def validate_fip_dns_name(value: Any) -> str:
    """A floating IP's ``dns_name`` (``validate_fip_dns_name``): a relative name that
    leaves room for a domain. Raises InvalidInput."""
    name = _lower(value)
    if not name:
        return name
    if name.endswith("."):
        raise _invalid("dns_name", f"'{name}' is a FQDN. It should be a relative domain name")
    reason = _format_error(name)
    if reason is None and len(name) > FQDN_MAX_LEN - 3:
        reason = (f"'{name}' contains {len(name)} characters. Adding a domain name will cause "
                  f"it to exceed the maximum length of a FQDN of '{FQDN_MAX_LEN}'")
    if reason:
        raise _invalid("dns_name", reason)
    return name


def port_create_columns(settings: Any, data: dict[str, Any]) -> dict[str, str]:
    """``{"dns_name", "dns_domain"}`` columns of a new port from its (validated) request:
    both "" with the default ``dns_domain`` setting (``process_create_port``)."""
    if not names_enabled(settings):
        return {"dns_name": "", "dns_domain": ""}
    return {"dns_name": data.get("dns_name", ""), "dns_domain": data.get("dns_domain", "")}


def port_update_columns(settings: Any, data: dict[str, Any]) -> None:
    """Drop ``dns_name``/``dns_domain`` from a port update when the default
    ``dns_domain`` setting makes Neutron ignore them (``process_update_port``)."""
    if not names_enabled(settings):
        data.pop("dns_name", None)
        data.pop("dns_domain", None)


def dns_assignment(dns_name: str, addresses: Iterable[str], settings: Any) -> list[dict[str, str]]:
    """A port's ``dns_assignment``: ``[{hostname, ip_address, fqdn}]`` for each of its
    ``addresses`` in order (Neutron's ``_get_dns_names_for_port``, no external DNS)."""
    domain, enabled = assignment_domain(settings)
    return assignment(dns_name if enabled else "", addresses, domain)


def assignment_domain(settings: Any) -> tuple[str, bool]:
    """``(configured_domain, names_enabled)`` of ``settings``: what ``assignment``
    needs, the same for every port (a list computes it once)."""
    domain = configured_domain(settings)
    return domain, bool(domain) and domain != DNS_DOMAIN_DEFAULT


def assignment(name: str, addresses: Iterable[str], domain: str) -> list[dict[str, str]]:
    """``dns_assignment`` for a port whose ``dns_name`` counts as ``name`` ("" when
    names are not enabled) under ``domain`` (``assignment_domain``)."""
    if name:
        fqdn = name if name.endswith(".") else f"{name}.{domain}"
        return [{"hostname": name, "ip_address": ip, "fqdn": fqdn} for ip in addresses]
    result = []
    for ip in addresses:
        hostname = "host-" + ip.replace(".", "-").replace(":", "-")
        result.append({"hostname": hostname, "ip_address": ip,
                       "fqdn": f"{hostname}.{domain}" if domain else hostname})
    return result

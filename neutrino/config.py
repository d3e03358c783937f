"""Settings: one typed object, read once at start-up and passed down.

Sources, later ones winning: defaults, the config file (``--config FILE`` or
``NEUTRINO_CONFIG``; INI like ``neutron.conf``: keys of ``[DEFAULT]`` and
``[neutrino]`` are settings, key ``k`` of ``[keystone_authtoken]`` or ``[nova]`` is
setting ``keystone_authtoken_k`` / ``nova_k``), environment variables ``NEUTRINO_<NAME>``, then
command-line flags.
"""

from __future__ import annotations

import configparser
import ipaddress
import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

LOG = logging.getLogger(__name__)
DEFAULT_STATE_DIR = Path("/var/lib/neutrino")
_MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


AUTO_ALLOCATE_PREFIXLEN = 24  # each auto-allocated network gets a /24


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it."""


class Settings(BaseSettings):
    """Every setting neutrino reads. Field names are the config-file keys."""

    model_config = SettingsConfigDict(env_prefix="NEUTRINO_", extra="forbid", validate_default=True)

    state_dir: Path = DEFAULT_STATE_DIR
    host: str = "127.0.0.1"
    port: int = Field(9696, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    # Empty means SQLite (WAL) at <state_dir>/neutrino.db.
    database_url: str = ""
    # noauth: callers name their project/roles in headers; keystone: X-Auth-Token
    # validated against Keystone v3 with the [keystone_authtoken] service credentials.
    auth_strategy: Literal["noauth", "keystone"] = "noauth"
    # oslo.policy file (YAML/JSON, Neutron's rule names) overriding the default rules.
    policy_file: str = ""
    # [keystone_authtoken] as in neutron.conf (keystonemiddleware's option names).
    keystone_authtoken_auth_type: Literal["password"] = "password"
    keystone_authtoken_auth_url: str = ""
    keystone_authtoken_username: str = ""
    keystone_authtoken_password: str = ""
    keystone_authtoken_project_name: str = "service"
    keystone_authtoken_user_domain_name: str = "Default"
    keystone_authtoken_project_domain_name: str = "Default"
    keystone_authtoken_region_name: str = ""
    # Identity endpoint from the catalog used to validate tokens; empty: auth_url itself.
    keystone_authtoken_interface: Literal["", "public", "internal", "admin"] = ""
    # URL clients are sent to in WWW-Authenticate; empty: auth_url.
    keystone_authtoken_www_authenticate_uri: str = ""
    # Seconds a validated token is trusted without asking Keystone again (never past
    # its expiry); also how long a revoked token may still work.
    keystone_authtoken_token_cache_time: int = Field(300, ge=0)
    # Seconds to wait for Keystone before answering 503.
    keystone_authtoken_http_connect_timeout: float = Field(5.0, gt=0)
    # noauth: project of a request that sends no X-Project-Id (it is admin).
    noauth_project: str = "admin"
    base_mac: str = "fa:16:3e:00:00:00"
    # MTU of project (geneve) networks: 1500 minus the geneve/IPv4 overhead OVN uses.
    network_mtu: int = Field(1442, ge=68, le=9216)
    # MTU of flat and VLAN provider networks (Neutron's global_physnet_mtu).
    physical_network_mtu: int = Field(1500, ge=68, le=9216)
    max_dns_nameservers: int = Field(5, ge=0)
    max_subnet_host_routes: int = Field(20, ge=0)
    pagination_max_limit: int = Field(-1, ge=-1)
    quota_network: int = Field(100, ge=-1)
    quota_subnet: int = Field(100, ge=-1)
    quota_port: int = Field(500, ge=-1)
    quota_router: int = Field(10, ge=-1)
    quota_floatingip: int = Field(50, ge=-1)
    quota_security_group: int = Field(10, ge=-1)
    quota_security_group_rule: int = Field(100, ge=-1)
    # RBAC policies per project (Neutron's quota_rbac_policy, reference B.9).
    quota_rbac_policy: int = Field(10, ge=-1)
    # Allowed address pairs per port (Neutron's max_allowed_address_pair).
    max_allowed_address_pair: int = Field(10, ge=0)
    # Network scheduler (services/scheduler.py): how a network is chosen for a port that
    # names none -- "pack" (name order, first that fits), "spread" (most free addresses
    # first), "balanced" (lowest utilisation first). The same policy picks the subnet of
    # an instance's port on a network with several (services/subnet_scheduler.py; "pack":
    # the fullest subnet with room first).
    scheduler_policy: Literal["pack", "spread", "balanced"] = "pack"
    # Only networks carrying this tag are candidates; empty: any network. On a network
    # some of whose subnets carry it, an instance's port takes its address from those.
    scheduler_required_tag: str = ""
    # When no network fits, build one for the project ("auto_allocated_network", a /24
    # carved from auto_allocate_cidrs not overlapping the project's subnets) behind
    # "auto_allocated_router" with its gateway on auto_allocate_external_network (name or
    # id; empty: the only router:external network, if there is exactly one).
    auto_allocate_create: bool = False
    auto_allocate_cidrs: str = "10.128.0.0/16"
    auto_allocate_external_network: str = ""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Prometheus exposition (neutrino.metrics) on an address of its own, "host:port"
    # ("[::1]:9100" for IPv6). Empty: `neutrino server` and `neutrino up` serve /metrics on
    # the API port; `neutrino controller` and `neutrino metadata-agent` serve none.
    metrics_listen: str = ""
    # OVN northbound ovsdb-server ("unix:/path", "tcp:host:6641", comma-separated for a cluster).
    ovn_nb_connection: str = ""
    # OVN southbound ovsdb-server; with ovn_nb_connection, `neutrino up` starts no OVN of its own.
    ovn_sb_connection: str = ""
    # Seconds after its last answer to a liveness probe an agent counts as dead
    # (Neutron's agent_down_time); the leader probes every third of it (ovn/agents.py).
    agent_down_time: float = Field(75.0, ge=3)
    # This host's OVN chassis name (`neutrino up`); empty means the hostname.
    chassis_name: str = ""
    # DHCP lease time OVN offers, seconds (Neutron's [ovn] dhcp_default_lease_time).
    dhcp_lease_time: int = Field(43200, ge=60)
    # Neutron's dns_domain: the domain of ports' dns_assignment FQDNs and of the DHCP
    # domain_name option. While it is the default, ports keep no dns_name (as Neutron:
    # internal DNS names need a domain of the operator's); see services/dns.py.
    dns_domain: str = "openstacklocal."
    # Neutron's [ovn] dns_servers: the DHCP dns_server option of subnets without
    # dns_nameservers, comma-separated; empty: the resolvers of this host's
    # /etc/resolv.conf, as ML2/OVN. OVN itself answers queries for its DNS records.
    dns_servers: str = ""
    # This chassis' physical networks and the OVS bridge reaching each, as Neutron's
    # [ovs] bridge_mappings: "physnet1:br-ex,physnet2:br-eth1".
    bridge_mappings: str = "physnet1:br-ex"
    # Physical networks flat networks may use (Neutron's [ml2_type_flat]); "*" is any.
    flat_networks: str = "*"
    # Physical networks VLAN networks may use and the VLAN ids handed out automatically,
    # as Neutron's [ml2_type_vlan] network_vlan_ranges: "<physnet>[:<vlan_min>:<vlan_max>]",
    # comma separated, several ranges per physnet allowed ("default:100:101,default:200:201").
    # A physnet without a range takes VLAN networks with an explicit segmentation id only.
    network_vlan_ranges: str = "physnet1"
    # VNIs project (geneve) networks get automatically, as Neutron's [ml2_type_geneve]
    # vni_ranges: "<vni_min>:<vni_max>", comma separated. The default is the key range
    # ovn-northd never assigns by itself (2^24-65535 to 2^24-1, OVN_MIN_DP_KEY_GLOBAL up):
    # a VNI there becomes the network's OVN datapath tunnel key (the geneve VNI on the
    # wire) without ever displacing a key northd gave a router. VNIs below it are labels
    # only (see ovn.desired.tunnel_keys). Empty: project networks get no segment.
    vni_ranges: str = "16711681:16777215"
    # Neutron's [ovn] enable_distributed_floating_ip: a floating IP's NAT gets the
    # external_mac of its own port, so the chassis hosting the VM does the NAT and puts
    # the traffic on the external network itself (every compute chassis then needs
    # ovn-bridge-mappings for it); off: NATed on the router's gateway chassis. A change
    # is applied to existing floating IPs by the next audit (at start).
    enable_distributed_floating_ip: bool = False
    # Neutron's [network_log] rate_limit / burst_limit: the band of the NB Meter
    # "acl_log_meter" every logged ACL names (packets per second, burst in packets);
    # the stateless groups' "acl_log_meter_stateless" gets half of each, as ML2/OVN.
    network_log_rate_limit: int = Field(100, ge=100)
    network_log_burst_limit: int = Field(25, ge=25)
    # Outbox rows the NB sync applies per NB transaction.
    ovn_sync_batch: int = Field(500, ge=1)
    # Seconds between full DB/NB audits with repair by the NB sync; 0 disables them.
    ovn_audit_interval: float = Field(300.0, ge=0)
    # Instance metadata (reference E). The agent signs X-Instance-ID with this secret
    # (HMAC-SHA256, as Nova's [neutron] metadata_proxy_shared_secret); empty: the all-in-one
    # generates one in <state_dir>/metadata_proxy_shared_secret (neutrino.metadata.auth).
    metadata_proxy_shared_secret: str = ""
    # Where the built-in metadata service listens (Nova's metadata API uses 8775).
    metadata_host: str = "127.0.0.1"
    metadata_port: int = Field(8775, ge=1, le=65535)
    # EC2 tree: refuse IMDSv1 (requests without an X-aws-ec2-metadata-token) with 401.
    metadata_require_tokens: bool = False
    # Seconds an instance's metadata is cached by the service (Nova's metadata_cache_expiration).
    metadata_cache_seconds: float = Field(5.0, ge=0)
    # The metadata port also takes an address (the lowest free one) in DHCP-disabled
    # IPv4 subnets, so a guest with a static address reaches 169.254.169.254 by a static
    # route to it (README, "Instance metadata"). Off: DHCP-enabled subnets only, as
    # Neutron's ML2/OVN. A change applies to a network at its next subnet change.
    metadata_without_dhcp: bool = False
    # Nova's metadata API (e.g. http://nova-api:8775); empty: neutrino's own service.
    nova_metadata_url: str = ""
    # Nova port events (neutrino.notifiers.nova; Neutron's [nova] section and the
    # notify_nova_* / send_events_interval options). Off unless nova_auth_type is set:
    # "password" (Keystone v3; the compute endpoint comes from the catalog unless
    # nova_endpoint_override) or "none" (no token; nova_endpoint_override required).
    notify_nova_on_port_status_changes: bool = True
    notify_nova_on_port_data_changes: bool = True
    nova_send_events_interval: float = Field(0.5, gt=0, le=60)
    nova_auth_type: Literal["", "password", "none"] = ""
    nova_auth_url: str = ""
    nova_username: str = ""
    nova_password: str = ""
    nova_project_name: str = ""
    nova_user_domain_name: str = "Default"
    nova_project_domain_name: str = "Default"
    nova_region_name: str = ""
    # Catalog interface of the compute endpoint; nova_endpoint_type (Neutron's [nova]
    # endpoint_type) is the same setting under Neutron's name and wins when set.
    nova_interface: Literal["public", "internal", "admin"] = "public"
    nova_endpoint_type: Literal["", "public", "internal", "admin"] = ""
    # The compute API URL including /v2.1 (e.g. http://nova-api:8774/v2.1).
    nova_endpoint_override: str = ""

    @field_validator("base_mac")
    @classmethod
    def _check_base_mac(cls, value: str) -> str:
        value = value.lower()
        if not _MAC_RE.match(value):
            raise ValueError("must be a MAC address like fa:16:3e:00:00:00")
        if int(value[:2], 16) & 1:
            raise ValueError("must be a unicast MAC (first octet even)")
        return value

    @field_validator("dns_servers")
    @classmethod
    def _check_dns_servers(cls, value: str) -> str:
        for server in (s.strip() for s in value.split(",") if s.strip()):
            ipaddress.ip_address(server)  # ValueError names the entry
        return value

    @field_validator("metrics_listen")
    @classmethod
    def _check_metrics_listen(cls, value: str) -> str:
        if value.strip():
            parse_listen(value)
        return value.strip()

    @field_validator("auto_allocate_cidrs")
    @classmethod
    def _check_auto_allocate_cidrs(cls, value: str) -> str:
        for cidr in (c.strip() for c in value.split(",") if c.strip()):
            net = ipaddress.ip_network(cidr)  # ValueError names the entry
            if net.version != 4 or net.prefixlen > AUTO_ALLOCATE_PREFIXLEN:
                raise ValueError(f"{cidr} is not an IPv4 range of /{AUTO_ALLOCATE_PREFIXLEN} "
                                 "or larger")
        return value

    @field_validator("bridge_mappings")
    @classmethod
    def _check_bridge_mappings(cls, value: str) -> str:
        parse_mappings(value)
        return value

    @field_validator("network_vlan_ranges")
    @classmethod
    def _check_network_vlan_ranges(cls, value: str) -> str:
        parse_vlan_ranges(value)
        return value

    @field_validator("vni_ranges")
    @classmethod
    def _check_vni_ranges(cls, value: str) -> str:
        parse_vni_ranges(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value

    @model_validator(mode="after")
    def _check_nova(self) -> "Settings":
        if self.nova_endpoint_type:
            self.nova_interface = self.nova_endpoint_type
        if self.nova_auth_type == "none" and not self.nova_endpoint_override:
            raise ValueError("nova_auth_type none needs nova_endpoint_override")
        if self.nova_auth_type == "password" and not (self.nova_auth_url and self.nova_username):
            raise ValueError("nova_auth_type password needs nova_auth_url and nova_username")
        return self

    @model_validator(mode="after")
    def _sqlite_default(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.state_dir / 'neutrino.db'}"
        return self

    @field_validator("policy_file")
    @classmethod
    def _check_policy_file(cls, value: str) -> str:
        if value and not os.path.isfile(value):
            raise ValueError(f"{value} is not a file")
        return value

    @model_validator(mode="after")
    def _keystone_settings(self) -> "Settings":
        if self.auth_strategy == "keystone" and not (
                self.keystone_authtoken_auth_url and self.keystone_authtoken_username):
            raise ValueError("auth_strategy keystone needs [keystone_authtoken] auth_url, "
                             "username and password")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        # Flags (init) beat the environment, which beats the config file.
        return (init_settings, env_settings, _IniSource(settings_cls))

    def quota_defaults(self) -> dict[str, int]:
        """Default quota per resource name, e.g. ``{"network": 100, ...}``."""
        return {"network": self.quota_network, "subnet": self.quota_subnet, "port": self.quota_port,
                "router": self.quota_router, "floatingip": self.quota_floatingip,
                "security_group": self.quota_security_group,
                "security_group_rule": self.quota_security_group_rule,
                "rbac_policy": self.quota_rbac_policy}

    def metrics_address(self) -> tuple[str, int] | None:
        """``metrics_listen`` as ``(host, port)``; None when unset."""
        return parse_listen(self.metrics_listen) if self.metrics_listen else None

    def physnet_bridges(self) -> dict[str, str]:
        """``bridge_mappings`` as ``{physnet: bridge}``."""
        return parse_mappings(self.bridge_mappings)

    def flat_physnets(self) -> set[str] | None:
        """Physical networks allowed for flat networks; None means any."""
        names = {n.strip() for n in self.flat_networks.split(",") if n.strip()}
        return None if "*" in names else names

    def vlan_ranges(self) -> dict[str, list[tuple[int, int]]]:
        """``network_vlan_ranges`` as ``{physnet: [(vlan_min, vlan_max), ...]}`` in
        the configured order (a physnet without ranges maps to ``[]``)."""
        return parse_vlan_ranges(self.network_vlan_ranges)

    def vni_range_list(self) -> list[tuple[int, int]]:
        """``vni_ranges`` as ``[(vni_min, vni_max), ...]`` in the configured order."""
        return parse_vni_ranges(self.vni_ranges)


def parse_mappings(value: str) -> dict[str, str]:
    """``"physnet1:br-ex, physnet2:br-eth1"`` -> ``{"physnet1": "br-ex", ...}``.

    Raises ValueError naming the bad entry: not ``name:bridge``, or a physnet or
    bridge given twice (Neutron's ``parse_mappings`` rules).
    """
    result: dict[str, str] = {}
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        physnet, sep, bridge = (p.strip() for p in entry.partition(":"))
        if not sep or not physnet or not bridge or ":" in bridge:
            raise ValueError(f"entry {entry!r} is not <physical_network>:<bridge>")
        if physnet in result:
            raise ValueError(f"physical network {physnet!r} is mapped twice")
        if bridge in result.values():
            raise ValueError(f"bridge {bridge!r} is mapped twice")
        result[physnet] = bridge
    return result


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:9100"`` -> ``("127.0.0.1", 9100)``; ``"[::1]:9100"`` -> ``("::1", 9100)``;
    ``":9100"`` listens on every IPv4 address (``0.0.0.0``). Raises ValueError for
    anything else (no port, a port outside 1-65535, an unbracketed IPv6 address)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not <host>:<port> (port 1-65535)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)  # ValueError names it
    elif ":" in host:
        raise ValueError(f"{value!r}: write an IPv6 address in brackets, [{host}]:{port}")
    return host or "0.0.0.0", int(port)


MAX_VLAN = 4094
MAX_VNI = 2 ** 24 - 1


def parse_vlan_ranges(value: str) -> dict[str, list[tuple[int, int]]]:
    """``"physnet1,default:100:101,default:200:201"`` ->
    ``{"physnet1": [], "default": [(100, 101), (200, 201)]}`` (Neutron's
    ``parse_network_vlan_ranges``: ``<physnet>`` or ``<physnet>:<vlan_min>:<vlan_max>``,
    VLAN ids 1-4094, min <= max). Raises ValueError naming the bad entry."""
    result: dict[str, list[tuple[int, int]]] = {}
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        parts = [p.strip() for p in entry.split(":")]
        if not parts[0] or len(parts) not in (1, 3):
            raise ValueError(f"entry {entry!r} is not <physical_network>[:<vlan_min>:<vlan_max>]")
        ranges = result.setdefault(parts[0], [])
        if len(parts) == 3:
            ranges.append(_range(entry, parts[1], parts[2], 1, MAX_VLAN, "VLAN"))
    return result


def parse_vni_ranges(value: str) -> list[tuple[int, int]]:
    """``"1:65536,70000:80000"`` -> ``[(1, 65536), (70000, 80000)]`` (Neutron's tunnel
    ranges: ``<min>:<max>``, 1 <= min <= max <= 2^24-1). Raises ValueError naming the
    bad entry."""
    result = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        parts = [p.strip() for p in entry.split(":")]
        if len(parts) != 2:
            raise ValueError(f"entry {entry!r} is not <vni_min>:<vni_max>")
        result.append(_range(entry, parts[0], parts[1], 1, MAX_VNI, "VNI"))
    return result


def _range(entry: str, low: str, high: str, lowest: int, highest: int,
           what: str) -> tuple[int, int]:
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        raise ValueError(f"entry {entry!r}: {low!r} and {high!r} must be integers") from None
    for n in (lo, hi):
        if not lowest <= n <= highest:
            raise ValueError(f"entry {entry!r}: {n} is not a valid {what} id "
                             f"({lowest}-{highest})")
    if lo > hi:
        raise ValueError(f"entry {entry!r}: the range's minimum {lo} is above its maximum {hi}")
    return lo, hi


# neutron.conf sections read as settings named <section>_<key>.
PREFIXED_SECTIONS = ("keystone_authtoken", "nova")


class _IniSource(PydanticBaseSettingsSource):
    """Reads ``[DEFAULT]``, ``[neutrino]`` and PREFIXED_SECTIONS of the file named by
    NEUTRINO_CONFIG."""

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("NEUTRINO_CONFIG")
        if not path:
            return {}
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path, encoding="utf-8") as f:
                parser.read_file(f)
        except OSError as exc:
            raise ConfigError(f"config file {path}: {exc.strerror}") from exc
        except configparser.Error as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        values = dict(parser.defaults())
        if parser.has_section("neutrino"):
            values.update(parser.items("neutrino"))
        defaults = parser.defaults()
        for section in PREFIXED_SECTIONS:  # key k of [S] is setting S_k
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                name = f"{section}_{key}".replace("-", "_")
                if key in defaults:
                    continue
                if name in Settings.model_fields:
                    values[name] = value
                else:  # a neutron.conf section copied whole: keystonemiddleware's other keys
                    LOG.warning("config file %s: [%s] %s is not used by neutrino", path,
                                section, key)
        return {k.replace("-", "_"): v for k, v in values.items()}

    def get_field_value(self, field, field_name):  # pragma: no cover - unused by __call__
        return None, field_name, False


def load_settings(config_file: str | None = None, **overrides: Any) -> Settings:
    """Build the settings; ``overrides`` are flags (``None`` values ignored).

    Raises ConfigError naming every bad setting.
    """
    if config_file:
        os.environ["NEUTRINO_CONFIG"] = config_file
    flags = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**flags)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors())
        raise ConfigError(f"invalid setting(s): {problems}") from None

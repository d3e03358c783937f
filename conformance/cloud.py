"""The cloud tempest runs against (conformance/tempest.sh): Keystone and ``neutrino up``.

``python conformance/cloud.py RUN_DIR TEMPEST_CONF`` (the project's virtualenv) starts,
under RUN_DIR:

* Keystone with the test suite's helper (tests/keystone.py; writes serialised, see
  SerialKeystone): bootstrap admin ``admin``/``ADMIN_PASSWORD`` with role ``admin`` in
  project ``admin``, the service user neutrino validates tokens with, and the
  ``network`` service in the catalog;
* ``neutrino up --chassis 1`` with the test suite's helper (tests/allinone.py), state in
  ``RUN_DIR/neutrino``, ``auth_strategy = keystone`` and physnet ``public`` as devstack
  has it (flat and VLAN, bridge ``br-ex``), plus neutron-tempest-plugin's gate VLAN
  physnet ``foo`` with VLANs 1-10 (``network_vlan_ranges = foo:1:10``, tempest's
  ``provider_vlans = foo``), from which VLAN networks without an id get theirs;
* devstack's networks, as admin: the external network ``public`` (flat on physnet
  ``public``, 172.24.4.0/24 and 2001:db8::/64, DHCP off) and the ``shared`` network that
  devstack's configure_tempest adds;

then writes TEMPEST_CONF (as devstack's lib/tempest does for Neutron; the extensions are
what neutrino lists at GET /v2.0/extensions), creates RUN_DIR/cloud.ready and waits.
SIGTERM or SIGINT stops neutrino (``neutrino down``) and Keystone, in that order.
"""

from __future__ import annotations

import configparser
import os
import signal
import sys
from pathlib import Path

import httpx

import neutrino

# The test helpers of the source tree neutrino is imported from (a snapshot on PYTHONPATH).
sys.path.insert(0, str(Path(neutrino.__file__).resolve().parent.parent / "tests"))
from allinone import running_allinone  # noqa: E402  (tests/allinone.py)
from keystone import ADMIN_PASSWORD, REGION, Keystone  # noqa: E402  (tests/keystone.py)

SERVICE_USER, SERVICE_PASSWORD = "neutrino", "neutrino-pw"
PHYSNET = "public"
VLAN_PHYSNET, VLAN_RANGE = "foo", "1:10"  # neutron-tempest-plugin's zuul jobs


class SerialKeystone(Keystone):
    """The helper's Keystone, serving one write (POST/PUT/PATCH/DELETE) at a time: on
    SQLite, concurrent writes -- tempest's parallel set-up and clean-up of credentials --
    fail with 'database is locked' (a 500 that is Keystone's, not neutrino's)."""

    def setup(self) -> None:
        super().setup()
        with open(self.dir / "neutrino_keystone_wsgi.py", "a") as wsgi:
            wsgi.write(WSGI_WRITE_LOCK)


WSGI_WRITE_LOCK = """
import threading  # noqa: E402
_keystone, _write_lock = application, threading.Lock()


def application(environ, start_response):  # noqa: F811
    if environ["REQUEST_METHOD"] in ("GET", "HEAD"):
        return _keystone(environ, start_response)
    with _write_lock:
        return list(_keystone(environ, start_response))
"""


def neutrino_settings(keystone: Keystone) -> dict[str, str]:
    """``NEUTRINO_<NAME>`` settings of ``neutrino up`` (as tests/keystone.py's server)."""
    return {"auth_strategy": "keystone", "bridge_mappings": f"{PHYSNET}:br-ex",
            "flat_networks": PHYSNET, "network_vlan_ranges": f"{PHYSNET},{VLAN_PHYSNET}:{VLAN_RANGE}",
            # not the default openstacklocal: Neutron publishes port dns_domain only then
            "dns_domain": "example.org.",
            # neutron-tempest-plugin's jobs raise these (zuul.d/master_jobs.yaml): its
            # classes keep their routers and groups until the class ends
            "quota_router": "100", "quota_floatingip": "500",
            "quota_security_group": "150", "quota_security_group_rule": "1000",
            "keystone_authtoken_auth_url": keystone.url,
            "keystone_authtoken_username": SERVICE_USER,
            "keystone_authtoken_password": SERVICE_PASSWORD,
            "keystone_authtoken_project_name": "service",
            "keystone_authtoken_region_name": REGION,
            "keystone_authtoken_interface": "internal"}


def create(api: httpx.Client, collection: str, body: dict) -> dict:
    resource = collection[:-1]
    resp = api.post(f"/{collection}", json={resource: body})
    if resp.status_code != 201:
        raise RuntimeError(f"POST /{collection}: {resp.status_code} {resp.text}")
    return resp.json()[resource]


def devstack_networks(api: httpx.Client) -> str:
    """devstack's ``public`` (returns its id) and ``shared`` networks."""
    public = create(api, "networks", {"name": "public", "router:external": True,
                                      "provider:network_type": "flat",
                                      "provider:physical_network": PHYSNET})
    create(api, "subnets", {"name": "public-subnet", "network_id": public["id"],
                            "ip_version": 4, "cidr": "172.24.4.0/24",
                            "gateway_ip": "172.24.4.1", "enable_dhcp": False})
    create(api, "subnets", {"name": "ipv6-public-subnet", "network_id": public["id"],
                            "ip_version": 6, "cidr": "2001:db8::/64",
                            "gateway_ip": "2001:db8::2", "enable_dhcp": False})
    shared = create(api, "networks", {"name": "shared", "shared": True})
    create(api, "subnets", {"name": "shared-subnet", "network_id": shared["id"],
                            "ip_version": 4, "cidr": "192.168.233.0/24",
                            "description": "shared-subnet"})
    return public["id"]


def tempest_conf(path: Path, keystone: Keystone, public_id: str, extensions: list[str],
                 lock_dir: Path) -> None:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_dict({
        "DEFAULT": {"log_file": "tempest.log", "use_stderr": "False", "debug": "False"},
        "oslo_concurrency": {"lock_path": str(lock_dir)},
        "auth": {"admin_username": "admin", "admin_password": ADMIN_PASSWORD,
                 "admin_project_name": "admin", "admin_domain_name": "Default",
                 "use_dynamic_credentials": "True"},
        "identity": {"uri_v3": keystone.url, "auth_version": "v3", "region": REGION},
        "identity-feature-enabled": {"api_v2": "False"},
        "service_available": {"neutron": "True", "nova": "False", "glance": "False",
                              "cinder": "False", "swift": "False", "horizon": "False"},
        "network": {"public_network_id": public_id, "floating_network_name": "public",
                    "project_network_cidr": "10.100.0.0/16", "project_network_mask_bits": "28",
                    "project_network_v6_cidr": "2001:db8::/48",
                    "project_network_v6_mask_bits": "64",
                    "project_networks_reachable": "False"},
        "network-feature-enabled": {"api_extensions": ",".join(extensions),
                                    "ipv6": "True", "ipv6_subnet_attributes": "True",
                                    "port_security": str("port-security" in extensions)},
        "neutron_plugin_options": {"available_type_drivers": "flat,vlan,geneve",
                                   "provider_vlans": VLAN_PHYSNET},
        "enforce_scope": {"neutron": "True", "keystone": "True"},
    })
    with open(path, "w") as f:
        conf.write(f)


def main(run_dir: Path, conf_path: Path) -> None:
    stop = {"now": False}

    def on_signal(*_):
        if not stop["now"]:
            stop["now"] = True
            raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with SerialKeystone(run_dir) as keystone:
        service = keystone.find("projects", "service") or {"id": keystone.project("service")}
        keystone.user(SERVICE_USER, SERVICE_PASSWORD, service["id"], "service")
        for role in ("admin", "member", "reader", "service"):
            keystone.ensure_role(role)
        state_dir = run_dir / "neutrino"
        state_dir.mkdir(exist_ok=True)
        try:
            # a per-run namespace prefix: several runs may share the machine
            prefix = f"ct{os.getpid() % 1000}"
            with running_allinone(state_dir, prefix, neutrino_settings(keystone),
                                  ("--chassis", "1")) as aio:
                url = aio.url.removesuffix("/v2.0")
                keystone.register_service("network", "neutron", url)
                token = keystone.token("admin", ADMIN_PASSWORD, "admin")
                with httpx.Client(base_url=aio.url, headers={"X-Auth-Token": token},
                                  timeout=60) as api:
                    public_id = devstack_networks(api)
                    extensions = sorted(e["alias"] for e in
                                        api.get("/extensions").json()["extensions"])
                tempest_conf(conf_path, keystone, public_id, extensions, run_dir / "locks")
                (run_dir / "cloud.ready").write_text(f"{url}\n{keystone.url}\n")
                print(f"keystone {keystone.url}, neutrino {url}, {len(extensions)} "
                      f"extensions, public network {public_id}", flush=True)
                while True:
                    signal.pause()
        except AssertionError as exc:  # running_allinone: up died, or a traceback in up.log
            print(f"neutrino up failed or logged a traceback (see {state_dir / 'up.log'}):\n"
                  f"{str(exc)[:2000]}", file=sys.stderr)
            raise SystemExit(3) from None


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())

"""What the demo builds, by name: the constants of its world, its instances
(:class:`Guest`), the row type of its results (:class:`Check`) and its error.

Imports nothing of the demo: every other module of the package starts from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EXTERNAL_PHYSNET = "physnet1"
EXTERNAL_NETWORK = "public"
OUTSIDE_HOST = "203.0.113.10"
# seed 001: "bridge_mappings=default:br-eth1", "network_vlan_ranges = default:100:101,default:200:201"
VLAN_PHYSNET, VLAN_BRIDGE = "default", "br-eth1"
VLAN_RANGES = "default:100:101,default:200:201"
VLANS = (100, 101, 200, 201)  # the data centre's VLANs, each with its gateway upstream
SINGLE_VLANS = (100, 101)  # shared networks pub100, pub101: one VLAN each
# seed 004's own network: one shared network with a VLAN segment 200 and 201 on physnet
# default, a subnet on each ("neutron net-create test --segments ...")
SEGMENTED, SEGMENTED_VLANS = "pub2xx", (200, 201)
FULL_VLAN, FULL_POOL = 100, ("10.10.100.10", "10.10.100.11")
PRIVATE_NETWORK, PRIVATE_CIDR, PRIVATE_IP = "private", "10.0.0.0/24", "10.0.0.5"
ROUTER = "router"
SECURITY_GROUP = "demo-web"
OPEN_PORT, CLOSED_PORT = 8080, 8081
FIP_DESCRIPTION = "neutrino demo"
PROJECTS = ("demo-a", "demo-b", "demo-c")
PRIVATE_PROJECTS = ("demo-a", "demo-b")
METADATA_URL = "http://169.254.169.254/openstack/latest/meta_data.json"
CHASSIS = 3  # lab chassis of a service the demo starts: 2 hypervisors, 2 gateways
FAILOVER_TARGET = 3.0  # seconds of outage a gateway chassis' death may cost


class DemoError(RuntimeError):
    """The demo cannot go on (no root, the service does not come up, ...)."""


@dataclass
class Check:
    """One row of the demo's table: ``figure`` is what was measured ("rtt 0.4 ms")."""

    name: str
    ok: bool
    figure: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Guest:
    """A lab instance of the demo: ``network`` None means the scheduler chooses;
    ``chassis`` is the lab chassis' index (1 when the lab has fewer); a guest with a
    ``peer`` (another guest's short name) is there to reach it from another chassis."""

    short: str
    project: str
    network: str | None
    fixed_ip: str | None = None
    wave: int = 1
    chassis: int = 1
    peer: str | None = None
    subnet: str | None = None  # the subnet (name) to take the address from

    @property
    def private(self) -> bool:
        """A private network's guest with its floating IP (not a peer)."""
        return self.network == PRIVATE_NETWORK and self.peer is None


GUESTS = (
    Guest("a1", "demo-a", PRIVATE_NETWORK, PRIVATE_IP),
    Guest("b1", "demo-b", PRIVATE_NETWORK, PRIVATE_IP, chassis=2),
    Guest("a2", "demo-a", PRIVATE_NETWORK, chassis=2, peer="a1"),
    # VLAN guests stay on chassis 1: the lab's VLAN switch hangs off its br-eth1
    Guest("v100", "demo-a", f"pub{FULL_VLAN}"),
    # seed 004: one instance on each VLAN segment of pub2xx, both on chassis 1
    *(Guest(f"v{v}", "demo-a", SEGMENTED, subnet=f"{SEGMENTED}-{v}") for v in SEGMENTED_VLANS),
    Guest("c1", "demo-c", None, wave=2),  # after v100 has filled pub100
)

Progress = Callable[[str], None]
OnCheck = Callable[[Check], None]


def guest_names(prefix: str) -> list[str]:
    """The demo's lab instance names: ``<prefix>a1`` ..."""
    return [prefix + g.short for g in GUESTS]

"""The metadata agent's namespaces on a chassis, by name: ``ovnmeta-<network id>``
(reference E.1, as ML2/OVN names them), the veth pair that plugs each into br-int, and
the records the agent keeps of them under its state directory, so that what a killed
agent left behind can be removed (:func:`remove_recorded`).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from neutrino.constants import METADATA_DEVICE_PREFIX
from neutrino.host import netns as host_netns
from neutrino.host import ovs as host_ovs

LOG = logging.getLogger(__name__)

NETNS_PREFIX = METADATA_DEVICE_PREFIX  # ovnmeta-<network id>, as ML2/OVN names them
RECORD_ROOT = Path("metadata-agent")  # <state_dir>/metadata-agent/<chassis>/netns/
NETWORK_ID_LENGTH = 36  # a UUID: what a prefix must leave room for in a namespace name


def netns_name(network_id: str, prefix: str = NETNS_PREFIX) -> str:
    """``ovnmeta-<network id>`` (reference E.1), or ``<prefix><network id>``."""
    return prefix + network_id


def check_netns_prefix(prefix: str) -> str:
    """Return ``prefix`` if ``<prefix><network id>`` makes a valid namespace name
    (``[A-Za-z0-9_.-]``, 128 characters in all), else raise ValueError."""
    if not prefix:
        raise ValueError("the metadata namespace prefix must not be empty")
    host_netns.check_netns_name(prefix + "0" * NETWORK_ID_LENGTH)
    return prefix


def record_dir(state_dir: Path, chassis: str) -> Path:
    """``<state_dir>/metadata-agent/<chassis>/netns``: where the agent of ``chassis``
    records its namespaces. Raises ValueError for a chassis name that is not one
    path component."""
    if not chassis or chassis in (".", "..") or "/" in chassis or "\0" in chassis:
        raise ValueError(f"chassis name {chassis!r} cannot name a directory")
    return Path(state_dir).absolute() / RECORD_ROOT / chassis / "netns"


def veth_names(network_id: str) -> tuple[str, str]:
    """(bridge end, namespace end): ``tap<first 10 of the id>0``/``…1``, as Neutron's."""
    stem = "tap" + network_id[:10]
    return stem + "0", stem + "1"


def remove_recorded(state_dir: Path, ovs_connection: str | None = None,
                    integration_bridge: str = "br-int", *,
                    chassis: str | None = None) -> list[str]:
    """Remove the namespaces recorded by the agent of ``chassis`` with this
    ``state_dir`` (and, given ``ovs_connection`` — that chassis' OVS database — their
    OVS ports), e.g. after it was killed; returns their names. ``chassis`` None: the
    records of every chassis, and those of agents from before records were kept per
    chassis (``<state_dir>/metadata-agent/netns``); pass an ``ovs_connection`` then
    only if every one was on it. Errors are logged and skipped; raises ValueError for
    a chassis name that cannot name a directory."""
    root = Path(state_dir).absolute() / RECORD_ROOT
    if chassis is not None:
        markers = listdir(record_dir(state_dir, chassis))
    else:
        markers = [m for m in listdir(root / "netns") if m.is_file()]
        for sub in listdir(root):
            markers += listdir(sub / "netns")
    removed = []
    for marker in markers:
        net = recorded_network(marker, NETNS_PREFIX)
        try:
            if ovs_connection and net:
                with contextlib.suppress(Exception):
                    host_ovs.unplug(ovs_connection, integration_bridge, veth_names(net)[0],
                                    timeout=5)
            host_netns.remove_netns(marker.name)
            marker.unlink(missing_ok=True)
            removed.append(marker.name)
        except Exception as exc:  # noqa: BLE001 - best effort
            LOG.warning("could not remove namespace %s: %s", marker.name, exc)
    return removed


def recorded_network(marker: Path, prefix: str) -> str | None:
    """The network id of a record: its content, else (an empty record, made before
    records held it or cut short by a crash) the name less ``prefix``."""
    try:
        content = marker.read_text().strip()
    except (OSError, UnicodeDecodeError):
        content = ""
    if content:
        return content
    return marker.name[len(prefix):] or None if marker.name.startswith(prefix) else None


def listdir(path: Path) -> list[Path]:
    """The entries of directory ``path``, sorted; [] when it is missing or not a directory."""
    try:
        return sorted(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []

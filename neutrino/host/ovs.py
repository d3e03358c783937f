"""Plugging interfaces into an OVS bridge, the way Nova's os-vif does for OVN.

The Open_vSwitch database is always named explicitly (``ovs_connection``, e.g.
``"unix:/var/lib/neutrino/lab/chassis-1/db.sock"``), so the system's default database is
never touched.  ``ovs-vsctl`` waits until ovs-vswitchd has applied the change, so after
:func:`plug_into_bridge` returns the port exists in the datapath; ovn-controller then
claims the logical port named by ``iface-id`` and, once its flows are installed, sets
``external_ids:ovn-installed="true"`` on the Interface (see :func:`interface_external_ids`).

Errors: :class:`OvsError` (a ``CalledProcessError`` whose ``str()`` carries ovs-vsctl's
stderr) and ``subprocess.TimeoutExpired``; ``FileNotFoundError`` when ovs-vsctl is missing
(Debian package ``openvswitch-switch``).
"""

from __future__ import annotations

import json
import shutil
import subprocess

_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class OvsError(subprocess.CalledProcessError):
    """``ovs-vsctl`` failed; ``str()`` includes its stderr."""

    def __str__(self) -> str:
        return f"{' '.join(map(str, self.cmd))}: exit {self.returncode}: {self.stderr.strip()}"


def vsctl(ovs_connection: str, *args: str, timeout: float = 30) -> str:
    """Run ``ovs-vsctl --db=<ovs_connection> <args>`` and return its stdout."""
    program = shutil.which("ovs-vsctl", path=_SEARCH_PATH)
    if program is None:
        raise FileNotFoundError("ovs-vsctl not found; install Debian package openvswitch-switch")
    argv = [program, f"--db={ovs_connection}", f"--timeout={max(1, int(timeout))}", *args]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout + 5, check=False)
    if proc.returncode != 0:
        raise OvsError(proc.returncode, argv, proc.stdout, proc.stderr)
    return proc.stdout


def plug_into_bridge(ovs_connection: str, bridge: str, ifname: str, iface_id: str, mac: str,
                     *, vm_uuid: str | None = None, timeout: float = 30) -> None:
    """Add ``ifname`` to ``bridge`` as the VIF of logical port ``iface_id`` (may_exist).

    Sets ``external_ids`` ``iface-id`` (the Neutron port id = OVN LSP name),
    ``attached-mac`` (the MAC inside the instance), ``iface-status=active`` and, if given,
    ``vm-uuid``.  Re-plugging an existing port just rewrites those keys.  ``ifname`` must
    already exist in the namespace ovs-vswitchd runs in.
    """
    cmds: list[str] = ["--", "--may-exist", "add-port", bridge, ifname,
                       "--", "set", "Interface", ifname,
                       f"external_ids:iface-id={_quote(iface_id)}",
                       f"external_ids:attached-mac={_quote(mac)}",
                       "external_ids:iface-status=active"]
    if vm_uuid is not None:
        cmds.append(f"external_ids:vm-uuid={_quote(vm_uuid)}")
    vsctl(ovs_connection, *cmds, timeout=timeout)


def unplug(ovs_connection: str, bridge: str, ifname: str, *, timeout: float = 30) -> None:
    """Remove port ``ifname`` from ``bridge`` (if_exists: no error when it is not there).

    Does not wait for ovs-vswitchd (``--no-wait``): the row is what matters, and a stopped
    ovs-vswitchd must not turn a cleanup into a timeout.
    """
    vsctl(ovs_connection, "--no-wait", "--", "--if-exists", "del-port", bridge, ifname,
          timeout=timeout)


def bridge_ports(ovs_connection: str, bridge: str, *, timeout: float = 30) -> list[str]:
    """Port names on ``bridge`` (``ovs-vsctl list-ports``), sorted."""
    return sorted(vsctl(ovs_connection, "list-ports", bridge, timeout=timeout).split())


def interface_external_ids(ovs_connection: str, ifname: str,
                           *, timeout: float = 30) -> dict[str, str] | None:
    """``external_ids`` of Interface ``ifname`` as a dict, or None when there is no such row.

    E.g. ``{"iface-id": "5f0c…", "attached-mac": "fa:16:3e:…", "ovn-installed": "true"}``.
    """
    out = vsctl(ovs_connection, "--format=json", "--columns=external_ids", "find",
                "Interface", f"name={_quote(ifname)}", timeout=timeout)
    rows = json.loads(out)["data"]
    if not rows:
        return None
    kind, pairs = rows[0][0]  # ["map", [[key, value], ...]]
    return dict(pairs) if kind == "map" else {}


def _quote(value: str) -> str:
    """Quote ``value`` for an ovs-vsctl ``column:key=value`` argument."""
    return json.dumps(value)


def system_id(ovs_connection: str, *, timeout: float = 10) -> str:
    """This host's OVS ``external_ids:system-id``: the name ovn-controller registers
    its SB ``Chassis`` under (ovn-controller(8)); "" when unset. Raises OvsError."""
    return vsctl(ovs_connection, "--if-exists", "get", "Open_vSwitch", ".",
                 "external_ids:system-id", timeout=timeout).strip().strip('"')

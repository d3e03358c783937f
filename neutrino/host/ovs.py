"""Plugging interfaces into an OVS bridge, the way Nova's os-vif does for OVN.

The Open_vSwitch database is always named explicitly (``ovs_connection``, e.g.
``"unix:/var/lib/neutrino/lab/chassis-1/db.sock"``), so the system's default database is
never touched.  Each process keeps one ovsdbapp connection (an OVSDB IDL replica of the
``Open_vSwitch``, ``Bridge``, ``Port`` and ``Interface`` tables) per ``ovs_connection``,
opened on first use.  Writes (:func:`plug_into_bridge`) go through ovsdbapp's
Open_vSwitch transaction, which bumps ``next_cfg`` and waits until ovs-vswitchd has
copied it to ``cur_cfg`` — the guarantee ``ovs-vsctl`` gives (ovs-vsctl(8) "--no-wait") —
so after :func:`plug_into_bridge` returns the port exists in the datapath; ovn-controller
then claims the logical port named by ``iface-id`` and, once its flows are installed, sets
``external_ids:ovn-installed="true"`` on the Interface (see :func:`interface_external_ids`).
Unlike ovsdbapp's own transaction, a vswitchd that does not catch up within ``timeout``
is an error here, not a log line.  Reads (:func:`bridge_ports`,
:func:`interface_external_ids`, :func:`system_id`) come from the replica: current up to
the last update ovsdb-server sent, with no round trip.

:func:`vsctl` stays a plain ``ovs-vsctl`` run: the lab's provider/VLAN wiring
(``lab/vlans.py``, ``lab/external.py``) issues a few multi-command set-up transactions
from short ``neutrino lab`` CLI processes, where a monitored IDL connection buys nothing.

Errors: :class:`OvsError` (a ``CalledProcessError``; ``str()`` carries ovs-vsctl's stderr
or ovsdbapp's error) when the database is unreachable or a transaction fails, and
``subprocess.TimeoutExpired`` when it or ovs-vswitchd does not answer within ``timeout``
seconds; :func:`vsctl` also raises ``FileNotFoundError`` when ovs-vsctl is missing (Debian
package ``openvswitch-switch``).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

from ovsdbapp import exceptions as ovsdbapp_exc
from ovsdbapp.backend.ovs_idl import connection as ovs_conn
from ovsdbapp.schema.open_vswitch import impl_idl

_SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_TABLES = ("Open_vSwitch", "Bridge", "Port", "Interface")
_RECONNECT_WAIT = 3.0  # s a dropped session may take to come back (server restart)


class OvsError(subprocess.CalledProcessError):
    """``ovs-vsctl`` or an OVSDB transaction failed; ``str()`` includes the reason."""

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


class _Transaction(impl_idl.OvsVsctlTransaction):
    """ovsdbapp's Open_vSwitch transaction, but waiting for ``cur_cfg`` only when asked
    (``wait``) and raising, not logging, when ovs-vswitchd misses the deadline."""

    def __init__(self, api, connection, *, timeout: float, wait: bool):
        super().__init__(api, connection, check_error=True, log_errors=False)
        self.timeout = timeout
        self.wait = wait

    def pre_commit(self, txn):
        if self.wait:
            super().pre_commit(txn)
        else:
            txn.expected_ifaces = set()

    def post_commit(self, txn):
        for command in self.commands:
            command.post_commit(txn)
        if self.wait:
            self.do_post_commit(txn)


class _Api(impl_idl.OvsdbIdl):
    """Base for the per-connection API classes (ovsdbapp keeps the connection on the class)."""

    def transaction(self, *, timeout: float, wait: bool) -> _Transaction:
        return _Transaction(self, self.ovsdb_connection, timeout=timeout, wait=wait)


_apis: dict[str, _Api] = {}
_apis_lock = threading.Lock()


def _api(ovs_connection: str, timeout: float) -> _Api:
    """This process's ovsdbapp API for ``ovs_connection``, connecting on first use."""
    with _apis_lock:
        api = _apis.get(ovs_connection)
        if api is None:
            try:
                idl = ovs_conn.OvsdbIdl.from_server(ovs_connection, "Open_vSwitch",
                                                    helper_tables=_TABLES)
                conn = ovs_conn.Connection(idl, timeout=timeout)
                cls = type("Api", (_Api,), {"_ovsdb_connection": None})
                api = cls(conn)
            except ovsdbapp_exc.TimeoutException as exc:
                raise subprocess.TimeoutExpired(["ovsdb", ovs_connection], timeout) from exc
            except Exception as exc:
                raise OvsError(1, ["ovsdb", ovs_connection], "", str(exc)) from exc
            _apis[ovs_connection] = api
    _await_connected(api, ovs_connection, min(timeout, _RECONNECT_WAIT))
    return api


def _await_connected(api: _Api, ovs_connection: str, wait: float) -> None:
    """Return once the IDL session is up; after ``wait`` seconds raise OvsError (as
    ovs-vsctl fails at once on a refused socket, rather than retrying to the timeout)."""
    deadline = time.monotonic() + wait
    while not api.idl._session.is_connected():  # python-ovs has no public accessor
        if time.monotonic() >= deadline:
            raise OvsError(1, ["ovsdb", ovs_connection], "",
                           f"not connected to {ovs_connection}")
        time.sleep(0.05)


def close(ovs_connection: str) -> None:
    """Stop this process's connection to ``ovs_connection`` (no-op when there is none),
    e.g. before its ovsdb-server is removed for good."""
    with _apis_lock:
        api = _apis.pop(ovs_connection, None)
    if api is not None:
        api.ovsdb_connection.stop(timeout=5)


def _commit(ovs_connection: str, what: list[str], commands, *, timeout: float,
            wait: bool) -> None:
    api = _api(ovs_connection, timeout)
    txn = api.transaction(timeout=timeout, wait=wait)
    for command in commands(api):
        txn.add(command)
    try:
        txn.commit()
    except ovsdbapp_exc.TimeoutException as exc:
        raise subprocess.TimeoutExpired(["ovsdb", ovs_connection, *what], timeout) from exc
    except Exception as exc:
        raise OvsError(1, ["ovsdb", ovs_connection, *what], "", str(exc)) from exc


def plug_into_bridge(ovs_connection: str, bridge: str, ifname: str, iface_id: str, mac: str,
                     *, vm_uuid: str | None = None, timeout: float = 30) -> None:
    """Add ``ifname`` to ``bridge`` as the VIF of logical port ``iface_id`` (may_exist).

    Sets ``external_ids`` ``iface-id`` (the Neutron port id = OVN LSP name),
    ``attached-mac`` (the MAC inside the instance), ``iface-status=active`` and, if given,
    ``vm-uuid``.  Re-plugging an existing port just rewrites those keys.  ``ifname`` must
    already exist in the namespace ovs-vswitchd runs in.  Returns once ovs-vswitchd has
    applied the transaction; an unknown ``bridge`` raises :class:`OvsError`.
    """
    ids = {"iface-id": iface_id, "attached-mac": mac, "iface-status": "active"}
    if vm_uuid is not None:
        ids["vm-uuid"] = vm_uuid

    def commands(api):
        return [api.add_port(bridge, ifname, may_exist=True),
                api.db_set("Interface", ifname, ("external_ids", ids), if_exists=False)]

    _commit(ovs_connection, ["add-port", bridge, ifname], commands, timeout=timeout, wait=True)


def unplug(ovs_connection: str, bridge: str, ifname: str, *, timeout: float = 30) -> None:
    """Remove port ``ifname`` from ``bridge`` (if_exists: no error when it is not there).

    Does not wait for ovs-vswitchd (``--no-wait``): the row is what matters, and a stopped
    ovs-vswitchd must not turn a cleanup into a timeout.
    """
    _commit(ovs_connection, ["del-port", bridge, ifname],
            lambda api: [api.del_port(ifname, bridge=bridge, if_exists=True)],
            timeout=timeout, wait=False)


def _read(ovs_connection: str, timeout: float, read):
    api = _api(ovs_connection, timeout)
    with api.ovsdb_connection.lock:
        return read(api.tables)


def bridge_ports(ovs_connection: str, bridge: str, *, timeout: float = 30) -> list[str]:
    """Port names on ``bridge`` (``ovs-vsctl list-ports``: the bridge's own internal port
    excluded), sorted.  Raises :class:`OvsError` when there is no such bridge."""
    def read(tables):
        for row in tables["Bridge"].rows.values():
            if row.name == bridge:
                return sorted(p.name for p in row.ports if p.name != bridge)
        raise OvsError(1, ["ovsdb", ovs_connection, "list-ports", bridge], "",
                       f"no bridge named {bridge}")
    return _read(ovs_connection, timeout, read)


def interface_external_ids(ovs_connection: str, ifname: str,
                           *, timeout: float = 30) -> dict[str, str] | None:
    """``external_ids`` of Interface ``ifname`` as a dict, or None when there is no such row.

    E.g. ``{"iface-id": "5f0c…", "attached-mac": "fa:16:3e:…", "ovn-installed": "true"}``.
    """
    def read(tables):
        for row in tables["Interface"].rows.values():
            if row.name == ifname:
                return dict(row.external_ids)
        return None
    return _read(ovs_connection, timeout, read)


def system_id(ovs_connection: str, *, timeout: float = 10) -> str:
    """This host's OVS ``external_ids:system-id``: the name ovn-controller registers
    its SB ``Chassis`` under (ovn-controller(8)); "" when unset. Raises OvsError."""
    def read(tables):
        for row in tables["Open_vSwitch"].rows.values():
            return row.external_ids.get("system-id", "")
        return ""
    return _read(ovs_connection, timeout, read)

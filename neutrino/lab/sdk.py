"""The lab's client of a running all-in-one's API: an openstacksdk ``Connection``.

``connect(info, project)`` gives a Connection with ``auth_type="none"`` and
``network_endpoint_override`` set to the service root (the SDK discovers ``/v2.0``
itself), as ``tests/integration/test_openstack_clients.py`` connects. Acting as a
project is noauth's ``X-Project-Id``/``X-Roles: member`` headers on the Connection's
session (neutrino's ``api/deps.py``); without a project the caller is admin.
``refused()`` turns the SDK's errors into ``LabError`` naming the Neutron error, so
the CLI prints what it printed before. neutrino's own endpoints (``/scheduled-ports``,
``/instances``) have no SDK resource: ``call()`` makes them through the network proxy.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator
from urllib.parse import urlsplit

import openstack
from openstack import exceptions

from neutrino.lab.runtime import RuntimeInfo


class LabError(Exception):
    """A lab command cannot be done; the message says why."""


def connect(info: RuntimeInfo, project: str | None) -> openstack.connection.Connection:
    """An openstacksdk Connection to ``info``'s API as ``project`` (noauth member), or
    as its admin when ``project`` is None. clouds.yaml and ``OS_*`` are not read.
    Close it (``with``) when done."""
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, auth_type="none",
                             network_endpoint_override=info.api_url, api_timeout=30)
    if project:
        conn.session.additional_headers.update({"X-Project-Id": project, "X-Roles": "member"})
    return conn


def project_of(conn: openstack.connection.Connection) -> str | None:
    """The project ``conn`` acts as (see :func:`connect`); None for the admin."""
    return conn.session.additional_headers.get("X-Project-Id")


def error_message(exc: exceptions.SDKException) -> str:
    """``<METHOD> <path>: <type>: <message>`` of a refused call (Neutron's error body),
    else the SDK's own text."""
    resp = getattr(exc, "response", None)
    if resp is None:
        return str(exc)
    try:
        error = resp.json()["NeutronError"]
        message = f"{error['type']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        message = resp.text or str(exc)
    return f"{resp.request.method} {urlsplit(resp.request.url).path}: {message}"


@contextlib.contextmanager
def refused() -> Iterator[None]:
    """Inside: an SDK error (an HTTP error answer, or none at all) is LabError."""
    try:
        yield
    except exceptions.SDKException as exc:
        raise LabError(error_message(exc)) from None


def call(conn: openstack.connection.Connection, method: str, path: str,
         body: dict[str, Any] | None = None, *, missing_ok: bool = False,
         params: dict[str, Any] | None = None) -> dict[str, Any]:
    """``method`` on ``/v2.0<path>`` (query ``params``) with JSON ``body``, through
    ``conn``'s network proxy; the decoded answer ({} for 204, and for 404 when
    ``missing_ok``). LabError when refused."""
    resp = conn.network.request(path, method, json=body, params=params, raise_exc=False)
    if missing_ok and resp.status_code == 404:
        return {}
    with refused():
        exceptions.raise_from_response(resp)
    return resp.json() if resp.status_code != 204 and resp.content else {}


def find(conn: openstack.connection.Connection, kind: str, name_or_id: str,
         what: str) -> Any:
    """The ``kind`` (``network``, ``subnet``, ``security_group``...) ``name_or_id`` names:
    the one of that id, else the one of that name (openstacksdk's ``find_<kind>``).
    LabError when none or several have that name."""
    with refused():
        try:
            return getattr(conn.network, f"find_{kind}")(name_or_id, ignore_missing=False)
        except exceptions.NotFoundException:
            raise LabError(f"no {what}(s) named {name_or_id!r}") from None
        except exceptions.DuplicateResource:
            raise LabError(f"several {what}s are named {name_or_id!r}") from None


def wire(resource: Any) -> dict[str, Any]:
    """An SDK resource as the API's JSON body names it (``router:external``,
    ``binding:host_id``...), the shape the lab's callers and files keep."""
    return resource.to_dict(body=True, headers=False, computed=False, ignore_none=False,
                            original_names=True)

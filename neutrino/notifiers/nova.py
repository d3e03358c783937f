"""Nova port events: ``POST <compute>/os-server-external-events`` (reference A.6,
Neutron's ``neutron/notifiers/nova.py`` and ``batch_notifier.py``).

Nova waits for ``network-vif-plugged`` before it finishes a boot. Events are kept
in an outbox, the ``nova_events`` table, written in the same transaction as the
port or floating IP change that causes them, so a crash between commit and send
loses nothing. Only "compute ports" count: ``device_owner`` starting with
``compute:`` and ``device_id`` a UUID (the server). What is recorded:

=========================  =================================================  ===========
event                      when                                               status
=========================  =================================================  ===========
``network-vif-plugged``    status new/DOWN/BUILD -> ACTIVE                    completed
``network-vif-plugged``    status new/DOWN/BUILD -> ERROR                     failed
``network-vif-unplugged``  status ACTIVE -> DOWN                              completed
``network-vif-deleted``    port deleted                                       (none)
``network-changed``        fixed IPs or MAC changed; a floating IP            (none)
                           associated, re-associated or removed (both the
                           old and the new port are told)
=========================  =================================================  ===========

Status events need ``notify_nova_on_port_status_changes``, the others
``notify_nova_on_port_data_changes`` (Neutron's option names), and nothing at all
is written unless a Nova is configured (``nova_auth_type``), so the outbox never
grows without a reader. Status changes come from the SB watcher
(``ovn.status``): a port turns ACTIVE only once its metadata path is ready, and
so ``network-vif-plugged`` is sent only then.

:class:`NovaNotifier` runs in the process of the NB sync (``neutrino up``): every
``nova_send_events_interval`` seconds it posts the oldest events (up to
``BATCH_SIZE``, in the order written) in one request, authenticated through
keystoneauth1 with the ``nova_*`` credentials, and deletes them once Nova
answered. Connection errors, Keystone failures, 429 and 5xx keep the batch and
retry it with a doubling pause (at most ``MAX_BACKOFF`` s). A 404 for the whole
batch (none of the servers exist) and per-event failures in a 207 (404: server
gone, 422: server not on a host) are logged and dropped, as Neutron does, as is
any other 4xx (retrying cannot help).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from neutrino.config import Settings
from neutrino.constants import DEVICE_OWNER_COMPUTE_PREFIX
from neutrino.db.models import NovaEvent, Port
from neutrino.services import common

LOG = logging.getLogger(__name__)

VIF_PLUGGED = "network-vif-plugged"
VIF_UNPLUGGED = "network-vif-unplugged"
VIF_DELETED = "network-vif-deleted"
NETWORK_CHANGED = "network-changed"
#: Neutron's NEUTRON_NOVA_EVENT_STATUS_MAP: port status -> event status.
EVENT_STATUS = {"ACTIVE": "completed", "ERROR": "failed", "DOWN": "completed"}
#: Statuses a port is plugged *from* (None: a new port).
PLUG_FROM = (None, "DOWN", "BUILD")
PATH = "/os-server-external-events"
NOVA_MICROVERSION = "2.1"
BATCH_SIZE = 100  # events per request
MAX_BACKOFF = 30.0  # seconds between retries, at most
REQUEST_TIMEOUT = 30.0  # seconds

_INSERT = insert(NovaEvent)


# --- recording (inside the service transactions) -------------------------------

def enabled(settings: Settings) -> bool:
    """A Nova is configured (``nova_auth_type`` set): events are recorded and sent."""
    return bool(settings.nova_auth_type)


def is_compute_port(device_owner: str | None, device_id: str | None) -> bool:
    """``device_owner`` ``compute:*`` and ``device_id`` a UUID (Neutron's ``_is_compute_port``)."""
    if not device_id or not (device_owner or "").startswith(DEVICE_OWNER_COMPUTE_PREFIX):
        return False
    try:
        uuid.UUID(device_id)
    except ValueError:
        return False
    return True


def status_event(port: Any, previous: str | None) -> dict[str, str] | None:
    """The event for ``port`` (``id``, ``device_owner``, ``device_id``, ``status``: its
    new status) having had status ``previous`` (None: new), or None: see the table of
    the module docstring."""
    if not is_compute_port(port.device_owner, port.device_id):
        return None
    current = port.status
    if previous == "ACTIVE" and current == "DOWN":
        name = VIF_UNPLUGGED
    elif previous in PLUG_FROM and current in ("ACTIVE", "ERROR"):
        name = VIF_PLUGGED
    else:
        return None
    return {"name": name, "server_uuid": port.device_id, "tag": port.id,
            "status": EVENT_STATUS[current]}


def port_status_changed(session: Session, settings: Settings, port: Any,
                        previous: str | None) -> None:
    """Record the status event of ``port`` (now at ``port.status``, before at
    ``previous``), if any."""
    if enabled(settings) and settings.notify_nova_on_port_status_changes:
        _record(session, status_event(port, previous))


def port_deleted(session: Session, settings: Settings, port: Any) -> None:
    """Record ``network-vif-deleted`` for a compute port being deleted."""
    if _data_events(settings) and is_compute_port(port.device_owner, port.device_id):
        _record(session, {"name": VIF_DELETED, "server_uuid": port.device_id, "tag": port.id})


def port_updated(session: Session, settings: Settings, port: Any, addresses_changed: bool) -> None:
    """Record ``network-changed`` for a compute port (as updated) whose fixed IPs or
    MAC address changed (``addresses_changed``)."""
    if addresses_changed and _data_events(settings):
        _record(session, _changed(port))


def floatingip_changed(session: Session, settings: Settings, old_port_id: str | None,
                       new_port_id: str | None) -> None:
    """Record ``network-changed`` for the compute ports a floating IP left
    (``old_port_id``) and went to (``new_port_id``); either may be None, and a port
    that no longer exists is skipped."""
    if not _data_events(settings):
        return
    for port_id in dict.fromkeys(p for p in (old_port_id, new_port_id) if p):
        port = session.get(Port, port_id)
        if port is not None:
            _record(session, _changed(port))


def _data_events(settings: Settings) -> bool:
    return enabled(settings) and settings.notify_nova_on_port_data_changes


def _changed(port: Any) -> dict[str, str] | None:
    if not is_compute_port(port.device_owner, port.device_id):
        return None
    return {"name": NETWORK_CHANGED, "server_uuid": port.device_id, "tag": port.id}


def _record(session: Session, event: dict[str, str] | None) -> None:
    if event is None:
        return
    session.execute(_INSERT, {"status": None, **event, "created_at": common.now()})


# --- sending (a background thread of ``neutrino up``) ---------------------------

class Adapter(Protocol):
    """What the sender needs of a ``keystoneauth1.adapter.Adapter``."""

    def post(self, url: str, **kwargs: Any) -> Any: ...


class RetryLater(Exception):
    """Nova could not take the batch now (429, 5xx); it is sent again."""


def make_adapter(settings: Settings):
    """A keystoneauth1 Adapter for the compute service from the ``nova_*`` settings:
    Keystone v3 password auth (``nova_auth_type`` password; endpoint from the catalog
    by ``nova_interface`` and ``nova_region_name``) or no token at all (none), with
    ``nova_endpoint_override`` replacing the catalog when set. Compute microversion
    2.1 headers, as novaclient sends. Raises ValueError when Nova is not configured."""
    from keystoneauth1 import adapter, session
    from keystoneauth1.identity import v3

    if settings.nova_auth_type == "password":
        auth = v3.Password(auth_url=settings.nova_auth_url, username=settings.nova_username,
                           password=settings.nova_password,
                           project_name=settings.nova_project_name,
                           user_domain_name=settings.nova_user_domain_name,
                           project_domain_name=settings.nova_project_domain_name)
    elif settings.nova_auth_type == "none":
        auth = None
    else:
        raise ValueError("Nova is not configured (nova_auth_type)")
    sess = session.Session(auth=auth, timeout=REQUEST_TIMEOUT)
    return adapter.Adapter(sess, service_type="compute", interface=settings.nova_interface,
                           region_name=settings.nova_region_name or None,
                           endpoint_override=settings.nova_endpoint_override or None,
                           default_microversion=NOVA_MICROVERSION, client_name="neutrino")


class NovaNotifier:
    """Sends the ``nova_events`` outbox to Nova (see the module docstring). ``env`` is
    the services' Env; ``adapter`` defaults to :func:`make_adapter` of its settings."""

    def __init__(self, env: Any, adapter: Adapter | None = None, *,
                 interval: float | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.env = env
        self.adapter = adapter if adapter is not None else make_adapter(env.settings)
        self.interval = interval if interval is not None else env.settings.nova_send_events_interval
        self.batch_size = batch_size
        self.sent = 0  # events Nova took (any per-event code), for logs and tests

    def send_once(self) -> int:
        """Post the oldest events (up to ``batch_size``) and delete them once Nova
        answered; returns how many were consumed (0: none waiting). Raises RetryLater
        (429, 5xx) or keystoneauth1's exceptions (connection, Keystone, catalog
        errors); the events stay for the next attempt."""
        rows = self.env.db.run(lambda s: s.execute(
            select(NovaEvent).order_by(NovaEvent.id).limit(self.batch_size)).scalars().all(),
            write=False)
        if not rows:
            return 0
        events = [{"name": r.name, "server_uuid": r.server_uuid, "tag": r.tag,
                   **({"status": r.status} if r.status else {})} for r in rows]
        resp = self.adapter.post(PATH, json={"events": events}, raise_exc=False)
        code = resp.status_code
        if code == 429 or code >= 500:
            raise RetryLater(f"Nova answered {code}: {resp.text[:200]}")
        if code in (200, 207):
            self._log_results(events, _json(resp))
            self.sent += len(rows)
        elif code == 404:
            LOG.debug("Nova knows none of the servers of events %s", events)
        else:
            LOG.error("Nova refused events %s (%d: %s); dropped", events, code, resp.text[:200])
        ids = [r.id for r in rows]
        self.env.db.run(lambda s: s.execute(delete(NovaEvent).where(NovaEvent.id.in_(ids))))
        return len(rows)

    def run_forever(self, stop: threading.Event) -> None:
        """Send batches until ``stop`` is set: one every ``interval`` seconds, the
        next at once while a full batch was sent, after a doubling pause (at most
        ``MAX_BACKOFF`` s) while sending fails. Never dies of an error."""
        def pause(seconds: float) -> None:  # between failed sends, cut short by ``stop``
            if stop.wait(seconds):
                raise _Stopped

        # the n-th failure in a row waits min(MAX_BACKOFF, interval * 2**n) s
        send = Retrying(retry=retry_if_exception_type(Exception), sleep=pause,
                        wait=wait_exponential(multiplier=2 * self.interval, max=MAX_BACKOFF),
                        before_sleep=_log_send_failure)
        with contextlib.suppress(_Stopped):
            while not stop.is_set():
                if send(self.send_once) < self.batch_size:
                    stop.wait(self.interval)

    @staticmethod
    def _log_results(events: list[dict[str, str]], body: Any) -> None:
        results = body.get("events") if isinstance(body, dict) else None
        if not isinstance(results, list):
            LOG.error("unexpected answer from Nova to events %s: %s", events, body)
            return
        for result in results:
            if not isinstance(result, dict) or result.get("code") != 200:
                LOG.warning("Nova did not take event %s; dropped", result)
            else:
                LOG.info("Nova took event %s", result)


class _Stopped(Exception):
    """``stop`` was set during a pause between retries."""


def _log_send_failure(state: RetryCallState) -> None:
    LOG.warning("sending events to Nova failed (attempt %d), retrying in %.1fs: %s",
                state.attempt_number, state.upcoming_sleep, state.outcome.exception())


def sender_threads(env: Any, stop: threading.Event) -> list[threading.Thread]:
    """The sender as a (not yet started) daemon thread running until ``stop``; no
    thread when no Nova is configured."""
    if not enabled(env.settings):
        return []
    notifier = NovaNotifier(env)
    return [threading.Thread(target=notifier.run_forever, args=(stop,), name="nova-notifier",
                             daemon=True)]


def _json(resp: Any) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None

"""The metadata service's instance registry (neutrino extension
``instance-metadata``, ``/v2.0/instances``): the name, hostname, keys, user data and
vendor data the metadata service (``neutrino.metadata``) serves about each instance,
what Nova would otherwise answer. Admin only; one transaction per call.

Not the lab's instances: ``neutrino.lab.instances`` boots network namespaces that
play VMs on a chassis (and may register them here).

An instance is keyed by its UUID, the ``device_id`` of its ports. ``register``
creates or replaces it whole, as a Nova boot would set it, so the lab (or an
orchestrator without Nova) can describe a machine in one call.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neutrino import errors, policy
from neutrino.db.models import Instance
from neutrino.services import common
from neutrino.services.context import Context
from neutrino.services.env import Env

MAX_USER_DATA = 65536  # bytes, decoded (Nova: user_data <= 64 KiB)
_HOSTNAME_CHARS = re.compile(r"[^a-z0-9.-]+")


class InstanceNotFound(errors.NotFound):
    def __init__(self, instance_id: str) -> None:
        super().__init__(f"Instance {instance_id} could not be found.")


def register_instance(env: Env, ctx: Context, instance_id: str,
                      data: dict[str, Any]) -> tuple[Instance, bool]:
    """Create or replace instance ``instance_id``; returns (its row, created): the
    API renders the row (``api/wire/instances.py``).

    ``data`` (validated shape, see ``api/schemas/instances.py``): ``project_id`` or
    ``tenant_id`` (default: the existing instance's, else the caller's), ``name``,
    ``hostname`` (default: from the name, as Nova's ``sanitize_hostname``),
    ``availability_zone`` ("nova"), ``launch_index`` (0), ``public_keys``
    ([{"name", "key"}], names unique), ``user_data`` (bytes, at most 64 KiB, or None),
    ``vendor_data`` (a JSON object). Omitted attributes get their defaults.
    Raises PolicyNotAuthorized (403), InvalidInput (400).
    """
    policy.require(ctx, "create_instance")
    user_data = data.get("user_data")
    if user_data is not None and len(user_data) > MAX_USER_DATA:
        raise errors.InvalidInput(f"Invalid input for user_data. Reason: {len(user_data)} bytes "
                                  f"exceed the limit of {MAX_USER_DATA}.")
    keys = [{"name": k["name"], "key": k["key"]} for k in data.get("public_keys", [])]
    names = [k["name"] for k in keys]
    if len(set(names)) != len(names):
        raise errors.InvalidInput("Invalid input for public_keys. Reason: key names must be unique.")
    name = data.get("name", "")
    values = {"name": name,
              "hostname": data.get("hostname") or default_hostname(name, instance_id),
              "availability_zone": data.get("availability_zone", "nova"),
              "launch_index": data.get("launch_index", 0), "public_keys": keys,
              "user_data": user_data, "vendor_data": data.get("vendor_data", {})}
    project_given = data.get("project_id") is not None or data.get("tenant_id") is not None
    project = common.owner_project(ctx, data)

    def run(session: Session) -> tuple[Instance, bool]:
        row = session.get(Instance, instance_id)
        stamp = common.now()
        if row is None:
            row = Instance(id=instance_id, project_id=project, created_at=stamp, updated_at=stamp,
                           **values)
            session.add(row)
            session.flush()
            return row, True
        common.apply_changes(row, values)
        if project_given:
            row.project_id = project
        row.updated_at = stamp
        session.flush()
        return row, False
    try:
        return env.db.run(run)
    except IntegrityError:
        return env.db.run(run)  # a concurrent register created it first: replace it


def get_instance(env: Env, ctx: Context, instance_id: str) -> Instance:
    """One instance's row; InstanceNotFound (404), PolicyNotAuthorized (403)."""
    policy.require(ctx, "get_instance")

    def run(session: Session) -> Instance:
        row = session.get(Instance, instance_id)
        if row is None:
            raise InstanceNotFound(instance_id)
        return row
    return env.db.run(run, write=False)


def list_instances(env: Env, ctx: Context, project_id: str | None = None) -> list[Instance]:
    """The rows of all instances (of ``project_id`` if given), oldest first;
    PolicyNotAuthorized (403)."""
    policy.require(ctx, "get_instance")
    stmt = select(Instance).order_by(Instance.created_at, Instance.id)
    if project_id is not None:
        stmt = stmt.where(Instance.project_id == project_id)
    return env.db.run(lambda s: list(s.scalars(stmt)), write=False)


def delete_instance(env: Env, ctx: Context, instance_id: str) -> None:
    """Forget an instance (its ports are untouched); InstanceNotFound (404), 403."""
    policy.require(ctx, "delete_instance")

    def run(session: Session) -> None:
        row = session.get(Instance, instance_id)
        if row is None:
            raise InstanceNotFound(instance_id)
        session.delete(row)
    env.db.run(run)


def default_hostname(name: str, instance_id: str) -> str:
    """A hostname from a display name, as Nova's ``sanitize_hostname``: lower case,
    spaces and underscores to ``-``, other characters dropped, at most 63
    characters; ``instance-<first 8 of the id>`` when nothing is left."""
    host = _HOSTNAME_CHARS.sub("", re.sub(r"[ _]", "-", name.lower()))[:63].strip(".-")
    return host or f"instance-{instance_id[:8]}"
